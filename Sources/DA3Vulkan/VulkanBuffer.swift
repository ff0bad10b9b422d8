import CVulkan

/// A storage buffer with its own memory. `.device` buffers live in device-local memory (mapped
/// too where that memory is host-visible, as on CPU drivers and integrated GPUs); `.host` buffers
/// are host-visible staging memory for uploads and read-backs.
public final class VulkanBuffer: @unchecked Sendable {
    public enum Location: Sendable { case device, host }

    public let device: VulkanDevice
    /// Size in bytes.
    public let size: Int
    public let location: Location
    let handle: VkBuffer
    let memory: VkDeviceMemory
    /// Host address of the contents, nil where the memory is not host-visible.
    let mapped: UnsafeMutableRawPointer?

    /// Allocates `size` bytes (at least 4).
    public init(device: VulkanDevice, size: Int, location: Location = .device) throws {
        self.device = device
        self.size = max(size, 4)
        self.location = location
        let vk = device.vk
        var info = VkBufferCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        info.size = VkDeviceSize(self.size)
        info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_SRC_BIT.rawValue
            | VK_BUFFER_USAGE_TRANSFER_DST_BIT.rawValue
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE
        var buffer: VkBuffer?
        try check(vk.createBuffer(device.handle, &info, nil, &buffer), "vkCreateBuffer (\(self.size) bytes)")
        device.count { $0.buffersCreated += 1 }
        var req = VkMemoryRequirements()
        vk.getBufferMemoryRequirements(device.handle, buffer, &req)
        let hostVisible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue, coherent = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue
        let local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue, cached = VK_MEMORY_PROPERTY_HOST_CACHED_BIT.rawValue
        let typeIndex: UInt32
        do {
            switch location {
            case .device:
                typeIndex = try device.memoryType(bits: req.memoryTypeBits, required: local, preferred: local | hostVisible | coherent)
            case .host:
                typeIndex = try device.memoryType(bits: req.memoryTypeBits, required: hostVisible | coherent, preferred: hostVisible | coherent | cached)
            }
        } catch {
            vk.destroyBuffer(device.handle, buffer, nil)
            throw error
        }
        var alloc = VkMemoryAllocateInfo()
        alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
        alloc.allocationSize = req.size
        alloc.memoryTypeIndex = typeIndex
        var memory: VkDeviceMemory?
        let r = vk.allocateMemory(device.handle, &alloc, nil, &memory)
        if r != VK_SUCCESS {
            vk.destroyBuffer(device.handle, buffer, nil)
            throw VulkanError.call("vkAllocateMemory (\(req.size) bytes)", r)
        }
        device.count { $0.memoryAllocations += 1; $0.bytesAllocated += req.size }
        let bind = vk.bindBufferMemory(device.handle, buffer, memory, 0)
        if bind != VK_SUCCESS {
            vk.destroyBuffer(device.handle, buffer, nil)
            vk.freeMemory(device.handle, memory, nil)
            throw VulkanError.call("vkBindBufferMemory", bind)
        }
        let flags = withUnsafeBytes(of: device.memoryProperties.memoryTypes) { $0.bindMemory(to: VkMemoryType.self)[Int(typeIndex)].propertyFlags }
        var pointer: UnsafeMutableRawPointer?
        if flags & (hostVisible | coherent) == hostVisible | coherent {
            _ = vk.mapMemory(device.handle, memory, 0, VkDeviceSize(VK_WHOLE_SIZE), 0, &pointer)
        }
        handle = buffer!
        self.memory = memory!
        mapped = pointer
    }

    deinit {
        let vk = device.vk
        if mapped != nil { vk.unmapMemory(device.handle, memory) }
        vk.destroyBuffer(device.handle, handle, nil)
        vk.freeMemory(device.handle, memory, nil)
    }

    /// The contents are directly readable and writable from the host.
    public var isMapped: Bool { mapped != nil }

    /// Copies `values` to the start of the buffer: directly where mapped, else through a temporary
    /// staging buffer and a one-off copy (load time only; never on the per-image path).
    public func write<T: BitwiseCopyable>(_ values: [T], offset: Int = 0) throws {
        let bytes = values.count * MemoryLayout<T>.stride
        guard offset + bytes <= size else { throw VulkanError.invalidArgument("write of \(bytes) bytes at \(offset) into a \(size)-byte buffer") }
        if let mapped {
            values.withUnsafeBytes { (mapped + offset).copyMemory(from: $0.baseAddress!, byteCount: bytes) }
            return
        }
        let staging = try VulkanBuffer(device: device, size: bytes, location: .host)
        try staging.write(values)
        try device.copyNow(from: staging, to: self, bytes: bytes, dstOffset: offset)
    }

    /// Reads `count` values of type T from byte `offset`.
    public func read<T: BitwiseCopyable>(_ type: T.Type = T.self, count: Int, offset: Int = 0) throws -> [T] {
        let bytes = count * MemoryLayout<T>.stride
        guard offset + bytes <= size else { throw VulkanError.invalidArgument("read of \(bytes) bytes at \(offset) from a \(size)-byte buffer") }
        if let mapped {
            return [T](unsafeUninitializedCapacity: count) { out, n in
                UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: mapped + offset, byteCount: bytes)
                n = count
            }
        }
        let staging = try VulkanBuffer(device: device, size: bytes, location: .host)
        try device.copyNow(from: self, to: staging, bytes: bytes, srcOffset: offset)
        return try staging.read(T.self, count: count)
    }

    /// Host pointer for code that fills or reads a mapped buffer in place (nil if not mapped).
    public var contents: UnsafeMutableRawPointer? { mapped }
}

extension VulkanDevice {
    /// A one-off recorded and submitted copy, waited for (load-time transfers only).
    func copyNow(from src: VulkanBuffer, to dst: VulkanBuffer, bytes: Int, srcOffset: Int = 0, dstOffset: Int = 0) throws {
        let sequence = VulkanSequence(device: self)
        sequence.copy(from: src, to: dst, bytes: bytes, srcOffset: srcOffset, dstOffset: dstOffset)
        try sequence.run()
    }
}
