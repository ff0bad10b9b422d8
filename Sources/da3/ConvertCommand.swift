import ArgumentParser
import DepthAnything3
import Foundation

/// `da3 convert MODEL --dtype f16 --output DIR`
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a copy of a checkpoint with its floating-point tensors in another dtype (e.g. FP16, half the size).",
        discussion: """
            The output directory receives model.safetensors and a copy of config.json; `da3 depth --model DIR` \
            loads it directly. FP16 weights are widened to FP32 at load time, so results equal those of FP32 \
            weights holding the same (FP16-rounded) values.
            """)

    @Argument(help: ArgumentHelp("Checkpoint directory, .safetensors file or Hub id ORG/NAME[@REVISION].", valueName: "model"))
    var model: String = ModelLoading.defaultModel

    @Option(name: .long, help: "Target dtype: f16, bf16 or f32.")
    var dtype: String = CheckpointConverter.Target.f16.rawValue

    @Option(name: .shortAndLong, help: "Output directory (created if missing).")
    var output: String

    func run() throws {
        do {
            guard let target = CheckpointConverter.Target(rawValue: dtype.lowercased()) else {
                throw UsageError("--dtype: unknown dtype '\(dtype)' (expected f16, bf16 or f32)")
            }
            let location = try ModelLoading.locate(model, quiet: false)
            let out = try CheckpointConverter.convert(location, to: target, directory: URL(fileURLWithPath: output))
            let size = (try? FileManager.default.attributesOfItem(atPath: out.path)[.size] as? Int) ?? 0
            print("wrote \(out.path) (\(size) bytes, \(String(format: "%.1f", Double(size) / 1e6)) MB, \(target.rawValue))")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
