import DA3Kernels
import DA3Weights

/// The DINOv2 backbone with DA3's additions (`model/dinov2/vision_transformer.py`):
/// patch embedding, position embedding, RoPE, alternating local/global attention,
/// camera token, and concatenated local/global outputs.
struct VisionTransformer<B: ComputeBackend> {
    let config: ModelConfig
    /// Patch embedding Conv2d(3, D, 14, stride 14).
    let patchEmbed: B.PatchEmbeddingOp
    let clsToken: [Float]
    /// camera_token (2 x D): [0] for the reference view.
    let cameraToken: [Float]
    /// pos_embed (1 + M*M) x D, M = grid side of the pretraining size (mapped from the weight cache
    /// file on a cached load: it is read only to make each image size's plan).
    let posEmbed: WeightMemory<Float>
    let posGrid: Int
    let blocks: [TransformerBlock<B>]
    /// Final norm, applied to the global half of each output (eps 1e-5).
    let norm: B.LayerNormOp

    init(_ backend: B, _ loader: WeightLoader, config: ModelConfig, posEmbedTokens: Int) throws {
        typealias K = CheckpointKeys.Backbone
        self.config = config
        let d = config.embedDim, p = config.patchSize
        patchEmbed = try backend.patchEmbedding(LinearParameters(K.patchEmbed, in: 3 * p * p, out: d, weightShape: [d, 3, p, p]),
                                                from: loader)
        clsToken = try loader.tensor(K.clsToken, [1, 1, d])
        // Only the any-view models have camera tokens (alt_start != -1).
        cameraToken = config.hasCamera ? try loader.tensor(K.cameraToken, [1, 2, d]) : []
        posEmbed = try loader.memory(K.posEmbed, [1, posEmbedTokens, d])
        let m = Int(Double(posEmbedTokens - 1).squareRoot())
        guard m * m == posEmbedTokens - 1 else {
            throw CheckpointError(file: loader.origin, reason: "pos_embed has \(posEmbedTokens) tokens, not 1 + a square")
        }
        posGrid = m
        blocks = try (0..<config.depth).map { try TransformerBlock(backend, loader, index: $0, config: config) }
        norm = try backend.layerNorm(LayerNormParameters(K.norm, width: d, eps: 1e-5), from: loader)
    }

    /// Backbone outputs for one view.
    struct Output {
        /// Per out-layer: (N, 2D) patch features = cat(local, norm(global)), token 0 dropped; without
        /// the cat token (`catToken` false), the (N, D) rows before the final norm, which the DPT
        /// head applies (`norm`) as its first step.
        var features: [B.Tensor]
        /// Token 0 of the last out-layer before the final norm (1, 2D), input of the camera decoder
        /// (nil without a camera).
        var cameraToken: B.Tensor?
    }

    /// Runs the backbone on a planar (3, H, W) normalized image.
    func forward(_ image: [Float], plan: ShapePlan, _ run: B.Execution, observer: StageObserver?) -> Output {
        let n = plan.patchCount, t = n + 1
        var x = run.embedPatches(patchEmbed, image: image, height: plan.height, width: plan.width)
        if let observer {
            let tokens = run.host(x), d = tokens.shape[1]
            observer(StageNames.patchEmbed, Tensor(shape: [n, d], data: Array(tokens.data[d...])))
        }
        run.startTokens(&x, classToken: clsToken, positionEmbedding: plan.posEmbed)
        observer?(StageNames.tokens, run.host(x))

        var localX = x
        var features: [B.Tensor] = [], cameraOutput: B.Tensor?
        for (i, block) in blocks.enumerated() {
            if i == config.altStart {
                // The reference view's camera token replaces the cls token (no camera given).
                run.setRow(&x, 0, to: cameraToken)
            }
            let isGlobal = config.altStart >= 0 && i >= config.altStart && i % 2 == 1
            block.forward(&x, positions: isGlobal ? plan.globalPositions : plan.localPositions, rope: plan.rope, run)
            // The last local output, kept only where an output layer will read it (a 3.5 MB copy at 896 x 504).
            if config.catToken && !isGlobal && (config.outLayers.contains(i) || config.outLayers.contains(i + 1)) { localX = x }
            observer?(StageNames.block(i), run.host(x))
            if config.outLayers.contains(i) && !config.catToken {
                // norm(x) per patch token, the norm left to the head's projection (the same rows).
                let f = run.rows(x, 1..<t)
                features.append(f)
                continue
            }
            if config.outLayers.contains(i) {
                // cat(local, norm(global)) per patch token; token 0 (before the norm) feeds the camera decoder.
                let k = features.count
                let f = run.concatenate(localX, x, rows: 1..<t, normalizingSecond: norm)
                let camera = run.concatenate(localX, x, rows: 0..<1, normalizingSecond: nil)
                observer?(StageNames.feature(k), run.host(f))
                observer?(StageNames.cameraToken(k), Tensor(shape: [camera.shape[1]], data: run.host(camera).data))
                features.append(f)
                cameraOutput = camera
            }
        }
        return Output(features: features, cameraToken: cameraOutput)
    }

    /// pos_embed for a gh x gw grid: bicubic resize of the patch part with the official
    /// scale factors ((gh + 0.1) / M, (gw + 0.1) / M); unchanged when the grid is M x M
    /// and the image square (the official shortcut).
    func interpolatedPosEmbed(gridHeight gh: Int, gridWidth gw: Int, square: Bool) -> [Float] {
        let d = config.embedDim, m = posGrid
        return posEmbed.withUnsafeBufferPointer { all in
            if gh * gw == m * m && square { return Array(all) }
            // The patch tokens are already channels-last: (M*M, D) → (gh*gw, D) after the cls token.
            return [Float](unsafeUninitializedCapacity: d * (1 + gh * gw)) { out, initialized in
                out.baseAddress!.update(from: all.baseAddress!, count: d)
                Resize.bicubic(all.baseAddress! + d, channels: d, height: m, width: m, outHeight: gh, outWidth: gw,
                               scaleHeight: (Double(gh) + 0.1) / Double(m), scaleWidth: (Double(gw) + 0.1) / Double(m),
                               into: out.baseAddress! + d)
                initialized = d * (1 + gh * gw)
            }
        }
    }
}
