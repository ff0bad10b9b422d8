import Foundation

/// How the reference view of an any-view scene is chosen (`model/reference_view_selector.py`).
/// The reference view gets the reference camera token and defines the world frame.
public enum ReferenceViewStrategy: String, Sendable, CaseIterable {
    /// View 0.
    case first
    /// View `count / 2`.
    case middle
    /// The view closest to the median of three class-token metrics (the official default).
    case saddleBalanced = "saddle_balanced"
    /// The view whose similarity to the others spans the widest range.
    case saddleSimRange = "saddle_sim_range"

    /// Scenes with fewer views keep their order and view 0 as reference (`THRESH_FOR_REF_SELECTION`).
    public static let minimumViews = 3
}

/// `select_reference_view`, `reorder_by_reference` and `restore_original_order` on the views'
/// class tokens (host arrays; a handful of views, in FP32 as upstream).
enum ReferenceViewSelector {
    /// The index of the reference view among `classTokens` (one D-vector per view).
    static func select(_ strategy: ReferenceViewStrategy, classTokens: [[Float]]) -> Int {
        let s = classTokens.count
        if s <= 1 { return 0 }
        switch strategy {
        case .first: return 0
        case .middle: return s / 2
        case .saddleBalanced, .saddleSimRange: break
        }
        // FP32 as upstream: ties matter (a view's similarity range often equals another's exactly,
        // the same two similarities bounding both), and torch's argmax/argmin then take the first.
        let norms = classTokens.map { t in t.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot() }
        let unit = zip(classTokens, norms).map { t, n in t.map { $0 / n } }
        // Similarity without the diagonal: sim - I. Each dot product runs in one order, so sim is symmetric.
        var sim = [[Float]](repeating: [Float](repeating: 0, count: s), count: s)
        for i in 0..<s {
            for j in 0..<s {
                sim[i][j] = zip(unit[i], unit[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 } - (i == j ? 1 : 0)
            }
        }
        if strategy == .saddleSimRange {
            let range = sim.map { ($0.max() ?? 0) - ($0.min() ?? 0) }
            return argmax(range)
        }
        let simScore = sim.map { $0.reduce(0, +) / Float(s - 1) }
        // torch.var: unbiased (n - 1).
        let variance = unit.map { u -> Float in
            let mean = u.reduce(0, +) / Float(u.count)
            return u.reduce(Float(0)) { $0 + ($1 - mean) * ($1 - mean) } / Float(u.count - 1)
        }
        func normalized(_ m: [Float]) -> [Float] {
            let lo = m.min()!, hi = m.max()!
            return m.map { ($0 - lo) / (hi - lo + 1e-8) }
        }
        let a = normalized(simScore), b = normalized(norms), c = normalized(variance)
        let balance = (0..<s).map { (i: Int) -> Float in
            let da: Float = abs(a[i] - 0.5), db: Float = abs(b[i] - 0.5), dc: Float = abs(c[i] - 0.5)
            return da + db + dc
        }
        return argmax(balance.map { -$0 })
    }

    /// The order that puts `reference` first and keeps the others in their order:
    /// position i of the reordered scene holds view `order[i]`.
    static func order(reference: Int, count: Int) -> [Int] {
        [reference] + (0..<count).filter { $0 != reference }
    }

    /// First index of the largest value (torch's argmax on ties).
    private static func argmax(_ v: [Float]) -> Int {
        var best = 0
        for i in v.indices where v[i] > v[best] { best = i }
        return best
    }
}
