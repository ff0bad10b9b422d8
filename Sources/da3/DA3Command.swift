import ArgumentParser

/// `da3`: Depth Anything 3 from the command line.
@main
struct DA3Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "da3",
        abstract: "Depth Anything 3 in Swift: depth, confidence and camera intrinsics from one RGB image.",
        subcommands: [DepthCommand.self])
}
