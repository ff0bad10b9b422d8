import ArgumentParser
import DepthAnything3
import Foundation

/// `da3 info MODEL`
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print a checkpoint's preset, parameter count, dtypes, file size and where it was loaded from.",
        discussion: """
            For a .tflite, compiles it through LiteRT for --accelerator (without running it) and prints its \
            input layout, the depth output chosen, the GPU adapter, whether the graph is fully accelerated and \
            how it was split between GPU and CPU; with --accelerator gpu a graph the GPU delegate cannot take \
            whole is refused with the operators named.
            """)

    @Argument(help: ArgumentHelp("Checkpoint directory, .safetensors file or Hub id ORG/NAME[@REVISION]; or a .tflite.", valueName: "model"))
    var model: String = ModelLoading.defaultModel

    @Option(name: .long, help: ".tflite: cpu, gpu or gpu,cpu (see da3 depth --help).")
    var accelerator: String = LiteRTAccelerator.cpu.rawValue

    @Option(name: .customLong("gpu-precision"), help: ".tflite on the GPU: fp32, fp16 or default.")
    var gpuPrecision: String = LiteRTGPUPrecision.fp32.rawValue

    @Flag(name: .long, help: "Print the information as a JSON object.")
    var json = false

    func run() throws {
        do {
            if model.lowercased().hasSuffix(".tflite") { return try describeLiteRT() }
            let info = try ModelInfo(location: try ModelLoading.locate(model, quiet: json))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                var data = try encoder.encode(info)
                data.append(0x0a)
                FileHandle.standardOutput.write(data)
                return
            }
            let dtypes = info.parametersByDtype.keys.sorted().map { "\($0) (\(info.dtypes[$0]!) tensors, \(info.parametersByDtype[$0]!) values)" }
            print("""
                preset:      \(info.preset)
                parameters:  \(info.parameters) (\(String(format: "%.1f", Double(info.parameters) / 1e6)) M)
                dtypes:      \(dtypes.joined(separator: ", "))
                file size:   \(info.fileSize) bytes (\(String(format: "%.1f", Double(info.fileSize) / 1e6)) MB)
                weights:     \(info.weights)
                loaded from: \(info.origin)
                """)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Compiles a .tflite for the accelerator and reports what LiteRT made of it.
    private func describeLiteRT() throws {
        guard let kind = LiteRTAccelerator(argument: accelerator) else {
            throw UsageError("--accelerator: unknown accelerator '\(accelerator)' (expected cpu, gpu or gpu,cpu)")
        }
        guard let precision = LiteRTGPUPrecision(rawValue: gpuPrecision.lowercased()) else {
            throw UsageError("--gpu-precision: unknown precision '\(gpuPrecision)' (expected fp32, fp16 or default)")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let estimator = try LiteRTDepthEstimator(modelPath: model, accelerator: kind, gpuPrecision: precision)
        var report = LiteRTReport.json(estimator)
        report["model"] = model
        report["width"] = estimator.width
        report["height"] = estimator.height
        report["compile_ms"] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        if json {
            var data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
            data.append(0x0a)
            FileHandle.standardOutput.write(data)
            return
        }
        for key in report.keys.sorted() { print("\(key): \(report[key]!)") }
    }
}
