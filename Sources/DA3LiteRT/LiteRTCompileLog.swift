import Foundation

/// How LiteRT placed a graph, read from its compile log (see ``NativeLogCapture``).
public struct LiteRTDelegation: Sendable, Equatable {
    /// An operator kind the GPU delegate refused: its name, LiteRT's reason, and how many of
    /// the graph's operators were refused for it.
    public struct Refusal: Sendable, Equatable, CustomStringConvertible {
        public var op: String, reason: String, count: Int
        public var description: String { "\(op)\(count > 1 ? " x\(count)" : "") (\(reason))" }
    }

    /// Operations the GPU delegate took, and those left to the CPU (nil where LiteRT did not say).
    public var gpuOperations: Int?, cpuOperations: Int?
    /// The refused operator kinds, in the order LiteRT listed them.
    public var refusals: [Refusal]

    public init(gpuOperations: Int? = nil, cpuOperations: Int? = nil, refusals: [Refusal] = []) {
        self.gpuOperations = gpuOperations
        self.cpuOperations = cpuOperations
        self.refusals = refusals
    }

    /// The reason given to an operator the GPU delegate took and then could not prepare: LiteRT
    /// does not fall back to the CPU for it (`gpu,cpu` fails the same way).
    public static let failedToPrepare = "failed to prepare on the GPU"

    /// Whether an operator was taken by the GPU delegate and then failed to prepare.
    public var hasUnpreparedOperator: Bool { refusals.contains { $0.reason == Self.failedToPrepare } }

    /// "165 of 1285 operations on the GPU, 1120 on the CPU", or nil without counts.
    public var summary: String? {
        guard let g = gpuOperations, let c = cpuOperations else { return nil }
        return "\(g) of \(g + c) operations on the GPU, \(c) on the CPU"
    }

    /// Adds one refused operator (`OPNAME: reason`, where LiteRT may append the tensor's name).
    mutating func refuse(_ op: String, _ reason: String) {
        if let i = refusals.firstIndex(where: { $0.op == op && $0.reason == reason }) {
            refusals[i].count += 1
        } else {
            refusals.append(Refusal(op: op, reason: reason, count: 1))
        }
    }
}

/// Facts read from the text LiteRT, its WebGPU accelerator and Dawn log while a model compiles.
struct LiteRTCompileLog {
    /// The adapter the GPU accelerator selected (`Selected adapter: NAME, arch=...`).
    var adapter: String?
    /// Whether the accelerator reported that no GPU adapter could be used.
    var noAdapter = false
    /// The GPU / CPU split and the refused operators.
    var delegation = LiteRTDelegation()
    /// Whether LiteRT said that some operations are not accelerated.
    var notAccelerated = false
    /// The last error line, for failures the other facts do not explain.
    var lastError: String?

    init(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        for line in lines {
            if adapter == nil, let r = line.range(of: "Selected adapter: ") {
                let rest = line[r.upperBound...]
                adapter = String(rest.prefix { $0 != "," }).trimmingCharacters(in: .whitespaces)
            }
            if line.contains("No adapters found") || line.contains("Failed to initialize WebGPU environment") {
                noAdapter = true
            }
            if line.contains("Some ops are not accelerated") || line.contains("operations will run on the CPU") {
                notAccelerated = true
            }
            if let (g, c) = Self.split(line) {
                delegation.gpuOperations = g
                delegation.cpuOperations = c
            }
            if let (op, reason) = Self.refusedOperator(line) { delegation.refuse(op, reason) }
            // "Node number 4 (BROADCAST_TO) failed to prepare.": taken, then not preparable on the GPU
            if line.contains("failed to prepare"), let open = line.range(of: "Node number "), let l = line[open.upperBound...].firstIndex(of: "("),
               let r = line[l...].firstIndex(of: ")") {
                delegation.refuse(String(line[line.index(after: l)..<r]), LiteRTDelegation.failedToPrepare)
                notAccelerated = true
            }
            if line.hasPrefix("ERROR: ") || line.hasPrefix("E0000") || line.hasPrefix("error: ") {
                if !line.contains("XDG_RUNTIME_DIR") { lastError = Self.message(line) }
            }
        }
    }

    /// "N operations will run on the GPU, and the remaining M operations will run on the CPU".
    private static func split(_ line: String) -> (Int, Int)? {
        guard let r = line.range(of: " operations will run on the GPU, and the remaining ") else { return nil }
        let g = Int(line[..<r.lowerBound].split(separator: " ").last ?? "")
        let c = Int(line[r.upperBound...].split(separator: " ").first ?? "")
        guard let g, let c else { return nil }
        return (g, c)
    }

    /// A refused-operator line, `OPNAME: reason[. tensor-name]`, the operator name in TFLite's
    /// upper-case style; the tensor name (no spaces) LiteRT appends is dropped.
    private static func refusedOperator(_ line: String) -> (String, String)? {
        let t = line.trimmingCharacters(in: .whitespaces)
        guard let colon = t.firstIndex(of: ":") else { return nil }
        let name = String(t[..<colon])
        guard name.count >= 2, name.count <= 40, name.first!.isLetter,
              name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }),
              !["INFO", "WARNING", "ERROR", "VERBOSE", "FATAL"].contains(name) else { return nil }
        var reason = t[t.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if let dot = reason.range(of: ". ", options: .backwards), !reason[dot.upperBound...].contains(" ") {
            reason = String(reason[..<dot.lowerBound])
        }
        if reason.hasSuffix(".") { reason.removeLast() }
        return (name, reason)
    }

    /// The message of a log line without LiteRT's or absl's prefix.
    private static func message(_ line: String) -> String {
        if let r = line.range(of: "] ") { return String(line[r.upperBound...]) }
        return line
    }
}
