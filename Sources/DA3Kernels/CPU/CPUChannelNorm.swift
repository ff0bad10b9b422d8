import CKernels

extension CPUExecution {
    /// Per pixel, the channel vector is gathered into a row, normalized by the row kernel the
    /// transformer's LayerNorms use and scattered back.
    public func normalizeChannels(_ x: inout Tensor, _ norm: CPULayerNorm) {
        let (c, plane) = (x.shape[0], x.shape[1] * x.shape[2])
        precondition(c == norm.width, "LayerNorm over \(norm.width) channels of a \(c)-channel map")
        x.data.withUnsafeMutableBufferPointer { xp in
            let base = UncheckedBox(xp.baseAddress!)
            Parallel.forEachChunk(plane, costPerItem: 4 * c) { pixels in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: pixels.count * c) { rows in
                    let r = rows.baseAddress!
                    for ch in 0..<c {
                        let src = base.value + ch * plane
                        for (i, p) in pixels.enumerated() { r[i * c + ch] = src[p] }
                    }
                    norm(r, rows: pixels.count, into: r, parallel: false)
                    for ch in 0..<c {
                        let dst = base.value + ch * plane
                        for (i, p) in pixels.enumerated() { dst[p] = r[i * c + ch] }
                    }
                }
            }
        }
    }
}
