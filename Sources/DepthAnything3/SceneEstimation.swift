import DA3Kernels
import DA3Model
import Foundation
import SafeTensors

/// A known camera for one input image of a scene.
public struct SceneCamera: Sendable, Equatable {
    /// World-to-camera [R | t], row-major 4x4 (bottom row 0 0 0 1) or 3x4.
    public var extrinsics: [Float]
    /// Row-major 3x3 K in pixels of the input image as given (before any resizing).
    public var intrinsics: [Float]

    public init(extrinsics: [Float], intrinsics: [Float]) {
        self.extrinsics = extrinsics
        self.intrinsics = intrinsics
    }

    /// Why this camera cannot be used, or nil.
    public var problem: String? {
        guard extrinsics.count == 16 || extrinsics.count == 12 else {
            return "extrinsics must be 4x4 or 3x4 (\(extrinsics.count) values)"
        }
        guard intrinsics.count == 9 else { return "intrinsics must be 3x3 (\(intrinsics.count) values)" }
        guard (extrinsics + intrinsics).allSatisfy(\.isFinite) else { return "matrices hold non-finite values" }
        if extrinsics.count == 16 && Array(extrinsics[12...]) != [0, 0, 0, 1] {
            return "the extrinsics' bottom row must be 0 0 0 1"
        }
        for i in 0..<3 {
            for j in 0..<3 {
                let dot = (0..<3).reduce(Float(0)) { $0 + extrinsics[i * 4 + $1] * extrinsics[j * 4 + $1] }
                if abs(dot - (i == j ? 1 : 0)) > 1e-3 { return "the extrinsics' rotation is not orthonormal" }
            }
        }
        guard intrinsics[0] > 0, intrinsics[4] > 0, Array(intrinsics[6...]) == [0, 0, 1] else {
            return "intrinsics must have positive focal lengths and a last row 0 0 1"
        }
        return nil
    }
}

/// How an any-view scene is processed (the official `inference` options).
public struct SceneOptions: Sendable {
    /// `process_res` (default 504).
    public var processRes: Int
    /// `process_res_method` (default `upper_bound_resize`).
    public var method: ResizeMethod
    /// `ref_view_strategy` (default `saddle_balanced`; used from 3 views on, without cameras).
    public var referenceViewStrategy: ReferenceViewStrategy
    /// `use_ray_pose`: cameras solved from the auxiliary head's rays instead of the camera decoder
    /// (nil, the default: the camera decoder). See `RayPose`.
    public var rayPose: RayPose.Options?

    public init(processRes: Int = 504, method: ResizeMethod = .upperBoundResize,
                referenceViewStrategy: ReferenceViewStrategy = .saddleBalanced, rayPose: RayPose.Options? = nil) {
        self.processRes = processRes
        self.method = method
        self.referenceViewStrategy = referenceViewStrategy
        self.rayPose = rayPose
    }
}

/// A network that runs any-view scenes (the native engine on a backend that supports them).
public protocol SceneNetwork: DepthNetwork {
    /// See `DepthAnything3Net.forward(views:height:width:cameras:strategy:rayPose:observer:)`.
    func forward(views: [[Float]], height: Int, width: Int, cameras: NetworkCameras?,
                 strategy: ReferenceViewStrategy, rayPose: RayPose.Options?, observer: StageObserver?) throws -> SceneNetworkOutput
    var supportsMultipleViews: Bool { get }
    var acceptsCameras: Bool { get }
    func prepareCameraEncoder() throws
    func prepareRayHead() throws
    var runsScenes: Bool { get }
}

extension DepthAnything3Net: SceneNetwork {}

/// A scene ready for the network: the views at one processed size, in input order.
public struct PreparedScene: Sendable {
    /// The processed views (one size).
    public let views: [PreparedImage]
    /// One name per view (paths; in errors, and as file names in exports).
    public let names: [String]
    /// The cameras as given (world-to-camera extrinsics), or nil.
    public let cameras: [SceneCamera]?
    /// The given intrinsics adjusted to the processed views (row-major 3x3), or nil.
    public let intrinsics: [[Float]]?
}

/// The official input processor for several images (`InputProcessor.__call__`): each image is
/// prepared alone, then all are centre-cropped to the smallest height and width; given intrinsics
/// follow every resize and crop.
public enum ScenePreparation {
    /// Prepares `images` (one name each) with their optional `cameras` (one per image, checked:
    /// count, shapes, orthonormal rotations, pinhole intrinsics; errors name the image).
    public static func official(_ images: [RGBImage], names: [String], cameras: [SceneCamera]?,
                                options: SceneOptions) throws -> PreparedScene {
        precondition(images.count == names.count, "one name per image")
        guard let first = names.first else { throw SceneError(file: "<scene>", reason: "a scene needs at least one image") }
        if let cameras {
            guard cameras.count == images.count else {
                throw SceneError(file: first, reason: "\(cameras.count) cameras for \(images.count) images")
            }
            if let bad = cameras.firstIndex(where: { $0.problem != nil }) {
                throw SceneError(file: names[bad], reason: "camera \(bad): \(cameras[bad].problem!)")
            }
        }
        let pre = try Preprocessor(processRes: options.processRes, method: options.method)
        var views = try zip(images, names).map { try pre.prepare($0, file: $1) }
        var ks: [[Double]]? = cameras.map { cams in
            zip(cams, images).map { cam, image in
                pre.adjustedIntrinsics(cam.intrinsics.map(Double.init), width: image.width, height: image.height)
            }
        }
        let h = views.map(\.height).min()!, w = views.map(\.width).min()!
        for i in views.indices where views[i].height != h || views[i].width != w {
            let top = (views[i].height - h) / 2, left = (views[i].width - w) / 2
            let image = views[i].image.cropped(x: left, y: top, width: w, height: h)
            views[i] = PreparedImage(originalWidth: views[i].originalWidth, originalHeight: views[i].originalHeight,
                                     image: image, tensor: Preprocessor.normalize(image))
            ks?[i][2] -= Double(left)
            ks?[i][5] -= Double(top)
        }
        return PreparedScene(views: views, names: names, cameras: cameras, intrinsics: ks?.map { $0.map(Float.init) })
    }
}

/// A scene that cannot be processed, naming the file (or the cameras file) and the cause.
public typealias SceneError = FileError

extension DepthEstimator {
    /// Runs `urls` as one any-view scene (one pass, as the official `inference` on several images):
    /// consistent depth, confidence and cameras for every view, in input order. With `cameras`
    /// (one per image) the pass is conditioned on them and the outputs come back in their scale and
    /// frame (`align_to_input_ext_scale`): the given extrinsics and (adjusted) intrinsics, depth
    /// divided by the Umeyama scale between the predicted and given camera centres.
    public func estimateScene(imagesAt urls: [URL], cameras: [SceneCamera]? = nil,
                              options: SceneOptions = .init()) throws -> SceneResult {
        let images = try urls.map { try ImageDecoder.decode(fileAt: $0) }
        return try estimateScene(images, names: urls.map(\.path), cameras: cameras, options: options)
    }

    /// Runs decoded images as one scene; `names` (one per image, e.g. paths) appear in errors and exports.
    public func estimateScene(_ images: [RGBImage], names: [String], cameras: [SceneCamera]? = nil,
                              options: SceneOptions = .init()) throws -> SceneResult {
        try estimateScene(ScenePreparation.official(images, names: names, cameras: cameras, options: options),
                          strategy: options.referenceViewStrategy, rayPose: options.rayPose)
    }

    /// Runs a prepared scene (see ``estimateScene(imagesAt:cameras:options:)``); `strategy` picks the
    /// reference view from 3 views on when no cameras are given; `rayPose` solves the cameras from
    /// the auxiliary head's rays.
    public func estimateScene(_ scene: PreparedScene, strategy: ReferenceViewStrategy = .saddleBalanced,
                              rayPose: RayPose.Options? = nil) throws -> SceneResult {
        let prepared = scene.views, first = scene.names[0]
        guard let net = network as? any SceneNetwork, net.runsScenes else {
            throw SceneError(file: location.weightsURL.path, reason: "this model does not run any-view scenes (they need a "
                             + "camera head: DA3-Small, Base, Large or Giant; nested and metric/mono models are not supported)")
        }
        guard net.supportsMultipleViews || prepared.count == 1 else {
            throw SceneError(file: first, reason: "any-view scenes of several images run on the CPU; \(deviceLabel) runs one view per pass")
        }
        if scene.cameras != nil && !net.acceptsCameras {
            throw SceneError(file: location.weightsURL.path, reason: "this checkpoint has no camera encoder: it cannot take known cameras")
        }
        if scene.cameras != nil { try net.prepareCameraEncoder() }  // read on first use; errors name the tensor
        if rayPose != nil { try net.prepareRayHead() }
        let h = prepared[0].height, w = prepared[0].width
        let inputExtrinsics = scene.cameras?.map { CameraGeometry.homogeneous($0.extrinsics) }
        let networkCameras = inputExtrinsics.map {
            NetworkCameras(extrinsics: SceneCameraAlignment.normalize($0), intrinsics: scene.intrinsics!)
        }
        let out: SceneNetworkOutput
        do {
            out = try net.forward(views: prepared.map(\.tensor), height: h, width: w, cameras: networkCameras,
                                  strategy: strategy, rayPose: rayPose, observer: nil)
        } catch let failure as RayPose.Failure {
            throw SceneError(file: scene.names[failure.view], reason: failure.description)
        }
        var depths = out.views.map(\.depth), extrinsics = out.extrinsics
        var intrinsics = out.views.map(\.intrinsics)
        if let inputExtrinsics, let givenK = scene.intrinsics {
            let scale: Double
            do {
                scale = try SceneCameraAlignment.inputScale(source: inputExtrinsics, target: out.extrinsics)
            } catch let failure as SceneCameraAlignment.Failure {
                throw SceneError(file: first, reason: failure.description)
            }
            depths = depths.map { $0.map { Float(Double($0) / scale) } }
            extrinsics = inputExtrinsics.map { Array($0[0..<12]) }
            intrinsics = givenK.map { k in
                Intrinsics(fx: Double(k[0]), fy: Double(k[4]), cx: Double(k[2]), cy: Double(k[5]), width: w, height: h)
            }
        }
        let views = prepared.indices.map { i in
            DepthResult(width: w, height: h, originalWidth: prepared[i].originalWidth, originalHeight: prepared[i].originalHeight,
                        processedWidth: w, processedHeight: h, depth: depths[i], confidence: out.views[i].confidence,
                        intrinsics: intrinsics[i], poseEncoding: out.views[i].poseEncoding, image: prepared[i].image)
        }
        return SceneResult(views: views, extrinsics: extrinsics, referenceView: scene.cameras == nil ? out.referenceView : nil,
                           names: scene.names.map { URL(fileURLWithPath: $0).lastPathComponent })
    }
}
