import DA3Kernels

/// `nn.Linear` weights: W (out x in), b (out).
struct LinearWeights {
    let inFeatures: Int, outFeatures: Int
    var weight: [Float]
    var bias: [Float]
    /// W as packed bfloat16 for `Precision.fast` (nil otherwise); `weight` is then empty.
    private(set) var packedBF16: PackedBF16Weights?
    /// W packed for the FP32 micro-kernel (nil unless loaded with `init(packing:...)` on AVX-512);
    /// `weight` is then empty.
    private(set) var packedF32: PackedF32Weights?

    init(_ loader: WeightLoader, _ key: String, in inFeatures: Int, out outFeatures: Int, weightShape: [Int]? = nil) throws {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = try loader.tensor(key + ".weight", weightShape ?? [outFeatures, inFeatures])
        bias = try loader.tensor(key + ".bias", [outFeatures])
    }

    /// Loads straight into the packed form a transformer block's products read (bfloat16 for
    /// `Precision.fast`, the FP32 micro-kernel's panels otherwise, plain W without AVX-512), with
    /// an optional per-output scale (LayerScale gamma) multiplied into W and b, as `scaleOutputs`.
    /// The checkpoint's F32 weights are packed from the mapped file without an intermediate copy,
    /// or the packed form comes from the loader's weight cache file (see `WeightLoader`).
    /// `weightShape` is the stored shape when it is not [out, in] (a convolution read as a matrix).
    init(packing loader: WeightLoader, _ key: String, in inFeatures: Int, out outFeatures: Int,
         weightShape: [Int]? = nil, precision: Precision, outputScale gamma: [Float]? = nil) throws {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        bias = try loader.tensor(key + ".bias", [outFeatures])
        weight = []
        let shape = weightShape ?? [outFeatures, inFeatures]
        let packs = precision == .fast || GEMMF32.available
        // Packed by `make` from the checkpoint, or read back from the loader's weight cache.
        func pack<E>(_ make: (UnsafePointer<Float>, UnsafePointer<Float>?) -> PackedWeights<E>) throws -> PackedWeights<E> {
            let count = PackedWeights<E>.packedCount(inFeatures: inFeatures, outFeatures: outFeatures)
            let storage = try loader.derived(from: key + ".weight", shape, name: key, count: count) { w in
                gamma.withOptionalPointer { make(w.baseAddress!, $0).storage }
            }
            return PackedWeights(storage: storage, inFeatures: inFeatures, outFeatures: outFeatures)
        }
        if precision == .fast {
            packedBF16 = try pack { PackedBF16Weights(weight: $0, inFeatures: inFeatures, outFeatures: outFeatures, rowScale: $1) }
        } else if packs {
            packedF32 = try pack { PackedF32Weights(weight: $0, inFeatures: inFeatures, outFeatures: outFeatures, rowScale: $1) }
        } else {
            weight = try loader.tensor(key + ".weight", shape)
        }
        guard let gamma else { return }
        if packs {
            for o in 0..<outFeatures { bias[o] *= gamma[o] }
        } else {
            scaleOutputs(by: gamma)
        }
    }

    /// Folds a per-output-channel scale (LayerScale gamma) into W and b: exact algebra, done once.
    mutating func scaleOutputs(by gamma: [Float]) {
        let n = inFeatures
        weight.withUnsafeMutableBufferPointer { w in
            for o in 0..<outFeatures {
                let g = gamma[o], row = w.baseAddress! + o * n
                for i in 0..<n { row[i] *= g }
                bias[o] *= g
            }
        }
    }

    /// y (+)= x W^T + b with bfloat16 x (packed by `init(packing:...)` for `.fast`); with `input`,
    /// x is written part by part by it, and `output` runs on each finished part (see `GEMMBF16.linear`).
    func forwardBF16(_ x: UnsafePointer<UInt16>?, rows: Int, accumulate: Bool = false, input: GEMMBF16.InputRows? = nil,
                     output: GEMMF32.OutputRows? = nil, into y: UnsafeMutablePointer<Float>) {
        bias.withUnsafeBufferPointer { b in
            GEMMBF16.linear(x, rows: rows, weights: packedBF16!, bias: b.baseAddress!, accumulate: accumulate,
                            input: input, output: output, into: y)
        }
    }

    /// y += fc2(bfloat16(gelu(fc1(input rows)))) fused part by part (`.fast`, see `GEMMBF16.mlp`).
    static func mlpBF16(_ fc1: LinearWeights, _ fc2: LinearWeights, rows: Int, input: @escaping GEMMBF16.InputRows,
                        accumulatingInto y: UnsafeMutablePointer<Float>) {
        fc1.bias.withUnsafeBufferPointer { b1 in
            fc2.bias.withUnsafeBufferPointer { b2 in
                GEMMBF16.mlp(rows: rows, input: input, first: fc1.packedBF16!, firstBias: b1.baseAddress,
                             second: fc2.packedBF16!, secondBias: b2.baseAddress, accumulatingInto: y)
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

    /// y = gelu(x W^T + b) (exact erf GELU).
    func forwardGELU(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        forward(x, rows: rows, gelu: true, into: y)
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
    static func mlp(_ fc1: LinearWeights, _ fc2: LinearWeights, rows: Int, input: @escaping GEMMF32.InputRows,
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

/// `nn.LayerNorm` weights and epsilon.
struct LayerNormWeights {
    let width: Int
    let eps: Float
    let weight: [Float]
    let bias: [Float]

    init(_ loader: WeightLoader, _ key: String, width: Int, eps: Float) throws {
        self.width = width
        self.eps = eps
        weight = try loader.tensor(key + ".weight", [width])
        bias = try loader.tensor(key + ".bias", [width])
    }

    /// Normalizes `rows` contiguous rows into bfloat16.
    func bf16(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<UInt16>, parallel: Bool = true) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                LayerNorm.forwardBF16(x, rows: rows, width: width, weight: w.baseAddress!, bias: b.baseAddress!, eps: eps,
                                      into: y, parallel: parallel)
            }
        }
    }

    /// Normalizes `rows` rows (strides in elements; in-place allowed).
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, inStride: Int? = nil,
                        into y: UnsafeMutablePointer<Float>, outStride: Int? = nil, parallel: Bool = true) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                LayerNorm.forward(x, rows: rows, width: width, inStride: inStride, weight: w.baseAddress!,
                                  bias: b.baseAddress!, eps: eps, into: y, outStride: outStride, parallel: parallel)
            }
        }
    }
}

/// `nn.Conv2d` weights (groups = 1) with its stride and padding.
struct ConvWeights {
    let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    let weight: WeightMemory<Float>
    let bias: [Float]?
    /// Winograd F(2x2,3x3) form of 3x3 stride-1 pad-1 weights, transformed once at load (or read
    /// back from the weight cache with the weights themselves).
    let winograd: Winograd3x3?
    /// `weight` as bfloat16 for the im2col path in `Precision.fast` (empty otherwise).
    let weightBF16: [UInt16]

    init(_ loader: WeightLoader, _ key: String, in inChannels: Int, out outChannels: Int, kernel: Int,
         stride: Int = 1, padding: Int = 0, bias hasBias: Bool = true, precision: Precision = .exact) throws {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let shape = [outChannels, inChannels, kernel, kernel]
        weight = try loader.memory(key + ".weight", shape)
        bias = hasBias ? try loader.tensor(key + ".bias", [outChannels]) : nil
        let winogradShape = kernel == 3 && stride == 1 && padding == 1
        if winogradShape {
            let transformed = try loader.derived(from: key + ".weight", shape, name: key + ".winograd",
                                                 count: 16 * outChannels * inChannels) { w in
                Winograd3x3.transform(w, inChannels: inChannels, outChannels: outChannels)
            }
            winograd = Winograd3x3(transformed: transformed,
                                   transformedBF16: Winograd3x3.usesBF16(precision, inChannels: inChannels) ? transformed.bf16() : nil,
                                   bias: bias, inChannels: inChannels, outChannels: outChannels)
        } else {
            winograd = nil
        }
        let kk = inChannels * kernel * kernel
        weightBF16 = precision == .fast && !winogradShape && kernel > 1 && kk % 2 == 0 && Precision.fastAvailable
            ? weight.bf16().withUnsafeBufferPointer { Array($0) } : []
    }

    func outputSize(height: Int, width: Int) -> (Int, Int) {
        (Conv2D.outputSize(height, kernel: kernel, stride: stride, padding: padding),
         Conv2D.outputSize(width, kernel: kernel, stride: stride, padding: padding))
    }

    /// conv(x), or conv(relu(x)) with `reluInput`, plus `residual` when given (same shape as the
    /// output), on a (inChannels, height, width) map.
    func callAsFunction(_ x: Tensor, reluInput: Bool = false, residual: Tensor? = nil) -> Tensor {
        precondition(x.shape.count == 3 && x.shape[0] == inChannels)
        let (h, w) = (x.shape[1], x.shape[2])
        let (oh, ow) = outputSize(height: h, width: w)
        var y = Tensor(uninitialized: [outChannels, oh, ow])
        if let winograd, winograd.preferred(height: h, width: w) {
            x.data.withUnsafeBufferPointer { xp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    if let residual {
                        residual.data.withUnsafeBufferPointer { rp in
                            winograd.forward(xp.baseAddress!, height: h, width: w, into: yp.baseAddress!,
                                             reluInput: reluInput, residual: rp.baseAddress!)
                        }
                    } else {
                        winograd.forward(xp.baseAddress!, height: h, width: w, into: yp.baseAddress!, reluInput: reluInput)
                    }
                }
            }
            return y
        }
        let input = reluInput ? x.relu() : x
        input.data.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    bias.withOptionalPointer { bp in
                        weightBF16.withUnsafeBufferPointer { w16 in
                            Conv2D.forward(xp.baseAddress!, channels: inChannels, height: h, width: w, weight: wp.baseAddress!,
                                           bias: bp, outChannels: outChannels, kernel: kernel, stride: stride,
                                           padding: padding, weightBF16: w16.isEmpty ? nil : w16.baseAddress,
                                           into: yp.baseAddress!)
                        }
                    }
                }
            }
        }
        if let residual { y.add(residual) }
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

extension Tensor {
    /// Element-wise ReLU copy.
    func relu() -> Tensor {
        var out = Tensor(uninitialized: shape)
        data.withUnsafeBufferPointer { x in
            out.data.withUnsafeMutableBufferPointer { Elementwise.relu(x.baseAddress!, into: $0.baseAddress!, count: $0.count) }
        }
        return out
    }

    /// self += other (same shape).
    mutating func add(_ other: Tensor) {
        precondition(shape == other.shape)
        other.data.withUnsafeBufferPointer { o in
            data.withUnsafeMutableBufferPointer { Elementwise.add(o.baseAddress!, into: $0.baseAddress!, count: $0.count) }
        }
    }

    /// Bilinear align_corners=True resize of a (C, H, W) map.
    func resizedBilinear(height outH: Int, width outW: Int) -> Tensor {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        if h == outH && w == outW { return self }
        var y = Tensor(uninitialized: [c, outH, outW])
        data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                Resize.bilinearAlignCorners(xp.baseAddress!, channels: c, height: h, width: w,
                                            outHeight: outH, outWidth: outW, into: yp.baseAddress!)
            }
        }
        return y
    }
}

extension LinearWeights {
    /// Wraps already-loaded weights (e.g. a 1x1 convolution viewed as a matrix).
    init(weight: [Float], bias: [Float], in inFeatures: Int, out outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = weight
        self.bias = bias
    }
}
