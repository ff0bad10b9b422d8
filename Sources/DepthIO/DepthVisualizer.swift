import DA3Image

/// Colour-mapped depth images, normalised like the official `visualize_depth`
/// (`depth_anything_3/utils/visualize.py`): inverse depth, clipped to its 2nd and 98th percentiles,
/// reversed so that near is the start of the map (with `spectral`: near red, far violet, as upstream).
public enum DepthVisualizer {
    /// A `width x height` RGB image of `depth` through `colorMap`; `masked` pixels (sky) are black and
    /// left out of the normalisation.
    public static func render(_ depth: [Float], width: Int, height: Int, colorMap: ColorMap = .spectral,
                              masked: [Bool]? = nil) -> RGBImage {
        precondition(depth.count == width * height, "depth count does not match the size")
        var inverse = depth.map { $0 > 0 && $0.isFinite ? 1 / $0 : 0 }
        if let masked { for i in inverse.indices where masked[i] { inverse[i] = 0 } }
        let valid = inverse.filter { $0 > 0 }
        var lo: Float = 0, hi: Float = 0
        if valid.count > 10 { lo = percentile(valid, 2); hi = percentile(valid, 98) }
        if lo == hi { lo -= 1e-6; hi += 1e-6 }
        let table = colorMap.table
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<inverse.count {
            let t = 1 - max(0, min(1, (inverse[i] - lo) / (hi - lo)))
            if let masked, masked[i] { continue }
            let c = table[min(255, Int(t * 256))]
            pixels[3 * i] = c.0; pixels[3 * i + 1] = c.1; pixels[3 * i + 2] = c.2
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// `left` and `right` (same height) next to each other.
    public static func sideBySide(_ left: RGBImage, _ right: RGBImage) -> RGBImage {
        precondition(left.height == right.height, "side-by-side images must have the same height")
        let w = left.width + right.width
        var pixels = [UInt8]()
        pixels.reserveCapacity(w * left.height * 3)
        for y in 0..<left.height {
            pixels.append(contentsOf: left.pixels[(y * left.width * 3)..<((y + 1) * left.width * 3)])
            pixels.append(contentsOf: right.pixels[(y * right.width * 3)..<((y + 1) * right.width * 3)])
        }
        return RGBImage(width: w, height: left.height, pixels: pixels)
    }
}
