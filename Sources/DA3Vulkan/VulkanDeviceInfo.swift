import CVulkan

/// What a physical device is and which of the features the backend uses it offers.
public struct VulkanDeviceInfo: Sendable, Codable, Equatable {
    /// Position in the loader's enumeration (what `--device vulkan:N` selects).
    public let index: Int
    public let name: String
    /// `discrete`, `integrated`, `virtual`, `cpu` or `other`.
    public let type: String
    /// Vulkan version the driver implements, e.g. "1.3.230".
    public let apiVersion: String
    public let vendorID: UInt32
    public let deviceID: UInt32
    /// Bytes in the device-local heaps.
    public let deviceLocalMemory: UInt64
    /// `shaderFloat16`: FP16 arithmetic in shaders (the fast mode needs it).
    public let shaderFloat16: Bool
    /// `storageBuffer16BitAccess`: FP16 values in storage buffers (the fast mode needs it).
    public let storageBuffer16BitAccess: Bool
    /// `shaderInt8`.
    public let shaderInt8: Bool
    /// `VK_KHR_cooperative_matrix` is offered.
    public let cooperativeMatrix: Bool
    /// Invocations per subgroup.
    public let subgroupSize: UInt32
    /// Shared memory per workgroup, bytes.
    public let maxSharedMemory: UInt32
    /// Invocations per workgroup.
    public let maxWorkgroupInvocations: UInt32

    /// Fast mode (FP16 storage and arithmetic) is possible.
    public var supportsFP16: Bool { shaderFloat16 && storageBuffer16BitAccess }

    /// "vulkan:N NAME", the string `--json` summaries report.
    public var label: String { "vulkan:\(index) \(name)" }
}

extension VulkanDeviceInfo {
    static func typeName(_ t: VkPhysicalDeviceType) -> String {
        switch t {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete"
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated"
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual"
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu"
        default: return "other"
        }
    }

    static func versionString(_ v: UInt32) -> String { "\(v >> 22 & 0x7f).\(v >> 12 & 0x3ff).\(v & 0xfff)" }
}

/// Reads a fixed-size C char array (a tuple in Swift) as a String.
func string<T>(fromCArray tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
