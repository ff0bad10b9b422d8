import DA3Kernels
import DA3Weights
import Foundation
import SafeTensors

/// The nested model (`NestedDepthAnything3Net` in `model/da3.py`): an any-view network (`model.da3.*`,
/// depth, confidence, camera) whose depth is aligned to the metric scale of a Metric-Large branch
/// (`model.da3_metric.*`), sky set to a far depth. The result is in metres.
///
/// Steps, as official (`_apply_metric_scaling`, `_apply_depth_alignment`, `_handle_sky_regions`):
/// metric depth *= focal / 300 with focal = (fx + fy) / 2 of the any-view camera; non-sky = sky < 0.3;
/// scale = least squares of metric on any-view depth over non-sky pixels with confidence >= the
/// median non-sky confidence, metric depth > 0.01 and depth > 0.001; depth and camera translation
/// *= scale; sky depth = min(0.99 quantile of non-sky depth, 200), sky confidence = 1. Quantiles use
/// every pixel (the official code samples 100,000 at random on larger images; see `SkyHandling`).
public final class NestedDepthAnything3Net<B: ComputeBackend>: @unchecked Sendable {
    public let config: ModelConfig
    public let anyview: DepthAnything3Net<B>
    public let metric: DepthAnything3Net<B>

    /// Loads both branches from one source, each strictly over its own part.
    public init(config: ModelConfig, backend: B, weights source: WeightSource, posEmbedTokens: (Int?, Int?) = (nil, nil)) throws {
        guard let metricConfig = config.metricBranch else {
            throw CheckpointError(file: source.origin, reason: "\(config.name) is not a nested model")
        }
        self.config = config
        var single = config
        single.nestedBranches = []
        let anyPrefix = ModelDetection.nestedAnyview, metricPrefix = ModelDetection.nestedMetric
        // The gs / camera-encoder parts of the any-view branch stay ignored as for a single network.
        anyview = try DepthAnything3Net(config: single, backend: backend, weights: SubtreeWeightSource(source, prefix: anyPrefix),
                                        posEmbedTokens: posEmbedTokens.0, keyPrefix: anyPrefix)
        metric = try DepthAnything3Net(config: metricConfig, backend: backend,
                                       weights: SubtreeWeightSource(source, prefix: metricPrefix),
                                       posEmbedTokens: posEmbedTokens.1, keyPrefix: metricPrefix)
        let outside = source.unusedKeys(used: []).filter { !$0.hasPrefix(anyPrefix) && !$0.hasPrefix(metricPrefix) }
        if let first = outside.first {
            throw CheckpointError(file: source.origin, reason: "unexpected tensor '\(first)' outside '\(anyPrefix)' and '\(metricPrefix)'")
        }
    }

    /// Loads a safetensors checkpoint (`config` nil: read from the tensors).
    public convenience init(checkpoint file: SafeTensorsFile, config: ModelConfig?, backend: B) throws {
        let resolved = try ModelDetection.resolve(config, in: file)
        func posTokens(_ prefix: String) -> Int? {
            file.tensors[prefix + CheckpointKeys.Backbone.posEmbed]?.shape.dropFirst().first
        }
        try self.init(config: resolved, backend: backend, weights: SafeTensorsWeightSource(file: file),
                      posEmbedTokens: (posTokens(ModelDetection.nestedAnyview), posTokens(ModelDetection.nestedMetric)))
    }

    /// Both branches on one image (see `DepthAnything3Net.forward`), then the alignment. Observer
    /// stages of the metric branch are prefixed "metric.". Throws `NestedAlignmentError` where the
    /// official code would fail its assertion (10 or fewer non-sky pixels).
    public func forward(_ image: [Float], height: Int, width: Int, observer: StageObserver? = nil,
                        captureFullResolution: Bool = true) throws -> NetworkOutput {
        var out = anyview.forward(image, height: height, width: width, observer: observer,
                                  captureFullResolution: captureFullResolution)
        let metricObserver: StageObserver? = observer.map { o in { name, t in o("metric." + name, t) } }
        let m = metric.forward(image, height: height, width: width, observer: metricObserver,
                               captureFullResolution: captureFullResolution)
        let sky = m.sky!
        let focal = Float((Float(out.intrinsics.fx) + Float(out.intrinsics.fy)) / 2)
        let metricDepth = m.depth.map { $0 * (focal / 300) }
        let nonSky = sky.indices.filter { sky[$0] < SkyHandling.threshold }
        guard nonSky.count > 10 else { throw NestedAlignmentError(nonSkyPixels: nonSky.count) }
        let medianConf = SkyHandling.quantile(nonSky.map { out.confidence[$0] }, 0.5)
        var num = 0.0, den = 0.0
        for i in nonSky where out.confidence[i] >= medianConf && metricDepth[i] > 1e-2 && out.depth[i] > 1e-3 {
            num += Double(metricDepth[i]) * Double(out.depth[i])
            den += Double(out.depth[i]) * Double(out.depth[i])
        }
        let scale = Float(num / max(den, 1e-12))
        for i in out.depth.indices { out.depth[i] *= scale }
        for i in 0..<3 { out.poseEncoding[i] *= scale }
        let skyDepth = min(SkyHandling.quantile(nonSky.map { out.depth[$0] }, 0.99), SkyHandling.nestedSkyDepthCap)
        for i in sky.indices where !(sky[i] < SkyHandling.threshold) {
            out.depth[i] = skyDepth
            out.confidence[i] = 1
        }
        observer?("nested.scale_factor", Tensor(shape: [1], data: [scale]))
        observer?("nested.depth", Tensor(shape: [height, width], data: out.depth))
        out.sky = sky
        out.isMetric = true
        out.scaleFactor = scale
        return out
    }
}

/// The nested model cannot align: too few non-sky pixels (the official code asserts more than 10).
public struct NestedAlignmentError: Error, CustomStringConvertible {
    public let nonSkyPixels: Int
    public var description: String {
        "the nested model cannot align depth to metric scale: only \(nonSkyPixels) non-sky pixels (more than 10 needed)"
    }
}
