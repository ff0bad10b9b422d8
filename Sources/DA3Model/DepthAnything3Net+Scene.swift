import DA3Kernels
import Foundation

/// Depth, confidence and cameras for every view of an any-view scene, in the caller's view order.
public struct SceneNetworkOutput: Sendable {
    /// Processed size shared by all views.
    public let width: Int, height: Int
    /// Per view: depth, confidence, pose encoding and the intrinsics from its predicted field of view.
    public let views: [NetworkOutput]
    /// Per view: world-to-camera [R | t], row-major 3x4 (the reference view's camera is the world frame).
    public let extrinsics: [[Float]]
    /// The reference view (caller's index).
    public let referenceView: Int
    /// Per view, the auxiliary head's rays when the cameras came from them (`rayPose`), else nil.
    public let rayMaps: [RayMap]?
}

/// Known cameras for a pose-conditioned pass (what the official `cam_enc` receives).
public struct NetworkCameras: Sendable {
    /// Per view: world-to-camera, row-major 4x4 (already normalized as `SceneCameraNormalization` does).
    public var extrinsics: [[Float]]
    /// Per view: row-major 3x3 K in pixels of the processed image.
    public var intrinsics: [[Float]]

    public init(extrinsics: [[Float]], intrinsics: [[Float]]) {
        self.extrinsics = extrinsics
        self.intrinsics = intrinsics
    }
}

extension DepthAnything3Net {
    /// Whether the checkpoint has a camera encoder (needed for `forward(views:cameras:)` with cameras).
    public var acceptsCameras: Bool { hasCameraEncoder }

    /// Reads the camera encoder from the checkpoint if it is not read yet (strictly: a missing or
    /// mis-shaped tensor throws, naming it). A pass with cameras does this itself; call it first to
    /// get those errors as errors.
    public func prepareCameraEncoder() throws {
        _ = try encoder()
    }

    /// The camera encoder (read on first use), nil when the checkpoint has none.
    func encoder() throws -> CameraEncoder? {
        guard hasCameraEncoder, let source = lazySource else { return nil }
        return try lazyPartsLock.withLock {
            if let loadedEncoder { return loadedEncoder }
            let encoder = try CameraEncoder(WeightLoader(source: source, prefix: keyPrefix), config: config)
            loadedEncoder = encoder
            return encoder
        }
    }

    /// Reads the auxiliary ray head from the checkpoint if it is not read yet (strictly, naming a
    /// missing or mis-shaped tensor); throws `BackendUnsupportedError` on a backend without it.
    /// A pass with `rayPose` does this itself.
    public func prepareRayHead() throws {
        _ = try loadedRayHead()
    }

    /// The ray head (read on first use).
    func loadedRayHead() throws -> RayHead<B> {
        try lazyPartsLock.withLock {
            if let rayHead { return rayHead }
            guard config.head == .dualDPT, let source = lazySource else {
                throw CheckpointError(file: config.name, reason: "this model has no auxiliary ray head")
            }
            try backend.require(.rayHead)
            let head = try RayHead(backend, WeightLoader(source: source, prefix: keyPrefix), config: config)
            rayHead = head
            return head
        }
    }

    /// Whether this network's backend runs several views in one pass.
    public var supportsMultipleViews: Bool { backend.supportsMultipleViews }

    /// Whether this model runs scenes at all: it needs the DualDPT head and the camera decoder
    /// (DA3-Small, Base, Large, Giant; not Metric-Large or Mono-Large, which predict no camera).
    public var runsScenes: Bool { head != nil && camera != nil }

    /// Runs an any-view scene (`DepthAnything3Net.forward` with N views): every image planar
    /// (3, height, width), normalized, one size for all. Without `cameras` the views' cameras are
    /// predicted (from 3 views on, the reference view is chosen by `strategy`); with `cameras`
    /// (needs `acceptsCameras`) the camera encoder's tokens condition the pass and view 0 is the
    /// reference. Extrinsics and intrinsics are decoded from each view's camera token, or with
    /// `rayPose` solved from the auxiliary head's rays (`use_ray_pose`; `RayPose`).
    /// `observer` sees the stacked tokens and blocks ((views * tokens, D), views in processing
    /// order) and each view's final maps. Throws when the camera encoder or ray head cannot be read
    /// or run here, or when a view's rays give no camera.
    public func forward(views images: [[Float]], height: Int, width: Int, cameras: NetworkCameras? = nil,
                        strategy: ReferenceViewStrategy = .saddleBalanced, rayPose: RayPose.Options? = nil,
                        observer: StageObserver? = nil) throws -> SceneNetworkOutput {
        precondition(!images.isEmpty && images.allSatisfy { $0.count == 3 * height * width }, "views must share one size")
        precondition(height % config.patchSize == 0 && width % config.patchSize == 0 && height > 0 && width > 0,
                     "image sides must be positive multiples of \(config.patchSize)")
        precondition(images.count == 1 || backend.supportsMultipleViews, "this backend runs one view per pass")
        guard let head, let camera else { preconditionFailure("\(config.name) predicts no cameras: it runs no scenes") }
        var tokens: [[Float]]?
        if let cameras {
            precondition(cameras.extrinsics.count == images.count && cameras.intrinsics.count == images.count)
            guard let encoder = try encoder() else {
                throw CheckpointError(file: config.name, reason: "the checkpoint has no camera encoder: known cameras cannot be used")
            }
            let encodings = zip(cameras.extrinsics, cameras.intrinsics).map { ext, k in
                CameraGeometry.poseEncoding(cameraToWorld: CameraGeometry.affineInverse(CameraGeometry.homogeneous(ext)),
                                            intrinsics: k, height: height, width: width)
            }
            tokens = encoder.tokens(poseEncodings: encodings)
        }
        let rayHead = rayPose == nil ? nil : try loadedRayHead()
        let plan = self.plan(height: height, width: width)
        let run = backend.makeExecution()
        var out = backbone.forward(views: images, plan: plan, run, cameraTokens: tokens, strategy: strategy, observer: observer)
        run.endTransformer()
        var maps: [(depth: [Float], confidence: [Float], pose: [Float])] = [], rayMaps: [RayMap] = []
        for v in images.indices {
            let (depthMap, confidenceMap, rays) = head.forward(&out.features[v], plan: plan, run, observer: nil,
                                                               captureFullResolution: false, rayHead: rayHead)
            out.features[v] = []
            if let rays { rayMaps.append(rays) }
            let pose = rayHead == nil ? camera.poseEncoding(cameraToken: run.host(out.cameraTokens[v]).data) : []
            maps.append((run.host(depthMap).data, run.host(confidenceMap).data, pose))
            observer?(StageNames.depth, Tensor(shape: [height, width], data: maps[v].depth))
        }
        let solved: [(extrinsics: [Float], intrinsics: Intrinsics)]
        if let rayPose {
            var generator = TorchGenerator(seed: rayPose.seed)
            solved = try RayPose.cameras(rayMaps, imageWidth: width, imageHeight: height, generator: &generator)
                .map { ($0.extrinsics, $0.intrinsics) }
        } else {
            solved = maps.map { (CameraGeometry.extrinsics(poseEncoding: $0.pose),
                                  CameraDecoder.intrinsics(poseEncoding: $0.pose, width: width, height: height)) }
        }
        let views = zip(maps, solved).map { m, c in
            NetworkOutput(width: width, height: height, depth: m.depth, confidence: m.confidence, poseEncoding: m.pose,
                          intrinsics: c.intrinsics)
        }
        return SceneNetworkOutput(width: width, height: height, views: views, extrinsics: solved.map(\.extrinsics),
                                  referenceView: out.referenceView, rayMaps: rayPose == nil ? nil : rayMaps)
    }
}
