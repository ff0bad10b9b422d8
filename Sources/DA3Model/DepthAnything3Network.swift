@_exported import DA3Weights
import DA3Kernels
import Foundation
import SafeTensors

/// Depth, confidence and camera for one processed image.
public struct NetworkOutput: Sendable {
    /// Processed image size (multiples of the patch size).
    public let width: Int, height: Int
    /// Depth, row-major height x width (`exp` of the first head channel), as the official
    /// `Prediction.depth` (after the sky handling of models with a sky head).
    public internal(set) var depth: [Float]
    /// Confidence, row-major height x width (`exp + 1` of the second head channel); all ones for
    /// models without one (DPT head).
    public internal(set) var confidence: [Float]
    /// Camera decoder output: translation (3), quaternion xyzw (4), fov_h, fov_w; empty without a camera.
    public internal(set) var poseEncoding: [Float]
    /// Intrinsics of the processed image derived from the predicted field of view; fx = fy = 0
    /// (unknown) without a camera.
    public let intrinsics: Intrinsics
    /// The sky map (ReLU output of `sky_output_conv2`, H x W; official `Prediction.sky` is it >= 0.5),
    /// for models with a sky head (Metric, Mono, Nested); nil otherwise.
    public internal(set) var sky: [Float]? = nil
    /// Whether `depth` is in metres (the nested model).
    public internal(set) var isMetric = false
    /// The nested model's scale from the any-view depth to metres (`scale_factor`).
    public internal(set) var scaleFactor: Float? = nil
}

/// A precision the CPU cannot run.
public typealias PrecisionError = DA3Kernels.PrecisionError

/// The Depth Anything 3 network (`DepthAnything3Net` in `model/da3.py`) for monocular use:
/// backbone, DualDPT main branch and camera decoder, on the operators of a backend `B` (prepared
/// once at load, read-only after). `DepthAnything3Network` is this network on the CPU backend.
public final class DepthAnything3Net<B: ComputeBackend>: @unchecked Sendable {
    /// The dimensions in use.
    public let config: ModelConfig
    /// The backend the operators were prepared for.
    public let backend: B
    let backbone: VisionTransformer<B>
    let head: DualDPTHead<B>?
    /// The DPT head (Metric, Mono) instead of DualDPT.
    let dpt: DPTHead<B>?
    let camera: CameraDecoder?
    /// The checkpoint, for the parts read on first use instead of at load: the camera encoder
    /// (`encoder()`, the first pass with known cameras; 28.7 MB for DA3-Small, ~20 ms of every load)
    /// and the DualDPT head's auxiliary ray branch (`loadedRayHead()`, the first `use_ray_pose` pass).
    /// Nil for models with neither.
    let lazySource: WeightSource?
    /// Whether the checkpoint holds a camera encoder.
    let hasCameraEncoder: Bool
    /// The checkpoint's root of this network (for the parts read on first use).
    let keyPrefix: String
    /// Guards the parts read on first use.
    let lazyPartsLock = NSLock()
    var loadedEncoder: CameraEncoder?
    var rayHead: RayHead<B>?

    private let planLock = NSLock()
    private var plans: [Int: ShapePlan] = [:]

    /// Loads all weights from `source` into `backend`'s operators, strictly: a missing tensor, a
    /// shape mismatch or a tensor outside the explicitly ignored parts (the auxiliary ray head; the
    /// camera encoder, read whole when present, for scenes with known cameras) throws, naming the key.
    /// `posEmbedTokens` defaults to the 518 x 518 pretraining grid.
    /// With `packedWeights` the weights the backend prepares come from that cache file instead of
    /// being prepared from `source` (the file must fit: it throws otherwise); `recorder` collects
    /// the prepared weights of this load to write such a file.
    /// `keyPrefix` is the checkpoint's root of this network (`model.`; a nested model's branches
    /// are under `model.da3.` and `model.da3_metric.`).
    public init(config: ModelConfig, backend: B, weights source: WeightSource, posEmbedTokens: Int? = nil,
                packedWeights: PackedWeightReader? = nil, recorder: PackedWeightRecorder? = nil,
                keyPrefix: String = "model.") throws {
        self.config = config
        self.backend = backend
        let loader = WeightLoader(source: source, prefix: keyPrefix, packedReader: packedWeights,
                                  packedRecorder: recorder)
        // Refused before any weight is prepared (or uploaded) on a backend that lacks an operator.
        if config.mlp == .swiGLU { try backend.require(.swiGLU) }
        if config.head == .dpt { try backend.require(.tokenRows) }
        backbone = try VisionTransformer(backend, loader, config: config, posEmbedTokens: posEmbedTokens ?? (1 + 37 * 37))
        head = config.head == .dualDPT ? try DualDPTHead(backend, loader, config: config) : nil
        dpt = config.head == .dpt ? try DPTHead(backend, loader, config: config) : nil
        camera = config.hasCamera ? try CameraDecoder(loader, config: config) : nil
        let encoderRoot = keyPrefix + CheckpointKeys.CameraEncoder.root
        hasCameraEncoder = config.hasCamera && source.unusedKeys(used: []).contains { $0.hasPrefix(encoderRoot) }
        self.keyPrefix = keyPrefix
        lazySource = hasCameraEncoder || config.head == .dualDPT ? source : nil
        try loader.finish(ignoring: CheckpointKeys.ignoredPrefixes)
        // Checked last: BLAS may still be loading on its own thread (`GEMM.preload`) until here.
        try GEMM.requireBLAS()
    }

    /// Loads a safetensors checkpoint into `backend`; the preset comes from `config` or, when nil, is
    /// inferred from the backbone width.
    public convenience init(checkpoint file: SafeTensorsFile, config: ModelConfig? = nil, backend: B,
                            packedWeights: PackedWeightReader? = nil, recorder: PackedWeightRecorder? = nil) throws {
        let posKey = CheckpointKeys.prefix + CheckpointKeys.Backbone.posEmbed
        let resolved = try ModelDetection.resolve(config, in: file)
        guard resolved.metricBranch == nil else {
            throw CheckpointError(file: file.url.path, reason: "\(resolved.name) is a nested model: load it with NestedDepthAnything3Net")
        }
        let patchKey = CheckpointKeys.prefix + CheckpointKeys.Backbone.patchWeight
        guard file.tensors[patchKey] != nil else {
            throw CheckpointError(file: file.url.path, reason: "missing tensor '\(patchKey)' (not a Depth Anything 3 checkpoint?)")
        }
        let posTokens = file.tensors[posKey]?.shape.dropFirst().first
        try self.init(config: resolved, backend: backend, weights: SafeTensorsWeightSource(file: file),
                      posEmbedTokens: posTokens, packedWeights: packedWeights, recorder: recorder)
    }

    /// Runs one image: `image` is planar (3, height, width), ImageNet-normalized, with both sides
    /// multiples of the patch size. `observer` receives intermediate tensors by stage name
    /// (`StageNames`). The engine never materializes the upsampled maps that feed output_conv1 and
    /// output_conv2 (it computes them in bands); only an observer with `captureFullResolution: true`
    /// gets them ("head.refine.1" at full size, "head.upsampled", "head.logits"), through the unfused
    /// path. Otherwise an observer still sees every stage boundary (for timing), with "head.refine.1"
    /// holding refinenet1's map before its final upsampling.
    public func forward(_ image: [Float], height: Int, width: Int, observer: StageObserver? = nil,
                        captureFullResolution: Bool = true) -> NetworkOutput {
        precondition(height % config.patchSize == 0 && width % config.patchSize == 0 && height > 0 && width > 0,
                     "image sides must be positive multiples of \(config.patchSize)")
        precondition(image.count == 3 * height * width)
        let plan = self.plan(height: height, width: width)
        let run = backend.makeExecution()
        var features = backbone.forward(image, plan: plan, run, observer: observer)
        // The blocks' work buffers go before the head runs, so the head reuses their memory instead
        // of faulting in fresh pages (about 23 MB at 896 x 504 on the CPU).
        run.endTransformer()
        if let dpt {
            return forwardDPT(dpt, &features.features, plan: plan, run, observer: observer)
        }
        let (depthMap, confidenceMap, _) = head!.forward(&features.features, plan: plan, run, observer: observer,
                                                      captureFullResolution: captureFullResolution)
        let pose = camera!.poseEncoding(cameraToken: run.host(features.cameraToken!).data)
        let intrinsics = CameraDecoder.intrinsics(poseEncoding: pose, width: width, height: height)
        let depth = run.host(depthMap).data, confidence = run.host(confidenceMap).data
        observer?(StageNames.depth, Tensor(shape: [height, width], data: depth))
        observer?(StageNames.depthConfidence, Tensor(shape: [height, width], data: confidence))
        observer?(StageNames.poseEncoding, Tensor(shape: [9], data: pose))
        return NetworkOutput(width: width, height: height, depth: depth, confidence: confidence,
                             poseEncoding: pose, intrinsics: intrinsics)
    }

    /// The DPT models' output: depth after their own sky handling (`SkyHandling.applyMono`), sky,
    /// no confidence or camera.
    private func forwardDPT(_ dpt: DPTHead<B>, _ features: inout [B.Tensor], plan: ShapePlan, _ run: B.Execution,
                            observer: StageObserver?) -> NetworkOutput {
        let (height, width) = (plan.height, plan.width)
        var (depth, sky) = dpt.forward(&features, inputNorm: backbone.norm, plan: plan, run, observer: observer)
        observer?(StageNames.rawDepth, Tensor(shape: [height, width], data: depth))
        SkyHandling.applyMono(depth: &depth, sky: sky)
        observer?(StageNames.depth, Tensor(shape: [height, width], data: depth))
        observer?(StageNames.sky, Tensor(shape: [height, width], data: sky))
        let unknown = Intrinsics(fx: 0, fy: 0, cx: Double(width) / 2, cy: Double(height) / 2, width: width, height: height)
        var out = NetworkOutput(width: width, height: height, depth: depth,
                                confidence: [Float](repeating: 1, count: depth.count), poseEncoding: [], intrinsics: unknown)
        out.sky = sky
        return out
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

/// The network on the CPU backend (the engine behind `DepthEstimator`).
public typealias DepthAnything3Network = DepthAnything3Net<CPUBackend>

extension DepthAnything3Net where B == CPUBackend {
    /// Arithmetic of the CPU operators (`.exact` unless asked otherwise).
    public var precision: Precision { backend.precision }

    /// The network on a `CPUBackend(precision:)` (see `init(config:backend:weights:...)`).
    /// `precision: .fast` throws `PrecisionError` where the CPU cannot run it.
    public convenience init(config: ModelConfig, weights source: WeightSource, posEmbedTokens: Int? = nil,
                            precision: Precision = .exact, packedWeights: PackedWeightReader? = nil,
                            recorder: PackedWeightRecorder? = nil) throws {
        try self.init(config: config, backend: try CPUBackend(precision: precision), weights: source,
                      posEmbedTokens: posEmbedTokens, packedWeights: packedWeights, recorder: recorder)
    }

    /// Loads a safetensors checkpoint on a `CPUBackend(precision:)`; the preset comes from `config`
    /// or, when nil, is inferred from the backbone width.
    public convenience init(checkpoint file: SafeTensorsFile, config: ModelConfig? = nil,
                            precision: Precision = .exact, packedWeights: PackedWeightReader? = nil,
                            recorder: PackedWeightRecorder? = nil) throws {
        try self.init(checkpoint: file, config: config, backend: try CPUBackend(precision: precision),
                      packedWeights: packedWeights, recorder: recorder)
    }
}
