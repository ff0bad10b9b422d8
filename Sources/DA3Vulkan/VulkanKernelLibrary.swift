/// The compiled pipelines of every shader for one device (FP16 ones only where the device was
/// opened with FP16), plus a small placeholder buffer bound to unused optional bindings.
public final class VulkanKernelLibrary: @unchecked Sendable {
    public let device: VulkanDevice
    private let kernels: [String: VulkanKernel]
    /// Bound where a shader's optional input (bias, residual, …) is not used.
    let placeholder: VulkanBuffer

    public init(device: VulkanDevice) throws {
        self.device = device
        var k: [String: VulkanKernel] = [:]
        for shader in VulkanShader.all where !shader.needsFP16 || device.fp16Enabled {
            k[shader.name] = try VulkanKernel(device: device, shader: shader)
        }
        kernels = k
        placeholder = try VulkanBuffer(device: device, size: 16)
    }

    /// The pipeline of `shader`; throws if it needs FP16 the device was not opened with.
    public func kernel(_ shader: VulkanShader) throws -> VulkanKernel {
        guard let k = kernels[shader.name] else {
            throw VulkanError.missingFeature(device: device.info.label, feature: "FP16 (open the device with fp16: true for \(shader.name))")
        }
        return k
    }
}

/// Grid sizes for the shaders.
enum VulkanGrid {
    /// A 1-D problem of `count` invocations in 256-wide workgroups, spilling past 65535 groups into y
    /// (the shaders' `flatIndex()`).
    static func linear(_ count: Int) -> (Int, Int, Int) {
        let groups = (count + 255) / 256
        let x = min(groups, 65535)
        return (max(x, 1), max((groups + x - 1) / max(x, 1), 1), 1)
    }

    /// One workgroup per row, spilling past 65535 into y (row = y * numGroups.x + x).
    static func rows(_ rows: Int) -> (Int, Int, Int) {
        let x = min(rows, 65535)
        return (max(x, 1), max((rows + x - 1) / max(x, 1), 1), 1)
    }
}

extension Float {
    /// The bit pattern, for push constants.
    var pushWord: UInt32 { bitPattern }
}

extension Int {
    /// As a push-constant word (values must fit 32 bits).
    var pushWord: UInt32 { UInt32(truncatingIfNeeded: self) }
}
