/// Dimensions of a Depth Anything 3 network (`configs/da3-*.yaml` plus the ViT presets in
/// `model/dinov2/vision_transformer.py`).
public struct ModelConfig: Sendable, Equatable {
    /// Preset name, e.g. "da3-small".
    public var name: String
    /// Token width of the ViT backbone.
    public var embedDim: Int
    /// Attention heads per block (head dimension = embedDim / heads).
    public var heads: Int
    /// Number of transformer blocks.
    public var depth: Int
    /// MLP hidden width = mlpRatio * embedDim.
    public var mlpRatio: Int = 4
    /// Patch side in pixels.
    public var patchSize: Int = 14
    /// Blocks whose outputs feed the head (and the camera decoder, from the last one).
    public var outLayers: [Int]
    /// First block of alternating local/global attention, q/k norm and RoPE.
    public var altStart: Int
    public var qkNormStart: Int
    public var ropeStart: Int
    /// RoPE base frequency.
    public var ropeFrequency: Float = 100
    /// DPT fusion width (`features`).
    public var headFeatures: Int
    /// DPT per-level projection widths (`out_channels`).
    public var headOutChannels: [Int]
    /// Each block's MLP: GELU (`mlp.fc1`/`fc2`) or SwiGLU (`mlp.w12`/`w3`, DINOv2-G).
    public var mlp: MLPKind = .gelu
    /// Backbone outputs are cat(local, norm(global)) (`cat_token`); without, norm(x) alone.
    public var catToken: Bool = true
    /// The head: DualDPT (depth, confidence; camera decoder) or DPT (depth, sky; no camera).
    public var head: HeadKind = .dualDPT
    /// The metric branch of a nested model (`NestedDepthAnything3Net`); empty for one network.
    /// (An array only because a struct cannot hold itself.)
    var nestedBranches: [ModelConfig] = []
    /// The raw depth is DA3METRIC-LARGE's: metres = focal_px * depth / 300.
    public var metricPerFocal = false

    public init(name: String, embedDim: Int, heads: Int, depth: Int, outLayers: [Int], altStart: Int,
                qkNormStart: Int, ropeStart: Int, headFeatures: Int, headOutChannels: [Int]) {
        self.name = name
        self.embedDim = embedDim
        self.heads = heads
        self.depth = depth
        self.outLayers = outLayers
        self.altStart = altStart
        self.qkNormStart = qkNormStart
        self.ropeStart = ropeStart
        self.headFeatures = headFeatures
        self.headOutChannels = headOutChannels
    }

    /// Per-head width.
    public var headDim: Int { embedDim / heads }

    /// `configs/da3-small.yaml` (ViT-S).
    public static let small = ModelConfig(
        name: "da3-small", embedDim: 384, heads: 6, depth: 12, outLayers: [5, 7, 9, 11],
        altStart: 4, qkNormStart: 4, ropeStart: 4, headFeatures: 64, headOutChannels: [48, 96, 192, 384])
    /// `configs/da3-base.yaml` (ViT-B).
    public static let base = ModelConfig(
        name: "da3-base", embedDim: 768, heads: 12, depth: 12, outLayers: [5, 7, 9, 11],
        altStart: 4, qkNormStart: 4, ropeStart: 4, headFeatures: 128, headOutChannels: [96, 192, 384, 768])
    /// `configs/da3-large.yaml` (ViT-L).
    public static let large = ModelConfig(
        name: "da3-large", embedDim: 1024, heads: 16, depth: 24, outLayers: [11, 15, 19, 23],
        altStart: 8, qkNormStart: 8, ropeStart: 8, headFeatures: 256, headOutChannels: [256, 512, 1024, 1024])

    /// The presets this engine runs (`family` adds Giant, Metric, Mono and Nested).
    public static let presets: [ModelConfig] = [.small, .base, .large] + family

    /// Preset by name ("da3-small", ..., "da3nested-giant-large"; case-insensitive; a "-1.1"
    /// release suffix names the same topology).
    public static func preset(named name: String) -> ModelConfig? {
        var key = name.lowercased()
        if key.hasSuffix("-1.1") { key.removeLast(4) }
        return presets.first { $0.name == key }
    }
}
