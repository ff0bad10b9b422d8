import DA3Kernels
import DA3Weights

/// The DualDPT head's main (depth) branch (`model/dualdpt.py`, fusion blocks from `model/dpt.py`).
/// The auxiliary ray branch is not computed: it does not affect depth.
struct DualDPTHead<B: ComputeBackend> {
    let patchSize: Int
    let norm: B.LayerNormOp
    /// 1x1 projections to out_channels[k].
    let projects: [B.ProjectionOp]
    /// resize_layers: ConvTranspose k4s4, ConvTranspose k2s2, identity, Conv 3x3 stride 2.
    let upsample4: B.ConvTransposeOp
    let upsample2: B.ConvTransposeOp
    let downsample: B.ConvOp
    /// layer{1..4}_rn: 3x3 to `features`, no bias.
    let layerRN: [B.ConvOp]
    /// refinenet1...4 (index 0 = refinenet1).
    let refine: [FeatureFusionBlock<B>]
    let outputConv1: B.ConvOp
    /// output_conv2 (3x3 → ReLU → 1x1) with the activations, after the final upsampling.
    let output: B.OutputStageOp

    init(_ backend: B, _ loader: WeightLoader, config: ModelConfig) throws {
        typealias K = CheckpointKeys.Head
        let dimIn = 2 * config.embedDim, oc = config.headOutChannels, f = config.headFeatures
        patchSize = config.patchSize
        norm = try backend.layerNorm(LayerNormParameters(K.norm, width: dimIn, eps: 1e-5), from: loader)
        projects = try (0..<4).map { k in
            try backend.projection(LinearParameters(K.project(k), in: dimIn, out: oc[k], weightShape: [oc[k], dimIn, 1, 1]),
                                   from: loader)
        }
        upsample4 = try backend.convTranspose(ConvTransposeParameters(K.resize(0), channels: oc[0], stride: 4), from: loader)
        upsample2 = try backend.convTranspose(ConvTransposeParameters(K.resize(1), channels: oc[1], stride: 2), from: loader)
        downsample = try backend.conv(ConvParameters(K.resize(3), in: oc[3], out: oc[3], kernel: 3, stride: 2, padding: 1),
                                      from: loader)
        layerRN = try (0..<4).map {
            try backend.conv(ConvParameters(K.layerRN($0), in: oc[$0], out: f, kernel: 3, padding: 1, bias: false), from: loader)
        }
        refine = try (1...4).map { try FeatureFusionBlock(backend, loader, K.refine($0), features: f, hasResidual: $0 != 4) }
        outputConv1 = try backend.conv(ConvParameters(K.outputConv1, in: f, out: f / 2, kernel: 3, padding: 1), from: loader)
        output = try backend.outputStage(OutputStageParameters(
            conv3x3: ConvParameters(K.outputConv2a, in: f / 2, out: 32, kernel: 3, padding: 1),
            conv1x1: ConvParameters(K.outputConv2b, in: 32, out: 2, kernel: 1)), from: loader)
    }

    /// Returns depth (exp of the first logit) and confidence (exp + 1 of the second), H x W.
    /// Each backbone feature is consumed by its projection (28 MB at 896 x 504 for DA3-Small).
    func forward(_ features: inout [B.Tensor], plan: ShapePlan, _ run: B.Execution, observer: StageObserver?,
                 captureFullResolution: Bool) -> (depth: B.Tensor, confidence: B.Tensor) {
        let (gh, gw) = (plan.gridHeight, plan.gridWidth)
        var levels: [B.Tensor] = []
        for k in 0..<4 {
            var x = run.project(&features[k], norm: norm, projects[k], height: gh, width: gw)
            let uv = UVEmbedding.tables(channels: x.shape[0], width: gw, height: gh, imageWidth: plan.width,
                                        imageHeight: plan.height)
            run.addPositionTables(&x, columns: uv.col, rows: uv.row)
            observer?(StageNames.headProjection(k), run.host(x))
            switch k {
            case 0: x = run.convTranspose(upsample4, x)
            case 1: x = run.convTranspose(upsample2, x)
            case 3: x = run.conv(downsample, x)
            default: break
            }
            observer?(StageNames.headResized(k), run.host(x))
            let rn = run.conv(layerRN[k], x)
            observer?(StageNames.headRN(k), run.host(rn))
            levels.append(rn)
        }
        var out = refine[3].forward(levels[3], lateral: nil, height: levels[2].shape[1], width: levels[2].shape[2], run)
        observer?(StageNames.headRefine(4), run.host(out))
        out = refine[2].forward(out, lateral: levels[2], height: levels[1].shape[1], width: levels[1].shape[2], run)
        observer?(StageNames.headRefine(3), run.host(out))
        out = refine[1].forward(out, lateral: levels[1], height: levels[0].shape[1], width: levels[0].shape[2], run)
        observer?(StageNames.headRefine(2), run.host(out))
        let (h1, w1) = (2 * levels[0].shape[1], 2 * levels[0].shape[2])
        if observer != nil && captureFullResolution {
            out = refine[0].forward(out, lateral: levels[0], height: h1, width: w1, run)
            observer?(StageNames.headRefine(1), run.host(out))
            out = run.conv(outputConv1, out)
        } else {
            // refinenet1's final upsampling fused into output_conv1.
            let low = refine[0].forwardBeforeResize(out, lateral: levels[0], run)
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
        return (result.depth, result.confidence)
    }
}
