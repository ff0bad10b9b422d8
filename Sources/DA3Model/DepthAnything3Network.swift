import Foundation
import DA3Kernels
import SafeTensors

/// Depth, confidence and camera for one processed image.
public struct NetworkOutput: Sendable {
    /// Processed image size (multiples of the patch size).
    public let width: Int, height: Int
    /// Depth, row-major height x width (`exp` of the first head channel).
    public let depth: [Float]
    /// Confidence, row-major height x width (`exp + 1` of the second head channel).
    public let confidence: [Float]
    /// Camera decoder output: translation (3), quaternion xyzw (4), fov_h, fov_w.
    public let poseEncoding: [Float]
    /// Intrinsics of the processed image derived from the predicted field of view.
    public let intrinsics: Intrinsics
}

/// A precision the CPU cannot run.
public enum PrecisionError: Error, CustomStringConvertible {
    case fastUnavailable

    public var description: String {
        "fast precision needs a CPU with AVX512-BF16; use the default exact precision"
    }
}

/// The Depth Anything 3 network (`DepthAnything3Net` in `model/da3.py`) for monocular use:
/// backbone, DualDPT main branch and camera decoder, weights loaded once and read-only after.
public final class DepthAnything3Network: @unchecked Sendable {
    /// The dimensions in use.
    public let config: ModelConfig
    /// Arithmetic of the backbone's products (`.exact` unless asked otherwise).
    public let precision: Precision
    let backbone: VisionTransformer
    let head: DualDPTHead
    let camera: CameraDecoder

    private let planLock = NSLock()
    private var plans: [Int: ShapePlan] = [:]

    /// Loads all weights from `source`, strictly: a missing tensor, a shape mismatch or a tensor
    /// outside the explicitly ignored parts (camera encoder, auxiliary ray head) throws, naming the key.
    /// `precision: .fast` throws `PrecisionError` where the CPU lacks bfloat16 dot products.
    /// With `packedWeights` the packed product weights come from that cache file instead of being
    /// packed from `source` (the file must fit: it throws otherwise); `recorder` collects the
    /// packed weights of this load to write such a file.
    public init(config: ModelConfig, weights source: WeightSource, posEmbedTokens: Int? = nil,
                precision: Precision = .exact, packedWeights: PackedWeightReader? = nil,
                recorder: PackedWeightRecorder? = nil) throws {
        self.config = config
        self.precision = precision
        if precision == .fast && !Precision.fastAvailable {
            throw PrecisionError.fastUnavailable
        }
        let loader = WeightLoader(source: source, packedReader: packedWeights, packedRecorder: recorder)
        let tokens = posEmbedTokens ?? (1 + 37 * 37)
        backbone = try VisionTransformer(loader, config: config, posEmbedTokens: tokens, precision: precision)
        head = try DualDPTHead(loader, config: config, precision: precision)
        camera = try CameraDecoder(loader, config: config)
        try loader.finish()
        if let packedWeights, !packedWeights.isExhausted {
            throw CheckpointError(file: source.origin, reason: "the packed weight cache holds more regions than the model uses")
        }
    }

    /// Loads a safetensors checkpoint; the preset comes from `config` or, when nil, is inferred
    /// from the backbone width.
    public convenience init(checkpoint file: SafeTensorsFile, config: ModelConfig? = nil,
                            precision: Precision = .exact, packedWeights: PackedWeightReader? = nil,
                            recorder: PackedWeightRecorder? = nil) throws {
        let posKey = CheckpointKeys.prefix + CheckpointKeys.Backbone.posEmbed
        let patchKey = CheckpointKeys.prefix + CheckpointKeys.Backbone.patchWeight
        guard let patch = file.tensors[patchKey] else {
            throw CheckpointError(file: file.url.path, reason: "missing tensor '\(patchKey)' (not a Depth Anything 3 checkpoint?)")
        }
        let resolved: ModelConfig
        if let config {
            resolved = config
        } else if let preset = ModelConfig.presets.first(where: { $0.embedDim == patch.shape.first }) {
            resolved = preset
        } else {
            throw CheckpointError(file: file.url.path, reason: "backbone width \(patch.shape.first ?? 0) matches no known preset")
        }
        let posTokens = file.tensors[posKey]?.shape.dropFirst().first
        try self.init(config: resolved, weights: SafeTensorsWeightSource(file: file), posEmbedTokens: posTokens,
                      precision: precision, packedWeights: packedWeights, recorder: recorder)
    }

    /// Runs one image: `image` is planar (3, height, width), ImageNet-normalized, with both sides
    /// multiples of the patch size. `observer` receives intermediate tensors by stage name. The
    /// engine never materializes the upsampled maps that feed output_conv1 and output_conv2 (it
    /// computes them in bands); only an observer with `captureFullResolution: true` gets them
    /// ("head.refine.1" at full size, "head.upsampled", "head.logits"), through the unfused path.
    /// Otherwise an observer still sees every stage boundary (for timing), with "head.refine.1"
    /// holding refinenet1's map before its final upsampling.
    public func forward(_ image: [Float], height: Int, width: Int, observer: StageObserver? = nil,
                        captureFullResolution: Bool = true) -> NetworkOutput {
        precondition(height % config.patchSize == 0 && width % config.patchSize == 0 && height > 0 && width > 0,
                     "image sides must be positive multiples of \(config.patchSize)")
        precondition(image.count == 3 * height * width)
        let plan = self.plan(height: height, width: width)
        // The blocks' work buffers are freed before the head runs, so the head reuses their memory
        // instead of faulting in fresh pages (about 23 MB at 896 x 504).
        var scratch = BlockScratch()
        var features = backbone.forward(image, plan: plan, scratch: &scratch, observer: observer)
        scratch.release()
        let pose = camera.poseEncoding(cameraToken: features.cameraToken)
        let (depth, confidence) = head.forward(&features.features, plan: plan, observer: observer,
                                               captureFullResolution: captureFullResolution)
        let intrinsics = CameraDecoder.intrinsics(poseEncoding: pose, width: width, height: height)
        observer?("depth", Tensor(shape: [height, width], data: depth))
        observer?("depth_conf", Tensor(shape: [height, width], data: confidence))
        observer?("pose_enc", Tensor(shape: [9], data: pose))
        return NetworkOutput(width: width, height: height, depth: depth, confidence: confidence,
                             poseEncoding: pose, intrinsics: intrinsics)
    }

    /// The cached per-size plan.
    func plan(height: Int, width: Int) -> ShapePlan {
        let key = height << 32 | width
        planLock.lock()
        defer { planLock.unlock() }
        if let p = plans[key] { return p }
        let p = ShapePlan(height: height, width: width, backbone: backbone)
        plans[key] = p
        return p
    }
}
