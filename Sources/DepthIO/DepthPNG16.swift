import Foundation

/// 16-bit PNG depth: `depth = sample * scale` (metres or model units), sample 0 = no depth.
///
/// The scale is chosen so the largest finite depth maps to 65535 and is stored in a `tEXt` chunk
/// with keyword `depth_scale` (the decimal float32 value printed with 9 significant digits, which
/// round-trips exactly), alongside `depth_units` = `sample*depth_scale`. Reading back is
/// `depth = Float(sample) * Float(depth_scale)`; the error is at most `scale / 2`, i.e.
/// `max_depth / 131070` (7.6e-6 of the largest depth), plus float32 rounding. Non-finite or non-positive depths become 0.
public enum DepthPNG16 {
    /// The `tEXt` keyword holding the scale.
    public static let scaleKey = "depth_scale"

    /// The scale used for `depth`: `max / 65535` (1 when there is no positive finite depth).
    public static func scale(for depth: [Float]) -> Float {
        let maxDepth = depth.reduce(Float(0)) { $1.isFinite ? max($0, $1) : $0 }
        return maxDepth > 0 ? maxDepth / 65535 : 1
    }

    /// Quantizes `depth` (row-major `width x height`) and encodes it.
    public static func encode(_ depth: [Float], width: Int, height: Int) throws -> Data {
        let s = scale(for: depth)
        let samples = depth.map { d -> UInt16 in
            guard d.isFinite, d > 0 else { return 0 }
            return UInt16(min(65535, max(0, (d / s).rounded())))
        }
        return try PNGEncoder.encodeGray16(samples, width: width, height: height,
                                           text: [(scaleKey, String(format: "%.9g", Double(s))), ("depth_units", "sample*depth_scale")])
    }
}
