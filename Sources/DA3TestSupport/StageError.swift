/// Scale-aware comparison of a stage: max |a - b| over max |b|, and Pearson correlation.
public struct StageError: CustomStringConvertible {
    public let normalizedMax: Double
    public let pearson: Double

    public init(_ a: [Float], _ b: [Float]) {
        precondition(a.count == b.count)
        var maxDiff = 0.0, maxRef = 0.0
        for i in 0..<a.count {
            maxDiff = max(maxDiff, abs(Double(a[i]) - Double(b[i])))
            maxRef = max(maxRef, abs(Double(b[i])))
        }
        normalizedMax = maxDiff / max(maxRef, 1e-30)
        pearson = a.count > 1 ? Metrics.pearson(a, b) : (a == b ? 1 : 0)
    }

    public var description: String { "max|diff|/max|ref| = \(normalizedMax), pearson = \(pearson)" }
}
