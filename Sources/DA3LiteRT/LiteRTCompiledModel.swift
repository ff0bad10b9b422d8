import Foundation

/// Where a compiled model runs.
public enum LiteRTAccelerator: String, Sendable, CaseIterable {
    /// XNNPACK on the CPU (`kLiteRtHwAcceleratorCpu`).
    case cpu
    /// The LiteRT GPU accelerator alone (`kLiteRtHwAcceleratorGpu`): the whole graph runs on the
    /// GPU, or compiling fails with the reason (no adapter, or operators the delegate refuses).
    case gpu
    /// The GPU accelerator with CPU fallback for the operators it refuses (`gpu,cpu`).
    case gpuWithCPUFallback = "gpu,cpu"

    /// Parses `cpu`, `gpu`, `gpu,cpu` (also `cpu,gpu`), case-insensitively.
    public init?(argument: String) {
        let parts = Set(argument.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        switch parts {
        case ["cpu"]: self = .cpu
        case ["gpu"]: self = .gpu
        case ["gpu", "cpu"]: self = .gpuWithCPUFallback
        default: return nil
        }
    }

    /// Whether the GPU accelerator takes part.
    public var usesGPU: Bool { self != .cpu }

    /// `LiteRtHwAccelerators` bits (litert_common.h: CPU = 1, GPU = 2).
    var bits: Int32 {
        switch self {
        case .cpu: return 1 << 0
        case .gpu: return 1 << 1
        case .gpuWithCPUFallback: return 1 << 0 | 1 << 1
        }
    }
}

/// The arithmetic of the GPU delegate (its `precision` option).
public enum LiteRTGPUPrecision: String, Sendable, CaseIterable {
    /// FP32 arithmetic (`kLiteRtDelegatePrecisionFp32`): what the model was exported in.
    case fp32
    /// FP16 arithmetic and storage on the GPU (`kLiteRtDelegatePrecisionFp16`).
    case fp16
    /// No precision option: LiteRT decides (measured: the same results as `fp16`, bit for bit).
    case litertDefault = "default"

    /// `LiteRtDelegatePrecision` value of the GPU options' TOML payload (nil: none given).
    var optionValue: Int? {
        switch self {
        case .fp32: return 2
        case .fp16: return 1
        case .litertDefault: return nil
        }
    }
}

/// Shape and element type of a model input or output.
public struct LiteRTTensorInfo: Sendable, Equatable {
    public init(shape: [Int], elementType: Int32 = 1, name: String = "") {
        self.shape = shape
        self.elementType = elementType
        self.name = name
    }

    /// Dimensions, outermost first.
    public let shape: [Int]
    /// `LiteRtElementType` code (1 = float32, 10 = float16, ...).
    public let elementType: Int32
    /// The signature's name for the tensor ("" where it has none).
    public let name: String
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Whether the elements are float32.
    public var isFloat32: Bool { elementType == 1 }
}

/// A `.tflite` compiled for one accelerator through the LiteRT CompiledModel C API
/// (`LiteRtCreateModelFromFile` → `LiteRtCreateCompiledModel` → `LiteRtRunCompiledModel` with
/// host-memory tensor buffers). The first signature is used; every input and output must be a
/// float32 tensor of fixed shape. Runs are serialized (one at a time per instance).
public final class LiteRTCompiledModel: @unchecked Sendable {
    /// The model file.
    public let path: String
    /// The accelerator it was compiled for.
    public let accelerator: LiteRTAccelerator
    /// CPU threads requested from XNNPACK.
    public let threads: Int
    /// The GPU delegate's arithmetic (nil: CPU only).
    public let gpuPrecision: LiteRTGPUPrecision?
    /// The signature's inputs and outputs, in order.
    public let inputs: [LiteRTTensorInfo], outputs: [LiteRTTensorInfo]
    /// The GPU adapter the accelerator selected (from LiteRT's log; nil on the CPU or where not logged).
    public let adapter: String?
    /// Whether LiteRT reports that no operation was left to its reference CPU path
    /// (`LiteRtCompiledModelIsFullyAccelerated`).
    public let fullyAccelerated: Bool
    /// How the graph was split between the GPU and the CPU, where LiteRT logged it.
    public let delegation: LiteRTDelegation
    /// The `libLiteRt.so` in use.
    public var libraryPath: String { lib.path }

    private let lib: LiteRTLibrary
    private let env: OpaquePointer
    private let model: OpaquePointer
    private let compiled: OpaquePointer
    private var inputBuffers: [OpaquePointer?] = []
    private var outputBuffers: [OpaquePointer?] = []
    private let lock = NSLock()

    /// Loads and compiles `path` for `accelerator`; `threads` (default: the active processor count)
    /// goes to the CPU accelerator as XNNPACK's `num_threads` (LiteRT's own default is 1), and
    /// `gpuPrecision` to the GPU accelerator.
    /// With ``LiteRTAccelerator/gpu`` the whole graph must go to the GPU: a graph the delegate
    /// cannot take whole is refused with ``LiteRTError/notGPUClean(_:)``, a machine without a usable
    /// GPU adapter with ``LiteRTError/noGPUAdapter(_:)``.
    /// - Throws: ``LiteRTError`` (library absent, model unreadable or unsupported, no GPU adapter,
    ///   operators the GPU delegate refuses).
    public init(path: String, accelerator: LiteRTAccelerator = .cpu, threads: Int? = nil,
                gpuPrecision: LiteRTGPUPrecision = .fp32) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw LiteRTError.unsupportedModel("\(path): no such readable file")
        }
        let lib = try LiteRTLibrary.shared()
        self.lib = lib
        self.path = path
        self.accelerator = accelerator
        let threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let gpuPrecision = accelerator.usesGPU ? gpuPrecision : nil
        self.threads = threads
        self.gpuPrecision = gpuPrecision

        let gpuPlugin = accelerator.usesGPU ? lib.preloadGPUAccelerator() : nil
        // Environment creation and compilation log to stderr; the log is read for the facts below.
        typealias Made = (env: OpaquePointer, model: OpaquePointer, compiled: OpaquePointer,
                          inputs: [LiteRTTensorInfo], outputs: [LiteRTTensorInfo])
        let (made, log) = NativeLogCapture.run { () throws -> Made in
            var e: OpaquePointer?
            try lib.check(lib.createEnvironment(0, nil, &e), "LiteRtCreateEnvironment")
            guard let env = e else { throw LiteRTError.call("LiteRtCreateEnvironment", status: 9) }
            var m: OpaquePointer?
            let st = path.withCString { lib.createModelFromFile(env, $0, &m) }
            guard st == 0, let model = m else {
                lib.destroyEnvironment(env)
                throw LiteRTError.unsupportedModel("\(path): LiteRtCreateModelFromFile failed (\(LiteRTError.statusName(st)))")
            }
            let signature: ([LiteRTTensorInfo], [LiteRTTensorInfo])
            do {
                signature = try LiteRTCompiledModel.signatureTensors(lib, model)
            } catch {
                lib.destroyModel(model); lib.destroyEnvironment(env)
                throw error
            }
            var c: OpaquePointer?
            let status = LiteRTCompiledModel.compile(lib, env, model, accelerator: accelerator, threads: threads,
                                                     gpuPrecision: gpuPrecision, into: &c)
            guard status == 0, let compiled = c else {
                lib.destroyModel(model); lib.destroyEnvironment(env)
                throw LiteRTError.call("LiteRtCreateCompiledModel", status: status)
            }
            return (env, model, compiled, signature.0, signature.1)
        }
        let facts = LiteRTCompileLog(log)
        let m: Made
        do {
            m = try made.get()
        } catch let LiteRTError.call(name, status) where name == "LiteRtCreateCompiledModel" && accelerator.usesGPU {
            throw LiteRTCompiledModel.gpuFailure(facts, plugin: gpuPlugin, library: lib.path, status: status)
        }
        env = m.env
        model = m.model
        compiled = m.compiled
        inputs = m.inputs
        outputs = m.outputs
        adapter = accelerator.usesGPU ? facts.adapter : nil
        delegation = facts.delegation
        var full = false
        fullyAccelerated = lib.isFullyAccelerated(m.compiled, &full) == 0 && full
        do {
            inputBuffers = try (0..<inputs.count).map { try makeBuffer(input: true, index: $0) }
            outputBuffers = try (0..<outputs.count).map { try makeBuffer(input: false, index: $0) }
        } catch {
            release()
            throw error
        }
        if accelerator == .gpu && !fullyAccelerated {
            let d = delegation
            release()
            throw LiteRTError.notGPUClean(d)
        }
    }

    /// `LiteRtCreateCompiledModel` with the accelerator bits and the CPU and GPU options (LiteRT's
    /// opaque options, identifiers "xnnpack" and "gpu_options", TOML payloads as its own option
    /// builders write them; owned by the options object once added). Returns the status.
    private static func compile(_ lib: LiteRTLibrary, _ env: OpaquePointer, _ model: OpaquePointer,
                                accelerator: LiteRTAccelerator, threads: Int, gpuPrecision: LiteRTGPUPrecision?,
                                into compiled: inout OpaquePointer?) -> Int32 {
        var o: OpaquePointer?
        var status = lib.createOptions(&o)
        defer { if o != nil { lib.destroyOptions(o) } }
        if status == 0 { status = lib.setOptionsHardwareAccelerators(o, accelerator.bits) }
        func add(_ identifier: UnsafePointer<CChar>, _ toml: String) {
            guard status == 0 else { return }
            let payload = UnsafeMutableRawPointer(strdup(toml))
            var opaque: OpaquePointer?
            status = lib.createOpaqueOptions(identifier, payload, { free($0) }, &opaque)
            if status == 0 { status = lib.addOpaqueOptions(o, opaque) } else { free(payload) }
        }
        add(cpuOptionsIdentifier, "num_threads = \(threads)\n")
        if accelerator.usesGPU, let value = gpuPrecision?.optionValue { add(gpuOptionsIdentifier, "precision = \(value)\n") }
        if status == 0 { status = lib.createCompiledModel(env, model, o, &compiled) }
        return status
    }

    /// The error for a GPU compilation that failed, from what the log says.
    private static func gpuFailure(_ facts: LiteRTCompileLog, plugin: String?, library: String, status: Int32) -> LiteRTError {
        if plugin == nil {
            let dir = (library as NSString).deletingLastPathComponent
            return .noGPUAdapter("LiteRT's GPU accelerator (libLiteRtWebGpuAccelerator.so) is not in \(dir)")
        }
        if facts.noAdapter {
            return .noGPUAdapter("LiteRT's GPU accelerator (WebGPU on Vulkan) found no usable Vulkan device")
        }
        if facts.notAccelerated || !facts.delegation.refusals.isEmpty { return .notGPUClean(facts.delegation) }
        return .call("LiteRtCreateCompiledModel (GPU)" + (facts.lastError.map { ": \($0)" } ?? ""), status: status)
    }

    deinit { release() }

    private func release() {
        _ = NativeLogCapture.run {  // LiteRT logs its accelerators' teardown
            for b in inputBuffers + outputBuffers where b != nil { lib.destroyTensorBuffer(b) }
            inputBuffers = []; outputBuffers = []
            lib.destroyCompiledModel(compiled)
            lib.destroyModel(model)
            lib.destroyEnvironment(env)
        }
    }

    /// Identifier of XNNPACK's opaque options ("xnnpack"), kept alive for the process.
    nonisolated(unsafe) private static let cpuOptionsIdentifier: UnsafePointer<CChar> = UnsafePointer(strdup("xnnpack")!)
    /// Identifier of the GPU accelerator's opaque options ("gpu_options").
    nonisolated(unsafe) private static let gpuOptionsIdentifier: UnsafePointer<CChar> = UnsafePointer(strdup("gpu_options")!)

    /// `LiteRtRankedTensorType` (litert_model_types.h / litert_layout.h; 72 bytes on 64-bit):
    /// element_type (int32) at 0, LiteRtLayout at 4 = {rank:7, has_strides:1 bit-fields in one
    /// uint32, int32 dimensions[8] at +4, uint32 strides[8] at +36}.
    private static let rankedTypeSize = 72

    private static func tensorInfo(_ lib: LiteRTLibrary, _ tensor: OpaquePointer?, name: String,
                                   raw: UnsafeMutableRawPointer) throws -> LiteRTTensorInfo {
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: rankedTypeSize)
        try lib.check(lib.getRankedTensorType(tensor, raw), "LiteRtGetRankedTensorType")
        let type = raw.load(as: Int32.self)
        let bits = raw.load(fromByteOffset: 4, as: UInt32.self)
        let rank = Int(bits & 0x7f)
        guard rank <= 8 else { throw LiteRTError.unsupportedModel("tensor rank \(rank)") }
        let dims = (0..<rank).map { Int(raw.load(fromByteOffset: 8 + 4 * $0, as: Int32.self)) }
        return LiteRTTensorInfo(shape: dims, elementType: type, name: name)
    }

    private static func signatureTensors(_ lib: LiteRTLibrary, _ model: OpaquePointer) throws -> ([LiteRTTensorInfo], [LiteRTTensorInfo]) {
        var nsig = 0
        try lib.check(lib.getNumModelSignatures(model, &nsig), "LiteRtGetNumModelSignatures")
        guard nsig >= 1 else { throw LiteRTError.unsupportedModel("the model has no signature") }
        var sig: OpaquePointer?
        try lib.check(lib.getModelSignature(model, 0, &sig), "LiteRtGetModelSignature")
        var nin = 0, nout = 0
        try lib.check(lib.getNumSignatureInputs(sig, &nin), "LiteRtGetNumSignatureInputs")
        try lib.check(lib.getNumSignatureOutputs(sig, &nout), "LiteRtGetNumSignatureOutputs")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: rankedTypeSize, alignment: 8)
        defer { raw.deallocate() }
        var ins: [LiteRTTensorInfo] = [], outs: [LiteRTTensorInfo] = []
        func name(_ get: @convention(c) (OpaquePointer?, Int, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32, _ i: Int) -> String {
            var p: UnsafePointer<CChar>?
            guard get(sig, i, &p) == 0, let p else { return "" }
            return String(cString: p)
        }
        for i in 0..<nin {
            var t: OpaquePointer?
            try lib.check(lib.getSignatureInputTensorByIndex(sig, i, &t), "LiteRtGetSignatureInputTensorByIndex")
            ins.append(try tensorInfo(lib, t, name: name(lib.getSignatureInputName, i), raw: raw))
        }
        for i in 0..<nout {
            var t: OpaquePointer?
            try lib.check(lib.getSignatureOutputTensorByIndex(sig, i, &t), "LiteRtGetSignatureOutputTensorByIndex")
            outs.append(try tensorInfo(lib, t, name: name(lib.getSignatureOutputName, i), raw: raw))
        }
        for (kind, list) in [("input", ins), ("output", outs)] {
            for (i, t) in list.enumerated() {
                guard t.isFloat32 else { throw LiteRTError.unsupportedModel("\(kind) \(i) is not float32 (element type \(t.elementType))") }
                guard t.shape.allSatisfy({ $0 > 0 }) else { throw LiteRTError.unsupportedModel("\(kind) \(i) has a dynamic shape \(t.shape)") }
            }
        }
        return (ins, outs)
    }

    private func makeBuffer(input: Bool, index: Int) throws -> OpaquePointer? {
        var req: OpaquePointer?
        if input {
            try lib.check(lib.getInputBufferRequirements(compiled, 0, index, &req), "LiteRtGetCompiledModelInputBufferRequirements")
        } else {
            try lib.check(lib.getOutputBufferRequirements(compiled, 0, index, &req), "LiteRtGetCompiledModelOutputBufferRequirements")
        }
        var size = 0
        try lib.check(lib.getRequirementsBufferSize(req, &size), "LiteRtGetTensorBufferRequirementsBufferSize")
        let info = input ? inputs[index] : outputs[index]
        let raw = UnsafeMutableRawPointer.allocate(byteCount: LiteRTCompiledModel.rankedTypeSize, alignment: 8)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: LiteRTCompiledModel.rankedTypeSize)
        raw.storeBytes(of: info.elementType, as: Int32.self)
        raw.storeBytes(of: UInt32(info.shape.count), toByteOffset: 4, as: UInt32.self)
        for (i, d) in info.shape.enumerated() { raw.storeBytes(of: Int32(d), toByteOffset: 8 + 4 * i, as: Int32.self) }
        var buf: OpaquePointer?
        // kLiteRtTensorBufferTypeHostMemory = 1
        try lib.check(lib.createManagedTensorBuffer(env, 1, raw, max(size, info.count * 4), &buf), "LiteRtCreateManagedTensorBuffer")
        return buf
    }

    /// Runs the model on `inputs` (one float32 array per input, row-major in the input's shape)
    /// and returns one float32 array per output.
    public func run(_ values: [[Float]]) throws -> [[Float]] {
        guard values.count == inputs.count else {
            throw LiteRTError.unsupportedModel("the model has \(inputs.count) inputs, \(values.count) given")
        }
        lock.lock()
        defer { lock.unlock() }
        for (i, v) in values.enumerated() {
            guard v.count == inputs[i].count else {
                throw LiteRTError.unsupportedModel("input \(i) needs \(inputs[i].count) values (shape \(inputs[i].shape)), \(v.count) given")
            }
            var p: UnsafeMutableRawPointer?
            try lib.check(lib.lockTensorBuffer(inputBuffers[i], &p, 1), "LiteRtLockTensorBuffer")  // write
            if let p { v.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            try lib.check(lib.unlockTensorBuffer(inputBuffers[i]), "LiteRtUnlockTensorBuffer")
        }
        let (ran, log) = NativeLogCapture.run {
            inputBuffers.withUnsafeMutableBufferPointer { ib in
                outputBuffers.withUnsafeMutableBufferPointer { ob in
                    lib.runCompiledModel(compiled, 0, ib.count, ib.baseAddress!, ob.count, ob.baseAddress!)
                }
            }
        }
        let status = (try? ran.get()) ?? 9
        if status != 0 {
            // e.g. the GPU accelerator's own two-minute wait: "DEADLINE_EXCEEDED ... Timed out waiting for future"
            let reason = LiteRTCompileLog(log).lastError.map { ": \($0)" } ?? ""
            throw LiteRTError.call("LiteRtRunCompiledModel" + reason, status: status)
        }
        var result: [[Float]] = []
        for (i, info) in outputs.enumerated() {
            var p: UnsafeMutableRawPointer?
            try lib.check(lib.lockTensorBuffer(outputBuffers[i], &p, 0), "LiteRtLockTensorBuffer")  // read
            var out = [Float](repeating: 0, count: info.count)
            if let p { out.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: p, byteCount: $0.count) } }
            try lib.check(lib.unlockTensorBuffer(outputBuffers[i]), "LiteRtUnlockTensorBuffer")
            result.append(out)
        }
        return result
    }
}
