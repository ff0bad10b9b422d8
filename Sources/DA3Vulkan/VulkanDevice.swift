import CVulkan
import Foundation

/// A logical device with one compute queue: creates buffers, kernels and recorded sequences, and
/// counts what it creates (`counters`).
public final class VulkanDevice: @unchecked Sendable {
    public let instance: VulkanInstance
    public let info: VulkanDeviceInfo
    /// FP16 storage and arithmetic were enabled (the device has them and they were asked for).
    public let fp16Enabled: Bool
    let physical: VkPhysicalDevice
    let handle: VkDevice
    let queue: VkQueue
    let queueFamily: UInt32
    let vk: VulkanFunctions
    let commandPool: VkCommandPool
    let memoryProperties: VkPhysicalDeviceMemoryProperties
    private let lock = NSLock()
    private var _counters = VulkanCounters()

    /// Opens device `index` of `instance` (nil: see `VulkanInstance.resolve`). `fp16: true`
    /// enables shaderFloat16 + 16-bit storage and throws `.missingFeature` where they are absent.
    public init(instance: VulkanInstance, index: Int? = nil, fp16: Bool = false) throws {
        let i = try instance.resolve(index: index)
        self.instance = instance
        info = instance.devices[i]
        let physical = instance.physicalDevices[i]
        self.physical = physical
        if fp16 && !info.shaderFloat16 { throw VulkanError.missingFeature(device: info.label, feature: "shaderFloat16 (FP16 arithmetic), which --precision fast needs") }
        if fp16 && !info.storageBuffer16BitAccess { throw VulkanError.missingFeature(device: info.label, feature: "storageBuffer16BitAccess (FP16 storage), which --precision fast needs") }
        fp16Enabled = fp16

        var familyCount: UInt32 = 0
        instance.getPhysicalDeviceQueueFamilyProperties(physical, &familyCount, nil)
        var families = [VkQueueFamilyProperties](repeating: VkQueueFamilyProperties(), count: Int(familyCount))
        instance.getPhysicalDeviceQueueFamilyProperties(physical, &familyCount, &families)
        let computeBit = VK_QUEUE_COMPUTE_BIT.rawValue, graphicsBit = VK_QUEUE_GRAPHICS_BIT.rawValue
        // Prefer a compute-only family (dedicated async compute), else any with compute.
        let compute = families.indices.filter { families[$0].queueFlags & computeBit != 0 }
        guard let family = compute.first(where: { families[$0].queueFlags & graphicsBit == 0 }) ?? compute.first else {
            throw VulkanError.missingFeature(device: info.label, feature: "a compute queue")
        }
        queueFamily = UInt32(family)

        var priority: Float = 1
        var device: VkDevice?
        let result: VkResult = withUnsafePointer(to: &priority) { prio in
            var queueInfo = VkDeviceQueueCreateInfo()
            queueInfo.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO
            queueInfo.queueFamilyIndex = UInt32(family)
            queueInfo.queueCount = 1
            queueInfo.pQueuePriorities = prio
            var f11 = VkPhysicalDeviceVulkan11Features()
            f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES
            var f12 = VkPhysicalDeviceVulkan12Features()
            f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
            if fp16 {
                f11.storageBuffer16BitAccess = VkBool32(VK_TRUE)
                f12.shaderFloat16 = VkBool32(VK_TRUE)
            }
            return withUnsafeMutablePointer(to: &f12) { p12 in
                f11.pNext = UnsafeMutableRawPointer(p12)
                return withUnsafeMutablePointer(to: &f11) { p11 in
                    withUnsafePointer(to: &queueInfo) { q in
                        var createInfo = VkDeviceCreateInfo()
                        createInfo.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO
                        createInfo.queueCreateInfoCount = 1
                        createInfo.pQueueCreateInfos = q
                        if fp16 { createInfo.pNext = UnsafeRawPointer(p11) }
                        return instance.createDevice(physical, &createInfo, nil, &device)
                    }
                }
            }
        }
        try check(result, "vkCreateDevice on \(info.label)")
        guard let device else { throw VulkanError.call("vkCreateDevice", VK_ERROR_INITIALIZATION_FAILED) }
        handle = device
        do {
            vk = try VulkanFunctions(device: device, getDeviceProcAddr: instance.getDeviceProcAddr)
        } catch {
            if let destroy = instance.getDeviceProcAddr(device, "vkDestroyDevice") {
                unsafeBitCast(destroy, to: PFN_vkDestroyDevice.self)(device, nil)
            }
            throw error
        }
        let vk = self.vk
        var q: VkQueue?
        vk.getDeviceQueue(device, UInt32(family), 0, &q)
        queue = q!
        var poolInfo = VkCommandPoolCreateInfo()
        poolInfo.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO
        poolInfo.queueFamilyIndex = UInt32(family)
        poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT.rawValue
        var pool: VkCommandPool?
        let poolResult = vk.createCommandPool(device, &poolInfo, nil, &pool)
        if poolResult != VK_SUCCESS {
            vk.destroyDevice(device, nil)
            throw VulkanError.call("vkCreateCommandPool", poolResult)
        }
        commandPool = pool!
        var mem = VkPhysicalDeviceMemoryProperties()
        instance.getPhysicalDeviceMemoryProperties(physical, &mem)
        memoryProperties = mem
    }

    /// Opens the loader, an instance and device `index` in one step.
    public convenience init(index: Int? = nil, fp16: Bool = false) throws {
        try self.init(instance: VulkanInstance(), index: index, fp16: fp16)
    }

    deinit {
        _ = vk.deviceWaitIdle(handle)
        vk.destroyCommandPool(handle, commandPool, nil)
        vk.destroyDevice(handle, nil)
    }

    /// Run products with gemm_rows (no shared memory; weights stored transposed) rather than the
    /// tiled shared-memory GEMM: true on CPU devices (lavapipe), where invocations are SIMD lanes and
    /// barriers are costly. `DA3_VULKAN_GEMM=tiled|rows` overrides (to test both paths).
    public var prefersLaneGEMM: Bool {
        switch ProcessInfo.processInfo.environment["DA3_VULKAN_GEMM"] {
        case "tiled": return false
        case "rows": return true
        default: return info.type == "cpu"
        }
    }

    /// Run FP16 products (the fast mode) with gemm_rows_f16 rather than the tiled gemm_f16: only
    /// when `DA3_VULKAN_GEMM=rows` asks (to test that path). The tiled FP16 GEMM is the faster one
    /// even on lavapipe, where FP16 operands in shared memory halve the traffic between barriers:
    /// 0.75-0.80x the time of the exact path's gemm_rows at DA3-Small's products, against 0.82-0.91x
    /// for gemm_rows_f16 (`da3-vulkan-bench --gemm-pairs`).
    public var prefersLaneGEMMForFP16: Bool {
        ProcessInfo.processInfo.environment["DA3_VULKAN_GEMM"] == "rows"
    }

    /// What this device has created so far.
    public var counters: VulkanCounters { lock.withLock { _counters } }

    func count(_ update: (inout VulkanCounters) -> Void) { lock.withLock { update(&_counters) } }

    /// Serializes queue submissions (a VkQueue must not be used from two threads at once).
    let queueLock = NSLock()

    /// A memory type index allowed by `bits` with all of `required`, preferring `preferred` too.
    func memoryType(bits: UInt32, required: VkMemoryPropertyFlags, preferred: VkMemoryPropertyFlags) throws -> UInt32 {
        let types = withUnsafeBytes(of: memoryProperties.memoryTypes) { Array($0.bindMemory(to: VkMemoryType.self)) }
        let n = Int(memoryProperties.memoryTypeCount)
        let allowed = (0..<n).filter { bits & (1 << UInt32($0)) != 0 && types[$0].propertyFlags & required == required }
        if let best = allowed.first(where: { types[$0].propertyFlags & preferred == preferred }) { return UInt32(best) }
        if let any = allowed.first { return UInt32(any) }
        throw VulkanError.noMemoryType
    }

    /// Waits until the device has finished all submitted work.
    public func waitIdle() throws { try check(vk.deviceWaitIdle(handle), "vkDeviceWaitIdle") }
}
