/// Model weights on the device, uploaded once when an operator is prepared.

extension VulkanBuffer {
    /// A device buffer holding `values` (uploaded through staging where the memory is not mapped).
    public convenience init(device: VulkanDevice, values: [Float]) throws {
        try self.init(device: device, size: values.count * 4)
        try write(values)
    }
}

/// `nn.Linear` (weight out x in, bias out), with an optional per-output scale (LayerScale gamma)
/// applied in the product's epilogue. On devices that prefer gemm_rows the weight is stored
/// transposed (in x out). An FP16 linear (the fast mode) stores its weight in FP16 and takes FP16
/// inputs; bias, scale and the epilogue stay FP32; it runs on the tiled gemm_f16 on every device
/// (`VulkanDevice.prefersLaneGEMMForFP16`).
public final class VulkanLinear: @unchecked Sendable {
    public let inFeatures: Int, outFeatures: Int
    /// The weight is stored in x out, for gemm_rows.
    let transposed: Bool
    /// The weight and the input are FP16 (gemm_f16 / gemm_rows_f16).
    public let fp16: Bool
    let weight: VulkanBuffer
    let bias: VulkanBuffer?
    let outputScale: VulkanBuffer?

    public init(device: VulkanDevice, weight: [Float], bias: [Float]?, inFeatures: Int, outFeatures: Int, outputScale: [Float]? = nil,
                fp16: Bool = false) throws {
        guard weight.count == inFeatures * outFeatures, bias.map({ $0.count == outFeatures }) ?? true,
              outputScale.map({ $0.count == outFeatures }) ?? true else {
            throw VulkanError.invalidArgument("linear weights do not match \(outFeatures) x \(inFeatures)")
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.fp16 = fp16
        transposed = fp16 ? device.prefersLaneGEMMForFP16 : device.prefersLaneGEMM
        var stored = weight
        if transposed {
            for o in 0..<outFeatures { for i in 0..<inFeatures { stored[i * outFeatures + o] = weight[o * inFeatures + i] } }
        }
        if fp16 {
            self.weight = try VulkanBuffer(device: device, size: stored.count * 2)
            try self.weight.write(stored.map { Float16($0) })
        } else {
            self.weight = try VulkanBuffer(device: device, values: stored)
        }
        self.bias = try bias.map { try VulkanBuffer(device: device, values: $0) }
        self.outputScale = try outputScale.map { try VulkanBuffer(device: device, values: $0) }
    }

    /// y[rows, out] (+)= epilogue(x[rows, in] W^T + b): rows of x at xOffset with stride ldx.
    /// FP16 linears read an FP16 x and write FP16 y with `halfOutput` (no residual then).
    func encode(_ seq: VulkanSequence, _ lib: VulkanKernelLibrary, x: VulkanBuffer, xOffset: Int = 0, ldx: Int? = nil, rows: Int,
                y: VulkanBuffer, activation: VulkanSequence.Activation = .none, residual: VulkanBuffer? = nil,
                halfOutput: Bool = false) throws {
        if transposed {
            try seq.gemmRows(lib, m: rows, n: outFeatures, k: inFeatures, a: x, aOffset: xOffset, lda: ldx ?? inFeatures,
                             b: weight, ldb: outFeatures, c: y, ldc: outFeatures,
                             bias: bias, activation: activation, gamma: outputScale, residual: residual,
                             fp16: fp16, halfOutput: halfOutput)
            return
        }
        try seq.gemm(lib, m: rows, n: outFeatures, k: inFeatures, a: x, aOffset: xOffset, lda: ldx ?? inFeatures,
                     b: weight, ldb: inFeatures, transB: true, c: y, ldc: outFeatures,
                     bias: bias, activation: activation, gamma: outputScale, residual: residual,
                     fp16: fp16, halfOutput: halfOutput)
    }
}

/// `nn.LayerNorm(width, eps)` weights.
public final class VulkanLayerNorm: @unchecked Sendable {
    public let width: Int
    public let eps: Float
    let weight: VulkanBuffer, bias: VulkanBuffer

    public init(device: VulkanDevice, weight: [Float], bias: [Float], eps: Float) throws {
        guard weight.count == bias.count else { throw VulkanError.invalidArgument("layer norm weight and bias differ in size") }
        width = weight.count
        self.eps = eps
        self.weight = try VulkanBuffer(device: device, values: weight)
        self.bias = try VulkanBuffer(device: device, values: bias)
    }
}

/// `nn.Conv2d` weights (cout, cin, k, k) and bias; run directly (small maps) or as im2col + GEMM.
public final class VulkanConv: @unchecked Sendable {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    let weight: VulkanBuffer
    let bias: VulkanBuffer?

    public init(device: VulkanDevice, weight: [Float], bias: [Float]?, inChannels: Int, outChannels: Int,
                kernel: Int, stride: Int = 1, padding: Int = 0) throws {
        guard weight.count == outChannels * inChannels * kernel * kernel else {
            throw VulkanError.invalidArgument("conv weights do not match \(outChannels) x \(inChannels) x \(kernel) x \(kernel)")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.weight = try VulkanBuffer(device: device, values: weight)
        self.bias = try bias.map { try VulkanBuffer(device: device, values: $0) }
    }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
    }

    /// y = conv(x) (conv(relu(x)) with reluInput), + residual, then ReLU with reluOutput.
    func encode(_ seq: VulkanSequence, _ lib: VulkanKernelLibrary, x: VulkanBuffer, height: Int, width: Int,
                reluInput: Bool = false, reluOutput: Bool = false, residual: VulkanBuffer? = nil, y: VulkanBuffer) throws {
        try seq.conv2d(lib, x: x, channels: inChannels, height: height, width: width, weight: weight, bias: bias,
                       outChannels: outChannels, kernel: kernel, stride: stride, padding: padding,
                       reluInput: reluInput, reluOutput: reluOutput, residual: residual, y: y)
    }
}

/// `nn.ConvTranspose2d(cin, cout, kernel_size=s, stride=s)` weights (cin, cout, s, s) and bias.
public final class VulkanConvTranspose: @unchecked Sendable {
    public let inChannels: Int, outChannels: Int, stride: Int
    let weight: VulkanBuffer, bias: VulkanBuffer

    public init(device: VulkanDevice, weight: [Float], bias: [Float], inChannels: Int, outChannels: Int, stride: Int) throws {
        guard weight.count == inChannels * outChannels * stride * stride, bias.count == outChannels else {
            throw VulkanError.invalidArgument("transposed conv weights do not match")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.stride = stride
        self.weight = try VulkanBuffer(device: device, values: weight)
        self.bias = try VulkanBuffer(device: device, values: bias)
    }

    func encode(_ seq: VulkanSequence, _ lib: VulkanKernelLibrary, x: VulkanBuffer, height: Int, width: Int, y: VulkanBuffer) throws {
        try seq.convTranspose2d(lib, x: x, channels: inChannels, height: height, width: width, weight: weight, bias: bias,
                                outChannels: outChannels, stride: stride, y: y)
    }
}
