/// `nn.Linear` on the CPU: W (out x in) and b (out) in the form its kernel reads (packed FP32 panels
/// for `GEMMF32` on AVX-512, packed bfloat16 pairs for `GEMMBF16` in `Precision.fast`, or plain W for
/// BLAS), with the fusions the backend's operators use (input rows rewritten per part, e.g. a
/// LayerNorm; output parts post-processed; GELU; residual accumulation; the fused MLP).
public struct CPULinear: Sendable {
    /// W in the form its kernel reads.
    enum Weights: Sendable {
        /// Row-major W (out x in) for BLAS: mapped from the weight cache file on a cached load.
        case plain(WeightMemory<Float>)
        /// Panels of the FP32 micro-kernel (`GEMMF32`, AVX-512).
        case packedF32(PackedF32Weights)
        /// bfloat16 pairs of the `Precision.fast` micro-kernel (`GEMMBF16`).
        case packedBF16(PackedBF16Weights)
        /// int8 quads of the `Precision.int8` micro-kernel (`GEMMI8`).
        case packedI8(PackedI8Weights)
    }

    let inFeatures: Int, outFeatures: Int
    private(set) var weights: Weights
    private(set) var bias: [Float]

    /// Plain W and b (no outputScale), for BLAS (also host-side layers such as the camera decoder).
    public init(_ loader: any ParameterLoader, _ p: LinearParameters) throws {
        inFeatures = p.inFeatures
        outFeatures = p.outFeatures
        weights = .plain(try loader.memory(p.key + ".weight", p.weightShape))
        bias = try loader.tensor(p.key + ".bias", [p.outFeatures])
    }

    /// Loads straight into the packed form a transformer block's products read (bfloat16 for
    /// `Precision.fast`, the FP32 micro-kernel's panels otherwise, plain W without AVX-512), with
    /// an optional per-output scale (LayerScale gamma) multiplied into W and b, as `scaleOutputs`.
    /// The checkpoint's F32 weights are packed from the mapped file without an intermediate copy,
    /// or the packed form comes from the loader's weight cache file (see `ParameterLoader`).
    /// `weightShape` is the stored shape when it is not [out, in] (a convolution read as a matrix).
    init(packing loader: any ParameterLoader, _ p: LinearParameters, precision: Precision) throws {
        let (key, inFeatures, outFeatures) = (p.key, p.inFeatures, p.outFeatures)
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let gamma = try p.outputScale.map { try loader.tensor($0, [outFeatures]) }
        bias = try loader.tensor(key + ".bias", [outFeatures])
        let shape = p.weightShape
        let packs = precision.usesBF16 || GEMMF32.available
        // Packed by `make` from the checkpoint, or read back from the loader's weight cache.
        func pack<E>(_ make: (UnsafePointer<Float>, UnsafePointer<Float>?) -> PackedWeights<E>) throws -> PackedWeights<E> {
            let count = PackedWeights<E>.packedCount(inFeatures: inFeatures, outFeatures: outFeatures)
            let storage = try loader.derived(from: key + ".weight", shape, name: key, count: count) { w in
                gamma.withOptionalPointer { make(w.baseAddress!, $0).storage }
            }
            return PackedWeights(storage: storage, inFeatures: inFeatures, outFeatures: outFeatures)
        }
        if precision.usesInt8 && GEMMI8.supports(inFeatures: inFeatures) {
            weights = .packedI8(try pack {
                PackedI8Weights(weight: $0, inFeatures: inFeatures, outFeatures: outFeatures, rowScale: $1)
            })
        } else if precision.usesBF16 {
            weights = .packedBF16(try pack {
                PackedBF16Weights(weight: $0, inFeatures: inFeatures, outFeatures: outFeatures, rowScale: $1)
            })
        } else if packs {
            weights = .packedF32(try pack {
                PackedF32Weights(weight: $0, inFeatures: inFeatures, outFeatures: outFeatures, rowScale: $1)
            })
        } else {
            weights = .plain(try loader.memory(key + ".weight", shape))
        }
        guard let gamma else { return }
        if packs {
            for o in 0..<outFeatures { bias[o] *= gamma[o] }
        } else {
            scaleOutputs(by: gamma)
        }
    }

    /// Folds a per-output-channel scale (LayerScale gamma) into plain W and b: exact algebra, done once.
    private mutating func scaleOutputs(by gamma: [Float]) {
        guard case .plain(let weight) = weights else { preconditionFailure("only plain weights are scaled after loading") }
        let n = inFeatures
        weights = .plain(WeightMemory(count: weight.count) { w in
            for o in 0..<outFeatures {
                let g = gamma[o], row = w.baseAddress! + o * n, source = weight.base + o * n
                for i in 0..<n { row[i] = source[i] * g }
            }
        })
        for o in 0..<outFeatures { bias[o] *= gamma[o] }
    }

    /// W (out x in) as loaded by `init(_:_:)` (plain weights only).
    var weight: WeightMemory<Float> {
        guard case .plain(let weight) = weights else { preconditionFailure("CPULinear: W is packed") }
        return weight
    }

    /// The bfloat16 panels (`init(packing:...)` with `Precision.fast` only).
    private var packedBF16: PackedBF16Weights {
        guard case .packedBF16(let packed) = weights else { preconditionFailure("CPULinear: not packed for bfloat16") }
        return packed
    }

    /// The int8 panels, if packed so (`Precision.int8`, `.int8FP32`).
    var packedI8: PackedI8Weights? {
        guard case .packedI8(let packed) = weights else { return nil }
        return packed
    }

    /// y (+)= x W^T + b in int8 (packed so): x rows, or each part's rows written by `input`;
    /// `output` runs on each finished part (see `GEMMI8.linear`).
    func forwardI8(_ x: UnsafePointer<Float>?, rows: Int, accumulate: Bool = false, input: GEMMF32.InputRows? = nil,
                   output: GEMMF32.OutputRows? = nil, into y: UnsafeMutablePointer<Float>) {
        guard let packedI8 else { preconditionFailure("CPULinear: not packed for int8") }
        bias.withUnsafeBufferPointer { b in
            GEMMI8.linear(x, rows: rows, weights: packedI8, bias: b.baseAddress!, accumulate: accumulate,
                          input: input, output: output, into: y)
        }
    }

    /// y += fc2(gelu(fc1(input rows))) in int8, fused part by part (see `GEMMI8.mlp`).
    static func mlpI8(_ fc1: CPULinear, _ fc2: CPULinear, rows: Int, input: @escaping GEMMF32.InputRows,
                      accumulatingInto y: UnsafeMutablePointer<Float>) {
        guard let first = fc1.packedI8, let second = fc2.packedI8 else { preconditionFailure("CPULinear: not packed for int8") }
        fc1.bias.withUnsafeBufferPointer { b1 in
            fc2.bias.withUnsafeBufferPointer { b2 in
                GEMMI8.mlp(rows: rows, input: input, first: first, firstBias: b1.baseAddress, second: second,
                           secondBias: b2.baseAddress, accumulatingInto: y)
            }
        }
    }

    /// The FP32 panels, if packed so.
    private var packedF32: PackedF32Weights? {
        guard case .packedF32(let packed) = weights else { return nil }
        return packed
    }

    /// y (+)= x W^T + b with bfloat16 x (packed by `init(packing:...)` for `.fast`); with `input`,
    /// x is written part by part by it, and `output` runs on each finished part (see `GEMMBF16.linear`).
    func forwardBF16(_ x: UnsafePointer<UInt16>?, rows: Int, accumulate: Bool = false, input: GEMMBF16.InputRows? = nil,
                     output: GEMMF32.OutputRows? = nil, into y: UnsafeMutablePointer<Float>) {
        bias.withUnsafeBufferPointer { b in
            GEMMBF16.linear(x, rows: rows, weights: packedBF16, bias: b.baseAddress!, accumulate: accumulate,
                            input: input, output: output, into: y)
        }
    }

    /// y += fc2(bfloat16(gelu(fc1(input rows)))) fused part by part (`.fast`, see `GEMMBF16.mlp`).
    static func mlpBF16(_ fc1: CPULinear, _ fc2: CPULinear, rows: Int, input: @escaping GEMMBF16.InputRows,
                        accumulatingInto y: UnsafeMutablePointer<Float>) {
        fc1.bias.withUnsafeBufferPointer { b1 in
            fc2.bias.withUnsafeBufferPointer { b2 in
                GEMMBF16.mlp(rows: rows, input: input, first: fc1.packedBF16, firstBias: b1.baseAddress,
                             second: fc2.packedBF16, secondBias: b2.baseAddress, accumulatingInto: y)
            }
        }
    }

    /// y += x W^T + b: a residual branch added in place by the product itself.
    func accumulate(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        forward(x, rows: rows, accumulate: true, into: y)
    }

    /// y (rows x out) = x (rows x in) W^T + b.
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        forward(x, rows: rows, into: y)
    }

    /// Whether `forward(_:rows:input:...)` runs the parts through the packed FP32 kernel.
    var isPackedF32: Bool { packedF32 != nil }

    /// y (rows x out) = (input's rewrite of x) W^T + b, then `output` on the finished rows: with the
    /// packed FP32 kernel both run per part of rows while it is in cache; otherwise in whole passes
    /// (through `staging`, rows x in floats). The same arithmetic either way.
    func forward(_ x: UnsafePointer<Float>, rows: Int, input: @escaping GEMMF32.InputRows,
                 output: GEMMF32.OutputRows? = nil, staging: UnsafeMutablePointer<Float>,
                 gelu: Bool = false, into y: UnsafeMutablePointer<Float>) {
        if let packedF32 {
            bias.withUnsafeBufferPointer { b in
                GEMMF32.linear(x, rows: rows, weights: packedF32, bias: b.baseAddress!, gelu: gelu, input: input,
                               output: output, into: y)
            }
            return
        }
        let (k, box) = (inFeatures, UncheckedBox((input, staging)))
        Parallel.forEachChunk(rows, costPerItem: k * 8) { r in box.value.0(r.lowerBound, r.count, box.value.1 + r.lowerBound * k) }
        forward(staging, rows: rows, gelu: gelu, into: y)
        guard let output else { return }
        withoutActuallyEscaping(output) { output in
            let box = UncheckedBox(output)
            Parallel.forEachChunk(rows, costPerItem: outFeatures * 8) { r in box.value(r.lowerBound, r.count) }
        }
    }

    /// y += fc2(gelu(fc1(input rows))): the MLP fused part by part when both layers are packed
    /// for the FP32 kernel, else the two products in turn (through `staging`, rows x fc1.in, and
    /// `hidden`, rows x fc1.out). The same arithmetic either way.
    static func mlp(_ fc1: CPULinear, _ fc2: CPULinear, rows: Int, input: @escaping GEMMF32.InputRows,
                    staging: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                    accumulatingInto y: UnsafeMutablePointer<Float>) {
        guard let first = fc1.packedF32, let second = fc2.packedF32 else {
            fc1.forward(staging, rows: rows, input: input, staging: staging, gelu: true, into: hidden)
            fc2.accumulate(hidden, rows: rows, into: y)
            return
        }
        fc1.bias.withUnsafeBufferPointer { b1 in
            fc2.bias.withUnsafeBufferPointer { b2 in
                GEMMF32.mlp(rows: rows, input: input, first: first, firstBias: b1.baseAddress, second: second,
                            secondBias: b2.baseAddress, accumulatingInto: y)
            }
        }
    }

    private func forward(_ x: UnsafePointer<Float>, rows: Int, accumulate: Bool = false, gelu: Bool = false,
                         into y: UnsafeMutablePointer<Float>) {
        bias.withUnsafeBufferPointer { b in
            if let packedF32 {
                GEMMF32.linear(x, rows: rows, weights: packedF32, bias: b.baseAddress!, accumulate: accumulate, gelu: gelu,
                               into: y)
                return
            }
            weight.withUnsafeBufferPointer { w in
                Linear.forward(x, rows: rows, inFeatures: inFeatures, weight: w.baseAddress!, bias: b.baseAddress!,
                               outFeatures: outFeatures, accumulate: accumulate, into: y)
            }
            if gelu { Elementwise.gelu(y, count: rows * outFeatures) }
        }
    }
}

extension CPULinear {
    /// x W^T + b for rows of x (a multiple of inFeatures values), with plain weights (`init(_:_:)`).
    public func callAsFunction(_ x: [Float]) -> [Float] {
        let rows = x.count / inFeatures
        var y = [Float](repeating: 0, count: rows * outFeatures)
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                y.withUnsafeMutableBufferPointer { yb in
                    Linear.forward(x, rows: rows, inFeatures: inFeatures, weight: w.baseAddress!, bias: b.baseAddress!,
                                   outFeatures: outFeatures, into: yb.baseAddress!)
                }
            }
        }
        return y
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with the array's base address, or nil.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let array = self else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
