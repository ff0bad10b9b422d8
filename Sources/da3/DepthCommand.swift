import ArgumentParser
import DepthAnything3
import Foundation

/// `da3 depth IMAGE... [--model MODEL] (--output DEPTH.npy | --output-dir DIR [--formats LIST]) [...]`:
/// argument parsing; the work is ``DepthBatch`` on the library's ``DepthPipeline``.
struct DepthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depth",
        abstract: "Estimate depth for images and write depth, confidence, intrinsics, visualisations or point clouds.",
        discussion: """
            Single image, one file: da3 depth photo.jpg --output depth.npy [--confidence conf.npy] [--intrinsics K.json]
            Many images: da3 depth photos/ 'more/*.png' --output-dir out --formats npy,vis,ply

            Inputs are files, directories (their visible files, sorted, not recursive) and glob patterns. \
            With --output-dir each image writes <stem><suffix> per format: npy .depth.npy (float32 H x W), \
            npz .npz (depth, conf, intrinsics 3x3, image HxWx3 uint8, processed_size, is_metric; sky and focal_px where known), png16 .depth.png \
            (16-bit, depth = sample * depth_scale, the scale stored in the PNG text chunk 'depth_scale'; \
            error at most max_depth/131070), pfm .depth.pfm (float32, bottom row first), vis .vis.png \
            (colour-mapped inverse depth, 2-98 percentile range, as the official tool), ply .ply and glb .glb \
            (coloured points unprojected with the predicted intrinsics; PLY in camera axes x right, y down, \
            z forward; GLB converted to glTF's y up, z backward). Stems shared by several inputs keep their \
            extension (img_jpg, img_png) and then get -2, -3... so names never collide.

            Maps are at the processed size (each side a multiple of 14) unless --size original. Files are \
            written atomically. A bad image is reported and skipped, the others are processed; the exit status \
            is 1 when any image failed, and a summary lists the failures.

            --backend litert runs a depth-only .tflite (tools/litert/convert.py, or the LiteRT GPU model \
            card's file, or one exported from the official module) through the LiteRT CompiledModel C API: \
            --model FILE.tflite, --accelerator cpu|gpu|gpu,cpu, --gpu-precision fp32|fp16. --accelerator gpu runs \
            the whole graph on the GPU or refuses, saying whether no GPU adapter was found or which operators \
            the GPU delegate cannot take; with --json the summary's "litert" object gives the accelerator, \
            the adapter and whether the graph is fully accelerated. LiteRT's own log is hidden (DA3_LITERT_LOG=1 \
            shows it). The GPU accelerator runs on Vulkan; VK_ICD_FILENAMES / VK_DRIVER_FILES pick the driver. \
            libLiteRt.so comes from `pip install ai-edge-litert` (found through DA3_LITERT_LIB, the active \
            Python's ai_edge_litert package, site-packages, or the loader path). The model's fixed input size \
            replaces --process-res; it has no confidence or camera head, so only npy, png16, pfm and vis are \
            written.

            Metric depth: --output writes what the official Prediction.depth holds (DA3METRIC-LARGE: units \
            where metres = focal_px * value / 300; the nested model: metres). --metric converts \
            DA3METRIC-LARGE's output to metres with the focal length from --focal-px, --intrinsics-in K.json \
            or the image's EXIF FocalLengthIn35mmFilm (f_px = f35 / 36 * longer side), scaled to the processed \
            image, and is refused without one. Models with a sky head (Metric, Mono, Nested) give --sky and the \
            sky format; vis, ply and glb drop sky pixels unless --keep-sky.
            """)

    @Argument(help: ArgumentHelp("Input images (JPEG or PNG): files, directories or glob patterns.", valueName: "image"))
    var images: [String] = []

    @OptionGroup(title: "Model") var model: ModelOptions
    @OptionGroup(title: "Device") var device: DeviceOptions
    @OptionGroup(title: "Processing") var processing: ProcessingOptions
    @OptionGroup(title: "Outputs") var outputs: OutputOptions
    @OptionGroup(title: "Metric depth") var metric: MetricOptions
    @OptionGroup(title: "Reporting") var reporting: ReportingOptions

    func run() throws {
        do {
            try DepthBatch(try plan()).run()
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Validates the options into a batch plan.
    private func plan() throws -> DepthBatch.Plan {
        guard !images.isEmpty else { throw UsageError("no input image given (files, directories or glob patterns)") }
        var options = try processing.estimationOptions()
        try metric.apply(to: &options)
        let modelChoice = try model.choice(device: try device.parsed())
        let inputs = InputExpansion.expand(images)
        let outputChoice = try outputs.choice(inputCount: inputs.count, litert: modelChoice.isLiteRT)
        if modelChoice.isLiteRT && (options.metric || options.focal != nil) {
            throw UsageError("--metric, --focal-px and --intrinsics-in apply to the native engine (a .tflite has no metric model)")
        }
        return DepthBatch.Plan(inputs: inputs, model: modelChoice, options: options, outputs: outputChoice,
                               quiet: reporting.quiet, json: reporting.json, timings: reporting.timings)
    }
}

/// A bad option value, reported like other errors.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
