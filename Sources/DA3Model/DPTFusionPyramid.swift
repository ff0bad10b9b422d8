import DA3Kernels
import DA3Weights

/// The fusion pyramid both DPT heads share (`model/dpt.py`, `model/dualdpt.py`): per backbone level
/// a 1x1 projection, a resize to its pyramid scale and layer{k}_rn, then the refinenets from the
/// coarsest level down. The heads differ around it: DualDPT normalizes its input and adds UV
/// position tables after the projection; the DPT head of Metric/Mono does neither.
struct DPTFusionPyramid<B: ComputeBackend> {
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

    /// `dimIn`: the width of the backbone rows the projections read.
    init(_ backend: B, _ loader: WeightLoader, config: ModelConfig, dimIn: Int) throws {
        typealias K = CheckpointKeys.Head
        let oc = config.headOutChannels, f = config.headFeatures
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
    }

    /// Level k's projected map resized to its scale, then layer{k}_rn.
    func level(_ k: Int, projected x: B.Tensor, _ run: B.Execution, observer: StageObserver?) -> B.Tensor {
        var x = x
        switch k {
        case 0: x = run.convTranspose(upsample4, x)
        case 1: x = run.convTranspose(upsample2, x)
        case 3: x = run.conv(downsample, x)
        default: break
        }
        observer?(StageNames.headResized(k), run.host(x))
        let rn = run.conv(layerRN[k], x)
        observer?(StageNames.headRN(k), run.host(rn))
        return rn
    }

    /// refinenet4, 3 and 2 over the levels (coarsest first); refinenet1 is the heads' own business.
    func refineDown(_ levels: [B.Tensor], _ run: B.Execution, observer: StageObserver?) -> B.Tensor {
        var out = refine[3].forward(levels[3], lateral: nil, height: levels[2].shape[1], width: levels[2].shape[2], run)
        observer?(StageNames.headRefine(4), run.host(out))
        out = refine[2].forward(out, lateral: levels[2], height: levels[1].shape[1], width: levels[1].shape[2], run)
        observer?(StageNames.headRefine(3), run.host(out))
        out = refine[1].forward(out, lateral: levels[1], height: levels[0].shape[1], width: levels[0].shape[2], run)
        observer?(StageNames.headRefine(2), run.host(out))
        return out
    }
}
