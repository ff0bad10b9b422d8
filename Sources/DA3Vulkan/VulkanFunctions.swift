import CVulkan

/// Device-level entry points, resolved once through vkGetDeviceProcAddr.
struct VulkanFunctions {
    let destroyDevice: PFN_vkDestroyDevice
    let getDeviceQueue: PFN_vkGetDeviceQueue
    let deviceWaitIdle: PFN_vkDeviceWaitIdle
    let createBuffer: PFN_vkCreateBuffer
    let destroyBuffer: PFN_vkDestroyBuffer
    let getBufferMemoryRequirements: PFN_vkGetBufferMemoryRequirements
    let allocateMemory: PFN_vkAllocateMemory
    let freeMemory: PFN_vkFreeMemory
    let bindBufferMemory: PFN_vkBindBufferMemory
    let mapMemory: PFN_vkMapMemory
    let unmapMemory: PFN_vkUnmapMemory
    let createShaderModule: PFN_vkCreateShaderModule
    let destroyShaderModule: PFN_vkDestroyShaderModule
    let createDescriptorSetLayout: PFN_vkCreateDescriptorSetLayout
    let destroyDescriptorSetLayout: PFN_vkDestroyDescriptorSetLayout
    let createPipelineLayout: PFN_vkCreatePipelineLayout
    let destroyPipelineLayout: PFN_vkDestroyPipelineLayout
    let createComputePipelines: PFN_vkCreateComputePipelines
    let destroyPipeline: PFN_vkDestroyPipeline
    let createDescriptorPool: PFN_vkCreateDescriptorPool
    let destroyDescriptorPool: PFN_vkDestroyDescriptorPool
    let allocateDescriptorSets: PFN_vkAllocateDescriptorSets
    let updateDescriptorSets: PFN_vkUpdateDescriptorSets
    let createCommandPool: PFN_vkCreateCommandPool
    let destroyCommandPool: PFN_vkDestroyCommandPool
    let allocateCommandBuffers: PFN_vkAllocateCommandBuffers
    let freeCommandBuffers: PFN_vkFreeCommandBuffers
    let beginCommandBuffer: PFN_vkBeginCommandBuffer
    let endCommandBuffer: PFN_vkEndCommandBuffer
    let cmdBindPipeline: PFN_vkCmdBindPipeline
    let cmdBindDescriptorSets: PFN_vkCmdBindDescriptorSets
    let cmdPushConstants: PFN_vkCmdPushConstants
    let cmdDispatch: PFN_vkCmdDispatch
    let cmdPipelineBarrier: PFN_vkCmdPipelineBarrier
    let cmdCopyBuffer: PFN_vkCmdCopyBuffer
    let cmdFillBuffer: PFN_vkCmdFillBuffer
    let queueSubmit: PFN_vkQueueSubmit
    let createFence: PFN_vkCreateFence
    let destroyFence: PFN_vkDestroyFence
    let waitForFences: PFN_vkWaitForFences
    let resetFences: PFN_vkResetFences

    init(device: VkDevice, getDeviceProcAddr: PFN_vkGetDeviceProcAddr) throws {
        func f<T>(_ name: String) throws -> T {
            guard let raw = getDeviceProcAddr(device, name) else { throw VulkanError.missingFunction(name) }
            return unsafeBitCast(raw, to: T.self)
        }
        destroyDevice = try f("vkDestroyDevice")
        getDeviceQueue = try f("vkGetDeviceQueue")
        deviceWaitIdle = try f("vkDeviceWaitIdle")
        createBuffer = try f("vkCreateBuffer")
        destroyBuffer = try f("vkDestroyBuffer")
        getBufferMemoryRequirements = try f("vkGetBufferMemoryRequirements")
        allocateMemory = try f("vkAllocateMemory")
        freeMemory = try f("vkFreeMemory")
        bindBufferMemory = try f("vkBindBufferMemory")
        mapMemory = try f("vkMapMemory")
        unmapMemory = try f("vkUnmapMemory")
        createShaderModule = try f("vkCreateShaderModule")
        destroyShaderModule = try f("vkDestroyShaderModule")
        createDescriptorSetLayout = try f("vkCreateDescriptorSetLayout")
        destroyDescriptorSetLayout = try f("vkDestroyDescriptorSetLayout")
        createPipelineLayout = try f("vkCreatePipelineLayout")
        destroyPipelineLayout = try f("vkDestroyPipelineLayout")
        createComputePipelines = try f("vkCreateComputePipelines")
        destroyPipeline = try f("vkDestroyPipeline")
        createDescriptorPool = try f("vkCreateDescriptorPool")
        destroyDescriptorPool = try f("vkDestroyDescriptorPool")
        allocateDescriptorSets = try f("vkAllocateDescriptorSets")
        updateDescriptorSets = try f("vkUpdateDescriptorSets")
        createCommandPool = try f("vkCreateCommandPool")
        destroyCommandPool = try f("vkDestroyCommandPool")
        allocateCommandBuffers = try f("vkAllocateCommandBuffers")
        freeCommandBuffers = try f("vkFreeCommandBuffers")
        beginCommandBuffer = try f("vkBeginCommandBuffer")
        endCommandBuffer = try f("vkEndCommandBuffer")
        cmdBindPipeline = try f("vkCmdBindPipeline")
        cmdBindDescriptorSets = try f("vkCmdBindDescriptorSets")
        cmdPushConstants = try f("vkCmdPushConstants")
        cmdDispatch = try f("vkCmdDispatch")
        cmdPipelineBarrier = try f("vkCmdPipelineBarrier")
        cmdCopyBuffer = try f("vkCmdCopyBuffer")
        cmdFillBuffer = try f("vkCmdFillBuffer")
        queueSubmit = try f("vkQueueSubmit")
        createFence = try f("vkCreateFence")
        destroyFence = try f("vkDestroyFence")
        waitForFences = try f("vkWaitForFences")
        resetFences = try f("vkResetFences")
    }
}
