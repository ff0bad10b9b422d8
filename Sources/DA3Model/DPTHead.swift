import DA3Kernels
import DA3Weights
import Foundation

/// The DPT head of DA3METRIC-LARGE and DA3MONO-LARGE (`model/dpt.py`, `norm_type="idt"`,
/// `pos_embed=False`, `output_dim=1`, `use_sky_head=True`): the DualDPT main branch's fusion
/// pyramid without its input norm and UV embedding, one depth channel (exp) and a sky map
/// (`sky_output_conv2`, ReLU).
struct DPTHead<B: ComputeBackend> {
    let patchSize: Int
    let pyramid: DPTFusionPyramid<B>
    let outputConv1: B.ConvOp
    /// output_conv2 and sky_output_conv2: 3x3 (after the final upsampling) -> ReLU -> 1x1.
    let depth3x3: B.ConvOp, depth1x1: B.ConvOp
    let sky3x3: B.ConvOp, sky1x1: B.ConvOp

    init(_ backend: B, _ loader: WeightLoader, config: ModelConfig) throws {
        typealias K = CheckpointKeys.Head
        let f = config.headFeatures
        patchSize = config.patchSize
        pyramid = try DPTFusionPyramid(backend, loader, config: config, dimIn: config.embedDim)
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
            let x = run.project(&features[k], norm: inputNorm, pyramid.projects[k], height: gh, width: gw)
            observer?(StageNames.headProjection(k), run.host(x))
            levels.append(pyramid.level(k, projected: x, run, observer: observer))
        }
        var out = pyramid.refineDown(levels, run, observer: observer)
        // refinenet1's final upsampling fused into output_conv1, then output_conv1's map upsampled to
        // the image inside each branch's 3x3 convolution.
        let (h1, w1) = (2 * levels[0].shape[1], 2 * levels[0].shape[2])
        let low = pyramid.refine[0].forwardBeforeResize(out, lateral: levels[0], run)
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
