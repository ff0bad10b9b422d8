/// Comparison metrics for goldens. All accumulate in Double.
public enum Metrics {
    /// Pearson correlation coefficient of two equally long sequences (1 for identical
    /// non-constant data; 0 if either is constant).
    public static func pearson(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "pearson: lengths differ (\(a.count) vs \(b.count))")
        let n = a.count
        guard n > 0 else { return 0 }
        var ma = 0.0, mb = 0.0
        for i in 0..<n { ma += Double(a[i]); mb += Double(b[i]) }
        ma /= Double(n); mb /= Double(n)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in 0..<n {
            let da = Double(a[i]) - ma, db = Double(b[i]) - mb
            sab += da * db; saa += da * da; sbb += db * db
        }
        guard saa > 0, sbb > 0 else { return 0 }
        return sab / (saa.squareRoot() * sbb.squareRoot())
    }

    /// max over elements of |a - b| / max(|b|, floor). `b` is the reference.
    /// Any NaN in `a` or `b` gives NaN.
    public static func maxRelativeError(_ a: [Float], reference b: [Float], floor: Double = 1e-12) -> Double {
        precondition(a.count == b.count, "maxRelativeError: lengths differ (\(a.count) vs \(b.count))")
        var worst = 0.0
        for i in 0..<a.count {
            let x = Double(a[i]), y = Double(b[i])
            if x.isNaN || y.isNaN { return .nan }
            let e = abs(x - y) / max(abs(y), floor)
            if e > worst { worst = e }
        }
        return worst
    }

    /// max over elements of |a - b|.
    public static func maxAbsoluteError(_ a: [Float], reference b: [Float]) -> Double {
        precondition(a.count == b.count, "maxAbsoluteError: lengths differ (\(a.count) vs \(b.count))")
        var worst = 0.0
        for i in 0..<a.count {
            let x = Double(a[i]), y = Double(b[i])
            if x.isNaN || y.isNaN { return .nan }
            worst = max(worst, abs(x - y))
        }
        return worst
    }

    /// Normalized mean squared error: sum((a - b)^2) / sum(b^2) (0 when both are all zero,
    /// +infinity when only the reference is).
    public static func nmse(_ a: [Float], reference b: [Float]) -> Double {
        precondition(a.count == b.count, "nmse: lengths differ (\(a.count) vs \(b.count))")
        var num = 0.0, den = 0.0
        for i in 0..<a.count {
            let d = Double(a[i]) - Double(b[i])
            num += d * d
            den += Double(b[i]) * Double(b[i])
        }
        if den == 0 { return num == 0 ? 0 : .infinity }
        return num / den
    }
}
