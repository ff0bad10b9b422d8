import ArgumentParser
import DA3Vulkan
import Foundation

/// `da3 devices`: the Vulkan devices `--device vulkan:N` can select.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the Vulkan devices (index, name, type, memory, fp16, int8, cooperative matrix, subgroup size).",
        discussion: """
            The index is what `--device vulkan:N` selects. The Vulkan loader (libvulkan.so.1) is loaded at run time; \
            VK_DRIVER_FILES / VK_ICD_FILENAMES choose drivers as for any Vulkan program, DA3_VULKAN_LIB names another loader.
            """)

    @Flag(name: .long, help: "Print the devices as a JSON object.")
    var json = false

    struct Listing: Encodable {
        let loader: String
        let devices: [VulkanDeviceInfo]
    }

    func run() throws {
        let instance: VulkanInstance
        do {
            instance = try VulkanInstance()
            if instance.devices.isEmpty { throw VulkanError.noDevice }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            var data = try encoder.encode(Listing(loader: instance.library.path, devices: instance.devices))
            data.append(0x0a)
            FileHandle.standardOutput.write(data)
            return
        }
        let rows = [["index", "name", "type", "memory", "fp16", "int8", "coopmat", "subgroup"]] + instance.devices.map { d in
            [String(d.index), d.name, d.type, String(format: "%.1f GiB", Double(d.deviceLocalMemory) / 1_073_741_824),
             d.supportsFP16 ? "yes" : "no", d.shaderInt8 ? "yes" : "no", d.cooperativeMatrix ? "yes" : "no", String(d.subgroupSize)]
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            print(row.enumerated().map { c, v in c == row.count - 1 ? v : v.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
    }
}
