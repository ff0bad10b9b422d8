import DA3Kernels

/// One ViT block (`model/dinov2/layers/block.py` with `attention.py`, `mlp.py`, `layer_scale.py`):
/// x += ls1 * attn(norm1(x)); x += ls2 * mlp(norm2(x)). Each branch is one backend operator (its
/// LayerScale folded into the last product at load).
struct TransformerBlock<B: ComputeBackend> {
    let attn: B.AttentionOp
    let mlp: B.MLPOp

    init(_ backend: B, _ loader: WeightLoader, index i: Int, config: ModelConfig) throws {
        typealias K = CheckpointKeys.Block
        let p = CheckpointKeys.Backbone.block(i)
        let d = config.embedDim, headDim = config.headDim, hidden = config.mlpRatio * d
        let qkNorm = i >= config.qkNormStart && config.qkNormStart >= 0
        attn = try backend.attention(AttentionParameters(
            norm: LayerNormParameters(p + K.norm1, width: d, eps: 1e-6),
            qkv: LinearParameters(p + K.qkv, in: d, out: 3 * d),
            qNorm: qkNorm ? LayerNormParameters(p + K.qNorm, width: headDim, eps: 1e-5) : nil,
            kNorm: qkNorm ? LayerNormParameters(p + K.kNorm, width: headDim, eps: 1e-5) : nil,
            proj: LinearParameters(p + K.proj, in: d, out: d, outputScale: p + K.ls1),
            heads: config.heads, headDim: headDim,
            usesRoPE: i >= config.ropeStart && config.ropeStart >= 0), from: loader)
        if config.mlp == .swiGLU {
            let hidden = config.mlpHidden
            mlp = try backend.swiGLU(SwiGLUParameters(
                norm: LayerNormParameters(p + K.norm2, width: d, eps: 1e-6),
                w12: LinearParameters(p + K.w12, in: d, out: 2 * hidden),
                w3: LinearParameters(p + K.w3, in: hidden, out: d, outputScale: p + K.ls2)), from: loader)
            return
        }
        mlp = try backend.mlp(MLPParameters(
            norm: LayerNormParameters(p + K.norm2, width: d, eps: 1e-6),
            fc1: LinearParameters(p + K.fc1, in: d, out: hidden),
            fc2: LinearParameters(p + K.fc2, in: hidden, out: d, outputScale: p + K.ls2)), from: loader)
    }

    /// Runs the block in place on x (tokens x dim). `positions` are (y, x) per token for RoPE.
    func forward(_ x: inout B.Tensor, positions: [(Int, Int)], rope: RoPE2D, _ run: B.Execution) {
        run.attention(attn, &x, positions: positions, rope: rope)
        run.mlp(mlp, &x)
    }
}
