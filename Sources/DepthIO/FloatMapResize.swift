/// Bilinear resampling of a single-channel float map with pixel-centre alignment
/// (OpenCV `INTER_LINEAR` geometry: source = (dst + 0.5) * in / out - 0.5, clamped at the edges).
public enum FloatMapResize {
    /// `values` (`width x height`, row-major) resampled to `newWidth x newHeight`.
    public static func bilinear(_ values: [Float], width: Int, height: Int, newWidth: Int, newHeight: Int) -> [Float] {
        precondition(values.count == width * height && width > 0 && height > 0, "value count does not match the size")
        if width == newWidth && height == newHeight { return values }
        func taps(_ out: Int, _ inSize: Int) -> [(Int, Int, Float)] {
            let scale = Double(inSize) / Double(out)
            return (0..<out).map { o in
                let s = min(max((Double(o) + 0.5) * scale - 0.5, 0), Double(inSize - 1))
                let i0 = Int(s), i1 = min(i0 + 1, inSize - 1)
                return (i0, i1, Float(s - Double(i0)))
            }
        }
        let xs = taps(newWidth, width), ys = taps(newHeight, height)
        var out = [Float](repeating: 0, count: newWidth * newHeight)
        for (y, ty) in ys.enumerated() {
            let r0 = ty.0 * width, r1 = ty.1 * width
            for (x, tx) in xs.enumerated() {
                let top = values[r0 + tx.0] + (values[r0 + tx.1] - values[r0 + tx.0]) * tx.2
                let bottom = values[r1 + tx.0] + (values[r1 + tx.1] - values[r1 + tx.0]) * tx.2
                out[y * newWidth + x] = top + (bottom - top) * ty.2
            }
        }
        return out
    }
}
