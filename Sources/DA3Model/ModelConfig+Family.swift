/// The DA3 family beyond Small/Base/Large (`configs/da3-giant.yaml`, `da3metric-large.yaml`,
/// `da3mono-large.yaml`, `da3nested-giant-large.yaml`).
extension ModelConfig {
    /// A block's MLP.
    public enum MLPKind: String, Sendable {
        /// fc1 -> GELU -> fc2, hidden = mlpRatio * width.
        case gelu
        /// `SwiGLUFFNFused`: w12 -> silu(a) * b -> w3 (DINOv2-G).
        case swiGLU
    }

    /// The dense head.
    public enum HeadKind: String, Sendable {
        /// `DualDPT`: depth + confidence, UV position embedding, camera decoder beside it.
        case dualDPT
        /// `DPT`: depth (one channel, exp) + sky (`sky_output_conv2`, ReLU), identity input norm,
        /// no position embedding, no camera.
        case dpt
    }

    /// MLP hidden width: mlpRatio * width, or for SwiGLU the official `(int(h * 2 / 3) + 7) // 8 * 8`.
    public var mlpHidden: Int {
        let h = mlpRatio * embedDim
        return mlp == .swiGLU ? (h * 2 / 3 + 7) / 8 * 8 : h
    }

    /// Whether the network has a camera token and decoder (the any-view models).
    public var hasCamera: Bool { altStart >= 0 }

    /// Whether the head predicts sky (DPT models).
    public var hasSky: Bool { head == .dpt || metricBranch != nil }

    /// The metric branch of a nested model (`model.da3_metric.*`); nil for one network.
    public var metricBranch: ModelConfig? { nestedBranches.first }

    /// Whether the final depth is in metres: the nested model (aligned to its metric branch).
    /// DA3METRIC-LARGE's raw output needs the focal length first (`MetricDepth`).
    public var outputIsMetric: Bool { metricBranch != nil }

    /// `configs/da3-giant.yaml` (ViT-G with SwiGLU; the Gaussian-splatting head is not run, as in
    /// the official inference without `infer_gs`).
    public static let giant: ModelConfig = {
        var c = ModelConfig(name: "da3-giant", embedDim: 1536, heads: 24, depth: 40, outLayers: [19, 27, 33, 39],
                            altStart: 13, qkNormStart: 13, ropeStart: 13, headFeatures: 256,
                            headOutChannels: [256, 512, 1024, 1024])
        c.mlp = .swiGLU
        return c
    }()

    /// `configs/da3metric-large.yaml`: ViT-L without camera token, q/k norm or RoPE, outputs of
    /// blocks [4, 11, 17, 23] without the cat token, DPT head with sky.
    public static let metricLarge: ModelConfig = {
        var c = monocularLarge(named: "da3metric-large")
        c.metricPerFocal = true
        return c
    }()
    /// `configs/da3mono-large.yaml`: the same topology as Metric-Large.
    public static let monoLarge = monocularLarge(named: "da3mono-large")

    /// The name given to a Metric-/Mono-Large tensor set without config.json: both have the same
    /// tensors, so only config.json's `model_name` tells them apart.
    public static let metricOrMonoLargeName = "da3metric-large|da3mono-large"

    /// `configs/da3nested-giant-large.yaml`: the any-view Giant (`model.da3.*`) aligned to the
    /// Metric-Large branch (`model.da3_metric.*`).
    public static let nestedGiantLarge: ModelConfig = {
        var c = giant
        c.name = "da3nested-giant-large"
        c.nestedBranches = [metricLarge]
        return c
    }()

    /// The family presets (after Small, Base, Large in `presets`).
    static let family: [ModelConfig] = [.giant, .metricLarge, .monoLarge, .nestedGiantLarge]

    private static func monocularLarge(named name: String) -> ModelConfig {
        var c = ModelConfig(name: name, embedDim: 1024, heads: 16, depth: 24, outLayers: [4, 11, 17, 23],
                            altStart: -1, qkNormStart: -1, ropeStart: -1, headFeatures: 256,
                            headOutChannels: [256, 512, 1024, 1024])
        c.catToken = false
        c.head = .dpt
        return c
    }
}

extension ModelConfig {
    /// This any-view configuration nested with `metric` as its metric branch (a nested model).
    public func nested(with metric: ModelConfig, name: String) -> ModelConfig {
        var c = self
        c.name = name
        c.nestedBranches = [metric]
        return c
    }
}
