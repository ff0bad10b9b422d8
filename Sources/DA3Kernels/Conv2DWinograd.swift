import CKernels
import Foundation

/// 3x3, stride-1, pad-1 convolution (`torch.nn.Conv2d(cin, cout, 3, padding=1)`) on planar (C, H, W) maps by
/// Winograd F(2x2, 3x3): the weights are transformed once (`init`, e.g. at model load), then each
/// 4x4 input tile becomes 16 transformed values, the 16 element-wise channel mixes are 16 GEMMs
/// (outChannels x inChannels times inChannels x tiles), and the output transform adds the bias.
/// 2.25x fewer multiply-adds than the direct convolution; error stays at FP32 rounding level.
///
/// The tiles, in row-major order, are processed in chunks sized so that a chunk's transformed input
/// and GEMM output stay in L2 (a chunk may span several tile rows, so narrow maps waste no GEMM
/// columns); each engine thread owns its buffers and takes chunks from a shared counter.
public struct Winograd3x3: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    /// Transformed weights U[xi][co][ci] (16 x outChannels x inChannels), xi = 4 * row + column of G g G^T.
    public let transformed: WeightMemory<Float>
    /// `transformed` as bfloat16 for `Precision.fast` (nil otherwise).
    public let transformedBF16: WeightMemory<UInt16>?
    public let bias: [Float]?

    /// Transformed-data budget per chunk (floats): 16 x (in + out channels) x tiles.
    static let chunkBudget = 1 << 17

    /// weight: (outChannels, inChannels, 3, 3) as in PyTorch; bias: outChannels or nil.
    /// `precision: .fast` (with AVX512-BF16 and an even inChannels) runs the 16 channel mixes as
    /// bfloat16 products with FP32 accumulation; the transforms stay FP32.
    public init(weight: [Float], bias: [Float]?, inChannels: Int, outChannels: Int, precision: Precision = .exact) {
        precondition(weight.count == outChannels * inChannels * 9, "Winograd3x3: weight must be (out, in, 3, 3)")
        let u = weight.withUnsafeBufferPointer { Self.transform($0, inChannels: inChannels, outChannels: outChannels) }
        self.init(transformed: u, transformedBF16: Self.usesBF16(precision, inChannels: inChannels) ? u.bf16() : nil,
                  bias: bias, inChannels: inChannels, outChannels: outChannels)
    }

    /// Weights transformed earlier (`transform`, e.g. read back from a weight cache).
    public init(transformed: WeightMemory<Float>, transformedBF16: WeightMemory<UInt16>?, bias: [Float]?,
                inChannels: Int, outChannels: Int) {
        precondition(transformed.count == 16 * outChannels * inChannels, "Winograd3x3: 16 x out x in transformed weights")
        precondition(bias == nil || bias!.count == outChannels, "Winograd3x3: bias must have outChannels values")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.transformed = transformed
        self.transformedBF16 = transformedBF16
        self.bias = bias
    }

    /// Whether `precision` runs the channel mixes in bfloat16 for this input width.
    public static func usesBF16(_ precision: Precision, inChannels: Int) -> Bool {
        precision.usesBF16 && Precision.fastAvailable && inChannels % 2 == 0
    }

    /// U = G g G^T of every 3x3 kernel of weight (outChannels, inChannels, 3, 3).
    public static func transform(_ weight: UnsafeBufferPointer<Float>, inChannels: Int, outChannels: Int) -> WeightMemory<Float> {
        precondition(weight.count == outChannels * inChannels * 9, "Winograd3x3: weight must be (out, in, 3, 3)")
        let plane = outChannels * inChannels
        return WeightMemory(count: 16 * plane) { out in
            let io = UncheckedBox((weight.baseAddress!, out.baseAddress!))
            Parallel.forEachChunk(outChannels, costPerItem: inChannels * 200) { range in
                for co in range {
                    for ci in 0..<inChannels {
                        transformKernel(io.value.0 + (co * inChannels + ci) * 9, into: io.value.1 + co * inChannels + ci,
                                        plane: plane)
                    }
                }
            }
        }
    }

    /// U = G g G^T for one 3x3 kernel g (row-major), in Double, with G = [[1, 0, 0], [1/2, 1/2, 1/2],
    /// [1/2, -1/2, 1/2], [0, 0, 1]]; element (i, j) goes to `u[(4 i + j) * plane]`.
    private static func transformKernel(_ g: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, plane: Int) {
        // G applied to three values (a column of g, then a row of G g), summed in the order of a
        // plain matrix product.
        func apply(_ a: Double, _ b: Double, _ c: Double) -> (Double, Double, Double, Double) {
            (a, 0.5 * a + 0.5 * b + 0.5 * c, 0.5 * a - 0.5 * b + 0.5 * c, c)
        }
        let t0 = apply(Double(g[0]), Double(g[3]), Double(g[6]))  // column 0 of G g
        let t1 = apply(Double(g[1]), Double(g[4]), Double(g[7]))
        let t2 = apply(Double(g[2]), Double(g[5]), Double(g[8]))
        func store(row i: Int, _ a: Double, _ b: Double, _ c: Double) {
            let r = apply(a, b, c)
            u[(4 * i) * plane] = Float(r.0)
            u[(4 * i + 1) * plane] = Float(r.1)
            u[(4 * i + 2) * plane] = Float(r.2)
            u[(4 * i + 3) * plane] = Float(r.3)
        }
        store(row: 0, t0.0, t1.0, t2.0)
        store(row: 1, t0.1, t1.1, t2.1)
        store(row: 2, t0.2, t1.2, t2.2)
        store(row: 3, t0.3, t1.3, t2.3)
    }

    /// Whether this is expected to beat `Conv2D.forward` (im2col + GEMM) for a height x width input.
    public func preferred(height: Int, width: Int) -> Bool {
        Winograd3x3.preferred(inChannels: inChannels, outChannels: outChannels, height: height, width: width)
    }

    /// Whether Winograd is expected to beat im2col + GEMM for these sizes.
    /// Measured on DA3 head shapes (2 threads): 1.9-3x faster from 8 channels each way, 64 -> 64 on 16x9
    /// included; with 3 input channels im2col is slightly faster.
    public static func preferred(inChannels: Int, outChannels: Int, height: Int, width: Int) -> Bool {
        inChannels >= 8 && outChannels >= 8 && height * width >= 64
    }

    /// Tiles per chunk for `tiles` tiles in all: equal parts of at most the budget (a multiple of 16).
    static func chunkTiles(tiles: Int, inChannels: Int, outChannels: Int) -> Int {
        let maxTiles = max(16, chunkBudget / (16 * (inChannels + outChannels)) / 16 * 16)
        let parts = (tiles + maxTiles - 1) / maxTiles
        return (tiles + parts - 1) / parts
    }

    /// Distance between the 16 transformed planes: `floats` rounded up to 4 KiB plus one cache line, so
    /// the transforms' 16 streams fall in different L1 sets (a 4 KiB multiple makes them all collide).
    static func planeStride(_ floats: Int) -> Int { (floats + 1023) / 1024 * 1024 + 16 }

    /// x: (inChannels, height, width); writes conv(x) + bias (outChannels, height, width) into y.
    /// Fusions (exact, they save whole passes over the maps): `reluInput` convolves max(x, 0) instead of x
    /// (x itself is left unchanged); `residual` (outChannels, height, width) is added to the output, and
    /// may be y itself. y must not overlap x.
    public func forward(
        _ x: UnsafePointer<Float>, height: Int, width: Int, into y: UnsafeMutablePointer<Float>,
        reluInput: Bool = false, residual: UnsafePointer<Float>? = nil
    ) {
        guard height > 0, width > 0 else { return }
        let cin = inChannels, cout = outChannels
        let tilesH = (height + 1) / 2, tilesW = (width + 1) / 2, tiles = tilesH * tilesW
        let chunk = Winograd3x3.chunkTiles(tiles: tiles, inChannels: cin, outChannels: cout)
        let items = (tiles + chunk - 1) / chunk
        // Column stride of the transformed chunks: the transforms run over whole groups of 16 tiles, so
        // a row segment may spill up to 15 columns past its end (overwritten by the next segment).
        let ld = (chunk + 15) / 16 * 16 + 16
        let vStride = Winograd3x3.planeStride(cin * ld), mStride = Winograd3x3.planeStride(cout * ld)
        // A second thread only from ~4 MFLOP of GEMM work (a parallel region costs tens of microseconds).
        let work = tiles * 32 * cin * cout
        let workers = max(1, min(Parallel.threadCount, items, work / 4_000_000))
        let xs = UncheckedBox(x), ys = UncheckedBox(y), rs = UncheckedBox(residual)
        let relu: Int32 = reluInput ? 1 : 0
        let fast = transformedBF16 != nil
        // The FP32 channel mixes on the engine's AVX-512 kernel, reading the tiles in place (BLAS
        // builds may pick narrower kernels than the CPU has, e.g. OpenBLAS 0.3.21 on Zen 5).
        let native = GEMMF32.available
        let packedWords = fast ? da3_gemm_bf16_packed_words(ld, cin) : 0
        // The weights live as long as `self`, which the caller holds for the whole call.
        let us = UncheckedBox(transformed.base), u16s = UncheckedBox(transformedBF16?.base)
        let biasBox = UncheckedBox(bias)
        // Items are handed out one at a time, so a thread slowed by other processes takes fewer.
        let queue = WorkQueue(count: items)
        Parallel.forEachIndex(workers) { _ in
            let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * vStride)
            let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * mStride)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: da3_wino23_scratch_count(min(chunk, tilesW)))
            // Columns past a chunk's tiles are computed and discarded: keep them finite.
            v.initialize(repeating: 0, count: 16 * vStride)
            m.initialize(repeating: 0, count: 16 * mStride)
            let packed = UnsafeMutablePointer<UInt32>.allocate(capacity: packedWords)
            defer { v.deallocate(); m.deallocate(); scratch.deallocate(); packed.deallocate() }
            let run = { (bp: UnsafePointer<Float>?) in
                while let item = queue.next() {
                    let start = item * chunk, end = min(tiles, start + chunk)
                    // Row segments of the chunk, in order (each one's spill is overwritten by the next).
                    var t = start
                    while t < end {
                        let row = t / tilesW, col = t % tilesW, count = min(end - t, tilesW - col)
                        da3_wino23_input(xs.value, cin, height, width, row, col, count, relu, v + (t - start), ld,
                                         vStride, scratch)
                        t += count
                    }
                    let n = (end - start + 15) / 16 * 16
                    for xi in 0..<16 {
                        if fast, let u16 = u16s.value {
                            da3_gemm_bf16_pack_kn(v + xi * vStride, cin, n, ld, packed)
                            da3_gemm_bf16(u16 + xi * cout * cin, cin, packed, cout, n, cin, nil, 0, m + xi * mStride, ld)
                        } else if native {
                            da3_gemm_f32_kn(us.value + xi * cout * cin, cin, v + xi * vStride, ld, cout, n, cin, 0,
                                            m + xi * mStride, ld)
                        } else {
                            GEMM.serial(m: cout, n: n, k: cin, a: us.value + xi * cout * cin, lda: cin,
                                        b: v + xi * vStride, ldb: ld, c: m + xi * mStride, ldc: ld)
                        }
                    }
                    t = start
                    while t < end {
                        let row = t / tilesW, col = t % tilesW, count = min(end - t, tilesW - col)
                        da3_wino23_output(m + (t - start), ld, mStride, cout, count, bp, rs.value, ys.value, height,
                                          width, row, col)
                        t += count
                    }
                }
            }
            if let b = biasBox.value { b.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
        }
    }
}
