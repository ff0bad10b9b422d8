import CKernels

/// `nn.Linear` weights (out x in) packed once into the panels `GEMMF32` reads.
public typealias PackedF32Weights = PackedWeights<Float>

extension Float: PackedElement {
    /// Floats the 32-column panels of an outFeatures x inFeatures matrix take.
    public static func packedCount(inFeatures: Int, outFeatures: Int) -> Int {
        da3_gemm_f32_packed_count(outFeatures, inFeatures)
    }
}

extension PackedWeights where Element == Float {
    /// Packs W (outFeatures x inFeatures, row-major), row o multiplied by `rowScale[o]` when given.
    public init(weight: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int, rowScale: UnsafePointer<Float>? = nil) {
        let panels = WeightMemory<Float>(count: Self.packedCount(inFeatures: inFeatures, outFeatures: outFeatures)) { buffer in
            // Whole 32-column panels per thread.
            let io = UncheckedBox((weight, buffer.baseAddress!, rowScale))
            Parallel.forEachChunk((outFeatures + 31) / 32, costPerItem: 32 * inFeatures) { range in
                let (w, packed, scale) = io.value
                let first = range.lowerBound * 32, columns = min(outFeatures, range.upperBound * 32) - first
                da3_gemm_f32_pack(w + first * inFeatures, columns, inFeatures, inFeatures, scale.map { $0 + first },
                                  packed + first * inFeatures)
            }
        }
        self.init(storage: panels, inFeatures: inFeatures, outFeatures: outFeatures)
    }
}

/// FP32 fully connected products on the CKernels AVX-512 micro-kernel with weights packed at load
/// (the exact path's transformer linears); row parts are taken one at a time by the engine's threads.
public enum GEMMF32 {
    /// Whether the micro-kernel runs here (AVX-512); otherwise callers use `Linear` (BLAS).
    public static let available: Bool = da3_gemm_f32_available() != 0

    /// Rows per part (about): the part's rows stay in L2 while each weight panel passes over them once.
    static let partRows = 64

    /// The transformer MLP as one pass over row parts: y += gelu(a W1^T + b1) W2^T + b2, where `input`
    /// writes each part's rows of a (e.g. normalized rows of y). Each part's hidden activations stay
    /// in a per-worker buffer in cache instead of going through memory between the two products; the
    /// arithmetic is that of two `linear` calls.
    public static func mlp(
        rows: Int, input: @escaping InputRows,
        first: PackedF32Weights, firstBias: UnsafePointer<Float>?,
        second: PackedF32Weights, secondBias: UnsafePointer<Float>?,
        accumulatingInto y: UnsafeMutablePointer<Float>
    ) {
        precondition(first.outFeatures == second.inFeatures, "GEMMF32.mlp: hidden widths differ")
        let (k, hidden, n) = (first.inFeatures, first.outFeatures, second.outFeatures)
        let workers = Parallel.threadCount
        let parts = RowParts(rows: rows, target: partRows, workers: workers), maxRows = parts.maxRows
        let staged = UnsafeMutablePointer<Float>.allocate(capacity: workers * maxRows * (k + hidden))
        defer { staged.deallocate() }
        first.storage.withUnsafeBufferPointer { w1 in
            second.storage.withUnsafeBufferPointer { w2 in
                let io = UncheckedBox((w1.baseAddress!, firstBias, w2.baseAddress!, secondBias, y, staged, input))
                Parallel.forEachItem(parts.count, maxWorkers: workers) { worker, part in
                    let (w1, b1, w2, b2, y, staged, input) = io.value
                    let (start, count) = parts.range(part)
                    let a = staged + worker * maxRows * (k + hidden), h = a + maxRows * k
                    input(start, count, a)
                    da3_gemm_f32(a, k, w1, count, hidden, k, b1, 0, h, hidden)
                    da3_gelu(h, count * hidden)
                    da3_gemm_f32(h, hidden, w2, count, n, hidden, b2, 1, y + start * n, n)
                }
            }
        }
    }

    /// Rewrites rows `first ..< first + count` of the input into `into` (count x inFeatures), e.g. a
    /// LayerNorm, so the product reads them from cache instead of a whole normalized copy in memory.
    public typealias InputRows = (_ first: Int, _ count: Int, _ into: UnsafeMutablePointer<Float>) -> Void
    /// Post-processes finished output rows `first ..< first + count` while they are in cache.
    public typealias OutputRows = (_ first: Int, _ count: Int) -> Void

    /// y (rows x out) = x W^T + b, or y += x W^T + b with `accumulate`; with `gelu`, y = gelu(x W^T + b)
    /// applied per part while it is in cache. With `input`, each part's rows of x are first rewritten
    /// by it (x itself is left unchanged); `output` runs on each finished part.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, weights: PackedF32Weights, bias: UnsafePointer<Float>?,
        accumulate: Bool = false, gelu: Bool = false, input: InputRows? = nil, output: OutputRows? = nil,
        into y: UnsafeMutablePointer<Float>
    ) {
        let (k, n) = (weights.inFeatures, weights.outFeatures)
        let workers = rows * n * k >= 2_000_000 ? Parallel.threadCount : 1
        let parts = RowParts(rows: rows, target: partRows, workers: workers), maxRows = parts.maxRows
        let staged = input == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: workers * maxRows * k)
        defer { staged?.deallocate() }
        weights.storage.withUnsafeBufferPointer { wp in
            let io = UncheckedBox((x, wp.baseAddress!, bias, y, staged, input, output))
            Parallel.forEachItem(parts.count, maxWorkers: workers) { worker, part in
                let (x, w, b, y, staged, input, output) = io.value
                let (start, count) = parts.range(part)
                var a = x + start * k
                if let staged, let input {
                    let buffer = staged + worker * maxRows * k
                    input(start, count, buffer)
                    a = UnsafePointer(buffer)
                }
                da3_gemm_f32(a, k, w, count, n, k, b, accumulate ? 1 : 0, y + start * n, n)
                if gelu { da3_gelu(y + start * n, count * n) }
                output?(start, count)
            }
        }
    }

    /// C (m x n, row stride ldc) = A (m x k, row-major, lda = k) B (k x n, row stride ldb), B read
    /// in place (no packing), on all engine threads by column strips: for products whose B is
    /// made fresh each call, as the head's convolutions (`Conv2D`). Without AVX-512, BLAS.
    public static func product(
        _ a: UnsafePointer<Float>, m: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, n: Int,
        into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard available else {
            GEMM.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: ldb, c: c, ldc: ldc)
            return
        }
        // Strips of whole 32-column panels; one strip when the product is too small to split.
        let strip = m * n * k >= 2_000_000 ? max(32, (n / (4 * Parallel.threadCount) + 31) / 32 * 32) : n
        let strips = (n + strip - 1) / strip
        let io = UncheckedBox((a, b, c))
        Parallel.forEachItem(strips) { _, s in
            let (a, b, c) = io.value
            let col = s * strip, cols = min(n, col + strip) - col
            da3_gemm_f32_kn(a, k, b + col, ldb, m, cols, k, 0, c + col, ldc)
        }
    }
}
