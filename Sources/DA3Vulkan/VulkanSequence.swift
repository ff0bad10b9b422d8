import CVulkan

/// A list of copies and dispatches, recorded into one command buffer once and replayed by `run()`
/// as one queue submit. Descriptor sets and the command buffer are made by the first `record()`
/// (or `run()`); later runs allocate nothing and record nothing. A memory barrier separates
/// consecutive steps, so each step sees everything earlier steps wrote.
public final class VulkanSequence: @unchecked Sendable {
    enum Step {
        case copy(src: VulkanBuffer, dst: VulkanBuffer, bytes: Int, srcOffset: Int, dstOffset: Int)
        case fill(dst: VulkanBuffer, bytes: Int, offset: Int, word: UInt32)
        case dispatch(kernel: VulkanKernel, buffers: [VulkanBuffer], push: [UInt32], groups: (UInt32, UInt32, UInt32))
    }

    public let device: VulkanDevice
    private var steps: [Step] = []
    private var descriptorPool: VkDescriptorPool?
    private var commandBuffer: VkCommandBuffer?
    private var fence: VkFence?

    public init(device: VulkanDevice) { self.device = device }

    /// Steps so far.
    public var count: Int { steps.count }
    /// The command buffer has been recorded.
    public var isRecorded: Bool { commandBuffer != nil }

    /// Appends a buffer-to-buffer copy.
    public func copy(from src: VulkanBuffer, to dst: VulkanBuffer, bytes: Int, srcOffset: Int = 0, dstOffset: Int = 0) {
        precondition(commandBuffer == nil, "VulkanSequence: steps added after recording")
        steps.append(.copy(src: src, dst: dst, bytes: bytes, srcOffset: srcOffset, dstOffset: dstOffset))
    }

    /// Appends a fill of `bytes` bytes (a multiple of 4) at `offset` with a 32-bit pattern (0: zeros).
    public func fill(_ dst: VulkanBuffer, bytes: Int, offset: Int = 0, word: UInt32 = 0) {
        precondition(commandBuffer == nil, "VulkanSequence: steps added after recording")
        steps.append(.fill(dst: dst, bytes: bytes, offset: offset, word: word))
    }

    /// Appends a dispatch of `groups` workgroups with `buffers` bound to bindings 0..<n.
    public func dispatch(_ kernel: VulkanKernel, buffers: [VulkanBuffer], push: [UInt32], groups: (Int, Int, Int)) throws {
        precondition(commandBuffer == nil, "VulkanSequence: steps added after recording")
        guard buffers.count == kernel.bindings else {
            throw VulkanError.invalidArgument("\(kernel.name) takes \(kernel.bindings) buffers, got \(buffers.count)")
        }
        guard push.count == kernel.pushConstantWords else {
            throw VulkanError.invalidArgument("\(kernel.name) takes \(kernel.pushConstantWords) push constants, got \(push.count)")
        }
        guard groups.0 > 0, groups.1 > 0, groups.2 > 0 else { return }
        steps.append(.dispatch(kernel: kernel, buffers: buffers, push: push, groups: (UInt32(groups.0), UInt32(groups.1), UInt32(groups.2))))
    }

    deinit {
        let vk = device.vk, dev = device.handle
        if let fence {
            _ = withUnsafePointer(to: Optional(fence)) { vk.waitForFences(dev, 1, $0, VkBool32(VK_TRUE), UInt64.max) }
            vk.destroyFence(dev, fence, nil)
        }
        if let commandBuffer {
            var cb: VkCommandBuffer? = commandBuffer
            device.queueLock.withLock { vk.freeCommandBuffers(dev, device.commandPool, 1, &cb) }
        }
        if let descriptorPool { vk.destroyDescriptorPool(dev, descriptorPool, nil) }
    }

    /// Allocates the descriptor sets and records the command buffer (once).
    public func record() throws {
        if commandBuffer != nil { return }
        let vk = device.vk, dev = device.handle
        let dispatches = steps.compactMap { step -> (VulkanKernel, [VulkanBuffer])? in
            if case .dispatch(let k, let b, _, _) = step { return (k, b) }
            return nil
        }
        var sets: [VkDescriptorSet?] = []
        if !dispatches.isEmpty {
            var size = VkDescriptorPoolSize()
            size.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
            size.descriptorCount = UInt32(max(1, dispatches.reduce(0) { $0 + $1.0.bindings }))
            var info = VkDescriptorPoolCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO
            info.maxSets = UInt32(dispatches.count)
            info.poolSizeCount = 1
            var pool: VkDescriptorPool?
            try withUnsafePointer(to: &size) { sp in
                info.pPoolSizes = sp
                try check(vk.createDescriptorPool(dev, &info, nil, &pool), "vkCreateDescriptorPool")
            }
            descriptorPool = pool
            var layouts: [VkDescriptorSetLayout?] = dispatches.map { $0.0.setLayout }
            sets = [VkDescriptorSet?](repeating: nil, count: dispatches.count)
            try layouts.withUnsafeMutableBufferPointer { lp in
                var alloc = VkDescriptorSetAllocateInfo()
                alloc.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO
                alloc.descriptorPool = pool
                alloc.descriptorSetCount = UInt32(dispatches.count)
                alloc.pSetLayouts = UnsafePointer(lp.baseAddress)
                try check(vk.allocateDescriptorSets(dev, &alloc, &sets), "vkAllocateDescriptorSets")
            }
            device.count { $0.descriptorSetsAllocated += dispatches.count }
            // Write every set's buffer bindings in one call.
            var infos: [VkDescriptorBufferInfo] = []
            for (_, buffers) in dispatches {
                for b in buffers { infos.append(VkDescriptorBufferInfo(buffer: b.handle, offset: 0, range: VkDeviceSize(VK_WHOLE_SIZE))) }
            }
            infos.withUnsafeBufferPointer { ip in
                var writes: [VkWriteDescriptorSet] = []
                var cursor = 0
                for (i, (kernel, _)) in dispatches.enumerated() {
                    for b in 0..<kernel.bindings {
                        var w = VkWriteDescriptorSet()
                        w.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET
                        w.dstSet = sets[i]
                        w.dstBinding = UInt32(b)
                        w.descriptorCount = 1
                        w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                        w.pBufferInfo = ip.baseAddress! + cursor
                        writes.append(w)
                        cursor += 1
                    }
                }
                vk.updateDescriptorSets(dev, UInt32(writes.count), writes, 0, nil)
            }
        }

        var alloc = VkCommandBufferAllocateInfo()
        alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO
        alloc.commandPool = device.commandPool
        alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY
        alloc.commandBufferCount = 1
        var cb: VkCommandBuffer?
        try device.queueLock.withLock { try check(vk.allocateCommandBuffers(dev, &alloc, &cb), "vkAllocateCommandBuffers") }
        var begin = VkCommandBufferBeginInfo()
        begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
        try check(vk.beginCommandBuffer(cb, &begin), "vkBeginCommandBuffer")
        var barrier = VkMemoryBarrier()
        barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
        barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue
            | VK_ACCESS_TRANSFER_READ_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        let stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue | VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue
        var setIndex = 0
        for (i, step) in steps.enumerated() {
            if i > 0 { vk.cmdPipelineBarrier(cb, stages, stages, 0, 1, &barrier, 0, nil, 0, nil) }
            switch step {
            case .copy(let src, let dst, let bytes, let so, let dOff):
                var region = VkBufferCopy(srcOffset: VkDeviceSize(so), dstOffset: VkDeviceSize(dOff), size: VkDeviceSize(bytes))
                vk.cmdCopyBuffer(cb, src.handle, dst.handle, 1, &region)
            case .fill(let dst, let bytes, let offset, let word):
                vk.cmdFillBuffer(cb, dst.handle, VkDeviceSize(offset), VkDeviceSize(bytes), word)
            case .dispatch(let kernel, _, let push, let groups):
                vk.cmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.pipeline)
                var set = sets[setIndex]
                setIndex += 1
                vk.cmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.layout, 0, 1, &set, 0, nil)
                if !push.isEmpty {
                    push.withUnsafeBytes { vk.cmdPushConstants(cb, kernel.layout, VK_SHADER_STAGE_COMPUTE_BIT.rawValue, 0, UInt32($0.count), $0.baseAddress) }
                }
                vk.cmdDispatch(cb, groups.0, groups.1, groups.2)
            }
        }
        // Make the last writes visible to host reads of mapped memory.
        var hostBarrier = VkMemoryBarrier()
        hostBarrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
        hostBarrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        hostBarrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT.rawValue
        vk.cmdPipelineBarrier(cb, stages, VK_PIPELINE_STAGE_HOST_BIT.rawValue, 0, 1, &hostBarrier, 0, nil, 0, nil)
        try check(vk.endCommandBuffer(cb), "vkEndCommandBuffer")
        commandBuffer = cb
        device.count { $0.commandBuffersRecorded += 1 }

        var fenceInfo = VkFenceCreateInfo()
        fenceInfo.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO
        var f: VkFence?
        try check(vk.createFence(dev, &fenceInfo, nil, &f), "vkCreateFence")
        fence = f
    }

    /// Submits the recorded command buffer (recording it first if needed) and waits for it.
    public func run() throws {
        try record()
        let vk = device.vk, dev = device.handle
        var cb = commandBuffer
        var f = fence
        try device.queueLock.withLock {
            try check(vk.resetFences(dev, 1, &f), "vkResetFences")
            try withUnsafePointer(to: &cb) { cbp in
                var submit = VkSubmitInfo()
                submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO
                submit.commandBufferCount = 1
                submit.pCommandBuffers = cbp
                try check(vk.queueSubmit(device.queue, 1, &submit, fence), "vkQueueSubmit")
            }
        }
        device.count { $0.submits += 1 }
        try check(vk.waitForFences(dev, 1, &f, VkBool32(VK_TRUE), UInt64.max), "vkWaitForFences")
    }
}
