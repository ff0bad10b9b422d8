import CKernels

/// `nn.Linear` weights (out x in) rounded to bfloat16 and packed once for `GEMMBF16`.
public struct PackedBF16Weights: Sendable {
    public let inFeatures: Int, outFeatures: Int
    let words: [UInt32]

    /// Packs W (outFeatures x inFeatures, row-major; inFeatures even). Needs AVX512-BF16.
    public init(weight: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int) {
        precondition(inFeatures % 2 == 0, "bfloat16 products need an even input width")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        words = [UInt32](unsafeUninitializedCapacity: da3_gemm_bf16_packed_words(outFeatures, inFeatures)) { buffer, count in
            da3_gemm_bf16_pack(weight, outFeatures, inFeatures, inFeatures, buffer.baseAddress!)
            count = buffer.count
        }
    }
}

/// Fully connected products on bfloat16 inputs with FP32 accumulation (`Precision.fast`), on the
/// CKernels AVX512-BF16 micro-kernel; rows are split over the engine's threads.
public enum GEMMBF16 {
    /// Rows per block in `linearGELU` (its FP32 block stays in L2 before GELU and rounding).
    static let blockRows = 64

    /// y (rows x out) = x W^T + b, or y += x W^T + b with `accumulate`; x is rows x in bfloat16.
    public static func linear(
        _ x: UnsafePointer<UInt16>, rows: Int, weights: PackedBF16Weights, bias: UnsafePointer<Float>?,
        accumulate: Bool = false, into y: UnsafeMutablePointer<Float>
    ) {
        let (k, n) = (weights.inFeatures, weights.outFeatures)
        weights.words.withUnsafeBufferPointer { wp in
            let io = UncheckedBox((x, wp.baseAddress!, bias, y))
            forEachRowPart(rows, cost: n * k) { start, count in
                let (x, w, b, y) = io.value
                da3_gemm_bf16(x + start * k, k, w, count, n, k, b, accumulate ? 1 : 0, y + start * n, n)
            }
        }
    }

    /// y = bfloat16(gelu(x W^T + b)) (the MLP's first layer, feeding the second as bfloat16).
    public static func linearGELU(
        _ x: UnsafePointer<UInt16>, rows: Int, weights: PackedBF16Weights, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<UInt16>
    ) {
        let (k, n) = (weights.inFeatures, weights.outFeatures)
        weights.words.withUnsafeBufferPointer { wp in
            let io = UncheckedBox((x, wp.baseAddress!, bias, y))
            forEachRowPart(rows, cost: n * k) { start, count in
                let (x, w, b, y) = io.value
                let block = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * n)
                defer { block.deallocate() }
                var r = start
                while r < start + count {
                    let m = min(blockRows, start + count - r)
                    da3_gemm_bf16(x + r * k, k, w, m, n, k, b, 0, block, n)
                    da3_gelu(block, m * n)
                    da3_f32_to_bf16(block, y + r * n, m * n)
                    r += m
                }
            }
        }
    }

    /// Calls body(start, count) on row parts (multiples of 8) over the engine's threads.
    private static func forEachRowPart(_ rows: Int, cost: Int, _ body: @escaping (Int, Int) -> Void) {
        let workers = rows * cost >= 2_000_000 ? min(Parallel.threadCount, max(1, rows / 32)) : 1
        let part = ((rows + workers - 1) / workers + 7) / 8 * 8
        let b = UncheckedBox(body)
        Parallel.forEachIndex(workers) { w in
            let start = w * part, count = min(rows, start + part) - start
            if count > 0 { b.value(start, count) }
        }
    }
}
