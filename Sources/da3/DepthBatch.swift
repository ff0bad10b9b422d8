import ArgumentParser
import DepthAnything3
import Foundation

/// Runs `da3 depth` over its inputs on one ``DepthPipeline`` (the model loads in the background
/// from the start): each image is processed and written, failures are recorded and the batch goes
/// on; a model that cannot be loaded ends it.
struct DepthBatch {
    /// The model to run.
    enum ModelChoice {
        case native(reference: String, precision: Precision, fastKernels: FastKernelPolicy, weightCache: WeightCache?, device: ComputeDevice)
        case litert(path: String, accelerator: LiteRTAccelerator, gpuPrecision: LiteRTGPUPrecision)

        var isLiteRT: Bool { if case .litert = self { true } else { false } }
    }

    /// The files to write: the single-image ones, and per-image ones in a directory.
    struct OutputChoice {
        var singles: OutputSet
        var directory: URL?
        var formats: [OutputFormat]
        var export: ExportOptions

        func outputs(stem: String) -> OutputSet {
            guard let directory else { return singles }
            return singles.adding(OutputSet(directory: directory, stem: stem, formats: formats, export: export))
        }
    }

    /// Validated options.
    struct Plan {
        var inputs: [InputExpansion.Item]
        var model: ModelChoice
        var options: EstimationOptions
        var outputs: OutputChoice
        var quiet: Bool
        var json: Bool
        var timings: Bool
    }

    let plan: Plan
    init(_ plan: Plan) { self.plan = plan }

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let paths = plan.inputs.map { item -> String in
            switch item {
            case .file(let p): return p
            case .invalid(let p, _): return p
            }
        }
        let stems = OutputNaming.stems(for: paths)
        let progress = BatchProgress(total: paths.count, enabled: !plan.quiet && !plan.json && (paths.count > 1 || plan.outputs.directory != nil))
        let clock = StageClock(enabled: plan.timings)
        let hasFiles = plan.inputs.contains { if case .file = $0 { true } else { false } }
        let loaded = LoadedModel()
        let pipeline = hasFiles ? makePipeline(loaded) : nil
        var records: [ImageRecord] = []

        for (index, item) in plan.inputs.enumerated() {
            let imageStart = DispatchTime.now().uptimeNanoseconds
            var record = ImageRecord(input: paths[index])
            do {
                guard case .file(let path) = item, let pipeline else {
                    if case .invalid(let p, let reason) = item { throw UsageError("\(p): \(reason)") }
                    fatalError("unreachable")
                }
                let (r, written) = try pipeline.process(imageAt: URL(fileURLWithPath: path),
                                                        outputs: plan.outputs.outputs(stem: stems[index])) { event in
                    if event.stage != "inference" { clock.mark(event.stage, milliseconds: event.milliseconds) }  // a span of marks
                    switch event.stage {
                    case "decode", "preprocess", "inference": record.timings[event.stage, default: 0] += event.milliseconds
                    case "encode", "write": record.timings["write", default: 0] += event.milliseconds
                    default: break
                    }
                }
                record.outputs = written.map(\.path)
                record.size = (r.width, r.height, r.processedWidth, r.processedHeight)
                record.depthFacts = ["is_metric": r.depthKind.isMetric, "depth_kind": r.depthKind.rawValue,
                                     "focal_px": r.focalPx ?? NSNull(), "scale_factor": r.scaleFactor.map { Double($0) } ?? NSNull()]
            } catch let failure as DepthPipeline.ModelLoadFailure {
                throw failure.underlying
            } catch {
                record.error = "\(error)"
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
            record.timings["total"] = milliseconds(since: imageStart)
            records.append(record)
            progress.advance(record)
        }
        progress.finish()
        clock.report()

        let failed = records.filter { $0.error != nil }
        let totalSeconds = milliseconds(since: start) / 1000
        if plan.json {
            try printJSON(records, pipeline: pipeline, loaded: loaded, seconds: totalSeconds)
        } else if !plan.quiet && records.count > 1 {
            var summary = String(format: "%d of %d images processed in %.1f s (%.2f images/s)", records.count - failed.count, records.count,
                                 totalSeconds, Double(records.count - failed.count) / max(totalSeconds, 1e-9))
            if !failed.isEmpty {
                summary += "; \(failed.count) failed:\n" + failed.map { "  \($0.error!)" }.joined(separator: "\n")
            }
            FileHandle.standardError.write(Data((summary + "\n").utf8))
        }
        if !failed.isEmpty { throw ExitCode.failure }
    }

    /// The pipeline for the chosen model; `loaded` learns where the model came from.
    private func makePipeline(_ loaded: LoadedModel) -> DepthPipeline {
        let quiet = plan.quiet || plan.json
        switch plan.model {
        case let .native(reference, precision, fastKernels, weightCache, device):
            let notes = !plan.quiet
            return DepthPipeline(options: plan.options, preparation: .official) {
                let location = try ModelLoading.locate(reference, quiet: quiet)
                let estimator = try DepthEstimator(modelPath: location.weightsURL.path, config: location.configuredModel(),
                                                   precision: precision, fastKernels: fastKernels,
                                                   weightCache: weightCache, device: device)
                let choice = estimator.precisionChoice
                if notes && (choice.fellBack || plan.timings) {
                    FileHandle.standardError.write(Data("\(choice.fellBack ? "note: " : "")\(choice.summary)\n".utf8))
                }
                loaded.set(origin: location.origin, device: estimator.deviceLabel, weightCache: estimator.weightCacheStatus,
                           precision: choice)
                return estimator
            }
        case let .litert(path, accelerator, gpuPrecision):
            return DepthPipeline(options: plan.options, preparation: .byEstimator) {
                let estimator = try LiteRTDepthEstimator(modelPath: path, accelerator: accelerator, gpuPrecision: gpuPrecision)
                loaded.set(origin: "\(path) (LiteRT \(accelerator.rawValue), \(estimator.model.libraryPath))",
                           device: "litert:\(accelerator.rawValue)", litert: estimator)
                return estimator
            }
        }
    }

    private func printJSON(_ records: [ImageRecord], pipeline: DepthPipeline?, loaded: LoadedModel, seconds: Double) throws {
        let ok = records.filter { $0.error == nil }.count
        var summary: [String: Any] = [
            "model": loaded.origin ?? {
                switch plan.model {
                case .native(let reference, _, _, _, _): return reference
                case .litert(let path, _, _): return path
                }
            }(),
            "model_load_ms": pipeline?.loadMilliseconds ?? 0,
            "succeeded": ok,
            "failed": records.count - ok,
            "total_seconds": seconds,
            "images_per_second": Double(ok) / max(seconds, 1e-9),
            "images": records.map(\.json),
        ]
        if !plan.model.isLiteRT { summary["weight_cache"] = loaded.weightCache?.rawValue ?? "off" }
        summary["device"] = loaded.device ?? {
            switch plan.model {
            case .native(_, _, _, _, let device): return device.description
            case .litert(_, let accelerator, _): return "litert:\(accelerator.rawValue)"
            }
        }()
        if let litert = loaded.litert { summary["litert"] = LiteRTReport.json(litert) }
        if let choice = loaded.precision { summary["precision"] = Self.json(choice) }
        var data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        data.append(0x0a)
        FileHandle.standardOutput.write(data)
    }
    /// `{"requested", "used", "kernels", "reason", "measured_gflops": {"f32", "bf16", "int8"}, "kernel_isa"}`;
    /// `kernel_isa` is the CPU kernels' instruction-set level (avx512, avx2, generic; `DA3_ISA` lowers it).
    private static func json(_ choice: PrecisionChoice) -> [String: Any] {
        var j: [String: Any] = ["requested": choice.requested, "used": choice.used.rawValue, "reason": choice.reason,
                                "kernel_isa": KernelISA.current.name]
        if let kernels = choice.kernels { j["kernels"] = kernels.rawValue }
        if let m = choice.measurement {
            j["measured_gflops"] = ["f32": m.f32GFLOPs, "bf16": m.bf16GFLOPs].merging(m.int8GFLOPs.map { ["int8": $0] } ?? [:]) { $1 }
        }
        return j
    }
}

/// What the background load found out, for the summary.
final class LoadedModel: @unchecked Sendable {
    private let lock = NSLock()
    private var values: (origin: String?, device: String?, weightCache: WeightCache.Status?, litert: LiteRTDepthEstimator?,
                         precision: PrecisionChoice?) = (nil, nil, nil, nil, nil)

    func set(origin: String, device: String, weightCache: WeightCache.Status? = nil, litert: LiteRTDepthEstimator? = nil,
             precision: PrecisionChoice? = nil) {
        lock.withLock { values = (origin, device, weightCache, litert, precision) }
    }

    var origin: String? { lock.withLock { values.origin } }
    /// "cpu", "vulkan:N NAME" or "litert:ACCELERATOR": what ran the network.
    var device: String? { lock.withLock { values.device } }
    var weightCache: WeightCache.Status? { lock.withLock { values.weightCache } }
    var litert: LiteRTDepthEstimator? { lock.withLock { values.litert } }
    /// The native engine's precision choice.
    var precision: PrecisionChoice? { lock.withLock { values.precision } }
}

/// What happened to one input.
struct ImageRecord {
    var input: String
    var outputs: [String] = []
    var error: String?
    var timings: [String: Double] = [:]
    var size: (width: Int, height: Int, processedWidth: Int, processedHeight: Int)?
    /// What the depth means: is_metric, depth_kind, focal_px, scale_factor (JSON).
    var depthFacts: [String: Any] = [:]

    var json: [String: Any] {
        var j: [String: Any] = ["input": input, "ok": error == nil, "timings_ms": timings]
        if let error { j["error"] = error }
        if error == nil { j["outputs"] = outputs }
        for (key, value) in depthFacts { j[key] = value }
        if let size {
            j["width"] = size.width; j["height"] = size.height
            j["processed_width"] = size.processedWidth; j["processed_height"] = size.processedHeight
        }
        return j
    }
}

/// Progress for batches: a bar with images/s on a terminal (standard error), otherwise one plain
/// line per image on standard output.
final class BatchProgress {
    private let total: Int
    private let enabled: Bool
    private let terminal = isatty(STDERR_FILENO) != 0
    private let start = DispatchTime.now().uptimeNanoseconds
    private var done = 0

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func advance(_ record: ImageRecord) {
        done += 1
        guard enabled else { return }
        let rate = Double(done) / max(milliseconds(since: start) / 1000, 1e-9)
        if terminal {
            let filled = total > 0 ? done * 30 / total : 30
            let name = (record.input as NSString).lastPathComponent
            let line = String(format: "\r[%@%@] %d/%d %.2f images/s %@\u{1B}[K", String(repeating: "#", count: filled),
                              String(repeating: " ", count: 30 - filled), done, total, rate, name)
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            let status = record.error == nil ? "ok " + record.outputs.joined(separator: " ") : "failed"
            let line = String(format: "[%d/%d] %@: %@ (%.0f ms)\n", done, total, record.input, status, record.timings["total"] ?? 0)
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    func finish() {
        if enabled && terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
