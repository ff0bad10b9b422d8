import DA3Kernels
import Foundation

/// How `Precision.fast` picks its kernels on the CPU.
public enum FastKernelPolicy: String, Sendable {
    /// The fastest reduced-precision kernel this CPU offers, by a short measurement against the
    /// FP32 kernel (cached next to the weight cache); the exact kernels when none beats FP32.
    case measured
    /// bfloat16 products without measuring (`--precision bf16`); refused where the CPU has no AVX512-BF16.
    case bf16
    /// int8 linear layers without measuring (`--precision int8`, `Precision.int8`); refused where
    /// the CPU lacks AVX512-VNNI or AVX512-BF16.
    case int8
    /// int8 linear layers with FP32 elsewhere, without measuring (`--precision int8-fp32`,
    /// `Precision.int8FP32`); refused where the CPU lacks AVX512-VNNI.
    case int8FP32 = "int8-fp32"

    /// The kernels this policy names (nil: measure).
    var named: FastKernels? { self == .measured ? nil : FastKernels(rawValue: rawValue) }
}

extension FastKernels {
    /// The precision that runs these kernels.
    var precision: Precision {
        switch self {
        case .bf16: .fast
        case .int8: .int8
        case .int8FP32: .int8FP32
        case .none: .exact
        }
    }

    /// Whether this CPU can run these kernels.
    var available: Bool {
        switch self {
        case .bf16: Precision.fastAvailable
        case .int8: Precision.int8Available
        case .int8FP32: Precision.int8FP32Available
        case .none: true
        }
    }

    /// The error for asking for these kernels by name where the CPU cannot run them.
    var unavailable: PrecisionError {
        switch self {
        case .bf16, .none: .fastUnavailable
        case .int8: .int8Unavailable
        case .int8FP32: .int8FP32Unavailable
        }
    }

    /// In words, for the choice's reason.
    var label: String {
        switch self {
        case .bf16: "bfloat16 products"
        case .int8: "int8 linear layers (bfloat16 attention and convolutions)"
        case .int8FP32: "int8 linear layers (FP32 attention and convolutions)"
        case .none: "the exact FP32 kernels"
        }
    }
}

/// What the engine runs for a requested precision, and why (`--timings` and `--json` show it).
///
/// `DA3_FAST_KERNELS` overrides the measurement for tests and experiments: `none` behaves as a
/// CPU without any usable fast kernel (`.fast` runs exact; `bf16`, `int8` and `int8-fp32` requests
/// are refused as on a CPU without them), `bf16`, `int8` or `int8-fp32` forces those kernels, `auto`
/// (or unset) measures.
public struct PrecisionChoice: Sendable, Equatable {
    /// What was asked for: "exact", "fast", "bf16", "int8" or "int8-fp32".
    public let requested: String
    /// The arithmetic that runs.
    public let used: Precision
    /// The reduced-precision kernels behind `.fast` on the CPU (nil for exact requests and other devices).
    public let kernels: FastKernels?
    /// Why, in words.
    public let reason: String
    /// The measurement behind a `.measured` choice, when one was made (or read back from the cache).
    public let measurement: FastKernelMeasurement?

    /// `precision` as asked, for devices that decide themselves (Vulkan) and for exact requests.
    public static func asRequested(_ precision: Precision, reason: String = "as requested") -> PrecisionChoice {
        PrecisionChoice(requested: precision.rawValue, used: precision, kernels: nil, reason: reason, measurement: nil)
    }

    /// Resolves `precision` for the CPU: `.fast` becomes bfloat16 or, where no fast kernel beats
    /// FP32 here, the exact kernels (never slower than exact). `cacheDirectory` (the weight cache's)
    /// keeps the measurement per CPU, thread count and executable build.
    public static func cpu(_ precision: Precision, policy: FastKernelPolicy = .measured,
                           cacheDirectory: URL? = nil) throws -> PrecisionChoice {
        // `.int8` or `.int8FP32` asked for directly is that policy; `.fast` follows the policy.
        let policy: FastKernelPolicy = precision == .int8 ? .int8 : precision == .int8FP32 ? .int8FP32 : policy
        guard precision != .exact else { return .asRequested(precision) }
        let requested = policy == .measured ? "fast" : policy.rawValue
        func choice(_ kernels: FastKernels, _ reason: String, _ measurement: FastKernelMeasurement? = nil) -> PrecisionChoice {
            PrecisionChoice(requested: requested, used: kernels.precision, kernels: kernels, reason: reason,
                            measurement: measurement)
        }
        let override = ProcessInfo.processInfo.environment["DA3_FAST_KERNELS"]?.lowercased() ?? "auto"
        guard ["none", "bf16", "int8", "int8-fp32", "auto", ""].contains(override) else {
            throw PrecisionError.unknownOverride(override)
        }
        let simulatedNone = override == "none"  // as a CPU without any reduced-precision kernel
        if let named = policy.named, named != .none {
            guard named.available && !simulatedNone else { throw named.unavailable }
            return choice(named, "\(named.label), as requested")
        }
        if simulatedNone {
            return choice(.none, "DA3_FAST_KERNELS=none: no fast kernel allowed; running the exact FP32 kernels")
        }
        if let forced = FastKernels(rawValue: override), forced != .none {
            guard forced.available else {
                return choice(.none, "DA3_FAST_KERNELS=\(override) but this CPU cannot run it; running the exact FP32 kernels")
            }
            return choice(forced, "\(forced.label) (DA3_FAST_KERNELS=\(override))")
        }
        guard Precision.fastAvailable || Precision.int8FP32Available else {
            return choice(.none, "this CPU has neither AVX512-BF16 nor AVX512-VNNI (one of which every reduced-precision mode needs); running the exact FP32 kernels")
        }
        let cache = cacheDirectory.map { FastKernelMeasurementCache(directory: $0) }
        guard let measurement = cache?.read() ?? FastKernelProbe.measure() else {
            return choice(.none, "the reduced-precision kernels could not be measured; running the exact FP32 kernels")
        }
        cache?.write(measurement)
        let int8Rate = measurement.int8GFLOPs.map { String(format: ", int8 %.0f", $0) } ?? ""
        let bf16Rate = measurement.bf16GFLOPs > 0 ? String(format: ", bfloat16 %.0f", measurement.bf16GFLOPs) : ""
        let rates = String(format: "FP32 %.0f%@%@ GFLOP/s measured on %@", measurement.f32GFLOPs, bf16Rate, int8Rate,
                           CPUInfo.current.modelName)
        let kernels = measurement.choice
        return kernels == .none
            ? choice(.none, "no reduced-precision kernel is faster here (\(rates)); running the exact FP32 kernels", measurement)
            : choice(kernels, "\(kernels.label) (\(rates))", measurement)
    }

    /// A one-line account, e.g. "precision fast: bfloat16 products (bfloat16 310 vs FP32 190 GFLOP/s ...)".
    public var summary: String { "precision \(requested): \(reason)" }

    /// Whether a fast request fell back to the exact kernels.
    public var fellBack: Bool { requested != Precision.exact.rawValue && used == .exact }
}

/// The measurement, kept as a small JSON file keyed by the CPU, the engine's thread count and this
/// executable's build, so later runs skip the ~50 ms probe. Unreadable or stale files are measured afresh.
struct FastKernelMeasurementCache {
    let directory: URL
    var url: URL { directory.appendingPathComponent("fast-kernels.json") }

    var key: String {
        let cpu = CPUInfo.current
        return "\(cpu.summary); \(cpu.vectorFlags.joined(separator: " ")); threads \(Parallel.threadCount); "
            + "executable \(WeightCache.identity(of: "/proc/self/exe") ?? "unknown")"
    }

    func read() -> FastKernelMeasurement? {
        guard let data = try? Data(contentsOf: url),
              let stored = try? JSONDecoder().decode(Stored.self, from: data), stored.key == key else { return nil }
        return stored.measurement
    }

    /// Writes through a temporary name; a failure only costs a later probe.
    func write(_ measurement: FastKernelMeasurement) {
        guard let data = try? JSONEncoder().encode(Stored(key: key, measurement: measurement)) else { return }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".fast-kernels.\(getpid()).tmp")
        guard (try? data.write(to: temporary)) != nil else { return }
        if rename(temporary.path, url.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
    }

    private struct Stored: Codable {
        var key: String
        var measurement: FastKernelMeasurement
    }
}
