import DA3Kernels

/// The DualDPT head's main (depth) branch (`model/dualdpt.py`, fusion blocks from `model/dpt.py`).
/// The auxiliary ray branch is not computed: it does not affect depth.
struct DualDPTHead {
    let patchSize: Int
    let norm: LayerNormWeights
    /// 1x1 projections to out_channels[k], as (C_k x 2D) matrices with bias.
    let projects: [LinearWeights]
    /// The projections' weights as bfloat16 (`Precision.fast`; empty otherwise).
    let projectsBF16: [[UInt16]]
    /// resize_layers: ConvTranspose k4s4, ConvTranspose k2s2, identity, Conv 3x3 stride 2.
    let upsample4: (weight: WeightMemory<Float>, bias: [Float], channels: Int)
    let upsample2: (weight: WeightMemory<Float>, bias: [Float], channels: Int)
    let downsample: ConvWeights
    /// layer{1..4}_rn: 3x3 to `features`, no bias.
    let layerRN: [ConvWeights]
    /// refinenet1...4 (index 0 = refinenet1).
    let refine: [FeatureFusionBlock]
    let outputConv1: ConvWeights
    let output: OutputStage

    /// `precision: .fast` runs the projections, the 3x3 convolutions' Winograd channel mixes and
    /// the strided convolution in bfloat16.
    init(_ loader: WeightLoader, config: ModelConfig, precision: Precision = .exact) throws {
        typealias K = CheckpointKeys.Head
        let dimIn = 2 * config.embedDim, oc = config.headOutChannels, f = config.headFeatures
        patchSize = config.patchSize
        norm = try LayerNormWeights(loader, K.norm, width: dimIn, eps: 1e-5)
        projects = try (0..<4).map { k in
            let shape = [oc[k], dimIn, 1, 1]
            return precision == .fast
                ? try LinearWeights(loader, K.project(k), in: dimIn, out: oc[k], weightShape: shape)
                : try LinearWeights(packing: loader, K.project(k), in: dimIn, out: oc[k], weightShape: shape, precision: .exact)
        }
        projectsBF16 = precision == .fast ? projects.map { $0.weight.bf16() } : []
        upsample4 = (try loader.memory(K.resize(0) + ".weight", [oc[0], oc[0], 4, 4]),
                     try loader.tensor(K.resize(0) + ".bias", [oc[0]]), oc[0])
        upsample2 = (try loader.memory(K.resize(1) + ".weight", [oc[1], oc[1], 2, 2]),
                     try loader.tensor(K.resize(1) + ".bias", [oc[1]]), oc[1])
        downsample = try ConvWeights(loader, K.resize(3), in: oc[3], out: oc[3], kernel: 3, stride: 2, padding: 1,
                                     precision: precision)
        layerRN = try (0..<4).map { try ConvWeights(loader, K.layerRN($0), in: oc[$0], out: f, kernel: 3, padding: 1, bias: false,
                                                    precision: precision) }
        refine = try (1...4).map { try FeatureFusionBlock(loader, K.refine($0), features: f, hasResidual: $0 != 4,
                                                         precision: precision) }
        outputConv1 = try ConvWeights(loader, K.outputConv1, in: f, out: f / 2, kernel: 3, padding: 1,
                                      precision: precision)
        output = OutputStage(conv2a: try ConvWeights(loader, K.outputConv2a, in: f / 2, out: 32, kernel: 3, padding: 1,
                                                 precision: precision),
                             conv2b: try ConvWeights(loader, K.outputConv2b, in: 32, out: 2, kernel: 1))
    }

    /// Returns depth (exp of the first logit) and confidence (exp + 1 of the second), H x W.
    /// Each backbone feature is released once projected (28 MB at 896 x 504 for DA3-Small).
    func forward(_ features: inout [Tensor], plan: ShapePlan, observer: StageObserver?,
                 captureFullResolution: Bool) -> (depth: [Float], confidence: [Float]) {
        let (gh, gw) = (plan.gridHeight, plan.gridWidth)
        let n = gh * gw
        var levels: [Tensor] = []
        for k in 0..<4 {
            var x = project(&features[k], level: k, tokens: n, height: gh, width: gw)
            UVEmbedding.add(to: &x, imageWidth: plan.width, imageHeight: plan.height)
            observer?("head.proj.\(k)", x)
            switch k {
            case 0: x = Self.convTranspose(x, upsample4, stride: 4)
            case 1: x = Self.convTranspose(x, upsample2, stride: 2)
            case 3: x = downsample(x)
            default: break
            }
            observer?("head.resized.\(k)", x)
            let rn = layerRN[k](x)
            observer?("head.rn.\(k)", rn)
            levels.append(rn)
        }
        var out = refine[3].forward(levels[3], lateral: nil, height: levels[2].shape[1], width: levels[2].shape[2])
        observer?("head.refine.4", out)
        out = refine[2].forward(out, lateral: levels[2], height: levels[1].shape[1], width: levels[1].shape[2])
        observer?("head.refine.3", out)
        out = refine[1].forward(out, lateral: levels[1], height: levels[0].shape[1], width: levels[0].shape[2])
        observer?("head.refine.2", out)
        let (h1, w1) = (2 * levels[0].shape[1], 2 * levels[0].shape[2])
        if observer != nil && captureFullResolution {
            out = refine[0].forward(out, lateral: levels[0], height: h1, width: w1)
            observer?("head.refine.1", out)
            out = outputConv1(out)
        } else {
            // refinenet1's final upsampling fused into output_conv1, band by band.
            let low = refine[0].forwardBeforeResize(out, lateral: levels[0])
            observer?("head.refine.1", low)
            out = Self.upsampledConvolution(low, height: h1, width: w1, conv: outputConv1)
        }
        observer?("head.out_conv1", out)
        return output.forward(out, height: gh * patchSize, width: gw * patchSize, plan: plan,
                              observer: captureFullResolution ? observer : nil)
    }

    /// projects[k] (a 1x1 convolution) of the normalized feature (tokens x 2D) as a (C, gh, gw) map.
    /// The feature is released (28 MB at 896 x 504 for DA3-Small) and its buffer reused.
    private func project(_ feature: inout Tensor, level k: Int, tokens n: Int, height gh: Int, width gw: Int) -> Tensor {
        // The feature is normalized in place: its buffer is no longer shared once taken out.
        var normed = feature.data
        feature = Tensor(zeros: [0])
        let dimIn = normed.count / n
        let proj = projects[k], c = proj.outFeatures
        var x = Tensor(uninitialized: [c, gh, gw])
        x.data.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!
            normed.withUnsafeMutableBufferPointer { nb in
                let np = nb.baseAddress!
                if proj.isPackedF32 {
                    // Token-major products, normalized part by part, each finished part transposed into the map.
                    let rows = UnsafeMutablePointer<Float>.allocate(capacity: n * c)
                    defer { rows.deallocate() }
                    proj.forward(np, rows: n, input: { first, count, into in
                        norm(np + first * dimIn, rows: count, into: into, parallel: false)
                    }, output: { first, count in
                        for t in first..<(first + count) {
                            for o in 0..<c { xp[o * n + t] = rows[t * c + o] }
                        }
                    }, staging: np, into: rows)
                    return
                }
                // 1x1 conv on the (2D, gh, gw) map = W (C x 2D) * normed^T.
                norm(np, rows: n, into: np)
                if projectsBF16.isEmpty {
                    proj.weight.withUnsafeBufferPointer { wp in
                        GEMM.sgemm(transB: true, m: c, n: n, k: dimIn, a: wp.baseAddress!, lda: dimIn, b: np, ldb: dimIn,
                                   c: xp, ldc: n)
                    }
                } else {
                    projectsBF16[k].withUnsafeBufferPointer { wp in
                        GEMMBF16.product(wp.baseAddress!, m: c, b: np, layout: .rows, n: n, k: dimIn, into: xp, ldc: n)
                    }
                }
                proj.bias.withUnsafeBufferPointer {
                    Elementwise.addChannelBias($0.baseAddress!, into: xp, channels: c, plane: n)
                }
            }
        }
        return x
    }

    /// conv(bilinear(x)) for a 3x3 pad-1 `conv`, without materializing bilinear(x).
    private static func upsampledConvolution(_ x: Tensor, height: Int, width: Int, conv: ConvWeights) -> Tensor {
        guard let winograd = conv.winograd else { return conv(x.resizedBilinear(height: height, width: width)) }
        var y = Tensor(uninitialized: [conv.outChannels, height, width])
        y.data.withUnsafeMutableBufferPointer { yb in
            let yp = yb.baseAddress!
            UpsampledConvolution(conv: winograd).forward(x, height: height, width: width) { band in
                for o in 0..<conv.outChannels {
                    (yp + (o * height + band.row0) * width).update(from: band.interior + o * band.planeStride,
                                                                   count: band.rows * width)
                }
            }
        }
        return y
    }

    private static func convTranspose(_ x: Tensor, _ layer: (weight: WeightMemory<Float>, bias: [Float], channels: Int),
                                      stride s: Int) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        var y = Tensor(uninitialized: [layer.channels, h * s, w * s])
        x.data.withUnsafeBufferPointer { xp in
            layer.weight.withUnsafeBufferPointer { wp in
                layer.bias.withUnsafeBufferPointer { bp in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        ConvTranspose2D.forward(xp.baseAddress!, channels: c, height: h, width: w, weight: wp.baseAddress!,
                                                bias: bp.baseAddress!, outChannels: layer.channels, stride: s, into: yp.baseAddress!)
                    }
                }
            }
        }
        return y
    }
}
