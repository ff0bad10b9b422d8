import DA3Kernels

/// One ViT block (`model/dinov2/layers/block.py` with `attention.py`, `mlp.py`, `layer_scale.py`):
/// x += ls1 * attn(norm1(x)); x += ls2 * mlp(norm2(x)). LayerScale is folded into attn.proj and
/// mlp.fc2 at load time.
struct TransformerBlock {
    let dim: Int, heads: Int, headDim: Int
    let norm1: LayerNormWeights, norm2: LayerNormWeights
    let qkv: LinearWeights
    let proj: LinearWeights
    /// q/k LayerNorm over the head dimension (blocks >= qkNormStart), eps 1e-5.
    let qNorm: LayerNormWeights?, kNorm: LayerNormWeights?
    /// q then k norm weights and biases in one table (empty without q/k norm), for the per-token calls.
    let qkNormTable: [Float]
    let fc1: LinearWeights, fc2: LinearWeights
    /// Whether this block applies RoPE (blocks >= ropeStart).
    let usesRoPE: Bool
    /// Arithmetic of the linear layers and attention.
    let precision: Precision

    init(_ loader: WeightLoader, index i: Int, config: ModelConfig, precision: Precision = .exact) throws {
        typealias K = CheckpointKeys.Block
        let p = CheckpointKeys.Backbone.block(i)
        let d = config.embedDim
        dim = d
        heads = config.heads
        headDim = config.headDim
        norm1 = try LayerNormWeights(loader, p + K.norm1, width: d, eps: 1e-6)
        norm2 = try LayerNormWeights(loader, p + K.norm2, width: d, eps: 1e-6)
        qkv = try LinearWeights(packing: loader, p + K.qkv, in: d, out: 3 * d, precision: precision)
        proj = try LinearWeights(packing: loader, p + K.proj, in: d, out: d, precision: precision,
                                 outputScale: try loader.tensor(p + K.ls1, [d]))
        if i >= config.qkNormStart && config.qkNormStart >= 0 {
            qNorm = try LayerNormWeights(loader, p + K.qNorm, width: headDim, eps: 1e-5)
            kNorm = try LayerNormWeights(loader, p + K.kNorm, width: headDim, eps: 1e-5)
        } else {
            qNorm = nil
            kNorm = nil
        }
        qkNormTable = [qNorm, kNorm].compactMap { $0 }.flatMap { $0.weight + $0.bias }
        let hidden = config.mlpRatio * d
        fc1 = try LinearWeights(packing: loader, p + K.fc1, in: d, out: hidden, precision: precision)
        fc2 = try LinearWeights(packing: loader, p + K.fc2, in: hidden, out: d, precision: precision,
                                outputScale: try loader.tensor(p + K.ls2, [d]))
        usesRoPE = i >= config.ropeStart && config.ropeStart >= 0
        self.precision = precision
    }

    /// Runs the block in place on x (tokens x dim). `positions` are (y, x) per token for RoPE.
    func forward(_ x: inout Tensor, positions: [(Int, Int)], rope: RoPE2D, scratch: inout BlockScratch) {
        let tokens = x.shape[0]
        scratch.reserve(tokens: tokens, dim: dim, hidden: fc1.outFeatures, heads: heads, precision: precision)
        if precision == .fast {
            forwardBF16(&x, positions: positions, rope: rope, scratch: scratch)
            return
        }
        x.data.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!, stream = UnsafePointer(xb.baseAddress!), d = dim
            let normed = scratch.normed.baseAddress!, qkvBuf = scratch.qkv.baseAddress!
            let attnOut = scratch.attn.baseAddress!, hidden = scratch.hidden.baseAddress!
            // Attention branch: each part of rows is normalized just before its qkv product and gets
            // its q/k norm and RoPE right after, while both are in cache.
            let prepare: GEMMF32.OutputRows? = qkNormTable.isEmpty && !usesRoPE ? nil : { first, count in
                prepareQK(qkvBuf, tokens: first..<(first + count), positions: positions, rope: rope)
            }
            qkv.forward(stream, rows: tokens, input: { first, count, into in
                norm1(stream + first * d, rows: count, into: into, parallel: false)
            }, output: prepare, staging: normed, into: qkvBuf)
            Attention.forward(qkv: qkvBuf, tokens: tokens, heads: heads, headDim: headDim,
                              scratch: scratch.scores.baseAddress!, into: attnOut)
            proj.accumulate(attnOut, rows: tokens, into: xp)
            // MLP branch, normalized part by part in the same way, each part's hidden rows kept in cache.
            LinearWeights.mlp(fc1, fc2, rows: tokens, input: { first, count, into in
                norm2(stream + first * d, rows: count, into: into, parallel: false)
            }, staging: normed, hidden: hidden, accumulatingInto: xp)
        }
    }

    /// `Precision.fast`: the same steps with bfloat16 inputs to the four linear layers and to
    /// attention's products; LayerNorm, q/k norm, RoPE, softmax and the residual stay FP32, and
    /// GELU is fused into fc1 (whose output is bfloat16, the input of fc2). As in the exact path,
    /// the norms run per part of rows just before their products, q/k norm and RoPE on each
    /// finished qkv part, and the MLP's hidden rows stay in cache.
    private func forwardBF16(_ x: inout Tensor, positions: [(Int, Int)], rope: RoPE2D, scratch: BlockScratch) {
        let tokens = x.shape[0]
        x.data.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!, stream = UnsafePointer(xb.baseAddress!), d = dim
            let qkvBuf = scratch.qkv.baseAddress!, attnOut = scratch.attn.baseAddress!
            let input16 = scratch.input16.baseAddress!
            let prepare: GEMMF32.OutputRows? = qkNormTable.isEmpty && !usesRoPE ? nil : { first, count in
                prepareQK(qkvBuf, tokens: first..<(first + count), positions: positions, rope: rope)
            }
            qkv.forwardBF16(nil, rows: tokens, input: { first, count, into in
                norm1.bf16(stream + first * d, rows: count, into: into, parallel: false)
            }, output: prepare, into: qkvBuf)
            Attention.forwardBF16Output(qkv: qkvBuf, tokens: tokens, heads: heads, headDim: headDim,
                                        scratch: scratch.scores.baseAddress!, work: attnOut, into: input16)
            proj.forwardBF16(input16, rows: tokens, accumulate: true, into: xp)
            LinearWeights.mlpBF16(fc1, fc2, rows: tokens, input: { first, count, into in
                norm2.bf16(stream + first * d, rows: count, into: into, parallel: false)
            }, accumulatingInto: xp)
        }
    }

    /// q/k LayerNorm per head, then RoPE, in place inside the fused qkv buffer for `tokens` (a
    /// token's heads are adjacent, so each norm is one call over `heads` rows).
    private func prepareQK(_ qkv: UnsafeMutablePointer<Float>, tokens: Range<Int>, positions: [(Int, Int)], rope: RoPE2D) {
        let stride = 3 * dim
        qkNormTable.withUnsafeBufferPointer { tb in
            for t in tokens {
                let q = qkv + t * stride
                if let norm = tb.baseAddress, let eps = qNorm?.eps {
                    for i in 0..<2 {  // q, then k
                        let p = q + i * dim, w = norm + 2 * i * headDim
                        LayerNorm.serial(p, rows: heads, width: headDim, inStride: headDim, weight: w,
                                         bias: w + headDim, eps: eps, into: p, outStride: headDim)
                    }
                }
                guard usesRoPE else { continue }
                let k = q + dim
                let (py, px) = positions[t]
                for h in 0..<heads {
                    rope.apply(q + h * headDim, posY: py, posX: px)
                    rope.apply(k + h * headDim, posY: py, posX: px)
                }
            }
        }
    }
}

/// Work buffers reused by every block of a forward pass.
struct BlockScratch {
    /// LayerNorm outputs and MLP hidden activations (exact precision).
    var normed: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    var qkv: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    var attn: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    var hidden: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    var scores: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    /// bfloat16 input of the attention projection (fast precision).
    var input16: UnsafeMutableBufferPointer<UInt16> = .init(start: nil, count: 0)
    private var tokens = 0, dim = 0, hiddenWidth = 0, precision = Precision.exact

    mutating func reserve(tokens: Int, dim: Int, hidden: Int, heads: Int, precision: Precision) {
        if tokens == self.tokens && dim == self.dim && hidden == hiddenWidth && precision == self.precision { return }
        release()
        self.tokens = tokens
        self.dim = dim
        hiddenWidth = hidden
        self.precision = precision
        qkv = .allocate(capacity: tokens * 3 * dim)
        attn = .allocate(capacity: tokens * dim)
        if precision == .fast {
            input16 = .allocate(capacity: tokens * dim)
        } else {
            normed = .allocate(capacity: tokens * dim)
            self.hidden = .allocate(capacity: tokens * hidden)
        }
        scores = .allocate(capacity: Attention.scratchCount(tokens: tokens, heads: heads, headDim: dim / heads))
    }

    mutating func release() {
        for b in [normed, qkv, attn, hidden, scores] where b.baseAddress != nil { b.deallocate() }
        if input16.baseAddress != nil { input16.deallocate() }
        normed = .init(start: nil, count: 0)
        qkv = normed; attn = normed; hidden = normed; scores = normed
        input16 = .init(start: nil, count: 0)
        tokens = 0
    }
}
