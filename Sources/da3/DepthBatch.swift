import ArgumentParser
import DepthAnything3
import Foundation

/// Runs `da3 depth` over its inputs: the model is loaded once, in the background from the start
/// (needed from the first image that decodes), each image is decoded, estimated and written;
/// failures are recorded and the batch goes on.
struct DepthBatch {
    /// The single-image outputs (`--output`, `--confidence`, `--intrinsics`).
    enum Single { case depth, confidence, intrinsics }

    /// Validated options.
    struct Plan {
        var inputs: [InputExpansion.Item]
        var model: String
        /// Run a .tflite through LiteRT on this accelerator instead of the native engine.
        var litert: LiteRTAccelerator? = nil
        /// Native engine arithmetic.
        var precision: Precision = .exact
        /// Where packed weights are kept between runs (nil: off).
        var weightCache: WeightCache? = nil
        var options: EstimationOptions
        var singles: [(Single, URL)]
        var outputDir: URL?
        var formats: [OutputFormat]
        var export: ExportOptions
        var quiet: Bool
        var json: Bool
        var timings: Bool
        /// Where the native engine runs (`--device`).
        var device: ComputeDevice = .cpu
    }

    let plan: Plan
    init(_ plan: Plan) { self.plan = plan }

    /// Ends one image's `do` block early (the LiteRT path).
    private struct Done: Error {}

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let paths = plan.inputs.map { item -> String in
            switch item {
            case .file(let p): return p
            case .invalid(let p, _): return p
            }
        }
        let stems = OutputNaming.stems(for: paths)
        let progress = BatchProgress(total: paths.count, enabled: !plan.quiet && !plan.json && (paths.count > 1 || plan.outputDir != nil))
        let clock = StageClock(enabled: plan.timings)
        var estimator: DepthEstimator?
        let hasFiles = plan.inputs.contains { if case .file = $0 { true } else { false } }
        let nativeLoad = plan.litert == nil && hasFiles
            ? BackgroundModelLoad(model: plan.model, precision: plan.precision, weightCache: plan.weightCache,
                                quiet: plan.quiet || plan.json, device: plan.device) : nil
        var litertEstimator: LiteRTDepthEstimator?
        var loadMs = 0.0
        var records: [ImageRecord] = []

        for (index, item) in plan.inputs.enumerated() {
            let imageStart = DispatchTime.now().uptimeNanoseconds
            var record = ImageRecord(input: paths[index])
            do {
                guard case .file(let path) = item else {
                    if case .invalid(let p, let reason) = item { throw UsageError("\(p): \(reason)") }
                    fatalError("unreachable")
                }
                let url = URL(fileURLWithPath: path)
                var t = DispatchTime.now().uptimeNanoseconds
                let decoded = try ImageDecoder.decode(fileAt: url)
                record.timings["decode"] = milliseconds(since: t); clock.mark("decode")
                t = DispatchTime.now().uptimeNanoseconds
                if let accelerator = plan.litert {
                    if litertEstimator == nil {
                        t = DispatchTime.now().uptimeNanoseconds
                        do {
                            litertEstimator = try LiteRTDepthEstimator(modelPath: plan.model, accelerator: accelerator)
                            estimatorOrigin = "\(plan.model) (LiteRT \(accelerator.rawValue), \(litertEstimator!.model.libraryPath))"
                        } catch {
                            throw FatalError(underlying: error)
                        }
                        loadMs = milliseconds(since: t); clock.mark("load model")
                    }
                    t = DispatchTime.now().uptimeNanoseconds
                    let prepared = try litertEstimator!.prepare(decoded, file: url.path)
                    record.timings["preprocess"] = milliseconds(since: t); clock.mark("preprocess")
                    t = DispatchTime.now().uptimeNanoseconds
                    var result = try litertEstimator!.estimate(prepared)
                    if plan.options.outputSize == .original { result = result.resized(to: decoded) }
                    record.timings["inference"] = milliseconds(since: t); clock.mark("inference")
                    t = DispatchTime.now().uptimeNanoseconds
                    record.outputs = try write(result, stem: stems[index])
                    record.timings["write"] = milliseconds(since: t); clock.mark("write")
                    record.size = (result.width, result.height, result.processedWidth, result.processedHeight)
                    throw Done()
                }
                let prepared = try Preprocessor(processRes: plan.options.processRes, method: plan.options.method).prepare(decoded, file: url.path)
                record.timings["preprocess"] = milliseconds(since: t); clock.mark("preprocess")
                if estimator == nil, let nativeLoad {
                    do {
                        (estimator, estimatorOrigin) = try nativeLoad.wait()
                    } catch {
                        throw FatalError(underlying: error)
                    }
                    loadMs = nativeLoad.milliseconds; clock.mark("load model")
                }
                t = DispatchTime.now().uptimeNanoseconds
                var result = try estimator!.estimate(prepared, observer: plan.timings ? { name, _ in clock.mark(name) } : nil)
                if plan.options.outputSize == .original { result = result.resized(to: decoded) }
                record.timings["inference"] = milliseconds(since: t)
                t = DispatchTime.now().uptimeNanoseconds
                record.outputs = try write(result, stem: stems[index])
                record.timings["write"] = milliseconds(since: t); clock.mark("write")
                record.size = (result.width, result.height, result.processedWidth, result.processedHeight)
            } catch is Done {
                // LiteRT path finished this image
            } catch let fatal as FatalError {
                throw fatal.underlying
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
            try printJSON(records, loadMs: loadMs, weightCache: estimator?.weightCacheStatus, seconds: totalSeconds,
                          deviceLabel: estimator?.deviceLabel)
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

    /// Set when the model loads (for the JSON summary).
    private var estimatorOrigin: String? {
        get { OriginBox.shared.value }
        nonmutating set { OriginBox.shared.value = newValue }
    }

    /// Writes every requested output for one image; returns the written paths.
    private func write(_ result: DepthResult, stem: String) throws -> [String] {
        var files: [(Data, URL)] = []
        for (kind, url) in plan.singles {
            switch kind {
            case .depth: files.append((OutputWriters.npy(result.depth, shape: [result.height, result.width]), url))
            case .confidence: files.append((OutputWriters.npy(result.confidence, shape: [result.height, result.width]), url))
            case .intrinsics: files.append((try OutputWriters.intrinsicsJSON(result.intrinsics), url))
            }
        }
        if let dir = plan.outputDir {
            let frame = result.frame
            for format in plan.formats {
                let url = dir.appendingPathComponent(stem + format.suffix)
                do {
                    files.append((try DepthExporter.encode(frame, as: format, options: plan.export), url))
                } catch let error as OutputError {
                    throw OutputError(file: url.path, reason: error.reason)
                }
            }
        }
        // Encode everything first, then write: an encoding failure leaves no file of this image.
        var written: [URL] = []
        do {
            for (data, url) in files {
                try AtomicFile.write(data, to: url)
                written.append(url)
            }
        } catch {
            for url in written { try? FileManager.default.removeItem(at: url) }
            throw error
        }
        return written.map(\.path)
    }

    private func printJSON(_ records: [ImageRecord], loadMs: Double, weightCache: WeightCache.Status?,
                           seconds: Double, deviceLabel: String?) throws {
        let ok = records.filter { $0.error == nil }.count
        var summary: [String: Any] = [
            "model": estimatorOrigin ?? plan.model,
            "model_load_ms": loadMs,
            "succeeded": ok,
            "failed": records.count - ok,
            "total_seconds": seconds,
            "images_per_second": Double(ok) / max(seconds, 1e-9),
            "images": records.map(\.json),
        ]
        if plan.litert == nil { summary["weight_cache"] = weightCache?.rawValue ?? "off" }
        summary["device"] = plan.litert.map { "litert:\($0.rawValue)" } ?? deviceLabel ?? plan.device.description
        var data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        data.append(0x0a)
        FileHandle.standardOutput.write(data)
    }
}

/// A model-loading failure: it ends the whole batch.
struct FatalError: Error {
    let underlying: Error
}

/// Holds the model origin for the summary (the batch runs on one thread).
final class OriginBox: @unchecked Sendable {
    static let shared = OriginBox()
    var value: String?
}

/// What happened to one input.
struct ImageRecord {
    var input: String
    var outputs: [String] = []
    var error: String?
    var timings: [String: Double] = [:]
    var size: (width: Int, height: Int, processedWidth: Int, processedHeight: Int)?

    var json: [String: Any] {
        var j: [String: Any] = ["input": input, "ok": error == nil, "timings_ms": timings]
        if let error { j["error"] = error }
        if error == nil { j["outputs"] = outputs }
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
