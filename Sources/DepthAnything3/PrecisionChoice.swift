import DA3Kernels
import Foundation

/// How `Precision.fast` picks its kernels on the CPU.
public enum FastKernelPolicy: String, Sendable {
    /// The fastest reduced-precision kernel this CPU offers, by a short measurement against the
    /// FP32 kernel (cached next to the weight cache); the exact kernels when none beats FP32.
    case measured
    /// bfloat16 products without measuring (`--precision bf16`); refused where the CPU has no AVX512-BF16.
    case bf16
}

/// What the engine runs for a requested precision, and why (`--timings` and `--json` show it).
///
/// `DA3_FAST_KERNELS` overrides the measurement for tests and experiments: `none` behaves as a
/// CPU without a usable fast kernel (`.fast` runs exact), `bf16` forces bfloat16, `auto` (or unset)
/// measures. `none` also refuses `.bf16` requests, as a CPU without AVX512-BF16 does.
public struct PrecisionChoice: Sendable, Equatable {
    /// What was asked for: "exact", "fast" or "bf16".
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
        guard precision == .fast else { return .asRequested(precision) }
        let requested = policy == .bf16 ? "bf16" : "fast"
        func choice(_ kernels: FastKernels, _ reason: String, _ measurement: FastKernelMeasurement? = nil) -> PrecisionChoice {
            PrecisionChoice(requested: requested, used: kernels == .bf16 ? .fast : .exact, kernels: kernels,
                            reason: reason, measurement: measurement)
        }
        let override = ProcessInfo.processInfo.environment["DA3_FAST_KERNELS"]?.lowercased() ?? "auto"
        switch override {
        case "none":  // as a CPU without any reduced-precision kernel
            if policy == .bf16 { throw PrecisionError.fastUnavailable }
            return choice(.none, "DA3_FAST_KERNELS=none: no fast kernel allowed; running the exact FP32 kernels")
        case "bf16", "auto", "":
            break
        default:
            throw PrecisionError.unknownOverride(override)
        }
        guard Precision.fastAvailable else {
            if policy == .bf16 { throw PrecisionError.fastUnavailable }
            return choice(.none, "this CPU has no AVX512-BF16 (the only reduced-precision kernel); running the exact FP32 kernels")
        }
        if policy == .bf16 || override == "bf16" {
            return choice(.bf16, policy == .bf16 ? "bfloat16 products, as requested" : "DA3_FAST_KERNELS=bf16")
        }
        let cache = cacheDirectory.map { FastKernelMeasurementCache(directory: $0) }
        guard let measurement = cache?.read() ?? FastKernelProbe.measure() else {
            return choice(.none, "the bfloat16 kernel could not be measured; running the exact FP32 kernels")
        }
        cache?.write(measurement)
        let rates = String(format: "bfloat16 %.0f vs FP32 %.0f GFLOP/s measured on %@", measurement.bf16GFLOPs,
                           measurement.f32GFLOPs, CPUInfo.current.modelName)
        return measurement.choice == .bf16
            ? choice(.bf16, "bfloat16 products (\(rates))", measurement)
            : choice(.none, "bfloat16 is not faster here (\(rates)); running the exact FP32 kernels", measurement)
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
