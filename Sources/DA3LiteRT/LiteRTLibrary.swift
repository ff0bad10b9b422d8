import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors of the LiteRT backend.
public enum LiteRTError: Error, CustomStringConvertible, Sendable {
    /// `libLiteRt.so` was not found (the places searched are listed).
    case libraryNotFound(searched: [String])
    /// The library loaded but lacks a function this backend calls.
    case missingSymbol(String, library: String)
    /// A LiteRT C API call returned a non-OK status.
    case call(String, status: Int32)
    /// The model is not usable by this backend (shape, type, signature).
    case unsupportedModel(String)
    /// The requested accelerator is not available on this machine.
    case acceleratorUnavailable(String)
    /// The GPU accelerator found no GPU adapter it can use (the reason given).
    case noGPUAdapter(String)
    /// The model has operators the GPU delegate cannot take, and CPU fallback was not allowed.
    case notGPUClean(LiteRTDelegation)
    /// The run finished but gave no usable depth (all zeros, or values that are not finite).
    case unusableOutput(String)

    public var description: String {
        switch self {
        case .libraryNotFound(let searched):
            return "LiteRT runtime (libLiteRt.so) not found; searched: \(searched.joined(separator: ", ")). "
                + "Install it with `python3 -m pip install ai-edge-litert` (the wheel ships ai_edge_litert/libLiteRt.so) "
                + "or point DA3_LITERT_LIB at the file"
        case .missingSymbol(let name, let library):
            return "\(library) has no symbol \(name) (a LiteRT 2.x CompiledModel C API is needed; ai-edge-litert >= 2.3)"
        case .call(let name, let status):
            return "\(name) failed: \(LiteRTError.statusName(status)) (status \(status))"
        case .unsupportedModel(let reason):
            return "unsupported .tflite: \(reason)"
        case .acceleratorUnavailable(let reason):
            return reason
        case .noGPUAdapter(let reason):
            return "no GPU adapter: \(reason); install a Vulkan driver or select one with VK_ICD_FILENAMES "
                + "(scripts/install-deps.sh puts SwiftShader in .deps/swiftshader), or use --accelerator cpu"
        case .unusableOutput(let reason):
            return "LiteRT returned no usable depth: \(reason)"
        case .notGPUClean(let d):
            var s = "the model is not GPU-clean: the GPU delegate cannot take the whole graph"
            if let summary = d.summary { s += " (\(summary))" }
            if !d.refusals.isEmpty {
                s += "; refused: " + d.refusals.map(\.description).joined(separator: ", ")
            }
            if d.hasUnpreparedOperator {
                return s + "; LiteRT does not fall back to the CPU for an operator the GPU delegate took (gpu,cpu fails too): use --accelerator cpu"
            }
            return s + "; use --accelerator gpu,cpu to allow CPU fallback"
        }
    }

    /// Names of LiteRtStatus codes (litert_common.h).
    static func statusName(_ s: Int32) -> String {
        switch s {
        case 1: return "invalid argument"
        case 2: return "memory allocation failure"
        case 3: return "runtime failure"
        case 4: return "missing input tensor"
        case 5: return "unsupported"
        case 6: return "not found"
        case 7: return "timeout expired"
        case 8: return "wrong version"
        case 9: return "unknown error"
        case 10: return "already exists"
        default: return "error \(s)"
        }
    }
}

/// The LiteRT C API functions this backend calls, resolved from `libLiteRt.so` at run time with
/// `dlopen`/`dlsym`. Only these are declared; the signatures follow the public LiteRT C API
/// (`litert/c/litert_environment.h`, `litert_model.h`, `litert_options.h`,
/// `litert_compiled_model.h`, `litert_tensor_buffer.h`, `litert_tensor_buffer_requirements.h`).
/// Handles are opaque pointers; `LiteRtStatus` and the C enums are 32-bit ints;
/// `LiteRtParamIndex` is `size_t`.
final class LiteRTLibrary: @unchecked Sendable {
    typealias Handle = OpaquePointer
    typealias HandleOut = UnsafeMutablePointer<OpaquePointer?>

    let path: String
    private let dl: UnsafeMutableRawPointer

    // litert_environment.h
    let createEnvironment: @convention(c) (Int32, UnsafeRawPointer?, HandleOut) -> Int32
    let destroyEnvironment: @convention(c) (Handle?) -> Void
    // litert_model.h
    let createModelFromFile: @convention(c) (Handle?, UnsafePointer<CChar>, HandleOut) -> Int32
    let destroyModel: @convention(c) (Handle?) -> Void
    let getNumModelSignatures: @convention(c) (Handle?, UnsafeMutablePointer<Int>) -> Int32
    let getModelSignature: @convention(c) (Handle?, Int, HandleOut) -> Int32
    let getNumSignatureInputs: @convention(c) (Handle?, UnsafeMutablePointer<Int>) -> Int32
    let getNumSignatureOutputs: @convention(c) (Handle?, UnsafeMutablePointer<Int>) -> Int32
    let getSignatureInputTensorByIndex: @convention(c) (Handle?, Int, HandleOut) -> Int32
    let getSignatureOutputTensorByIndex: @convention(c) (Handle?, Int, HandleOut) -> Int32
    let getSignatureInputName: @convention(c) (Handle?, Int, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32
    let getSignatureOutputName: @convention(c) (Handle?, Int, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32
    let getRankedTensorType: @convention(c) (Handle?, UnsafeMutableRawPointer) -> Int32
    // litert_options.h
    let createOptions: @convention(c) (HandleOut) -> Int32
    let destroyOptions: @convention(c) (Handle?) -> Void
    let setOptionsHardwareAccelerators: @convention(c) (Handle?, Int32) -> Int32
    let addOpaqueOptions: @convention(c) (Handle?, Handle?) -> Int32
    // litert_opaque_options.h
    let createOpaqueOptions: @convention(c) (UnsafePointer<CChar>, UnsafeMutableRawPointer?,
                                             (@convention(c) (UnsafeMutableRawPointer?) -> Void)?, HandleOut) -> Int32
    // litert_compiled_model.h
    let createCompiledModel: @convention(c) (Handle?, Handle?, Handle?, HandleOut) -> Int32
    let destroyCompiledModel: @convention(c) (Handle?) -> Void
    let getInputBufferRequirements: @convention(c) (Handle?, Int, Int, HandleOut) -> Int32
    let getOutputBufferRequirements: @convention(c) (Handle?, Int, Int, HandleOut) -> Int32
    let isFullyAccelerated: @convention(c) (Handle?, UnsafeMutablePointer<Bool>) -> Int32
    let runCompiledModel: @convention(c) (Handle?, Int, Int, UnsafeMutablePointer<OpaquePointer?>, Int,
                                          UnsafeMutablePointer<OpaquePointer?>) -> Int32
    // litert_tensor_buffer_requirements.h
    let getRequirementsBufferSize: @convention(c) (Handle?, UnsafeMutablePointer<Int>) -> Int32
    // litert_tensor_buffer.h
    let createManagedTensorBuffer: @convention(c) (Handle?, Int32, UnsafeRawPointer, Int, HandleOut) -> Int32
    let destroyTensorBuffer: @convention(c) (Handle?) -> Void
    let lockTensorBuffer: @convention(c) (Handle?, UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int32) -> Int32
    let unlockTensorBuffer: @convention(c) (Handle?) -> Int32

    private init(path: String, dl: UnsafeMutableRawPointer) throws {
        self.path = path
        self.dl = dl
        func sym<T>(_ name: String, _: T.Type = T.self) throws -> T {
            guard let p = dlsym(dl, name) else { throw LiteRTError.missingSymbol(name, library: path) }
            return unsafeBitCast(p, to: T.self)
        }
        createEnvironment = try sym("LiteRtCreateEnvironment")
        destroyEnvironment = try sym("LiteRtDestroyEnvironment")
        createModelFromFile = try sym("LiteRtCreateModelFromFile")
        destroyModel = try sym("LiteRtDestroyModel")
        getNumModelSignatures = try sym("LiteRtGetNumModelSignatures")
        getModelSignature = try sym("LiteRtGetModelSignature")
        getNumSignatureInputs = try sym("LiteRtGetNumSignatureInputs")
        getNumSignatureOutputs = try sym("LiteRtGetNumSignatureOutputs")
        getSignatureInputTensorByIndex = try sym("LiteRtGetSignatureInputTensorByIndex")
        getSignatureOutputTensorByIndex = try sym("LiteRtGetSignatureOutputTensorByIndex")
        getSignatureInputName = try sym("LiteRtGetSignatureInputName")
        getSignatureOutputName = try sym("LiteRtGetSignatureOutputName")
        getRankedTensorType = try sym("LiteRtGetRankedTensorType")
        createOptions = try sym("LiteRtCreateOptions")
        destroyOptions = try sym("LiteRtDestroyOptions")
        setOptionsHardwareAccelerators = try sym("LiteRtSetOptionsHardwareAccelerators")
        addOpaqueOptions = try sym("LiteRtAddOpaqueOptions")
        createOpaqueOptions = try sym("LiteRtCreateOpaqueOptions")
        createCompiledModel = try sym("LiteRtCreateCompiledModel")
        destroyCompiledModel = try sym("LiteRtDestroyCompiledModel")
        getInputBufferRequirements = try sym("LiteRtGetCompiledModelInputBufferRequirements")
        getOutputBufferRequirements = try sym("LiteRtGetCompiledModelOutputBufferRequirements")
        isFullyAccelerated = try sym("LiteRtCompiledModelIsFullyAccelerated")
        runCompiledModel = try sym("LiteRtRunCompiledModel")
        getRequirementsBufferSize = try sym("LiteRtGetTensorBufferRequirementsBufferSize")
        createManagedTensorBuffer = try sym("LiteRtCreateManagedTensorBuffer")
        destroyTensorBuffer = try sym("LiteRtDestroyTensorBuffer")
        lockTensorBuffer = try sym("LiteRtLockTensorBuffer")
        unlockTensorBuffer = try sym("LiteRtUnlockTensorBuffer")
    }

    /// Loads the GPU accelerator plug-in shipped next to `libLiteRt.so` (the wheel's
    /// `libLiteRtWebGpuAccelerator.so`), so that the environment's own `dlopen` of that name, which
    /// searches only the loader path, finds it already loaded (same soname). Returns its path, or nil.
    @discardableResult
    func preloadGPUAccelerator() -> String? {
        let dir = (path as NSString).deletingLastPathComponent
        guard path.contains("/") else { return nil }
        for name in ["libLiteRtGpuAccelerator.so", "libLiteRtWebGpuAccelerator.so", "libLiteRtOpenClAccelerator.so"] {
            let p = (dir as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: p), dlopen(p, RTLD_NOW | RTLD_LOCAL) != nil { return p }
        }
        return nil
    }

    /// Throws ``LiteRTError/call(_:status:)`` unless `status` is OK (0).
    func check(_ status: Int32, _ name: String) throws {
        if status != 0 { throw LiteRTError.call(name, status: status) }
    }

    // MARK: - Locating the library

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: Result<LiteRTLibrary, LiteRTError>?

    /// The process-wide library, loaded on first use (the result, found or not, is cached).
    static func shared() throws -> LiteRTLibrary {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return try cached.get() }
        let r: Result<LiteRTLibrary, LiteRTError>
        do {
            r = .success(try load())
        } catch let e as LiteRTError {
            r = .failure(e)
        } catch {
            r = .failure(.unsupportedModel("\(error)"))
        }
        cached = r
        return try r.get()
    }

    /// Where `libLiteRt.so` is looked for, in order:
    /// 1. `$DA3_LITERT_LIB` (the file, or a directory holding it);
    /// 2. the `ai_edge_litert` package of the active Python (`python3 -c 'import ai_edge_litert ...'`,
    ///    `$DA3_PYTHON` or `python3` on the PATH);
    /// 3. `site-packages/ai_edge_litert/` under `$VIRTUAL_ENV`, `~/.local/lib/python3.*`,
    ///    `~/.pyenv/versions/*/lib/python3.*`, `/usr/local/lib/python3.*` and `/usr/lib/python3*`
    ///    (`site-packages` and `dist-packages`);
    /// 4. the dynamic loader's own search (`LD_LIBRARY_PATH`, ldconfig paths): `libLiteRt.so`.
    static func candidates() -> [String] {
        var out: [String] = []
        let env = ProcessInfo.processInfo.environment
        if let v = env["DA3_LITERT_LIB"], !v.isEmpty {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: v, isDirectory: &isDir), isDir.boolValue {
                out.append((v as NSString).appendingPathComponent("libLiteRt.so"))
            } else {
                out.append(v)
            }
        }
        if let dir = pythonPackageDirectory(python: env["DA3_PYTHON"] ?? "python3") {
            out.append((dir as NSString).appendingPathComponent("libLiteRt.so"))
        }
        let home = env["HOME"] ?? NSHomeDirectory()
        var roots: [String] = []
        if let venv = env["VIRTUAL_ENV"] { roots.append("\(venv)/lib") }
        roots.append("\(home)/.local/lib")
        roots += subdirectories("\(home)/.pyenv/versions").map { "\($0)/lib" }
        roots += ["/usr/local/lib", "/usr/lib"]
        for root in roots {
            for py in subdirectories(root) where (py as NSString).lastPathComponent.hasPrefix("python3") {
                for pk in ["site-packages", "dist-packages"] {
                    out.append("\(py)/\(pk)/ai_edge_litert/libLiteRt.so")
                }
            }
        }
        out.append("libLiteRt.so")
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    private static func subdirectories(_ path: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        return names.sorted().map { "\(path)/\($0)" }
    }

    /// `ai_edge_litert`'s directory as the given Python sees it, or nil (no Python, no package).
    private static func pythonPackageDirectory(python: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", "import importlib.util, os; s = importlib.util.find_spec('ai_edge_litert'); "
                       + "print(os.path.dirname(s.origin) if s and s.origin else '')"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? nil : s
    }

    private static func load() throws -> LiteRTLibrary {
        let list = candidates()
        var tried: [String] = []
        for c in list {
            if c.contains("/") && !FileManager.default.fileExists(atPath: c) { tried.append(c); continue }
            if let h = dlopen(c, RTLD_NOW | RTLD_LOCAL) {
                return try LiteRTLibrary(path: c, dl: h)
            }
            let reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            tried.append(c.contains("/") ? "\(c) (\(reason))" : "\(c) via the loader path")
        }
        throw LiteRTError.libraryNotFound(searched: tried)
    }
}

/// Whether the LiteRT runtime can be loaded on this machine, and from where.
public enum LiteRTRuntime {
    /// The path of the loaded `libLiteRt.so`, or the error saying why it is absent.
    public static func locate() -> Result<String, LiteRTError> {
        do {
            return .success(try LiteRTLibrary.shared().path)
        } catch let e as LiteRTError {
            return .failure(e)
        } catch {
            return .failure(.unsupportedModel("\(error)"))
        }
    }
}
