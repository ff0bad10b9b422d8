import Foundation

/// What /proc/cpuinfo says about this machine's CPU: the facts kernel choices depend on and every
/// benchmark records.
public struct CPUInfo: Sendable, Equatable {
    /// `model name`, e.g. "AMD EPYC 9R14 96-Core Processor" ("unknown CPU" where not readable).
    public let modelName: String
    /// `cpu family` and `model` (e.g. 25 and 17 for Zen 4, 6 and 207 for Emerald Rapids).
    public let family: Int?
    public let model: Int?
    /// The feature flags, in /proc/cpuinfo's order.
    public let flags: [String]

    /// This machine (read once).
    public static let current = CPUInfo(cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")

    /// Parses the first processor's block of a /proc/cpuinfo text.
    public init(cpuinfo: String) {
        var fields: [String: String] = [:]
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty, !fields.isEmpty { break }
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        modelName = fields["model name"] ?? "unknown CPU"
        family = fields["cpu family"].flatMap { Int($0) }
        model = fields["model"].flatMap { Int($0) }
        flags = (fields["flags"] ?? "").split(separator: " ").map(String.init)
    }

    /// The vector-arithmetic flags that decide which kernels can run (AVX-512 subsets, VNNI, BF16,
    /// FP16, AMX), in a stable order.
    public var vectorFlags: [String] {
        flags.filter { $0.hasPrefix("avx512") || $0.hasPrefix("amx") || $0 == "avx_vnni" || $0 == "fma" || $0 == "avx2" }.sorted()
    }

    /// One line naming the CPU, e.g. "AMD EPYC 9R14 (family 25 model 17)".
    public var summary: String {
        "\(modelName) (family \(family.map(String.init) ?? "?") model \(model.map(String.init) ?? "?"))"
    }
}
