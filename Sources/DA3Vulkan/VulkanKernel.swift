import CVulkan
import Foundation

/// A compute pipeline from SPIR-V: `bindings` storage buffers (set 0, bindings 0..<n) and
/// `pushConstantWords` 32-bit push constants.
public final class VulkanKernel: @unchecked Sendable {
    public let device: VulkanDevice
    public let name: String
    public let bindings: Int
    public let pushConstantWords: Int
    let setLayout: VkDescriptorSetLayout
    let layout: VkPipelineLayout
    let pipeline: VkPipeline

    public init(device: VulkanDevice, name: String, spirv: [UInt32], bindings: Int, pushConstantWords: Int) throws {
        self.device = device
        self.name = name
        self.bindings = bindings
        self.pushConstantWords = pushConstantWords
        let vk = device.vk, dev = device.handle
        var module: VkShaderModule?
        try spirv.withUnsafeBufferPointer { code in
            var info = VkShaderModuleCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO
            info.codeSize = code.count * 4
            info.pCode = code.baseAddress
            try check(vk.createShaderModule(dev, &info, nil, &module), "vkCreateShaderModule (\(name))")
        }
        defer { vk.destroyShaderModule(dev, module, nil) }

        var layoutBindings = (0..<bindings).map { i -> VkDescriptorSetLayoutBinding in
            var b = VkDescriptorSetLayoutBinding()
            b.binding = UInt32(i)
            b.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
            b.descriptorCount = 1
            b.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
            return b
        }
        var setLayout: VkDescriptorSetLayout?
        try layoutBindings.withUnsafeMutableBufferPointer { bp in
            var info = VkDescriptorSetLayoutCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
            info.bindingCount = UInt32(bindings)
            info.pBindings = UnsafePointer(bp.baseAddress)
            try check(vk.createDescriptorSetLayout(dev, &info, nil, &setLayout), "vkCreateDescriptorSetLayout (\(name))")
        }
        var range = VkPushConstantRange()
        range.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
        range.size = UInt32(pushConstantWords * 4)
        var pipelineLayout: VkPipelineLayout?
        let layoutResult: VkResult = withUnsafePointer(to: &setLayout) { sl in
            withUnsafePointer(to: &range) { rp in
                var info = VkPipelineLayoutCreateInfo()
                info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO
                info.setLayoutCount = 1
                info.pSetLayouts = sl
                info.pushConstantRangeCount = pushConstantWords > 0 ? 1 : 0
                info.pPushConstantRanges = pushConstantWords > 0 ? rp : nil
                return vk.createPipelineLayout(dev, &info, nil, &pipelineLayout)
            }
        }
        if layoutResult != VK_SUCCESS {
            vk.destroyDescriptorSetLayout(dev, setLayout, nil)
            throw VulkanError.call("vkCreatePipelineLayout (\(name))", layoutResult)
        }
        var pipeline: VkPipeline?
        let pipelineResult: VkResult = "main".withCString { entry in
            var stage = VkPipelineShaderStageCreateInfo()
            stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO
            stage.stage = VK_SHADER_STAGE_COMPUTE_BIT
            stage.module = module
            stage.pName = entry
            var info = VkComputePipelineCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO
            info.stage = stage
            info.layout = pipelineLayout
            return vk.createComputePipelines(dev, nil, 1, &info, nil, &pipeline)
        }
        if pipelineResult != VK_SUCCESS {
            vk.destroyPipelineLayout(dev, pipelineLayout, nil)
            vk.destroyDescriptorSetLayout(dev, setLayout, nil)
            throw VulkanError.call("vkCreateComputePipelines (\(name))", pipelineResult)
        }
        device.count { $0.pipelinesCreated += 1 }
        self.setLayout = setLayout!
        layout = pipelineLayout!
        self.pipeline = pipeline!
    }

    /// A kernel from the generated shader library.
    public convenience init(device: VulkanDevice, shader: VulkanShader) throws {
        try self.init(device: device, name: shader.name, spirv: shader.spirv, bindings: shader.bindings,
                      pushConstantWords: shader.pushConstantWords)
    }

    deinit {
        let vk = device.vk
        vk.destroyPipeline(device.handle, pipeline, nil)
        vk.destroyPipelineLayout(device.handle, layout, nil)
        vk.destroyDescriptorSetLayout(device.handle, setLayout, nil)
    }
}
