import ArgumentParser
import DepthAnything3

/// `da3`: Depth Anything 3 from the command line.
@main
struct DA3Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "da3",
        abstract: "Depth Anything 3 in Swift: depth, confidence and camera intrinsics from RGB images.",
        discussion: """
            MODEL arguments take a local checkpoint (a directory with model.safetensors and config.json, \
            or a .safetensors file) or a Hugging Face Hub id such as depth-anything/DA3-SMALL, optionally \
            pinned as depth-anything/DA3-SMALL@<branch|tag|commit>. Hub files go to the standard Hugging Face \
            cache shared with the Python tools: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. \
            Environment: HF_ENDPOINT (Hub URL, default https://huggingface.co), HF_TOKEN (access token for \
            private or gated repositories), HF_HUB_OFFLINE=1 (never use the network; cached files only).
            """,
        subcommands: [DepthCommand.self, ImagesCommand.self, InfoCommand.self, ConvertCommand.self, DevicesCommand.self])

    /// The commands that run the engine set the process up for it before their arguments are
    /// parsed, so that BLAS loads on a thread of its own meanwhile: the parse takes ~4 ms of the
    /// main thread while the other core idles.
    static func main() {
        if let command = CommandLine.arguments.dropFirst().first, command == "depth" || command == "images" {
            AllocatorTuning.configureForEngine()
        }
        main(nil)
    }
}
