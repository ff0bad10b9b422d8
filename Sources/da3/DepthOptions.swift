import ArgumentParser
import DepthAnything3
import Foundation

/// `da3 depth`: which model runs, and how.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Checkpoint: a directory with model.safetensors (and config.json), a .safetensors file, or a Hub id ORG/NAME[@REVISION].", valueName: "model"))
    var model: String = ModelLoading.defaultModel

    @Option(name: .long, help: "Inference engine: native (the Swift engine on a checkpoint) or litert (a depth-only .tflite through libLiteRt.so).")
    var backend: String = "native"

    @Option(name: .long, help: "litert: where the compiled model runs: cpu (XNNPACK), gpu (the whole graph on LiteRT's GPU accelerator, or a refusal saying why: no GPU adapter, or operators the GPU delegate cannot take) or gpu,cpu (GPU with CPU fallback for the operators it refuses).")
    var accelerator: String = LiteRTAccelerator.cpu.rawValue

    @Option(name: .customLong("gpu-precision"), help: "litert, gpu: the GPU delegate's arithmetic, fp32 (as exported), fp16 (faster on real GPUs, less exact) or default (LiteRT's choice).")
    var gpuPrecision: String = LiteRTGPUPrecision.fp32.rawValue

    @Option(name: .long, help: "native: exact (FP32, matches the official model), fast (the fastest reduced-precision kernels this CPU has, picked by a short measurement that is cached: int8 or bfloat16 products where they beat FP32, otherwise the exact kernels, and a note says so; with --device vulkan: FP16 operands with FP32 accumulation, needs shaderFloat16), bf16 (bfloat16 products and attention without measuring; needs AVX512-BF16; depth correlation with exact about 0.99996), int8 (int8 linear layers, bfloat16 elsewhere; needs AVX512-VNNI too; about 0.99992) or int8-fp32 (int8 linear layers, FP32 elsewhere; needs AVX512-VNNI only; what fast picks where bfloat16 does not beat FP32).")
    var precision: String = "exact"

    @Option(name: .customLong("weight-cache"), help: ArgumentHelp("native: directory for packed weights kept between runs (later loads of the same checkpoint map them instead of packing again; results identical), or 'off'. (default: $DA3_WEIGHT_CACHE, else $XDG_CACHE_HOME/da3/weights, else ~/.cache/da3/weights)", valueName: "dir"))
    var weightCache: String?

    /// The validated choice, the native engine running on `device`.
    func choice(device: ComputeDevice) throws -> DepthBatch.ModelChoice {
        guard backend == "native" || backend == "litert" else {
            throw UsageError("--backend: unknown backend '\(backend)' (expected native or litert)")
        }
        guard let acceleratorKind = LiteRTAccelerator(argument: accelerator) else {
            throw UsageError("--accelerator: unknown accelerator '\(accelerator)' (expected cpu, gpu or gpu,cpu)")
        }
        guard let gpuPrecisionKind = LiteRTGPUPrecision(rawValue: gpuPrecision.lowercased()) else {
            throw UsageError("--gpu-precision: unknown precision '\(gpuPrecision)' (expected fp32, fp16 or default)")
        }
        let named = FastKernelPolicy(rawValue: precision.lowercased()).flatMap { $0 == .measured ? nil : $0 }
        guard let precisionMode = named != nil ? .fast : Precision(rawValue: precision.lowercased()) else {
            throw UsageError("--precision: unknown precision '\(precision)' (expected exact, fast, bf16, int8 or int8-fp32)")
        }
        if backend == "litert" {
            if device != .cpu {
                throw UsageError("--device \(device) applies to the native engine (--backend litert picks its accelerator with --accelerator)")
            }
            if precisionMode == .fast {
                throw UsageError("--precision \(precision) applies to the native engine (the .tflite fixes its own precision)")
            }
            if model == ModelLoading.defaultModel || !model.lowercased().hasSuffix(".tflite") {
                throw UsageError("--backend litert needs --model FILE.tflite (a depth-only model, e.g. from tools/litert/convert.py)")
            }
            return .litert(path: model, accelerator: acceleratorKind, gpuPrecision: gpuPrecisionKind)
        }
        // Whether the CPU has the named kernels is the estimator's check (`PrecisionChoice.cpu`).
        if let named, device != .cpu {
            throw UsageError("--precision \(named.rawValue) is a CPU mode; on --device \(device) use --precision fast (FP16)")
        }
        return .native(reference: model, precision: precisionMode, fastKernels: named ?? .measured,
                       weightCache: weightCache.map(WeightCache.parse) ?? WeightCache.standard, device: device)
    }
}

/// `da3 depth`: how images are prepared and at which size results come out.
struct ProcessingOptions: ParsableArguments {
    @Option(name: .customLong("process-res"), help: "Target size in pixels for the bounded side before rounding to multiples of 14.")
    var processRes: Int = 504

    @Option(name: .customLong("process-res-method"),
            help: "upper_bound_resize (longer side = process-res) or lower_bound_resize (shorter side = process-res); upper_bound_crop and lower_bound_crop crop instead of resizing to multiples of 14.")
    var processResMethod: String = ResizeMethod.upperBoundResize.rawValue

    @Option(name: .long, help: "Resolution of the outputs: processed (network size) or original (the input's size; maps resized bilinearly, intrinsics scaled; *_resize methods only).")
    var size: String = OutputSize.processed.rawValue

    /// The validated options.
    func estimationOptions() throws -> EstimationOptions {
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
        return EstimationOptions(processRes: processRes, method: method, outputSize: outputSize)
    }
}

/// `da3 depth`: which files are written.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Depth output for a single image (.npy, float32, H x W).")
    var output: String?

    @Option(name: .long, help: "Confidence output for a single image (.npy, float32, H x W); needs --output.")
    var confidence: String?

    @Option(name: .long, help: "Intrinsics output for a single image (.json: fx, fy, cx, cy, width, height); needs --output.")
    var intrinsics: String?

    @Option(name: .long, help: "Sky map output for a single image (.npy, float32, H x W: the sky head's output, sky where >= 0.3; the official Prediction.sky is it >= 0.5); models with a sky head (da3metric-large, da3mono-large, da3nested-giant-large); needs --output.")
    var sky: String?

    @Flag(name: .customLong("keep-sky"), help: "vis/ply/glb: keep sky pixels (by default they are dropped: black in vis, no points; their depth is the model's far placeholder).")
    var keepSky = false

    @Option(name: .customLong("output-dir"), help: "Directory for per-image outputs (created if missing; default: the current directory when --formats is given).")
    var outputDir: String?

    @Option(name: .long, help: "Comma list of output formats for --output-dir: npy, npz, png16, pfm, vis, ply, glb, conf, intrinsics. (default: npy)")
    var formats: String?

    @Option(name: .long, help: "Colour map for vis: spectral (as the official tool), turbo, viridis, inferno, gray.")
    var colormap: String = ColorMap.spectral.rawValue

    @Flag(name: .customLong("vis-side-by-side"), help: "vis: put the input image left of the colour-mapped depth.")
    var visSideBySide = false

    @Option(name: .customLong("conf-thresh-percentile"), help: "ply/glb: drop points whose confidence is below this percentile of the image's confidence (0-100; 0 keeps all).")
    var confThreshPercentile: Double = 40

    @Option(name: .customLong("num-max-points"), help: "ply/glb: keep at most this many points (evenly spaced subset).")
    var numMaxPoints: Int = 1_000_000

    /// The validated outputs for `inputCount` images (directories created, writability checked).
    func choice(inputCount: Int, litert: Bool) throws -> DepthBatch.OutputChoice {
        guard let map = ColorMap(rawValue: colormap.lowercased()) else {
            throw UsageError("--colormap: unknown colour map '\(colormap)' (expected one of \(ColorMap.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard (0...100).contains(confThreshPercentile) else { throw UsageError("--conf-thresh-percentile must be in 0...100, got \(confThreshPercentile)") }
        guard numMaxPoints >= 0 else { throw UsageError("--num-max-points must be >= 0, got \(numMaxPoints)") }
        if (confidence != nil || intrinsics != nil || sky != nil) && output == nil {
            throw UsageError("--confidence, --intrinsics and --sky go with --output (single image); use --output-dir --formats npz for many images")
        }
        let formatList = try formats.map { try OutputFormat.parseList($0) }
        if litert {
            if confidence != nil || intrinsics != nil || sky != nil {
                throw UsageError("--backend litert: the depth-only .tflite has no confidence or camera head (--confidence/--intrinsics unavailable)")
            }
            let unsupported = (formatList ?? []).filter { [.npz, .ply, .glb, .conf, .intrinsics, .sky].contains($0) }
            if !unsupported.isEmpty {
                throw UsageError("--backend litert writes npy, png16, pfm and vis only (no confidence or intrinsics for \(unsupported.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        var dir = outputDir
        if dir == nil && formatList != nil { dir = FileManager.default.currentDirectoryPath }
        guard output != nil || dir != nil else {
            throw UsageError("nothing to write: give --output FILE (one image) or --output-dir DIR / --formats LIST")
        }
        if output != nil && inputCount != 1 {
            throw UsageError("--output names one file but \(inputCount) inputs were given; use --output-dir for several images")
        }
        var export = ExportOptions(colorMap: map, sideBySide: visSideBySide, confThreshPercentile: confThreshPercentile, maxPoints: numMaxPoints)
        export.keepSky = keepSky
        var singles: [(format: OutputFormat, url: URL)] = []
        if let output { singles.append((.npy, URL(fileURLWithPath: output))) }
        if let confidence { singles.append((.conf, URL(fileURLWithPath: confidence))) }
        if let intrinsics { singles.append((.intrinsics, URL(fileURLWithPath: intrinsics))) }
        if let sky { singles.append((.sky, URL(fileURLWithPath: sky))) }
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
        return DepthBatch.OutputChoice(singles: OutputSet(files: singles, export: export), directory: dirURL,
                                       formats: dirURL == nil ? [] : (formatList ?? [.npy]), export: export)
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

/// `da3 depth`: what is printed.
struct ReportingOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing but errors (no progress, no summary).")
    var quiet = false

    @Flag(name: .long, help: "Print a JSON summary on standard output (per-image sizes, outputs, timings, errors).")
    var json = false

    @Flag(name: .long, help: "Print per-stage timings (load, decode, preprocess, backbone blocks, head, camera, write) to standard error.")
    var timings = false
}
