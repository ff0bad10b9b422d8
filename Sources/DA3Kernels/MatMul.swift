import CMatMul
import Foundation

/// Fully connected products y = x W^T + b (W stored out x in, as `nn.Linear`) through oneDNN's
/// matmul primitive, in FP32 or bfloat16, with rows split over the engine's threads.
///
/// Each part runs single-threaded on an engine thread (the engine owns the cores, as with BLAS).
/// `DA3_GEMM=openblas` turns the FP32 route off, for comparisons; callers then use `GEMM`.
public enum MatMul {
    /// Element types and fused epilogues of one product.
    public struct Options: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// x and W are bfloat16 (`UInt16` bit patterns); otherwise `Float`.
        public static let bf16 = Options(rawValue: Int32(DA3_MATMUL_BF16))
        /// y += product (a residual branch); otherwise y = product.
        public static let accumulate = Options(rawValue: Int32(DA3_MATMUL_ACCUMULATE))
        /// y = gelu_erf(x W^T + b).
        public static let gelu = Options(rawValue: Int32(DA3_MATMUL_GELU))
        /// y is bfloat16; otherwise `Float`.
        public static let outBF16 = Options(rawValue: Int32(DA3_MATMUL_OUT_BF16))
    }

    /// Whether FP32 products go through oneDNN (default) rather than BLAS.
    public static let enabled: Bool = ProcessInfo.processInfo.environment["DA3_GEMM"]?.lowercased() != "openblas"

    /// Whether this CPU computes bfloat16 dot products natively (AVX512-BF16).
    public static let bf16Native: Bool = da3_matmul_bf16_native() != 0

    /// y (rows x n) = x (rows x k) W^T + bias with `options`. Returns false when oneDNN cannot run
    /// the product (nothing is written then; the caller falls back).
    @discardableResult
    public static func linear(
        _ x: UnsafeRawPointer, rows: Int, inFeatures k: Int,
        weight: UnsafeRawPointer, bias: UnsafePointer<Float>?, outFeatures n: Int,
        options: Options = [], into y: UnsafeMutableRawPointer
    ) -> Bool {
        guard options.contains(.bf16) || enabled else { return false }
        let xSize = options.contains(.bf16) ? 2 : 4, ySize = options.contains(.outBF16) ? 2 : 4
        let workers = Parallel.threadCount
        guard workers > 1, rows * n * k >= 2_000_000, rows >= 32 * workers else {
            return da3_matmul(Int32(rows), Int32(k), Int32(n), options.rawValue, x, weight, bias, y) == 0
        }
        // Row parts aligned to 16 so the kernels see whole blocks.
        let part = ((rows + workers - 1) / workers + 15) / 16 * 16
        let failed = UnsafeMutablePointer<Bool>.allocate(capacity: workers)
        failed.initialize(repeating: false, count: workers)
        defer { failed.deallocate() }
        let px = UncheckedBox(x), pw = UncheckedBox(weight), pb = UncheckedBox(bias), py = UncheckedBox(y)
        let pf = UncheckedBox(failed)
        Parallel.forEachIndex(workers) { w in
            let start = w * part, count = min(rows, start + part) - start
            guard count > 0 else { return }
            pf.value[w] = da3_matmul(Int32(count), Int32(k), Int32(n), options.rawValue,
                                     px.value + start * k * xSize, pw.value, pb.value,
                                     py.value + start * n * ySize) != 0
        }
        return !(0..<workers).contains { failed[$0] }
    }
}
