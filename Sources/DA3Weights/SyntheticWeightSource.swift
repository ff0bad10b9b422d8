

/// Serves `SyntheticWeights` for whatever tensor the engine asks for, so a full-size model can be
/// regenerated deterministically instead of committing a 100+ MB checkpoint.
public final class SyntheticWeightSource: WeightSource {
    public let origin = "<synthetic weights>"

    public init() {}

    public func load(_ key: String, shape: [Int]) throws -> [Float] {
        SyntheticWeights.values(key: key, shape: shape)
    }

    public func unusedKeys(used: Set<String>) -> [String] { [] }
}
