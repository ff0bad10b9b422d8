/// How much Vulkan work a device has created: lets tests prove that, after the first image of a
/// size, a second image allocates nothing and records nothing (only submits).
public struct VulkanCounters: Sendable, Equatable {
    /// vkCreateBuffer calls.
    public var buffersCreated = 0
    /// vkAllocateMemory calls.
    public var memoryAllocations = 0
    /// Bytes requested from vkAllocateMemory.
    public var bytesAllocated: UInt64 = 0
    /// vkAllocateDescriptorSets sets.
    public var descriptorSetsAllocated = 0
    /// vkCreateComputePipelines pipelines.
    public var pipelinesCreated = 0
    /// Command buffers recorded (vkBeginCommandBuffer … vkEndCommandBuffer).
    public var commandBuffersRecorded = 0
    /// vkQueueSubmit calls.
    public var submits = 0

    /// Everything that counts as an allocation (buffers, memory, descriptor sets, pipelines).
    public var allocations: Int { buffersCreated + memoryAllocations + descriptorSetsAllocated + pipelinesCreated }
}
