import CKernels

/// Row-wise softmax in place, numerically stabilized by the row maximum (SIMD kernel in CKernels).
public enum Softmax {
    /// Softmax of `rows` rows of `width` elements, rows `ld` apart, in parallel over rows.
    public static func rows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, ld: Int? = nil) {
        let stride = ld ?? width
        let xs = UncheckedBox(x)
        Parallel.forEachChunk(rows, costPerItem: width * 4) { range in
            serialRows(xs.value + range.lowerBound * stride, rows: range.count, width: width, ld: stride)
        }
    }

    /// Softmax on the calling thread only (for use inside an already parallel region).
    public static func serialRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, ld: Int) {
        da3_softmax_rows(x, rows, width, ld)
    }
}
