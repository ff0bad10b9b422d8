import DA3Model
import Foundation
import SafeTensors

/// A network's full-size output against the official FP32 model's, for any backend: at full
/// resolution from `goldens-full/` when `tools/reference/make_goldens.py --full-dir goldens-full`
/// has been run, else at every 4th pixel against the committed `Tests/Fixtures/<preset>` goldens.
public struct FullSizeComparison {
    /// Pearson correlation and max relative error of depth and confidence.
    public let depthPearson: Double, depthMaxRel: Double, confidencePearson: Double, confidenceMaxRel: Double
    /// Relative error of the focal lengths.
    public let fxRel: Double, fyRel: Double
    /// "full resolution" or "every 4th pixel", and the number of pixels compared.
    public let label: String, pixels: Int
    /// The compared depth values (the full map or its every-4th-pixel subsample).
    public let depth: [Float]

    /// Compares `out` (DA3 `preset` "small" / "base", at `height` x `width`) with the goldens.
    public init(preset: String, height: Int, width: Int, output out: NetworkOutput) throws {
        let fullURL = Fixtures.repoRoot.appendingPathComponent("goldens-full/\(preset)_goldens_\(height)x\(width).safetensors")
        let golden = try SafeTensorsFile(url: Fixtures.url("\(preset)/goldens_\(height)x\(width).safetensors"))
        let depthRef: [Float], confRef: [Float], conf: [Float]
        if FileManager.default.fileExists(atPath: fullURL.path) {
            let full = try SafeTensorsFile(url: fullURL)
            (depthRef, confRef, depth, conf) = (try full.floats("depth"), try full.floats("depth_conf"), out.depth, out.confidence)
            label = "full resolution"
        } else {
            depthRef = try golden.floats("depth_s4")
            confRef = try golden.floats("conf_s4")
            depth = Self.subsample(out.depth, height: height, width: width, stride: 4)
            conf = Self.subsample(out.confidence, height: height, width: width, stride: 4)
            label = "every 4th pixel"
        }
        let k = try golden.floats("intrinsics")
        pixels = depth.count
        depthPearson = Metrics.pearson(depth, depthRef)
        depthMaxRel = Metrics.maxRelativeError(depth, reference: depthRef)
        confidencePearson = Metrics.pearson(conf, confRef)
        confidenceMaxRel = Metrics.maxRelativeError(conf, reference: confRef)
        fxRel = abs(out.intrinsics.fx - Double(k[0])) / Double(k[0])
        fyRel = abs(out.intrinsics.fy - Double(k[4])) / Double(k[4])
    }

    /// One line with every number, for the test log.
    public var summary: String {
        "\(label), \(pixels) px: depth pearson \(depthPearson) maxrel \(depthMaxRel); "
            + "conf pearson \(confidencePearson) maxrel \(confidenceMaxRel); fx rel \(fxRel), fy rel \(fyRel)"
    }

    /// The exact (FP32) path's bounds this comparison misses, in words (empty: all met): depth and
    /// confidence Pearson >= 0.999999 and max relative error <= 1e-4, fx and fy within 1e-4.
    public var exactBoundsMissed: [String] {
        [("depth pearson", depthPearson < 0.999999), ("depth maxrel", depthMaxRel > 1e-4),
         ("conf pearson", confidencePearson < 0.999999), ("conf maxrel", confidenceMaxRel > 1e-4),
         ("fx rel", fxRel > 1e-4), ("fy rel", fyRel > 1e-4)].filter(\.1).map(\.0)
    }

    /// Every `stride`-th pixel of every `stride`-th row.
    public static func subsample(_ map: [Float], height: Int, width: Int, stride: Int) -> [Float] {
        var out: [Float] = []
        for y in Swift.stride(from: 0, to: height, by: stride) {
            for x in Swift.stride(from: 0, to: width, by: stride) { out.append(map[y * width + x]) }
        }
        return out
    }
}
