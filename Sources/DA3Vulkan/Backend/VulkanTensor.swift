import DA3Kernels

/// An activation on the device: a buffer and a shape. Copies share the buffer; an operation that
/// writes an `inout` tensor whose buffer is shared writes a fresh copy instead (copy-on-write), so
/// `localX = x` keeps the old value as the model expects.
public struct VulkanTensor: BackendTensor {
    public let shape: [Int]
    var storage: Storage

    final class Storage {
        let buffer: VulkanBuffer
        init(_ buffer: VulkanBuffer) { self.buffer = buffer }
    }

    init(shape: [Int], buffer: VulkanBuffer) {
        self.shape = shape
        storage = Storage(buffer)
    }

    var buffer: VulkanBuffer { storage.buffer }
    var count: Int { shape.reduce(1, *) }
}
