/// What a backend needs to prepare an operator: the checkpoint tensors it reads (by module key,
/// as the model names them in `CheckpointKeys`) and their dimensions. Backends append the usual
/// PyTorch parameter names (`.weight`, `.bias`) to a module key.

/// Reads checkpoint tensors for a backend's operators. The model's weight loader implements it:
/// it checks shapes, records which tensors were used, and serves prepared forms from the weight
/// cache file when one is read (so `derived` and `memory` must be asked in the same order on every load).
public protocol ParameterLoader: AnyObject {
    /// Human-readable origin for error messages (a file path).
    var origin: String { get }
    /// The tensor `key` (model-relative) as Float32; throws when absent or misshapen.
    func tensor(_ key: String, _ shape: [Int]) throws -> [Float]
    /// The tensor as read-only memory of its own, or mapped from the weight cache file.
    func memory(_ key: String, _ shape: [Int]) throws -> WeightMemory<Float>
    /// Weights computed at load from the tensor `key` (packed panels, a transform), stored in the
    /// weight cache as `name` with `count` elements; `make` gets the tensor's values.
    func derived<Element: BitwiseCopyable>(
        from key: String, _ shape: [Int], name: String, count: Int,
        make: (UnsafeBufferPointer<Float>) -> WeightMemory<Element>
    ) throws -> WeightMemory<Element>
}

/// `nn.Linear` at `key` (weight out x in, bias out); `weightShape` is the stored shape when it is not
/// [out, in] (a convolution read as a matrix). `outputScale` names a per-output scale (LayerScale
/// gamma) that multiplies the layer's output, folded into W and b at load.
public struct LinearParameters: Sendable {
    public var key: String
    public var inFeatures: Int, outFeatures: Int
    public var weightShape: [Int]
    public var outputScale: String?

    public init(_ key: String, in inFeatures: Int, out outFeatures: Int, weightShape: [Int]? = nil,
                outputScale: String? = nil) {
        self.key = key
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weightShape = weightShape ?? [outFeatures, inFeatures]
        self.outputScale = outputScale
    }
}

/// `nn.LayerNorm(width, eps)` at `key`.
public struct LayerNormParameters: Sendable {
    public var key: String
    public var width: Int
    public var eps: Float

    public init(_ key: String, width: Int, eps: Float) {
        self.key = key
        self.width = width
        self.eps = eps
    }
}

/// `nn.Conv2d(in, out, kernel, stride, padding, bias)` at `key` (groups 1, dilation 1).
public struct ConvParameters: Sendable {
    public var key: String
    public var inChannels: Int, outChannels: Int
    public var kernel: Int, stride: Int, padding: Int
    public var hasBias: Bool

    public init(_ key: String, in inChannels: Int, out outChannels: Int, kernel: Int, stride: Int = 1,
                padding: Int = 0, bias: Bool = true) {
        self.key = key
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        hasBias = bias
    }
}

/// `nn.ConvTranspose2d(channels, channels, kernel_size=stride, stride=stride)` at `key`.
public struct ConvTransposeParameters: Sendable {
    public var key: String
    public var channels: Int, stride: Int

    public init(_ key: String, channels: Int, stride: Int) {
        self.key = key
        self.channels = channels
        self.stride = stride
    }
}

/// A ViT block's attention branch (`x + ls1 * attn(norm1(x))`, `attention.py` + `block.py`):
/// pre-norm, fused qkv product, optional per-head q/k LayerNorm and 2-D RoPE, scaled dot-product
/// attention, output projection (with the LayerScale as its `outputScale`) added to the stream.
public struct AttentionParameters: Sendable {
    public var norm: LayerNormParameters
    public var qkv: LinearParameters
    /// q and k LayerNorm over the head dimension (both or neither).
    public var qNorm: LayerNormParameters?, kNorm: LayerNormParameters?
    public var proj: LinearParameters
    public var heads: Int, headDim: Int
    public var usesRoPE: Bool

    public init(norm: LayerNormParameters, qkv: LinearParameters, qNorm: LayerNormParameters?,
                kNorm: LayerNormParameters?, proj: LinearParameters, heads: Int, headDim: Int, usesRoPE: Bool) {
        self.norm = norm
        self.qkv = qkv
        self.qNorm = qNorm
        self.kNorm = kNorm
        self.proj = proj
        self.heads = heads
        self.headDim = headDim
        self.usesRoPE = usesRoPE
    }
}

/// A ViT block's MLP branch (`x + ls2 * fc2(gelu(fc1(norm2(x))))`, `mlp.py` + `block.py`),
/// the LayerScale as fc2's `outputScale`.
public struct MLPParameters: Sendable {
    public var norm: LayerNormParameters
    public var fc1: LinearParameters, fc2: LinearParameters

    public init(norm: LayerNormParameters, fc1: LinearParameters, fc2: LinearParameters) {
        self.norm = norm
        self.fc1 = fc1
        self.fc2 = fc2
    }
}

/// The DualDPT output stage (`output_conv2` of `dualdpt.py` after the final upsampling):
/// 3x3 convolution → ReLU → 1x1 convolution to two logits → depth = exp, confidence = exp + 1.
public struct OutputStageParameters: Sendable {
    public var conv3x3: ConvParameters, conv1x1: ConvParameters

    public init(conv3x3: ConvParameters, conv1x1: ConvParameters) {
        self.conv3x3 = conv3x3
        self.conv1x1 = conv1x1
    }
}
