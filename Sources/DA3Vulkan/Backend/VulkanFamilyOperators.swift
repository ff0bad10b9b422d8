import DA3Kernels

// The operators only the DA3 family's other models use (Giant's SwiGLU, the DPT head's token rows)
// and the auxiliary ray head (`normalizeChannels`, the protocol's unreachable default) are not on Vulkan yet: such a model is refused at load with `BackendUnsupportedError`.
extension VulkanBackend {
    public func swiGLU(_ parameters: SwiGLUParameters, from loader: any ParameterLoader) throws -> VulkanMLPBranch {
        throw BackendUnsupportedError(backend: "Vulkan", operation: .swiGLU)
    }

    public func require(_ operation: BackendOperation) throws {
        throw BackendUnsupportedError(backend: "Vulkan", operation: operation)
    }
}

extension VulkanExecution {
    public func rows(_ x: VulkanTensor, _ rows: Range<Int>) -> VulkanTensor {
        preconditionFailure("unreachable: VulkanBackend.require(.tokenRows) refuses the models that need it at load")
    }
}
