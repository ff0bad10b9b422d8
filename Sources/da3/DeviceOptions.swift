import ArgumentParser
import DepthAnything3

/// `--device cpu|vulkan|vulkan:N` for `da3 depth`.
struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Where the network runs: cpu, vulkan (the first GPU) or vulkan:N (`da3 devices` lists them). The Vulkan loader is loaded at run time.",
        valueName: "device"))
    var device: String = "cpu"

    /// The parsed choice; a usage error names the bad value.
    func parsed() throws -> ComputeDevice {
        do {
            return try ComputeDevice(parsing: device)
        } catch {
            throw UsageError("--device: \(error)")
        }
    }
}
