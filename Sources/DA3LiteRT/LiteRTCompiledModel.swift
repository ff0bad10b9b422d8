import Foundation

/// Where a compiled model runs.
public enum LiteRTAccelerator: String, Sendable, CaseIterable {
    /// XNNPACK on the CPU (`kLiteRtHwAcceleratorCpu`).
    case cpu
    /// The LiteRT GPU accelerator (`kLiteRtHwAcceleratorGpu`); fails cleanly where the machine
    /// or the wheel has none.
    case gpu

    /// `LiteRtHwAccelerators` bit (litert_common.h).
    var bits: Int32 { self == .cpu ? 1 << 0 : 1 << 1 }
}

/// Shape and element type of a model input or output.
public struct LiteRTTensorInfo: Sendable, Equatable {
    /// Dimensions, outermost first.
    public let shape: [Int]
    /// `LiteRtElementType` code (1 = float32, 10 = float16, ...).
    public let elementType: Int32
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
    /// The signature's inputs and outputs, in order.
    public let inputs: [LiteRTTensorInfo], outputs: [LiteRTTensorInfo]
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
    /// goes to the CPU accelerator as XNNPACK's `num_threads` (LiteRT's own default is 1).
    /// - Throws: ``LiteRTError`` (library absent, model unreadable or unsupported, accelerator unavailable).
    public init(path: String, accelerator: LiteRTAccelerator = .cpu, threads: Int? = nil) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw LiteRTError.unsupportedModel("\(path): no such readable file")
        }
        let lib = try LiteRTLibrary.shared()
        self.lib = lib
        self.path = path
        self.accelerator = accelerator
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)

        if accelerator == .gpu { lib.preloadGPUAccelerator() }
        var e: OpaquePointer?
        try lib.check(lib.createEnvironment(0, nil, &e), "LiteRtCreateEnvironment")
        guard let env = e else { throw LiteRTError.call("LiteRtCreateEnvironment", status: 9) }
        var m: OpaquePointer?
        let st = path.withCString { lib.createModelFromFile(env, $0, &m) }
        guard st == 0, let model = m else {
            lib.destroyEnvironment(env)
            throw LiteRTError.unsupportedModel("\(path): LiteRtCreateModelFromFile failed (\(LiteRTError.statusName(st)))")
        }
        do {
            let (ins, outs) = try LiteRTCompiledModel.signatureTensors(lib, model)
            inputs = ins
            outputs = outs
        } catch {
            lib.destroyModel(model); lib.destroyEnvironment(env)
            throw error
        }

        var o: OpaquePointer?
        var c: OpaquePointer?
        var status = lib.createOptions(&o)
        if status == 0 { status = lib.setOptionsHardwareAccelerators(o, accelerator.bits) }
        if status == 0 {
            // CPU options: LiteRT's opaque options with identifier "xnnpack" and a TOML payload
            // (what LrtCreateCpuOptions/LrtSetCpuOptionsNumThread produce); owned by `o` once added.
            let payload = UnsafeMutableRawPointer(strdup("num_threads = \(self.threads)\n"))
            var opaque: OpaquePointer?
            status = lib.createOpaqueOptions(LiteRTCompiledModel.cpuOptionsIdentifier, payload, { free($0) }, &opaque)
            if status == 0 { status = lib.addOpaqueOptions(o, opaque) } else { free(payload) }
        }
        if status == 0 { status = lib.createCompiledModel(env, model, o, &c) }
        if o != nil { lib.destroyOptions(o) }
        guard status == 0, let compiled = c else {
            lib.destroyModel(model); lib.destroyEnvironment(env)
            if accelerator == .gpu {
                throw LiteRTError.acceleratorUnavailable(
                    "LiteRT GPU accelerator unavailable on this machine (LiteRtCreateCompiledModel: \(LiteRTError.statusName(status))); "
                    + "use the CPU accelerator")
            }
            throw LiteRTError.call("LiteRtCreateCompiledModel", status: status)
        }
        self.env = env
        self.model = model
        self.compiled = compiled
        do {
            inputBuffers = try (0..<inputs.count).map { try makeBuffer(input: true, index: $0) }
            outputBuffers = try (0..<outputs.count).map { try makeBuffer(input: false, index: $0) }
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    private func release() {
        for b in inputBuffers + outputBuffers where b != nil { lib.destroyTensorBuffer(b) }
        inputBuffers = []; outputBuffers = []
        lib.destroyCompiledModel(compiled)
        lib.destroyModel(model)
        lib.destroyEnvironment(env)
    }

    /// Identifier of XNNPACK's opaque options ("xnnpack"), kept alive for the process.
    nonisolated(unsafe) private static let cpuOptionsIdentifier: UnsafePointer<CChar> = UnsafePointer(strdup("xnnpack")!)

    /// `LiteRtRankedTensorType` (litert_model_types.h / litert_layout.h; 72 bytes on 64-bit):
    /// element_type (int32) at 0, LiteRtLayout at 4 = {rank:7, has_strides:1 bit-fields in one
    /// uint32, int32 dimensions[8] at +4, uint32 strides[8] at +36}.
    private static let rankedTypeSize = 72

    private static func tensorInfo(_ lib: LiteRTLibrary, _ tensor: OpaquePointer?, raw: UnsafeMutableRawPointer) throws -> LiteRTTensorInfo {
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: rankedTypeSize)
        try lib.check(lib.getRankedTensorType(tensor, raw), "LiteRtGetRankedTensorType")
        let type = raw.load(as: Int32.self)
        let bits = raw.load(fromByteOffset: 4, as: UInt32.self)
        let rank = Int(bits & 0x7f)
        guard rank <= 8 else { throw LiteRTError.unsupportedModel("tensor rank \(rank)") }
        let dims = (0..<rank).map { Int(raw.load(fromByteOffset: 8 + 4 * $0, as: Int32.self)) }
        return LiteRTTensorInfo(shape: dims, elementType: type)
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
        for i in 0..<nin {
            var t: OpaquePointer?
            try lib.check(lib.getSignatureInputTensorByIndex(sig, i, &t), "LiteRtGetSignatureInputTensorByIndex")
            ins.append(try tensorInfo(lib, t, raw: raw))
        }
        for i in 0..<nout {
            var t: OpaquePointer?
            try lib.check(lib.getSignatureOutputTensorByIndex(sig, i, &t), "LiteRtGetSignatureOutputTensorByIndex")
            outs.append(try tensorInfo(lib, t, raw: raw))
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
        try inputBuffers.withUnsafeMutableBufferPointer { ib in
            try outputBuffers.withUnsafeMutableBufferPointer { ob in
                try lib.check(lib.runCompiledModel(compiled, 0, ib.count, ib.baseAddress!, ob.count, ob.baseAddress!),
                              "LiteRtRunCompiledModel")
            }
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
