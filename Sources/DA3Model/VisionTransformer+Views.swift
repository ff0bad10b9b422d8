import DA3Kernels

extension VisionTransformer {
    /// Backbone outputs for an any-view scene, in the caller's view order.
    struct ViewsOutput {
        /// Per view, per out-layer: (N, 2D) patch features = cat(local, norm(global)).
        var features: [[B.Tensor]]
        /// Per view: token 0 of the last out-layer (1, 2D), input of the camera decoder.
        var cameraTokens: [B.Tensor]
        /// The reference view (caller's index).
        var referenceView: Int
    }

    /// Runs the backbone on several views of one size at once (`_get_intermediate_layers_not_chunked`):
    /// local blocks attend within each view, global blocks across all views' tokens. Without
    /// `cameraTokens`, from `ReferenceViewStrategy.minimumViews` views on, the reference view chosen by
    /// `strategy` on the class tokens entering block `altStart - 1` is moved first (the others keep
    /// their order) and gets the reference camera token; outputs come back in the caller's order.
    /// `cameraTokens` (one D-vector per view, from the camera encoder) replace the camera tokens
    /// and keep the order (view 0 is the reference).
    func forward(views images: [[Float]], plan: ShapePlan, _ run: B.Execution, cameraTokens given: [[Float]]?,
                 strategy: ReferenceViewStrategy, observer: StageObserver?) -> ViewsOutput {
        let s = images.count, t = plan.patchCount + 1, d = config.embedDim
        var x = run.stackViews(images.map { image in
            var v = run.embedPatches(patchEmbed, image: image, height: plan.height, width: plan.width)
            run.startTokens(&v, classToken: clsToken, positionEmbedding: plan.posEmbed)
            return v
        })
        observer?(StageNames.tokens, run.host(x))
        let localPositions = Array([[(Int, Int)]](repeating: plan.localPositions, count: s).joined())
        let globalPositions = Array([[(Int, Int)]](repeating: plan.globalPositions, count: s).joined())

        var order = Array(0..<s)
        var localX = x
        var features = [[B.Tensor]](repeating: [], count: s), cameraOutputs = [B.Tensor?](repeating: nil, count: s)
        for (i, block) in blocks.enumerated() {
            if config.altStart >= 0 && i == config.altStart - 1 && s >= ReferenceViewStrategy.minimumViews && given == nil {
                let tokens = run.host(x)
                let classTokens = (0..<s).map { Array(tokens.data[($0 * t * d)..<($0 * t * d + d)]) }
                let reference = ReferenceViewSelector.select(strategy, classTokens: classTokens)
                order = ReferenceViewSelector.order(reference: reference, count: s)
                run.reorderViews(&x, order: order)
            }
            if i == config.altStart {
                for p in 0..<s {
                    let token = given?[order[p]] ?? Array(cameraToken[(p == 0 ? 0 : d)..<(p == 0 ? d : 2 * d)])
                    run.setRow(&x, p * t, to: token)
                }
            }
            let isGlobal = config.altStart >= 0 && i >= config.altStart && i % 2 == 1
            if isGlobal {
                block.forward(&x, positions: globalPositions, rope: plan.rope, run)
            } else {
                run.attention(block.attn, &x, positions: localPositions, rope: plan.rope, views: s)
                run.mlp(block.mlp, &x)
                if config.outLayers.contains(i) || config.outLayers.contains(i + 1) { localX = x }
            }
            observer?(StageNames.block(i), run.host(x))
            if config.outLayers.contains(i) {
                for (p, view) in order.enumerated() {
                    let first = p * t
                    features[view].append(run.concatenate(localX, x, rows: (first + 1)..<(first + t), normalizingSecond: norm))
                    cameraOutputs[view] = run.concatenate(localX, x, rows: first..<(first + 1), normalizingSecond: nil)
                }
            }
        }
        return ViewsOutput(features: features, cameraTokens: cameraOutputs.map { $0! }, referenceView: order[0])
    }
}
