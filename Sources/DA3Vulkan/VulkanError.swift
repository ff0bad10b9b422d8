import CVulkan

/// Why the Vulkan backend cannot run; each case names the true cause.
public enum VulkanError: Error, CustomStringConvertible, Equatable {
    /// libvulkan.so.1 (the Vulkan loader) could not be opened.
    case loaderNotFound(String)
    /// The loader exists but no driver offers a device (no ICD installed, or none usable).
    case noDevice
    /// The requested device index does not exist.
    case badDeviceIndex(Int, available: Int)
    /// The device lacks a feature the requested mode needs (e.g. shaderFloat16 for fast mode).
    case missingFeature(device: String, feature: String)
    /// A Vulkan call failed.
    case call(String, VkResult)
    /// An entry point the backend needs is missing from the loader or driver.
    case missingFunction(String)
    /// No memory type satisfies a buffer's requirements.
    case noMemoryType
    /// A mode this backend does not offer (yet).
    case unavailable(String)
    /// Misuse of the backend's own API (wrong sizes, missing bindings).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .loaderNotFound(let detail):
            return "no Vulkan loader: \(detail) (install the Vulkan loader, e.g. Debian's libvulkan1, and a driver such as mesa-vulkan-drivers)"
        case .noDevice:
            return "no Vulkan device: the Vulkan loader found no driver offering a device (install a driver, e.g. mesa-vulkan-drivers, or check VK_DRIVER_FILES / VK_ICD_FILENAMES)"
        case .badDeviceIndex(let index, let available):
            return "no Vulkan device \(index): \(available) device\(available == 1 ? "" : "s") available (indices 0..<\(available); `da3 devices` lists them)"
        case .missingFeature(let device, let feature):
            return "Vulkan device \(device) lacks \(feature)"
        case .call(let name, let result):
            return "\(name) failed with VkResult \(result.rawValue)"
        case .missingFunction(let name):
            return "the Vulkan loader does not provide \(name)"
        case .noMemoryType:
            return "no Vulkan memory type fits the buffer"
        case .unavailable(let detail):
            return detail
        case .invalidArgument(let detail):
            return "invalid Vulkan backend use: \(detail)"
        }
    }
}

/// Throws unless `result` is VK_SUCCESS.
@inline(__always)
func check(_ result: VkResult, _ name: @autoclosure () -> String) throws {
    if result != VK_SUCCESS { throw VulkanError.call(name(), result) }
}
