import CVulkan

/// A Vulkan instance and the physical devices the loader offers (all drivers, in the loader's
/// order; honours VK_DRIVER_FILES / VK_ICD_FILENAMES like every Vulkan program).
public final class VulkanInstance: @unchecked Sendable {
    public let library: VulkanLibrary
    let handle: VkInstance
    let physicalDevices: [VkPhysicalDevice]
    /// One entry per physical device, index = enumeration position.
    public let devices: [VulkanDeviceInfo]

    let destroyInstance: PFN_vkDestroyInstance
    let getPhysicalDeviceProperties2: PFN_vkGetPhysicalDeviceProperties2
    let getPhysicalDeviceFeatures2: PFN_vkGetPhysicalDeviceFeatures2
    let getPhysicalDeviceMemoryProperties: PFN_vkGetPhysicalDeviceMemoryProperties
    let getPhysicalDeviceQueueFamilyProperties: PFN_vkGetPhysicalDeviceQueueFamilyProperties
    let enumerateDeviceExtensionProperties: PFN_vkEnumerateDeviceExtensionProperties
    let createDevice: PFN_vkCreateDevice
    let getDeviceProcAddr: PFN_vkGetDeviceProcAddr

    /// Opens the loader (see `VulkanLibrary`) and creates a Vulkan 1.1+ instance.
    public convenience init() throws { try self.init(library: VulkanLibrary()) }

    public init(library: VulkanLibrary) throws {
        self.library = library
        let create: PFN_vkCreateInstance = try library.function("vkCreateInstance")
        var apiVersion: UInt32 = (1 << 22) | (1 << 12)  // 1.1
        if let enumerateVersion = try? library.function("vkEnumerateInstanceVersion", as: PFN_vkEnumerateInstanceVersion.self) {
            var v: UInt32 = 0
            if enumerateVersion(&v) == VK_SUCCESS { apiVersion = min(v, (1 << 22) | (3 << 12)) }
        }
        if apiVersion < (1 << 22) | (1 << 12) { throw VulkanError.noDevice }
        var instance: VkInstance?
        let result: VkResult = "da3".withCString { appName in
            var app = VkApplicationInfo()
            app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO
            app.pApplicationName = appName
            app.pEngineName = appName
            app.apiVersion = apiVersion
            return withUnsafePointer(to: &app) { appPtr in
                var info = VkInstanceCreateInfo()
                info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO
                info.pApplicationInfo = appPtr
                return create(&info, nil, &instance)
            }
        }
        // No driver at all: the loader answers VK_ERROR_INCOMPATIBLE_DRIVER.
        if result == VK_ERROR_INCOMPATIBLE_DRIVER { throw VulkanError.noDevice }
        try check(result, "vkCreateInstance")
        guard let instance else { throw VulkanError.noDevice }
        handle = instance
        destroyInstance = try library.function("vkDestroyInstance", instance: instance)
        getPhysicalDeviceProperties2 = try library.function("vkGetPhysicalDeviceProperties2", instance: instance)
        getPhysicalDeviceFeatures2 = try library.function("vkGetPhysicalDeviceFeatures2", instance: instance)
        getPhysicalDeviceMemoryProperties = try library.function("vkGetPhysicalDeviceMemoryProperties", instance: instance)
        getPhysicalDeviceQueueFamilyProperties = try library.function("vkGetPhysicalDeviceQueueFamilyProperties", instance: instance)
        enumerateDeviceExtensionProperties = try library.function("vkEnumerateDeviceExtensionProperties", instance: instance)
        createDevice = try library.function("vkCreateDevice", instance: instance)
        getDeviceProcAddr = try library.function("vkGetDeviceProcAddr", instance: instance)
        let enumerate: PFN_vkEnumeratePhysicalDevices = try library.function("vkEnumeratePhysicalDevices", instance: instance)
        var count: UInt32 = 0
        var r = enumerate(instance, &count, nil)
        var list = [VkPhysicalDevice?](repeating: nil, count: Int(count))
        if r == VK_SUCCESS && count > 0 { r = enumerate(instance, &count, &list) }
        if r != VK_SUCCESS && r != VK_INCOMPLETE && r != VK_ERROR_INITIALIZATION_FAILED {
            destroyInstance(instance, nil)
            throw VulkanError.call("vkEnumeratePhysicalDevices", r)
        }
        physicalDevices = list.prefix(Int(count)).compactMap { $0 }
        var infos: [VulkanDeviceInfo] = []
        for (i, d) in physicalDevices.enumerated() {
            infos.append(Self.describe(d, index: i, props2: getPhysicalDeviceProperties2, features2: getPhysicalDeviceFeatures2,
                                       memory: getPhysicalDeviceMemoryProperties, extensions: enumerateDeviceExtensionProperties))
        }
        devices = infos
    }

    deinit { destroyInstance(handle, nil) }

    /// The index of `selector`'s device: nil picks the first discrete GPU, else integrated, else
    /// the first device; a number is the enumeration index. Throws `.noDevice` / `.badDeviceIndex`.
    public func resolve(index: Int?) throws -> Int {
        if devices.isEmpty { throw VulkanError.noDevice }
        if let index {
            guard index >= 0 && index < devices.count else { throw VulkanError.badDeviceIndex(index, available: devices.count) }
            return index
        }
        for kind in ["discrete", "integrated", "virtual", "cpu"] {
            if let d = devices.first(where: { $0.type == kind }) { return d.index }
        }
        return 0
    }

    /// The first device whose name contains `substring` (case-insensitive), if any.
    public func device(named substring: String) -> VulkanDeviceInfo? {
        devices.first { $0.name.lowercased().contains(substring.lowercased()) }
    }

    static func extensionNames(_ device: VkPhysicalDevice, _ enumerateExt: PFN_vkEnumerateDeviceExtensionProperties) -> Set<String> {
        var count: UInt32 = 0
        guard enumerateExt(device, nil, &count, nil) == VK_SUCCESS, count > 0 else { return [] }
        var props = [VkExtensionProperties](repeating: VkExtensionProperties(), count: Int(count))
        guard enumerateExt(device, nil, &count, &props) == VK_SUCCESS else { return [] }
        return Set(props.prefix(Int(count)).map { string(fromCArray: $0.extensionName) })
    }

    static func describe(
        _ device: VkPhysicalDevice, index: Int, props2: PFN_vkGetPhysicalDeviceProperties2,
        features2: PFN_vkGetPhysicalDeviceFeatures2, memory: PFN_vkGetPhysicalDeviceMemoryProperties,
        extensions enumerateExt: PFN_vkEnumerateDeviceExtensionProperties
    ) -> VulkanDeviceInfo {
        var subgroup = VkPhysicalDeviceSubgroupProperties()
        subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES
        var props = VkPhysicalDeviceProperties2()
        props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2
        withUnsafeMutablePointer(to: &subgroup) { sp in
            props.pNext = UnsafeMutableRawPointer(sp)
            props2(device, &props)
        }
        props.pNext = nil
        let p = props.properties
        let is12 = p.apiVersion >= (1 << 22) | (2 << 12)
        var f11 = VkPhysicalDeviceVulkan11Features()
        f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES
        var f12 = VkPhysicalDeviceVulkan12Features()
        f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
        var features = VkPhysicalDeviceFeatures2()
        features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2
        if is12 {
            withUnsafeMutablePointer(to: &f12) { p12 in
                f11.pNext = UnsafeMutableRawPointer(p12)
                withUnsafeMutablePointer(to: &f11) { p11 in
                    features.pNext = UnsafeMutableRawPointer(p11)
                    features2(device, &features)
                }
            }
        }
        var mem = VkPhysicalDeviceMemoryProperties()
        memory(device, &mem)
        var localBytes: UInt64 = 0
        withUnsafeBytes(of: mem.memoryHeaps) { raw in
            let heaps = raw.bindMemory(to: VkMemoryHeap.self)
            for h in 0..<Int(mem.memoryHeapCount) where heaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT.rawValue != 0 {
                localBytes += heaps[h].size
            }
        }
        let ext = extensionNames(device, enumerateExt)
        return VulkanDeviceInfo(
            index: index, name: string(fromCArray: p.deviceName), type: VulkanDeviceInfo.typeName(p.deviceType),
            apiVersion: VulkanDeviceInfo.versionString(p.apiVersion), vendorID: p.vendorID, deviceID: p.deviceID,
            deviceLocalMemory: localBytes,
            shaderFloat16: is12 && f12.shaderFloat16 != 0,
            storageBuffer16BitAccess: is12 && f11.storageBuffer16BitAccess != 0,
            shaderInt8: is12 && f12.shaderInt8 != 0,
            cooperativeMatrix: ext.contains("VK_KHR_cooperative_matrix"),
            subgroupSize: subgroup.subgroupSize,
            maxSharedMemory: p.limits.maxComputeSharedMemorySize,
            maxWorkgroupInvocations: p.limits.maxComputeWorkGroupInvocations)
    }
}
