/// Several views in one pass on the CPU (any-view scenes): views are stacked along the token
/// rows of one (views * tokens, D) sequence; local attention runs per view, global attention and
/// every row-wise operator on the whole sequence.
extension CPUExecution {
    public func stackViews(_ views: [Tensor]) -> Tensor {
        precondition(!views.isEmpty && views.allSatisfy { $0.shape == views[0].shape }, "views must share one shape")
        if views.count == 1 { return views[0] }
        var shape = views[0].shape
        shape[0] *= views.count
        var out = Tensor(uninitialized: shape)
        let count = views[0].data.count
        out.data.withUnsafeMutableBufferPointer { o in
            for (v, view) in views.enumerated() {
                view.data.withUnsafeBufferPointer { (o.baseAddress! + v * count).update(from: $0.baseAddress!, count: count) }
            }
        }
        return out
    }

    public func attention(_ op: CPUAttention, _ x: inout Tensor, positions: [(Int, Int)], rope: RoPE2D, views: Int) {
        op.forward(&x, positions: positions, rope: rope, workspace: workspace, views: views)
    }

    public func reorderViews(_ x: inout Tensor, order: [Int]) {
        if order == Array(order.indices) { return }
        precondition(Set(order) == Set(order.indices) && x.data.count % order.count == 0, "not a permutation of the views")
        let count = x.data.count / order.count
        let source = x
        x.data.withUnsafeMutableBufferPointer { o in
            source.data.withUnsafeBufferPointer { s in
                for (i, v) in order.enumerated() {
                    (o.baseAddress! + i * count).update(from: s.baseAddress! + v * count, count: count)
                }
            }
        }
    }
}
