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
    public var acceptsCameras: Bool { cameraEncoderSource != nil }

    /// Reads the camera encoder from the checkpoint if it is not read yet (strictly: a missing or
    /// mis-shaped tensor throws, naming it). A pass with cameras does this itself; call it first to
    /// get those errors as errors.
    public func prepareCameraEncoder() throws {
        _ = try encoder()
    }

    /// The camera encoder (read on first use), nil when the checkpoint has none.
    func encoder() throws -> CameraEncoder? {
        guard let source = cameraEncoderSource else { return nil }
        return try encoderLock.withLock {
            if let loadedEncoder { return loadedEncoder }
            let encoder = try CameraEncoder(WeightLoader(source: source, prefix: cameraEncoderPrefix), config: config)
            loadedEncoder = encoder
            return encoder
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
    /// reference. Extrinsics and intrinsics are decoded from each view's camera token.
    /// `observer` sees the stacked tokens and blocks ((views * tokens, D), views in processing
    /// order) and each view's final maps.
    public func forward(views images: [[Float]], height: Int, width: Int, cameras: NetworkCameras? = nil,
                        strategy: ReferenceViewStrategy = .saddleBalanced,
                        observer: StageObserver? = nil) -> SceneNetworkOutput {
        precondition(!images.isEmpty && images.allSatisfy { $0.count == 3 * height * width }, "views must share one size")
        precondition(height % config.patchSize == 0 && width % config.patchSize == 0 && height > 0 && width > 0,
                     "image sides must be positive multiples of \(config.patchSize)")
        precondition(images.count == 1 || backend.supportsMultipleViews, "this backend runs one view per pass")
        guard let head, let camera else { preconditionFailure("\(config.name) predicts no cameras: it runs no scenes") }
        var tokens: [[Float]]?
        if let cameras {
            precondition(cameras.extrinsics.count == images.count && cameras.intrinsics.count == images.count)
            guard let encoder = try? encoder() else { preconditionFailure("the checkpoint's camera encoder cannot be read") }
            let encodings = zip(cameras.extrinsics, cameras.intrinsics).map { ext, k in
                CameraGeometry.poseEncoding(cameraToWorld: CameraGeometry.affineInverse(CameraGeometry.homogeneous(ext)),
                                            intrinsics: k, height: height, width: width)
            }
            tokens = encoder.tokens(poseEncodings: encodings)
        }
        let plan = self.plan(height: height, width: width)
        let run = backend.makeExecution()
        var out = backbone.forward(views: images, plan: plan, run, cameraTokens: tokens, strategy: strategy, observer: observer)
        run.endTransformer()
        var views: [NetworkOutput] = [], extrinsics: [[Float]] = []
        for v in images.indices {
            let (depthMap, confidenceMap) = head.forward(&out.features[v], plan: plan, run, observer: nil,
                                                         captureFullResolution: false)
            out.features[v] = []
            let pose = camera.poseEncoding(cameraToken: run.host(out.cameraTokens[v]).data)
            let depth = run.host(depthMap).data, confidence = run.host(confidenceMap).data
            observer?(StageNames.depth, Tensor(shape: [height, width], data: depth))
            views.append(NetworkOutput(width: width, height: height, depth: depth, confidence: confidence, poseEncoding: pose,
                                       intrinsics: CameraDecoder.intrinsics(poseEncoding: pose, width: width, height: height)))
            extrinsics.append(CameraGeometry.extrinsics(poseEncoding: pose))
        }
        return SceneNetworkOutput(width: width, height: height, views: views, extrinsics: extrinsics,
                                  referenceView: out.referenceView)
    }
}
