import DepthAnything3
import Foundation

/// One `da3 images` run: decode every image (any failure stops before the model loads), load the
/// model, run the scene, encode every format in memory, then write all files (or none).
struct SceneRun {
    struct Plan {
        var files: [String]
        var model: String
        var precision: Precision
        var formats: [SceneFormat]
        var options: SceneOptions
        var cameras: [SceneCamera]?
        /// A COLMAP text model to read the cameras from (once the image sizes are known).
        var colmapCameras: URL?
        var output: URL
        var export: SceneExportOptions
        var json: Bool, quiet: Bool
    }

    let plan: Plan
    init(_ plan: Plan) { self.plan = plan }

    func run() throws {
        let clock = ContinuousClock(), start = clock.now
        func ms(_ since: ContinuousClock.Instant) -> Double {
            let d = clock.now - since
            return Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15
        }
        var t = clock.now
        let images = try plan.files.map { try ImageDecoder.decode(fileAt: URL(fileURLWithPath: $0)) }
        let decodeMs = ms(t)
        var cameras = plan.cameras
        if let colmap = plan.colmapCameras {
            cameras = try SceneCamera.load(colmapModelAt: colmap, imageNames: plan.files,
                                           imageSizes: images.map { ($0.width, $0.height) })
        }
        // Preparation errors (a view that crops to nothing, bad cameras) surface before the model loads.
        let prepared = try ScenePreparation.official(images, names: plan.files, cameras: cameras, options: plan.options)
        t = clock.now
        let estimator = try DepthEstimator(modelPath: try ModelLoading.locate(plan.model, quiet: plan.quiet || plan.json).weightsURL.path,
                                           precision: plan.precision)
        let loadMs = ms(t)
        t = clock.now
        let scene = try estimator.estimateScene(prepared, strategy: plan.options.referenceViewStrategy, rayPose: plan.options.rayPose)
        let inferenceMs = ms(t)
        t = clock.now
        let written = try scene.write(plan.formats, to: plan.output, stems: OutputNaming.stems(for: plan.files),
                                      options: plan.export)
        let writeMs = ms(t)
        if plan.json {
            let summary: [String: Any] = [
                "views": zip(plan.files, scene.views).map { file, v in
                    ["file": file, "width": v.width, "height": v.height, "original_width": v.originalWidth,
                     "original_height": v.originalHeight] as [String: Any]
                },
                "reference_view": scene.referenceView.map { $0 as Any } ?? NSNull(),
                "posed": cameras != nil,
                "cameras_from": plan.options.rayPose == nil ? "camera_decoder" : "ray_pose",
                "ray_pose_seed": plan.options.rayPose.map { $0.seed as Any } ?? NSNull(),
                "outputs": written.map(\.path),
                "timings_ms": ["decode": decodeMs, "load_model": loadMs, "inference": inferenceMs, "write": writeMs,
                               "total": ms(start)],
            ]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else if !plan.quiet {
            let ref = scene.referenceView.map { "reference view \($0) (\(plan.files[$0]))" } ?? "given cameras"
            FileHandle.standardError.write(Data("""
                \(plan.files.count) views at \(scene.width)x\(scene.height), \(ref): \(written.count) files in \(plan.output.path) \
                (inference \(String(format: "%.2f", inferenceMs / 1000)) s)

                """.utf8))
        }
    }
}
