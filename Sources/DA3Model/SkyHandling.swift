import Foundation

/// The official models' sky post-processing (`_process_mono_sky_estimation` in `model/da3.py`,
/// `utils/alignment.py`), reproduced exactly with one documented departure: where the official
/// code draws 100,000 random pixels for a quantile on large images (`torch.randint` /
/// `torch.randperm`), this takes the quantile over all pixels, so the result is deterministic and
/// equal to the official one whenever it does not sample (images up to 100,000 pixels).
public enum SkyHandling {
    /// A pixel is sky where the sky map is >= this (`compute_sky_mask(threshold=0.3)`).
    public static let threshold: Float = 0.3
    /// The nested model's cap on the depth given to sky (`sky_depth_def`).
    public static let nestedSkyDepthCap: Float = 200

    /// `torch.quantile(values, q)` (linear interpolation between the two nearest ranks, in float32).
    public static func quantile(_ values: [Float], _ q: Float) -> Float {
        precondition(!values.isEmpty)
        let sorted = values.sorted()
        let rank = q * Float(sorted.count - 1)
        let below = rank.rounded(.down), weight = rank - below
        let lo = sorted[Int(below)], hi = sorted[min(Int(rank.rounded(.up)), sorted.count - 1)]
        // torch.lerp's two-sided formula.
        return weight < 0.5 ? lo + weight * (hi - lo) : hi - (hi - lo) * (1 - weight)
    }

    /// The mono/metric models' own handling: with more than 10 sky and more than 10 non-sky pixels,
    /// sky depth becomes the 0.99 quantile of the non-sky depth. Returns that depth (nil if unchanged).
    @discardableResult
    public static func applyMono(depth: inout [Float], sky: [Float]) -> Float? {
        let nonSky = depth.indices.filter { sky[$0] < threshold }
        guard nonSky.count > 10, depth.count - nonSky.count > 10 else { return nil }
        let maxDepth = quantile(nonSky.map { depth[$0] }, 0.99)
        for i in depth.indices where !(sky[i] < threshold) { depth[i] = maxDepth }
        return maxDepth
    }
}
