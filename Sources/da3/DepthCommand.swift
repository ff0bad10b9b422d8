import ArgumentParser
import DepthAnything3
import Foundation

/// `da3 depth IMAGE... [--model MODEL] (--output DEPTH.npy | --output-dir DIR [--formats LIST]) [...]`
struct DepthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depth",
        abstract: "Estimate depth for images and write depth, confidence, intrinsics, visualisations or point clouds.",
        discussion: """
            Single image, one file: da3 depth photo.jpg --output depth.npy [--confidence conf.npy] [--intrinsics K.json]
            Many images: da3 depth photos/ 'more/*.png' --output-dir out --formats npy,vis,ply

            Inputs are files, directories (their visible files, sorted, not recursive) and glob patterns. \
            With --output-dir each image writes <stem><suffix> per format: npy .depth.npy (float32 H x W), \
            npz .npz (depth, conf, intrinsics 3x3, image HxWx3 uint8, processed_size), png16 .depth.png \
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
            card's file) through the LiteRT CompiledModel C API: --model FILE.tflite, --accelerator cpu|gpu. \
            libLiteRt.so comes from `pip install ai-edge-litert` (found through DA3_LITERT_LIB, the active \
            Python's ai_edge_litert package, site-packages, or the loader path). The model's fixed input size \
            replaces --process-res; it has no confidence or camera head, so only npy, png16, pfm and vis are \
            written.
            """)

    @Argument(help: ArgumentHelp("Input images (JPEG or PNG): files, directories or glob patterns.", valueName: "image"))
    var images: [String] = []

    @Option(name: .long, help: ArgumentHelp("Checkpoint: a directory with model.safetensors (and config.json), a .safetensors file, or a Hub id ORG/NAME[@REVISION].", valueName: "model"))
    var model: String = ModelLoading.defaultModel

    @Option(name: .long, help: "Inference engine: native (the Swift engine on a checkpoint) or litert (a depth-only .tflite through libLiteRt.so).")
    var backend: String = "native"

    @Option(name: .long, help: "litert: accelerator for the compiled model, cpu (XNNPACK) or gpu (fails with a message where there is none).")
    var accelerator: String = LiteRTAccelerator.cpu.rawValue

    @Option(name: .long, help: "native: exact (FP32, matches the official model) or fast (bfloat16 products with FP32 accumulation, about 1.7x faster; needs AVX512-BF16; depth correlation with exact about 0.99997).")
    var precision: String = "exact"

    @Option(name: .customLong("weight-cache"), help: ArgumentHelp("native: directory for packed weights kept between runs (later loads of the same checkpoint map them instead of packing again; results identical), or 'off'. (default: $DA3_WEIGHT_CACHE, else $XDG_CACHE_HOME/da3/weights, else ~/.cache/da3/weights)", valueName: "dir"))
    var weightCache: String?

    @Option(name: .customLong("process-res"), help: "Target size in pixels for the bounded side before rounding to multiples of 14.")
    var processRes: Int = 504

    @Option(name: .customLong("process-res-method"),
            help: "upper_bound_resize (longer side = process-res) or lower_bound_resize (shorter side = process-res); upper_bound_crop and lower_bound_crop crop instead of resizing to multiples of 14.")
    var processResMethod: String = ResizeMethod.upperBoundResize.rawValue

    @Option(name: .shortAndLong, help: "Depth output for a single image (.npy, float32, H x W).")
    var output: String?

    @Option(name: .long, help: "Confidence output for a single image (.npy, float32, H x W); needs --output.")
    var confidence: String?

    @Option(name: .long, help: "Intrinsics output for a single image (.json: fx, fy, cx, cy, width, height); needs --output.")
    var intrinsics: String?

    @Option(name: .customLong("output-dir"), help: "Directory for per-image outputs (created if missing; default: the current directory when --formats is given).")
    var outputDir: String?

    @Option(name: .long, help: "Comma list of output formats for --output-dir: npy, npz, png16, pfm, vis, ply, glb. (default: npy)")
    var formats: String?

    @Option(name: .long, help: "Resolution of the outputs: processed (network size) or original (the input's size; maps resized bilinearly, intrinsics scaled; *_resize methods only).")
    var size: String = OutputSize.processed.rawValue

    @Option(name: .long, help: "Colour map for vis: spectral (as the official tool), turbo, viridis, inferno, gray.")
    var colormap: String = ColorMap.spectral.rawValue

    @Flag(name: .customLong("vis-side-by-side"), help: "vis: put the input image left of the colour-mapped depth.")
    var visSideBySide = false

    @Option(name: .customLong("conf-thresh-percentile"), help: "ply/glb: drop points whose confidence is below this percentile of the image's confidence (0-100; 0 keeps all).")
    var confThreshPercentile: Double = 40

    @Option(name: .customLong("num-max-points"), help: "ply/glb: keep at most this many points (evenly spaced subset).")
    var numMaxPoints: Int = 1_000_000

    @Flag(name: .shortAndLong, help: "Print nothing but errors (no progress, no summary).")
    var quiet = false

    @Flag(name: .long, help: "Print a JSON summary on standard output (per-image sizes, outputs, timings, errors).")
    var json = false

    @OptionGroup var deviceOptions: DeviceOptions

    @Flag(name: .long, help: "Print per-stage timings (load, decode, preprocess, backbone blocks, head, camera, write) to standard error.")
    var timings = false

    func run() throws {
        AllocatorTuning.configureForEngine()
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
        guard let method = ResizeMethod(rawValue: processResMethod) else {
            throw UsageError("--process-res-method: unknown method '\(processResMethod)' (expected one of \(ResizeMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        do {
            _ = try Preprocessor(processRes: processRes, method: method)
        } catch let error as ImageError {
            throw UsageError("--process-res \(processRes): \(error.reason)")
        }
        guard let outputSize = OutputSize(rawValue: size) else {
            throw UsageError("--size: unknown value '\(size)' (expected processed or original)")
        }
        if outputSize == .original, method == .upperBoundCrop || method == .lowerBoundCrop {
            throw UsageError("--size original needs a *_resize --process-res-method (\(method.rawValue) crops the input)")
        }
        guard let map = ColorMap(rawValue: colormap.lowercased()) else {
            throw UsageError("--colormap: unknown colour map '\(colormap)' (expected one of \(ColorMap.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard (0...100).contains(confThreshPercentile) else { throw UsageError("--conf-thresh-percentile must be in 0...100, got \(confThreshPercentile)") }
        guard numMaxPoints >= 0 else { throw UsageError("--num-max-points must be >= 0, got \(numMaxPoints)") }
        if (confidence != nil || intrinsics != nil) && output == nil {
            throw UsageError("--confidence and --intrinsics go with --output (single image); use --output-dir --formats npz for many images")
        }
        let formatList = try formats.map { try OutputFormat.parseList($0) }
        guard backend == "native" || backend == "litert" else {
            throw UsageError("--backend: unknown backend '\(backend)' (expected native or litert)")
        }
        guard let acceleratorKind = LiteRTAccelerator(rawValue: accelerator.lowercased()) else {
            throw UsageError("--accelerator: unknown accelerator '\(accelerator)' (expected cpu or gpu)")
        }
        guard let precisionMode = Precision(rawValue: precision.lowercased()) else {
            throw UsageError("--precision: unknown precision '\(precision)' (expected exact or fast)")
        }
        if precisionMode == .fast && backend == "litert" {
            throw UsageError("--precision fast applies to the native engine (the .tflite fixes its own precision)")
        }
        let device = try deviceOptions.parsed()
        if device != .cpu && backend == "litert" {
            throw UsageError("--device \(device) applies to the native engine (--backend litert picks its accelerator with --accelerator)")
        }
        if precisionMode == .fast && device == .cpu && !Precision.fastAvailable {
            throw UsageError("--precision fast needs a CPU with AVX512-BF16; this one has none (use --precision exact)")
        }
        if backend == "litert" {
            if model == ModelLoading.defaultModel || !model.lowercased().hasSuffix(".tflite") {
                throw UsageError("--backend litert needs --model FILE.tflite (a depth-only model, e.g. from tools/litert/convert.py)")
            }
            if confidence != nil || intrinsics != nil {
                throw UsageError("--backend litert: the depth-only .tflite has no confidence or camera head (--confidence/--intrinsics unavailable)")
            }
            let unsupported = (formatList ?? []).filter { [.npz, .ply, .glb].contains($0) }
            if !unsupported.isEmpty {
                throw UsageError("--backend litert writes npy, png16, pfm and vis only (no confidence or intrinsics for \(unsupported.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        var dir = outputDir
        if dir == nil && formatList != nil { dir = FileManager.default.currentDirectoryPath }
        guard output != nil || dir != nil else {
            throw UsageError("nothing to write: give --output FILE (one image) or --output-dir DIR / --formats LIST")
        }
        let inputs = InputExpansion.expand(images)
        if output != nil && inputs.count != 1 {
            throw UsageError("--output names one file but \(inputs.count) inputs were given; use --output-dir for several images")
        }
        var singles: [(DepthBatch.Single, URL)] = []
        if let output { singles.append((.depth, URL(fileURLWithPath: output))) }
        if let confidence { singles.append((.confidence, URL(fileURLWithPath: confidence))) }
        if let intrinsics { singles.append((.intrinsics, URL(fileURLWithPath: intrinsics))) }
        for (_, url) in singles { try checkWritableDirectory(url.deletingLastPathComponent(), for: url.path) }
        var dirURL: URL?
        if let dir {
            let url = URL(fileURLWithPath: dir)
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw OutputError(file: url.path, reason: "cannot create output directory (\(AtomicFile.describe(error)))")
            }
            try checkWritableDirectory(url, for: url.path)
            dirURL = url
        }
        return DepthBatch.Plan(
            inputs: inputs, model: model, litert: backend == "litert" ? acceleratorKind : nil, precision: precisionMode,
            weightCache: weightCache.map(WeightCache.parse) ?? WeightCache.standard,
            options: EstimationOptions(processRes: processRes, method: method, outputSize: outputSize),
            singles: singles, outputDir: dirURL, formats: dirURL == nil ? [] : (formatList ?? [.npy]),
            export: ExportOptions(colorMap: map, sideBySide: visSideBySide, confThreshPercentile: confThreshPercentile, maxPoints: numMaxPoints),
            quiet: quiet, json: json, timings: timings, device: device)
    }

    private func checkWritableDirectory(_ dir: URL, for file: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OutputError(file: file, reason: "output directory \(dir.path) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: dir.path) else {
            throw OutputError(file: file, reason: "output directory \(dir.path) is not writable")
        }
    }
}

/// A bad option value, reported like other errors.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
