import DA3Kernels
import DA3Weights
import Foundation

/// The DPT head of DA3METRIC-LARGE and DA3MONO-LARGE (`model/dpt.py`, `norm_type="idt"`,
/// `pos_embed=False`, `output_dim=1`, `use_sky_head=True`): the DualDPT main branch's fusion
/// pyramid without its input norm and UV embedding, one depth channel (exp) and a sky map
/// (`sky_output_conv2`, ReLU).
struct DPTHead<B: ComputeBackend> {
    let patchSize: Int
    let projects: [B.ProjectionOp]
    let upsample4: B.ConvTransposeOp
    let upsample2: B.ConvTransposeOp
    let downsample: B.ConvOp
    let layerRN: [B.ConvOp]
    let refine: [FeatureFusionBlock<B>]
    let outputConv1: B.ConvOp
    /// output_conv2 and sky_output_conv2: 3x3 (after the final upsampling) -> ReLU -> 1x1.
    let depth3x3: B.ConvOp, depth1x1: B.ConvOp
    let sky3x3: B.ConvOp, sky1x1: B.ConvOp

    init(_ backend: B, _ loader: WeightLoader, config: ModelConfig) throws {
        typealias K = CheckpointKeys.Head
        let dimIn = config.embedDim, oc = config.headOutChannels, f = config.headFeatures
        patchSize = config.patchSize
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
        depth3x3 = try backend.conv(ConvParameters(K.outputConv2a, in: f / 2, out: 32, kernel: 3, padding: 1), from: loader)
        depth1x1 = try backend.conv(ConvParameters(K.outputConv2b, in: 32, out: 1, kernel: 1), from: loader)
        sky3x3 = try backend.conv(ConvParameters(K.skyOutputConv2a, in: f / 2, out: 32, kernel: 3, padding: 1), from: loader)
        sky1x1 = try backend.conv(ConvParameters(K.skyOutputConv2b, in: 32, out: 1, kernel: 1), from: loader)
    }

    /// Depth (exp of the logit) and sky (ReLU), each H x W on the host. `features` are the
    /// backbone's rows before its final norm, applied here (`inputNorm`) as the head's first step.
    func forward(_ features: inout [B.Tensor], inputNorm: B.LayerNormOp, plan: ShapePlan, _ run: B.Execution,
                 observer: StageObserver?) -> (depth: [Float], sky: [Float]) {
        let (gh, gw) = (plan.gridHeight, plan.gridWidth)
        var levels: [B.Tensor] = []
        for k in 0..<4 {
            var x = run.project(&features[k], norm: inputNorm, projects[k], height: gh, width: gw)
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
        // refinenet1's final upsampling fused into output_conv1, then output_conv1's map upsampled to
        // the image inside each branch's 3x3 convolution.
        let (h1, w1) = (2 * levels[0].shape[1], 2 * levels[0].shape[2])
        let low = refine[0].forwardBeforeResize(out, lateral: levels[0], run)
        out = run.upsampledConvolution(outputConv1, low, height: h1, width: w1)
        observer?(StageNames.headOutConv1, run.host(out))
        let (height, width) = (gh * patchSize, gw * patchSize)
        let depthLogits = run.conv(depth1x1, run.upsampledConvolution(depth3x3, out, height: height, width: width),
                                   reluInput: true, residual: nil)
        let skyLogits = run.conv(sky1x1, run.upsampledConvolution(sky3x3, out, height: height, width: width),
                                 reluInput: true, residual: nil)
        let depth = run.host(depthLogits).data.map { expf($0) }
        let sky = run.host(skyLogits).data.map { max($0, 0) }
        return (depth, sky)
    }
}
