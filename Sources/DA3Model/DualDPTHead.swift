import DA3Kernels
import DA3Weights

/// The DualDPT head's main (depth) branch (`model/dualdpt.py`, fusion blocks from `model/dpt.py`).
/// The auxiliary ray branch (`RayHead`) runs only when a pass asks for rays: it does not affect depth.
struct DualDPTHead<B: ComputeBackend> {
    let patchSize: Int
    let norm: B.LayerNormOp
    let pyramid: DPTFusionPyramid<B>
    let outputConv1: B.ConvOp
    /// output_conv2 (3x3 → ReLU → 1x1) with the activations, after the final upsampling.
    let output: B.OutputStageOp

    init(_ backend: B, _ loader: WeightLoader, config: ModelConfig) throws {
        typealias K = CheckpointKeys.Head
        let dimIn = 2 * config.embedDim, f = config.headFeatures
        patchSize = config.patchSize
        norm = try backend.layerNorm(LayerNormParameters(K.norm, width: dimIn, eps: 1e-5), from: loader)
        pyramid = try DPTFusionPyramid(backend, loader, config: config, dimIn: dimIn)
        outputConv1 = try backend.conv(ConvParameters(K.outputConv1, in: f, out: f / 2, kernel: 3, padding: 1), from: loader)
        output = try backend.outputStage(OutputStageParameters(
            conv3x3: ConvParameters(K.outputConv2a, in: f / 2, out: 32, kernel: 3, padding: 1),
            conv1x1: ConvParameters(K.outputConv2b, in: 32, out: 2, kernel: 1)), from: loader)
    }

    /// Returns depth (exp of the first logit) and confidence (exp + 1 of the second), H x W, and
    /// with `rayHead` the auxiliary branch's ray map on the same pyramid levels.
    /// Each backbone feature is consumed by its projection (28 MB at 896 x 504 for DA3-Small).
    func forward(_ features: inout [B.Tensor], plan: ShapePlan, _ run: B.Execution, observer: StageObserver?,
                 captureFullResolution: Bool, rayHead: RayHead<B>? = nil) -> (depth: B.Tensor, confidence: B.Tensor, rays: RayMap?) {
        let (gh, gw) = (plan.gridHeight, plan.gridWidth)
        var levels: [B.Tensor] = []
        for k in 0..<4 {
            var x = run.project(&features[k], norm: norm, pyramid.projects[k], height: gh, width: gw)
            let uv = UVEmbedding.tables(channels: x.shape[0], width: gw, height: gh, imageWidth: plan.width,
                                        imageHeight: plan.height)
            run.addPositionTables(&x, columns: uv.col, rows: uv.row)
            observer?(StageNames.headProjection(k), run.host(x))
            levels.append(pyramid.level(k, projected: x, run, observer: observer))
        }
        let rays = rayHead?.forward(levels: levels, plan: plan, run)
        var out = pyramid.refineDown(levels, run, observer: observer)
        let (h1, w1) = (2 * levels[0].shape[1], 2 * levels[0].shape[2])
        if observer != nil && captureFullResolution {
            out = pyramid.refine[0].forward(out, lateral: levels[0], height: h1, width: w1, run)
            observer?(StageNames.headRefine(1), run.host(out))
            out = run.conv(outputConv1, out)
        } else {
            // refinenet1's final upsampling fused into output_conv1.
            let low = pyramid.refine[0].forwardBeforeResize(out, lateral: levels[0], run)
            observer?(StageNames.headRefine(1), run.host(low))
            out = run.upsampledConvolution(outputConv1, low, height: h1, width: w1)
        }
        observer?(StageNames.headOutConv1, run.host(out))
        let (height, width) = (gh * patchSize, gw * patchSize)
        let uv = UVEmbedding.tables(channels: out.shape[0], width: width, height: height, imageWidth: plan.width,
                                    imageHeight: plan.height)
        let intermediates = observer != nil && captureFullResolution
        let result = run.outputStage(output, out, height: height, width: width, columns: uv.col, rows: uv.row,
                                     intermediates: intermediates)
        if intermediates, let observer, let upsampled = result.upsampled, let logits = result.logits {
            observer(StageNames.headUpsampled, run.host(upsampled))
            observer(StageNames.headLogits, run.host(logits))
        }
        return (result.depth, result.confidence, rays)
    }
}
