/// Layer normalization over the last dimension, as `torch.nn.LayerNorm` (biased variance).
public enum LayerNorm {
    /// Normalizes `rows` vectors of `width` elements read with stride `inStride` and written with
    /// stride `outStride` (both in elements; in-place is allowed).
    public static func forward(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, inStride: Int? = nil,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float,
        into y: UnsafeMutablePointer<Float>, outStride: Int? = nil
    ) {
        let sIn = inStride ?? width, sOut = outStride ?? width
        let xs = UncheckedBox(x), ys = UncheckedBox(y), ws = UncheckedBox(weight), bs = UncheckedBox(bias)
        Parallel.forEachChunk(rows, costPerItem: width * 4) { range in
            for r in range {
                let row = xs.value + r * sIn
                var sum: Double = 0
                for i in 0..<width { sum += Double(row[i]) }
                let mean = sum / Double(width)
                var sq: Double = 0
                for i in 0..<width { let d = Double(row[i]) - mean; sq += d * d }
                let rstd = 1 / (sq / Double(width) + Double(eps)).squareRoot()
                let out = ys.value + r * sOut
                let m = Float(mean), s = Float(rstd)
                for i in 0..<width { out[i] = (row[i] - m) * s * ws.value[i] + bs.value[i] }
            }
        }
    }
}
