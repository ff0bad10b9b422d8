import CKernels

/// One 32-bit word of int8-quantized weights (four consecutive input values of one output channel),
/// or a column scale / correction in the tail of the packed form (`da3_gemm_i8_pack`).
public struct Int8Quad: PackedElement {
    public var bits: UInt32

    /// Words the int8 panels, scales and corrections of an outFeatures x inFeatures matrix take.
    public static func packedCount(inFeatures: Int, outFeatures: Int) -> Int {
        da3_gemm_i8_packed_words(outFeatures, inFeatures)
    }
}

/// `nn.Linear` weights (out x in) quantized to int8 per output channel and packed once for `GEMMI8`.
public typealias PackedI8Weights = PackedWeights<Int8Quad>

extension PackedWeights where Element == Int8Quad {
    /// Quantizes and packs W (outFeatures x inFeatures, row-major; inFeatures a multiple of 4), row
    /// o multiplied by `rowScale[o]` (before quantizing) when given. Needs AVX512-VNNI.
    public init(weight: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int, rowScale: UnsafePointer<Float>? = nil) {
        precondition(GEMMI8.supports(inFeatures: inFeatures), "int8 products need AVX512-VNNI and an input width divisible by 4")
        let words = WeightMemory<Int8Quad>(count: Self.packedCount(inFeatures: inFeatures, outFeatures: outFeatures)) { buffer in
            buffer.withMemoryRebound(to: UInt32.self) {
                da3_gemm_i8_pack(weight, outFeatures, inFeatures, inFeatures, rowScale, $0.baseAddress!)
            }
        }
        self.init(storage: words, inFeatures: inFeatures, outFeatures: outFeatures)
    }
}

/// Fully connected products in int8 (`Precision.int8`) on the CKernels AVX512-VNNI micro-kernel:
/// weights quantized per output channel at load, activations per row at run time (symmetric, round
/// to nearest even), int32 dot products, FP32 scaling, bias and accumulation. Rows are split into
/// parts over the engine's threads; each part is quantized just before its product, in cache.
public enum GEMMI8 {
    /// Whether the CPU has the int8 kernel (AVX512-VNNI).
    public static let available: Bool = da3_i8_available() != 0

    /// Whether a product with this input width can run in int8 here.
    public static func supports(inFeatures: Int) -> Bool { available && inFeatures % 4 == 0 }

    /// y (rows x out) = x W^T + b, or y += x W^T + b with `accumulate`; with `gelu`, y = gelu(x W^T + b).
    /// With `input`, each part's rows of x are first written by it (x is then not read); `output`
    /// runs on each finished part.
    public static func linear(
        _ x: UnsafePointer<Float>?, rows: Int, weights: PackedI8Weights, bias: UnsafePointer<Float>?,
        accumulate: Bool = false, gelu: Bool = false, input: GEMMF32.InputRows? = nil,
        output: GEMMF32.OutputRows? = nil, into y: UnsafeMutablePointer<Float>
    ) {
        let (k, n) = (weights.inFeatures, weights.outFeatures)
        let workers = rows * n * k >= 2_000_000 ? Parallel.threadCount : 1
        let parts = RowParts(rows: rows, target: GEMMF32.partRows, workers: workers), maxRows = parts.maxRows
        let scratch = Scratch(workers: workers, rows: maxRows, floats: input == nil ? 0 : k, bytes: k)
        defer { scratch.deallocate() }
        weights.storage.withUnsafeBufferPointer { wp in
            let io = UncheckedBox((x, wp.baseAddress!, bias, y, scratch, input, output))
            Parallel.forEachItem(parts.count, maxWorkers: workers) { worker, part in
                let (x, w, b, y, scratch, input, output) = io.value
                let (start, count) = parts.range(part)
                var a = x.map { $0 + start * k }
                if let input {
                    input(start, count, scratch.floats(worker))
                    a = UnsafePointer(scratch.floats(worker))
                }
                product(a!, rows: count, k: k, w, n: n, bias: b, accumulate: accumulate, scratch: scratch, worker: worker,
                        into: y + start * n)
                if gelu { da3_gelu(y + start * n, count * n) }
                output?(start, count)
            }
        }
    }

    /// The transformer MLP in one pass over row parts: y += gelu(a W1^T + b1) W2^T + b2, where
    /// `input` writes each part's rows of a; the hidden rows are quantized in cache for the second
    /// product. The arithmetic of `linear(gelu: true)` then `linear(accumulate: true)`.
    public static func mlp(
        rows: Int, input: @escaping GEMMF32.InputRows,
        first: PackedI8Weights, firstBias: UnsafePointer<Float>?,
        second: PackedI8Weights, secondBias: UnsafePointer<Float>?,
        accumulatingInto y: UnsafeMutablePointer<Float>
    ) {
        precondition(first.outFeatures == second.inFeatures, "GEMMI8.mlp: hidden widths differ")
        let (k, hidden, n) = (first.inFeatures, first.outFeatures, second.outFeatures)
        let workers = Parallel.threadCount
        let parts = RowParts(rows: rows, target: GEMMF32.partRows, workers: workers), maxRows = parts.maxRows
        let scratch = Scratch(workers: workers, rows: maxRows, floats: k + hidden, bytes: max(k, hidden))
        defer { scratch.deallocate() }
        first.storage.withUnsafeBufferPointer { w1 in
            second.storage.withUnsafeBufferPointer { w2 in
                let io = UncheckedBox((w1.baseAddress!, firstBias, w2.baseAddress!, secondBias, y, scratch, input))
                Parallel.forEachItem(parts.count, maxWorkers: workers) { worker, part in
                    let (w1, b1, w2, b2, y, scratch, input) = io.value
                    let (start, count) = parts.range(part)
                    let a = scratch.floats(worker), h = a + maxRows * k
                    input(start, count, a)
                    product(a, rows: count, k: k, w1, n: hidden, bias: b1, accumulate: false, scratch: scratch,
                            worker: worker, into: h)
                    da3_gelu(h, count * hidden)
                    product(h, rows: count, k: hidden, w2, n: n, bias: b2, accumulate: true, scratch: scratch,
                            worker: worker, into: y + start * n)
                }
            }
        }
    }

    /// Quantizes `rows` rows of a, then y (+)= a W^T + b on the micro-kernel.
    private static func product(_ a: UnsafePointer<Float>, rows: Int, k: Int, _ w: UnsafePointer<Int8Quad>, n: Int,
                                bias: UnsafePointer<Float>?, accumulate: Bool, scratch: Scratch, worker: Int,
                                into y: UnsafeMutablePointer<Float>) {
        let (q, scales) = (scratch.bytes(worker), scratch.scales(worker))
        da3_quantize_rows_u8(a, rows, k, k, q, scales)
        w.withMemoryRebound(to: UInt32.self, capacity: 1) { words in
            da3_gemm_i8(q, scales, k, words, rows, n, k, bias, accumulate ? 1 : 0, y, n)
        }
    }

    /// Per-worker buffers: float rows (the input's rewrite, the MLP's hidden rows), quantized bytes
    /// and row scales.
    private struct Scratch {
        let rows: Int, floatsPerWorker: Int, bytesPerWorker: Int
        let floatBase: UnsafeMutablePointer<Float>, byteBase: UnsafeMutablePointer<UInt8>
        let scaleBase: UnsafeMutablePointer<Float>

        init(workers: Int, rows: Int, floats: Int, bytes: Int) {
            self.rows = rows
            floatsPerWorker = rows * floats
            bytesPerWorker = rows * bytes
            floatBase = .allocate(capacity: max(1, workers * floatsPerWorker))
            byteBase = .allocate(capacity: max(1, workers * bytesPerWorker))
            scaleBase = .allocate(capacity: workers * rows)
        }

        func floats(_ worker: Int) -> UnsafeMutablePointer<Float> { floatBase + worker * floatsPerWorker }
        func bytes(_ worker: Int) -> UnsafeMutablePointer<UInt8> { byteBase + worker * bytesPerWorker }
        func scales(_ worker: Int) -> UnsafeMutablePointer<Float> { scaleBase + worker * rows }

        func deallocate() {
            floatBase.deallocate()
            byteBase.deallocate()
            scaleBase.deallocate()
        }
    }
}
