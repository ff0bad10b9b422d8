import CKernels

/// `nn.Linear` weights (out x in) rounded to bfloat16 and packed once for `GEMMBF16`, as pairs
/// in 32-bit words.
public typealias PackedBF16Weights = PackedWeights<UInt32>

extension UInt32: PackedElement {
    /// Words the bfloat16 panels of an outFeatures x inFeatures matrix take.
    public static func packedCount(inFeatures: Int, outFeatures: Int) -> Int {
        da3_gemm_bf16_packed_words(outFeatures, inFeatures)
    }
}

extension PackedWeights where Element == UInt32 {
    /// Packs W (outFeatures x inFeatures, row-major; inFeatures even), row o multiplied by
    /// `rowScale[o]` (before rounding) when given. Needs AVX512-BF16.
    public init(weight: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int, rowScale: UnsafePointer<Float>? = nil) {
        precondition(inFeatures % 2 == 0, "bfloat16 products need an even input width")
        let words = WeightMemory<UInt32>(count: Self.packedCount(inFeatures: inFeatures, outFeatures: outFeatures)) { buffer in
            da3_gemm_bf16_pack(weight, outFeatures, inFeatures, inFeatures, rowScale, buffer.baseAddress!)
        }
        self.init(storage: words, inFeatures: inFeatures, outFeatures: outFeatures)
    }
}

/// Fully connected products on bfloat16 inputs with FP32 accumulation (`Precision.fast`), on the
/// CKernels AVX512-BF16 micro-kernel; rows are split over the engine's threads.
public enum GEMMBF16 {
    /// Rows per block in `linearGELU` (its FP32 block stays in L2 before GELU and rounding).
    static let blockRows = 64

    /// Writes rows `first ..< first + count` of a product's bfloat16 input into `into` (count x in),
    /// e.g. a LayerNorm, so the product reads them from cache.
    public typealias InputRows = (_ first: Int, _ count: Int, _ into: UnsafeMutablePointer<UInt16>) -> Void

    /// y (rows x out) = x W^T + b, or y += x W^T + b with `accumulate`; x is rows x in bfloat16, or,
    /// with `input`, written part by part by it (x is then not read). `output` runs on each finished
    /// part of y while it is in cache.
    public static func linear(
        _ x: UnsafePointer<UInt16>?, rows: Int, weights: PackedBF16Weights, bias: UnsafePointer<Float>?,
        accumulate: Bool = false, input: InputRows? = nil, output: GEMMF32.OutputRows? = nil,
        into y: UnsafeMutablePointer<Float>
    ) {
        let (k, n) = (weights.inFeatures, weights.outFeatures)
        let part = partRows(rows, cost: n * k)
        let staged = input == nil ? nil : UnsafeMutablePointer<UInt16>.allocate(capacity: Parallel.threadCount * part * k)
        defer { staged?.deallocate() }
        weights.storage.withUnsafeBufferPointer { wp in
            let io = UncheckedBox((x, wp.baseAddress!, bias, y, staged, input, output))
            forEachRowPart(rows, cost: n * k) { worker, start, count in
                let (x, w, b, y, staged, input, output) = io.value
                var a = x.map { $0 + start * k }
                if let staged, let input {
                    input(start, count, staged + worker * part * k)
                    a = UnsafePointer(staged + worker * part * k)
                }
                da3_gemm_bf16(a!, k, w, count, n, k, b, accumulate ? 1 : 0, y + start * n, n)
                output?(start, count)
            }
        }
    }

    /// The transformer MLP in one pass over row parts (`Precision.fast`): y += bfloat16(gelu(a W1^T +
    /// b1)) W2^T + b2, where `input` writes each part's rows of a as bfloat16; the part's hidden rows
    /// stay in cache. The arithmetic of `linearGELU` then `linear`.
    public static func mlp(
        rows: Int, input: @escaping InputRows,
        first: PackedBF16Weights, firstBias: UnsafePointer<Float>?,
        second: PackedBF16Weights, secondBias: UnsafePointer<Float>?,
        accumulatingInto y: UnsafeMutablePointer<Float>
    ) {
        precondition(first.outFeatures == second.inFeatures, "GEMMBF16.mlp: hidden widths differ")
        let (k, hidden, n) = (first.inFeatures, first.outFeatures, second.outFeatures)
        let part = partRows(rows, cost: 2 * hidden * k)
        let perWorker = part * (k + hidden)  // bfloat16 input and hidden rows
        let staged = UnsafeMutablePointer<UInt16>.allocate(capacity: Parallel.threadCount * perWorker)
        let blocks = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.threadCount * part * hidden)
        defer { staged.deallocate(); blocks.deallocate() }
        first.storage.withUnsafeBufferPointer { w1 in
            second.storage.withUnsafeBufferPointer { w2 in
                let io = UncheckedBox((w1.baseAddress!, firstBias, w2.baseAddress!, secondBias, y, staged, blocks, input))
                forEachRowPart(rows, cost: 2 * hidden * k) { worker, start, count in
                    let (w1, b1, w2, b2, y, staged, blocks, input) = io.value
                    let a = staged + worker * perWorker, h = a + part * k
                    let block = blocks + worker * part * hidden
                    input(start, count, a)
                    da3_gemm_bf16(a, k, w1, count, hidden, k, b1, 0, block, hidden)
                    da3_gelu(block, count * hidden)
                    da3_f32_to_bf16(block, h, count * hidden)
                    da3_gemm_bf16(h, hidden, w2, count, n, hidden, b2, 1, y + start * n, n)
                }
            }
        }
    }

    /// y = bfloat16(gelu(x W^T + b)) (the MLP's first layer, feeding the second as bfloat16).
    public static func linearGELU(
        _ x: UnsafePointer<UInt16>, rows: Int, weights: PackedBF16Weights, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<UInt16>
    ) {
        let (k, n) = (weights.inFeatures, weights.outFeatures)
        // One FP32 block per worker, reused for all its parts.
        let blocks = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.threadCount * blockRows * n)
        defer { blocks.deallocate() }
        weights.storage.withUnsafeBufferPointer { wp in
            let io = UncheckedBox((x, wp.baseAddress!, bias, y, blocks))
            forEachRowPart(rows, cost: n * k) { worker, start, count in
                let (x, w, b, y, blocks) = io.value
                let block = blocks + worker * blockRows * n
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

    /// How the float operand B of `product` is stored.
    public enum Layout: Sendable {
        /// n rows of k values (B itself, as `nn.Linear` weights or activations row by row).
        case rows
        /// k rows of n values (B^T, e.g. an im2col matrix or a planar map).
        case columns
    }

    /// C (m x n, rows `ldc` apart) = A B^T for bfloat16 A (m x k, weights converted once) and float
    /// B (activations, rounded and packed here, in parallel); FP32 accumulation.
    public static func product(
        _ a: UnsafePointer<UInt16>, m: Int, b: UnsafePointer<Float>, layout: Layout, n: Int, k: Int,
        into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(k % 2 == 0, "bfloat16 products need an even inner dimension")
        let packed = UnsafeMutablePointer<UInt32>.allocate(capacity: da3_gemm_bf16_packed_words(n, k))
        defer { packed.deallocate() }
        let panels = (n + 31) / 32
        let io = UncheckedBox((a, b, packed, c))
        // Pack whole 32-column panels per thread.
        Parallel.forEachChunk(panels, costPerItem: 32 * k) { range in
            let (_, b, packed, _) = io.value
            let first = range.lowerBound * 32, count = min(n, range.upperBound * 32) - first
            let dst = packed + range.lowerBound * 32 * (k / 2)
            switch layout {
            case .rows: da3_gemm_bf16_pack(b + first * k, count, k, k, nil, dst)
            case .columns: da3_gemm_bf16_pack_kn(b + first, k, count, n, dst)
            }
        }
        forEachRowPart(m, cost: n * k) { _, start, count in
            let (a, _, packed, c) = io.value
            da3_gemm_bf16(a + start * k, k, packed, count, n, k, nil, 0, c + start * ldc, ldc)
        }
    }

    /// Calls body(worker, start, count) on row parts over the engine's threads: parts of up to 64
    /// rows (whole micro-kernel groups) taken one at a time, so a thread slowed by another process
    /// takes fewer.
    private static func forEachRowPart(_ rows: Int, cost: Int, _ body: @escaping (Int, Int, Int) -> Void) {
        let part = partRows(rows, cost: cost)
        let parts = (rows + part - 1) / part
        let b = UncheckedBox(body)
        Parallel.forEachItem(parts, maxWorkers: part < rows ? Parallel.threadCount : 1) { w, p in
            b.value(w, p * part, min(rows, (p + 1) * part) - p * part)
        }
    }

    /// The largest part `forEachRowPart` hands out (all rows when the product is too small to split).
    private static func partRows(_ rows: Int, cost: Int) -> Int {
        rows * cost >= 2_000_000 && rows >= 16 ? min(blockRows, ((rows + 1) / 2 + 7) / 8 * 8) : max(rows, 1)
    }
}
