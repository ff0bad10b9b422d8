import CKernels

/// Layer normalization over the last dimension, as `torch.nn.LayerNorm` (biased variance).
public enum LayerNorm {
    /// Normalizes `rows` vectors of `width` elements read with stride `inStride` and written with
    /// stride `outStride` (both in elements; in-place is allowed). `parallel: false` stays on the
    /// calling thread (inside an already parallel region).
    public static func forward(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, inStride: Int? = nil,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float,
        into y: UnsafeMutablePointer<Float>, outStride: Int? = nil, parallel: Bool = true
    ) {
        let sIn = inStride ?? width, sOut = outStride ?? width
        let xs = UncheckedBox(x), ys = UncheckedBox(y), ws = UncheckedBox(weight), bs = UncheckedBox(bias)
        Parallel.forEachChunk(rows, costPerItem: parallel ? width * 4 : 0) { range in
            da3_layernorm_rows(xs.value + range.lowerBound * sIn, range.count, width, sIn, ws.value, bs.value, eps,
                               ys.value + range.lowerBound * sOut, sOut)
        }
    }
}
