import ArgumentParser
import DepthAnything3
import Foundation

/// `da3 depth IMAGE --model PATH --output DEPTH.npy [...]`
struct DepthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depth",
        abstract: "Estimate depth for one image and write it as a float32 .npy array.",
        discussion: """
            Outputs are at the processed size (the image resized so each side is a multiple of 14). \
            Arrays are little-endian float32 .npy files of shape (H, W); the intrinsics file is a JSON \
            object with fx, fy, cx, cy, width and height in processed-image pixels. Files are written \
            atomically: on any error no output file is left behind.
            """)

    @Argument(help: "Input image (JPEG or PNG).")
    var image: String

    @Option(name: .long, help: "Checkpoint: a directory with model.safetensors (and config.json), or a .safetensors file.")
    var model: String

    @Option(name: .customLong("process-res"), help: "Target size in pixels for the bounded side before rounding to multiples of 14.")
    var processRes: Int = 504

    @Option(name: .customLong("process-res-method"),
            help: "upper_bound_resize (longer side = process-res) or lower_bound_resize (shorter side = process-res); *_crop variants crop instead of resizing to multiples of 14.")
    var processResMethod: String = ResizeMethod.upperBoundResize.rawValue

    @Option(name: .shortAndLong, help: "Depth output (.npy, float32, H x W).")
    var output: String

    @Option(name: .long, help: "Confidence output (.npy, float32, H x W).")
    var confidence: String?

    @Option(name: .long, help: "Intrinsics output (.json: fx, fy, cx, cy, width, height).")
    var intrinsics: String?

    @Flag(name: .long, help: "Print per-stage timings (load, decode, preprocess, backbone blocks, head, camera, write) to standard error.")
    var timings = false

    func run() throws {
        do {
            try execute()
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func execute() throws {
        guard let method = ResizeMethod(rawValue: processResMethod) else {
            throw UsageError("--process-res-method: unknown method '\(processResMethod)' (expected one of \(ResizeMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let preprocessor: Preprocessor
        do {
            preprocessor = try Preprocessor(processRes: processRes, method: method)
        } catch let error as ImageError {
            throw UsageError("--process-res \(processRes): \(error.reason)")
        }
        let outputs = [output, confidence, intrinsics].compactMap { $0 }.map { URL(fileURLWithPath: $0) }
        for url in outputs { try checkWritableDirectory(of: url) }

        let clock = StageClock(enabled: timings)
        let imageURL = URL(fileURLWithPath: image)
        let decoded = try ImageDecoder.decode(fileAt: imageURL)
        clock.mark("decode")
        let prepared = try preprocessor.prepare(decoded, file: imageURL.path)
        clock.mark("preprocess")
        let estimator = try DepthEstimator(modelPath: model)
        clock.mark("load model")
        let result = estimator.estimate(prepared, observer: timings ? { name, _ in clock.mark(name) } : nil)

        var files: [(Data, URL)] = [(OutputWriters.npy(result.depth, shape: [result.height, result.width]), URL(fileURLWithPath: output))]
        if let confidence {
            files.append((OutputWriters.npy(result.confidence, shape: [result.height, result.width]), URL(fileURLWithPath: confidence)))
        }
        if let intrinsics {
            files.append((try OutputWriters.intrinsicsJSON(result.intrinsics), URL(fileURLWithPath: intrinsics)))
        }
        for (data, url) in files { try OutputWriters.writeAtomically(data, to: url) }
        clock.mark("write")
        clock.report()
    }

    private func checkWritableDirectory(of url: URL) throws {
        let dir = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OutputError(file: url.path, reason: "output directory \(dir) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: dir) else {
            throw OutputError(file: url.path, reason: "output directory \(dir) is not writable")
        }
    }
}

/// A bad option value, reported like other errors.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Wall-clock time between named marks, printed to standard error on request.
final class StageClock: @unchecked Sendable {
    private let enabled: Bool
    private var last = DispatchTime.now().uptimeNanoseconds
    private let start = DispatchTime.now().uptimeNanoseconds
    private var marks: [(String, Double)] = []

    init(enabled: Bool) { self.enabled = enabled }

    func mark(_ name: String) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        marks.append((name, Double(now - last) / 1e6))
        last = now
    }

    func report() {
        guard enabled else { return }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        for (name, ms) in marks + [("total", total)] {
            let padded = name.padding(toLength: 16, withPad: " ", startingAt: 0)
            FileHandle.standardError.write(Data((padded + String(format: "%9.1f ms\n", ms)).utf8))
        }
    }
}
