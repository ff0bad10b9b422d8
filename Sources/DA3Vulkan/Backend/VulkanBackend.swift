import DA3Kernels
import Foundation

/// The Vulkan backend of the model's operator layer (see DESIGN.md): weights are uploaded once when
/// the operators are prepared; per input size, the first forward pass records its dispatches (every
/// buffer allocated then), and later passes of that size replay them: one image upload into a
/// mapped buffer, one queue submit, one read-back of the outputs from mapped memory.
///
/// Exact precision is FP32 end to end; fast runs the transformer's products on FP16 operands. Passes run one at a time per backend (a second caller waits).
public final class VulkanBackend: ComputeBackend, @unchecked Sendable {
    public typealias Tensor = VulkanTensor
    public typealias PatchEmbeddingOp = VulkanPatchEmbedding
    public typealias AttentionOp = VulkanAttentionBranch
    public typealias MLPOp = VulkanMLPBranch
    public typealias LayerNormOp = VulkanLayerNorm
    public typealias ProjectionOp = VulkanLinear
    public typealias ConvOp = VulkanConv
    public typealias ConvTransposeOp = VulkanConvTranspose
    public typealias OutputStageOp = VulkanOutputStage
    public typealias Execution = VulkanExecution

    public let device: VulkanDevice
    public let library: VulkanKernelLibrary
    public let precision: Precision

    let lock = NSLock()
    let passSemaphore = DispatchSemaphore(value: 1)
    var recordings: [Int: VulkanRecording] = [:]
    /// Input sizes, least recently used first.
    var recentSizes: [Int] = []
    /// Recordings (buffers and command buffers) kept for this many input sizes.
    static let keptSizes = 4
    private var failure: Error?
    /// Widest MLP hidden layer prepared (sizes the blocks' shared work buffers).
    var maxHidden = 0

    /// A backend on `device`. `.fast` stores the transformer's linear weights and their operands in
    /// FP16 (products exact in FP32, FP32 accumulation and epilogues; LayerNorm, attention and the
    /// head in FP32); it needs a device opened with `fp16: true` and is refused on one without FP16.
    public init(device: VulkanDevice, precision: Precision = .exact) throws {
        if precision.usesInt8 {
            throw VulkanError.invalidArgument("int8 precision is a CPU mode; on \(device.info.label) use fast (FP16) or exact")
        }
        if precision == .fast {
            if !device.info.supportsFP16 {
                throw VulkanError.missingFeature(device: device.info.label,
                                                 feature: "shaderFloat16 and 16-bit storage, which --precision fast needs")
            }
            if !device.fp16Enabled {
                throw VulkanError.invalidArgument("--precision fast needs \(device.info.label) opened with fp16: true")
            }
        }
        self.device = device
        self.precision = precision
        library = try VulkanKernelLibrary(device: device)
    }

    /// Opens device `index` (nil: the first discrete GPU, else integrated, else any) of the loader,
    /// with FP16 enabled for `.fast` (refused with the missing feature named where it is absent).
    public convenience init(deviceIndex: Int? = nil, precision: Precision = .exact) throws {
        try self.init(device: VulkanDevice(index: deviceIndex, fp16: precision == .fast), precision: precision)
    }

    /// The transformer's products run on FP16 operands (`.fast`).
    var fp16: Bool { precision == .fast }

    /// "vulkan:N NAME", as `--json` summaries report it.
    public var label: String { device.info.label }

    /// The first error of a forward pass since the last call, if any (the operator layer's calls do
    /// not throw, so a Vulkan failure during a pass is kept here and its outputs are zeros).
    public func takeFailure() -> Error? {
        lock.withLock {
            defer { failure = nil }
            return failure
        }
    }

    func record(_ error: Error) { lock.withLock { if failure == nil { failure = error } } }

    public func patchEmbedding(_ parameters: LinearParameters, from loader: any ParameterLoader) throws -> VulkanPatchEmbedding {
        try VulkanPatchEmbedding(device, loader, parameters)
    }

    public func attention(_ parameters: AttentionParameters, from loader: any ParameterLoader) throws -> VulkanAttentionBranch {
        try VulkanAttentionBranch(device, loader, parameters, fp16: fp16)
    }

    public func mlp(_ parameters: MLPParameters, from loader: any ParameterLoader) throws -> VulkanMLPBranch {
        let op = try VulkanMLPBranch(device, loader, parameters, fp16: fp16)
        lock.withLock { maxHidden = max(maxHidden, op.hidden) }
        return op
    }

    public func layerNorm(_ parameters: LayerNormParameters, from loader: any ParameterLoader) throws -> VulkanLayerNorm {
        try VulkanLayerNorm(device, loader, parameters)
    }

    public func projection(_ parameters: LinearParameters, from loader: any ParameterLoader) throws -> VulkanLinear {
        try VulkanLinear(device, loader, parameters)
    }

    public func conv(_ parameters: ConvParameters, from loader: any ParameterLoader) throws -> VulkanConv {
        try VulkanConv(device, loader, parameters)
    }

    public func convTranspose(_ parameters: ConvTransposeParameters, from loader: any ParameterLoader) throws -> VulkanConvTranspose {
        try VulkanConvTranspose(device, loader, parameters)
    }

    public func outputStage(_ parameters: OutputStageParameters, from loader: any ParameterLoader) throws -> VulkanOutputStage {
        try VulkanOutputStage(device, loader, parameters)
    }

    public func makeExecution() -> VulkanExecution {
        passSemaphore.wait()
        return VulkanExecution(backend: self)
    }
}

/// Everything one input size needs, made by its first pass: the operations in model order (each
/// appends its dispatches to a sequence), the buffers every call returned, and the recorded
/// command buffers for the stretches between host reads (normally one: the whole pass).
final class VulkanRecording {
    struct Call {
        /// Buffers the call returned (or wrote in place), replayed as they are.
        let outputs: [VulkanBuffer]
        /// Host values the call uploaded, with their buffers (re-written if a later pass differs).
        let constants: [(VulkanBuffer, [Float])]
        /// Operations recorded up to the end of this call.
        let opEnd: Int
    }

    var ops: [(VulkanSequence) throws -> Void] = []
    var calls: [Call] = []
    var segments: [Range<Int>: VulkanSequence] = [:]
    var readBacks: [ObjectIdentifier: (staging: VulkanBuffer, copy: VulkanSequence)] = [:]
    var image: VulkanBuffer?
    var scratch: VulkanBlockScratch?
    var ropes: [([Int], VulkanRoPE)] = []
    var complete = false
}
