import ArgumentParser
import DepthAnything3
import Foundation

/// `da3 info MODEL`
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print a checkpoint's preset, parameter count, dtypes, file size and where it was loaded from.")

    @Argument(help: ArgumentHelp("Checkpoint directory, .safetensors file or Hub id ORG/NAME[@REVISION].", valueName: "model"))
    var model: String = ModelLoading.defaultModel

    @Flag(name: .long, help: "Print the information as a JSON object.")
    var json = false

    func run() throws {
        do {
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
}
