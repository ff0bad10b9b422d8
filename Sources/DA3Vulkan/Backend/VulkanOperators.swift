import DA3Kernels

/// The model's prepared operators on the device: weights read through the model's
/// `ParameterLoader` and uploaded once.

extension VulkanLinear {
    /// `nn.Linear` at `p.key` (+ `.weight` in `p.weightShape`, `.bias`), LayerScale from `p.outputScale`;
    /// `fp16`: the fast mode's FP16 weight.
    convenience init(_ device: VulkanDevice, _ loader: any ParameterLoader, _ p: LinearParameters, fp16: Bool = false) throws {
        try self.init(device: device, weight: loader.tensor(p.key + ".weight", p.weightShape),
                      bias: loader.tensor(p.key + ".bias", [p.outFeatures]), inFeatures: p.inFeatures, outFeatures: p.outFeatures,
                      outputScale: try p.outputScale.map { try loader.tensor($0, [p.outFeatures]) }, fp16: fp16)
    }

    /// A planar (out, rows) map from rows x in tokens: out[o][r] = W[o] . x[r] + b[o] (a 1x1 convolution).
    func encodePlanar(_ seq: VulkanSequence, _ lib: VulkanKernelLibrary, x: VulkanBuffer, rows: Int, y: VulkanBuffer) throws {
        if transposed {
            try seq.gemmRows(lib, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures, b: weight, ldb: outFeatures,
                             c: y, ldc: rows, transposedOutput: true, bias: bias)
            return
        }
        try seq.gemm(lib, m: outFeatures, n: rows, k: inFeatures, a: weight, lda: inFeatures, b: x, ldb: inFeatures, transB: true,
                     c: y, ldc: rows, bias: bias, biasPerRow: true)
    }
}

extension VulkanLayerNorm {
    convenience init(_ device: VulkanDevice, _ loader: any ParameterLoader, _ p: LayerNormParameters) throws {
        try self.init(device: device, weight: loader.tensor(p.key + ".weight", [p.width]),
                      bias: loader.tensor(p.key + ".bias", [p.width]), eps: p.eps)
    }
}

extension VulkanConv {
    convenience init(_ device: VulkanDevice, _ loader: any ParameterLoader, _ p: ConvParameters) throws {
        try self.init(device: device, weight: loader.tensor(p.key + ".weight", [p.outChannels, p.inChannels, p.kernel, p.kernel]),
                      bias: p.hasBias ? loader.tensor(p.key + ".bias", [p.outChannels]) : nil,
                      inChannels: p.inChannels, outChannels: p.outChannels, kernel: p.kernel, stride: p.stride, padding: p.padding)
    }
}

extension VulkanConvTranspose {
    convenience init(_ device: VulkanDevice, _ loader: any ParameterLoader, _ p: ConvTransposeParameters) throws {
        try self.init(device: device, weight: loader.tensor(p.key + ".weight", [p.channels, p.channels, p.stride, p.stride]),
                      bias: loader.tensor(p.key + ".bias", [p.channels]), inChannels: p.channels, outChannels: p.channels,
                      stride: p.stride)
    }
}

/// Patch embedding: Conv2d(3, D, p, stride p) written as token rows 1... (row 0 zero).
public final class VulkanPatchEmbedding: @unchecked Sendable {
    let patch: Int, dim: Int
    let weight: VulkanBuffer, bias: VulkanBuffer

    init(_ device: VulkanDevice, _ loader: any ParameterLoader, _ p: LinearParameters) throws {
        patch = p.weightShape.last ?? 1
        dim = p.outFeatures
        weight = try VulkanBuffer(device: device, values: loader.tensor(p.key + ".weight", p.weightShape))
        bias = try VulkanBuffer(device: device, values: loader.tensor(p.key + ".bias", [p.outFeatures]))
    }
}

/// The DualDPT output stage: 3x3 conv → ReLU → 1x1 conv to two logits → exp, exp + 1.
public final class VulkanOutputStage: @unchecked Sendable {
    let conv3x3: VulkanConv, conv1x1: VulkanConv

    init(_ device: VulkanDevice, _ loader: any ParameterLoader, _ p: OutputStageParameters) throws {
        conv3x3 = try VulkanConv(device, loader, p.conv3x3)
        conv1x1 = try VulkanConv(device, loader, p.conv1x1)
        guard conv1x1.outChannels == 2, conv1x1.kernel == 1 else {
            throw VulkanError.invalidArgument("the output stage ends in a 1x1 convolution to two channels")
        }
    }
}

extension VulkanAttentionBranch {
    /// `fp16`: the fast mode (FP16 qkv and output projection weights and operands).
    convenience init(_ device: VulkanDevice, _ loader: any ParameterLoader, _ p: AttentionParameters, fp16: Bool = false) throws {
        try self.init(norm: VulkanLayerNorm(device, loader, p.norm), qkv: VulkanLinear(device, loader, p.qkv, fp16: fp16),
                      qNorm: try p.qNorm.map { try VulkanLayerNorm(device, loader, $0) },
                      kNorm: try p.kNorm.map { try VulkanLayerNorm(device, loader, $0) },
                      proj: VulkanLinear(device, loader, p.proj, fp16: fp16), heads: p.heads, headDim: p.headDim)
        usesRoPE = p.usesRoPE
    }
}

extension VulkanMLPBranch {
    /// `fp16`: the fast mode (FP16 fc1 and fc2 weights and operands).
    convenience init(_ device: VulkanDevice, _ loader: any ParameterLoader, _ p: MLPParameters, fp16: Bool = false) throws {
        try self.init(norm: VulkanLayerNorm(device, loader, p.norm), fc1: VulkanLinear(device, loader, p.fc1, fp16: fp16),
                      fc2: VulkanLinear(device, loader, p.fc2, fp16: fp16))
    }

    var hidden: Int { fc1.outFeatures }
}
