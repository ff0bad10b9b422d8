import ArgumentParser
import DepthAnything3
import Foundation

/// `da3 images IMAGE... --output-dir DIR`: all inputs form one any-view scene, processed in one pass
/// (as the official `da3 images`); consistent depth, confidence and cameras for every view.
struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Estimate one scene from several images in one pass: depth, confidence and cameras for every view.",
        discussion: """
            All inputs (files, directories, glob patterns) form one scene, processed in one forward pass: local \
            attention within each view, global attention across views, and from 3 views on a reference view \
            chosen by --ref-view-strategy (the world frame). Views of different sizes are centre-cropped to the \
            smallest processed height and width, as the official input processor does. `da3 depth` treats each \
            image alone.

            --formats: npz writes DIR/scene.npz with depth (N,H,W) f4, conf (N,H,W) f4, extrinsics (N,3,4) f4 \
            (world-to-camera), intrinsics (N,3,3) f4 and image (N,H,W,3) u1, in input order; glb DIR/scene.glb \
            (the fused point cloud in glTF axes, centred, with camera frusta); colmap DIR/colmap/cameras.bin, \
            images.bin, points3D.bin (COLMAP model at the input sizes, binary as the official exporter writes \
            it, or .txt with --colmap-text; *_resize methods only); ply \
            DIR/scene.ply (the fused cloud in world axes); npy DIR/<stem>.depth.npy per view.

            --poses CAMERAS.json conditions the pass on known cameras: a JSON list, one \
            {"extrinsics": 4x4 or 3x4 world-to-camera, "intrinsics": 3x3 in input pixels} per image; or a \
            COLMAP model folder (cameras.bin and images.bin, or cameras.txt and images.txt), images matched \
            by file name. Outputs then \
            use the given cameras and their scale (depth divided by the Umeyama scale between predicted and \
            given camera centres, as the official align_to_input_ext_scale).

            A bad input (unreadable image, wrong camera count or matrix, a single image with \
            --ref-view-strategy) prints one line naming the file, exits with status 1 and writes nothing.
            """)

    @Argument(help: ArgumentHelp("Input images (JPEG or PNG) of one scene: files, directories or glob patterns.", valueName: "image"))
    var images: [String] = []

    @Option(name: .long, help: ArgumentHelp("Checkpoint: a directory with model.safetensors (and config.json), a .safetensors file, or a Hub id ORG/NAME[@REVISION].", valueName: "model"))
    var model: String = ModelLoading.defaultModel

    @Option(name: .customLong("output-dir"), help: ArgumentHelp("Directory for the scene's files (created if missing).", valueName: "dir"))
    var outputDir: String

    @Option(name: .long, help: "Comma-separated scene formats: npz, glb, colmap, ply, npy.")
    var formats: String = "npz"

    @Option(name: .customLong("process-res"), help: "Target size in pixels for the bounded side before rounding to multiples of 14.")
    var processRes: Int = 504

    @Option(name: .customLong("process-res-method"), help: "upper_bound_resize, lower_bound_resize, upper_bound_crop or lower_bound_crop (as `da3 depth`).")
    var processResMethod: String = ResizeMethod.upperBoundResize.rawValue

    @Option(name: .customLong("ref-view-strategy"), help: "Reference view from 3 views on: saddle_balanced (default), saddle_sim_range, first or middle.")
    var refViewStrategy: String?

    @Option(name: .long, help: ArgumentHelp("Known cameras: a JSON list of {\"extrinsics\", \"intrinsics\"}, one per image, or a COLMAP model folder (cameras.bin and images.bin, or the .txt files; images matched by file name).", valueName: "cameras.json"))
    var poses: String?

    @Flag(name: .customLong("use-ray-pose"), help: "Cameras from the auxiliary ray head and the official ray-to-pose solve (RANSAC) instead of the camera decoder.")
    var useRayPose = false

    @Option(name: .customLong("ray-pose-seed"), help: "--use-ray-pose: seed of the RANSAC draws (default 0; they equal the official code's after torch.manual_seed(seed)).")
    var rayPoseSeed: UInt64?

    @Option(name: .long, help: "exact (FP32, matches the official model), fast (the fastest reduced-precision kernels this CPU has, by a cached measurement; exact where none is faster) int8 (int8 linear layers; needs AVX512-VNNI and AVX512-BF16) or int8-fp32 (int8 linear layers, FP32 elsewhere; needs AVX512-VNNI).")
    var precision: String = "exact"

    @Option(name: .customLong("conf-thresh-percentile"), help: "glb, ply, colmap: drop points below this confidence percentile (as the official exporters).")
    var confThreshPercentile: Double = 40

    @Option(name: .customLong("num-max-points"), help: "glb, ply: keep at most this many points (evenly spaced).")
    var numMaxPoints: Int = 1_000_000

    @Flag(name: .customLong("colmap-text"), help: "colmap: write the model as text (cameras.txt, images.txt, points3D.txt) instead of COLMAP's binary form, which the official exporter writes.")
    var colmapText = false

    @Flag(name: .long, help: "Print a JSON summary on standard output (views, reference view, outputs, timings).")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func run() throws {
        do {
            try SceneRun(try plan()).run()
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Validates everything that does not need the images or the model.
    private func plan() throws -> SceneRun.Plan {
        guard !images.isEmpty else { throw UsageError("no input image given (files, directories or glob patterns)") }
        var files: [String] = []
        for item in InputExpansion.expand(images) {
            switch item {
            case .file(let path): files.append(path)
            case .invalid(let arg, let reason): throw SceneError(file: arg, reason: reason)
            }
        }
        let list: [SceneFormat]
        do { list = try SceneFormat.parseList(formats) } catch { throw UsageError("--formats: \(error)") }
        guard let method = ResizeMethod(rawValue: processResMethod) else {
            throw UsageError("--process-res-method: unknown method '\(processResMethod)' (expected one of \(ResizeMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        do { _ = try Preprocessor(processRes: processRes, method: method) } catch let error as ImageError {
            throw UsageError("--process-res \(processRes): \(error.reason)")
        }
        if list.contains(.colmap) && method.rawValue.hasSuffix("_crop") {
            throw UsageError("--formats colmap needs a *_resize method (the official COLMAP export maps pixels back to the input size by scaling)")
        }
        var strategy = ReferenceViewStrategy.saddleBalanced
        if let refViewStrategy {
            guard let s = ReferenceViewStrategy(rawValue: refViewStrategy) else {
                throw UsageError("--ref-view-strategy: unknown strategy '\(refViewStrategy)' (expected \(ReferenceViewStrategy.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard files.count > 1 else {
                throw SceneError(file: files[0], reason: "--ref-view-strategy needs a scene of several images (one image has no reference view to choose)")
            }
            strategy = s
        }
        if rayPoseSeed != nil && !useRayPose {
            throw UsageError("--ray-pose-seed needs --use-ray-pose (the camera decoder draws nothing at random)")
        }
        // fast: the kernels `PrecisionChoice` measures best here (the exact ones where none is faster).
        guard let precisionMode = Precision(rawValue: precision.lowercased()) else {
            throw UsageError("--precision: unknown precision '\(precision)' (expected exact, fast, int8 or int8-fp32)")
        }
        var cameras: [SceneCamera]?
        var colmapPoses: URL?
        var isDirectory: ObjCBool = false
        if let poses, FileManager.default.fileExists(atPath: poses, isDirectory: &isDirectory), isDirectory.boolValue {
            colmapPoses = URL(fileURLWithPath: poses)  // read once the image sizes are known
        } else if let poses {
            let url = URL(fileURLWithPath: poses)
            let loaded = try SceneCamera.load(jsonAt: url)
            guard loaded.count == files.count else {
                throw SceneError(file: poses, reason: "\(loaded.count) cameras for \(files.count) images (one per image, in input order)")
            }
            cameras = loaded
        }
        return SceneRun.Plan(files: files, model: model, precision: precisionMode, formats: list,
                             options: SceneOptions(processRes: processRes, method: method, referenceViewStrategy: strategy,
                                                   rayPose: useRayPose ? RayPose.Options(seed: rayPoseSeed ?? 0) : nil),
                             cameras: cameras, colmapCameras: colmapPoses, output: URL(fileURLWithPath: outputDir),
                             export: SceneExportOptions(confThreshPercentile: confThreshPercentile, maxPoints: numMaxPoints,
                                                        colmapText: colmapText),
                             json: json, quiet: quiet)
    }
}
