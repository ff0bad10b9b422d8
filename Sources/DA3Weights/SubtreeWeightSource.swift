/// The part of a weight source under one key prefix (a nested model's branch): reads go to the
/// whole source, and only the keys under `prefix` count as unused, so each branch's strict load
/// checks its own part.
public final class SubtreeWeightSource: WeightSource {
    public let base: WeightSource
    public let prefix: String
    public var origin: String { base.origin }

    public init(_ base: WeightSource, prefix: String) {
        self.base = base
        self.prefix = prefix
    }

    public func load(_ key: String, shape: [Int]) throws -> [Float] { try base.load(key, shape: shape) }

    public func withFloats(_ key: String, shape: [Int], _ body: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        try base.withFloats(key, shape: shape, body)
    }

    public func check(_ key: String, shape: [Int]) throws { try base.check(key, shape: shape) }

    public func unusedKeys(used: Set<String>) -> [String] {
        base.unusedKeys(used: used).filter { $0.hasPrefix(prefix) }
    }
}
