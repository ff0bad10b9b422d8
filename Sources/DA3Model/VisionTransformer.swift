import DA3Kernels

/// The DINOv2 backbone with DA3's additions (`model/dinov2/vision_transformer.py`):
/// patch embedding, position embedding, RoPE, alternating local/global attention,
/// camera token, and concatenated local/global outputs.
struct VisionTransformer {
    let config: ModelConfig
    /// Patch embedding Conv2d(3, D, 14, stride 14) as a linear layer on flattened (3, 14, 14) patches,
    /// always FP32 (packed for the FP32 micro-kernel where it runs).
    let patchEmbed: LinearWeights
    let clsToken: [Float]
    /// camera_token (2 x D): [0] for the reference view.
    let cameraToken: [Float]
    /// pos_embed (1 + M*M) x D, M = grid side of the pretraining size.
    let posEmbed: [Float]
    let posGrid: Int
    let blocks: [TransformerBlock]
    /// Final norm, applied to the global half of each output (eps 1e-5).
    let norm: LayerNormWeights

    init(_ loader: WeightLoader, config: ModelConfig, posEmbedTokens: Int, precision: Precision = .exact) throws {
        typealias K = CheckpointKeys.Backbone
        self.config = config
        let d = config.embedDim, p = config.patchSize
        patchEmbed = try LinearWeights(packing: loader, K.patchEmbed, in: 3 * p * p, out: d, weightShape: [d, 3, p, p],
                                       precision: .exact)
        clsToken = try loader.tensor(K.clsToken, [1, 1, d])
        cameraToken = try loader.tensor(K.cameraToken, [1, 2, d])
        posEmbed = try loader.tensor(K.posEmbed, [1, posEmbedTokens, d])
        let m = Int(Double(posEmbedTokens - 1).squareRoot())
        guard m * m == posEmbedTokens - 1 else {
            throw CheckpointError(file: loader.source.origin, reason: "pos_embed has \(posEmbedTokens) tokens, not 1 + a square")
        }
        posGrid = m
        blocks = try (0..<config.depth).map { try TransformerBlock(loader, index: $0, config: config, precision: precision) }
        norm = try LayerNormWeights(loader, K.norm, width: d, eps: 1e-5)
    }

    /// Backbone outputs for one view.
    struct Output {
        /// Per out-layer: (N, 2D) patch features = cat(local, norm(global)), token 0 dropped.
        var features: [Tensor]
        /// Token 0 of the last out-layer before the final norm (2D), input of the camera decoder.
        var cameraToken: [Float]
    }

    /// Runs the backbone on a planar (3, H, W) normalized image.
    func forward(_ image: [Float], plan: ShapePlan, scratch: inout BlockScratch, observer: StageObserver?) -> Output {
        let d = config.embedDim
        let n = plan.patchCount, t = n + 1
        var x = Tensor(zeros: [t, d])
        embedPatches(image, plan: plan, into: &x)
        observer?("patch_embed", Tensor(shape: [n, d], data: Array(x.data[d...])))
        x.data.withUnsafeMutableBufferPointer { xp in
            xp.baseAddress!.update(from: clsToken, count: d)
            plan.posEmbed.withUnsafeBufferPointer { Elementwise.add($0.baseAddress!, into: xp.baseAddress!, count: t * d) }
        }
        observer?("tokens", x)

        var localX = x
        var features: [Tensor] = [], cameraOutput: [Float] = []
        for (i, block) in blocks.enumerated() {
            if i == config.altStart {
                // The reference view's camera token replaces the cls token (no camera given).
                for c in 0..<d { x.data[c] = cameraToken[c] }
            }
            let isGlobal = config.altStart >= 0 && i >= config.altStart && i % 2 == 1
            block.forward(&x, positions: isGlobal ? plan.globalPositions : plan.localPositions, rope: plan.rope, scratch: &scratch)
            // The last local output, kept only where an output layer will read it (a 3.5 MB copy at 896 x 504).
            if !isGlobal && (config.outLayers.contains(i) || config.outLayers.contains(i + 1)) { localX = x }
            observer?("block.\(i)", x)
            if config.outLayers.contains(i) {
                // cat(local, norm(global)) per patch token; token 0 (before the norm) feeds the camera decoder.
                let k = features.count
                var f = Self.concatenateRows(localX, x, from: 1)
                f.data.withUnsafeMutableBufferPointer { fp in
                    norm(fp.baseAddress! + d, rows: n, inStride: 2 * d, into: fp.baseAddress! + d, outStride: 2 * d)
                }
                cameraOutput = Array(localX.data[0..<d]) + Array(x.data[0..<d])
                observer?("feat.\(k)", f)
                observer?("cam_token.\(k)", Tensor(shape: [2 * d], data: cameraOutput))
                features.append(f)
            }
        }
        return Output(features: features, cameraToken: cameraOutput)
    }

    /// cat(a, b) along channels for rows `first`... of two (tokens, D) tensors.
    static func concatenateRows(_ a: Tensor, _ b: Tensor, from first: Int = 0) -> Tensor {
        let (t, d) = (a.shape[0], a.shape[1])
        var out = Tensor(uninitialized: [t - first, 2 * d])
        out.data.withUnsafeMutableBufferPointer { o in
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    let io = UncheckedBox((o.baseAddress!, ap.baseAddress!, bp.baseAddress!))
                    Parallel.forEachChunk(t - first, costPerItem: 2 * d) { range in
                        let (o, a, b) = io.value
                        for r in range {
                            (o + r * 2 * d).update(from: a + (r + first) * d, count: d)
                            (o + r * 2 * d + d).update(from: b + (r + first) * d, count: d)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Patch embedding: gathers each 14x14x3 patch (channel-major, as the conv weight) and
    /// multiplies by the weight matrix; writes tokens 1... of `x`.
    private func embedPatches(_ image: [Float], plan: ShapePlan, into x: inout Tensor) {
        let p = config.patchSize, d = config.embedDim
        let (gh, gw) = (plan.gridHeight, plan.gridWidth)
        let (h, w) = (plan.height, plan.width)
        let k = 3 * p * p
        var patches = [Float](repeating: 0, count: gh * gw * k)
        image.withUnsafeBufferPointer { ib in
            patches.withUnsafeMutableBufferPointer { pb in
                let io = UncheckedBox((ib.baseAddress!, pb.baseAddress!))
                Parallel.forEachChunk(gh, costPerItem: gw * k) { rows in
                    let (image, patches) = io.value
                    for py in rows {
                        for px in 0..<gw {
                            let base = (py * gw + px) * k
                            for c in 0..<3 {
                                for ky in 0..<p {
                                    (patches + base + (c * p + ky) * p).update(from: image + (c * h + py * p + ky) * w + px * p,
                                                                               count: p)
                                }
                            }
                        }
                    }
                }
            }
        }
        x.data.withUnsafeMutableBufferPointer { xp in
            patches.withUnsafeBufferPointer { pp in
                patchEmbed(pp.baseAddress!, rows: gh * gw, into: xp.baseAddress! + d)
            }
        }
    }

    /// pos_embed for a gh x gw grid: bicubic resize of the patch part with the official
    /// scale factors ((gh + 0.1) / M, (gw + 0.1) / M); unchanged when the grid is M x M
    /// and the image square (the official shortcut).
    func interpolatedPosEmbed(gridHeight gh: Int, gridWidth gw: Int, square: Bool) -> [Float] {
        let d = config.embedDim, m = posGrid
        if gh * gw == m * m && square { return posEmbed }
        // The patch tokens are already channels-last: (M*M, D) → (gh*gw, D) after the cls token.
        var out = [Float](repeating: 0, count: (1 + gh * gw) * d)
        posEmbed.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                dst.baseAddress!.update(from: src.baseAddress!, count: d)
                Resize.bicubic(src.baseAddress! + d, channels: d, height: m, width: m, outHeight: gh, outWidth: gw,
                               scaleHeight: (Double(gh) + 0.1) / Double(m), scaleWidth: (Double(gw) + 0.1) / Double(m),
                               into: dst.baseAddress! + d)
            }
        }
        return out
    }
}
