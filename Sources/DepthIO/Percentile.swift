/// `numpy.percentile(values, q)` with the default linear interpolation.
public func percentile(_ values: [Float], _ q: Double) -> Float {
    precondition(!values.isEmpty, "percentile of an empty array")
    let sorted = values.sorted()
    let pos = max(0, min(100, q)) / 100 * Double(sorted.count - 1)
    let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
    let f = pos - Double(lo)
    return Float(Double(sorted[lo]) + (Double(sorted[hi]) - Double(sorted[lo])) * f)
}
