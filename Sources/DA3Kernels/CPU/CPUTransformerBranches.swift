/// A ViT block's attention branch on the CPU (`AttentionParameters`): x += proj(attn(qkv(norm1(x)))).
/// Each part of rows is normalized just before its qkv product and gets its q/k norm and RoPE right
/// after, while both are in cache; LayerScale is folded into proj at load and the residual is added
/// by the projection's product itself. `Precision.fast` runs the products and attention in bfloat16
/// with FP32 accumulation (LayerNorm, q/k norm, RoPE, softmax and the residual stay FP32);
/// `Precision.int8` runs the products in int8 (`GEMMI8`) and attention in bfloat16; `.int8FP32` the
/// products in int8 and attention in FP32.
public struct CPUAttention: Sendable {
    let dim: Int, heads: Int, headDim: Int
    let norm: CPULayerNorm
    let qkv: CPULinear, proj: CPULinear
    /// q then k norm weights and biases in one table (empty without q/k norm), for the per-token calls.
    let qkNormTable: [Float]
    let qkNormEps: Float?
    let usesRoPE: Bool
    let precision: Precision

    init(_ loader: any ParameterLoader, _ p: AttentionParameters, precision: Precision) throws {
        dim = p.qkv.inFeatures
        heads = p.heads
        headDim = p.headDim
        norm = try CPULayerNorm(loader, p.norm)
        qkv = try CPULinear(packing: loader, p.qkv, precision: precision)
        proj = try CPULinear(packing: loader, p.proj, precision: precision)
        let qkNorms = try [p.qNorm, p.kNorm].compactMap { $0 }.map { try CPULayerNorm(loader, $0) }
        qkNormTable = qkNorms.flatMap { $0.weight + $0.bias }
        qkNormEps = qkNorms.first?.eps
        usesRoPE = p.usesRoPE
        self.precision = precision
    }

    /// Runs the branch in place on x (tokens x dim). `positions` are (y, x) per token for RoPE.
    /// With `views` > 1, x holds that many equal sequences one after another and attention runs
    /// within each (the products around it run on all rows at once).
    func forward(_ x: inout Tensor, positions: [(Int, Int)], rope: RoPE2D, workspace: BlockWorkspace, views: Int = 1) {
        let tokens = x.shape[0]
        precondition(views >= 1 && tokens % views == 0, "\(tokens) tokens do not split into \(views) views")
        workspace.reserveAttention(tokens: tokens, dim: dim, heads: heads, precision: precision)
        x.data.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!, stream = UnsafePointer(xb.baseAddress!), d = dim
            let qkvBuf = workspace.qkv.baseAddress!, attnOut = workspace.attn.baseAddress!
            let scores = workspace.scores.baseAddress!
            let prepare: GEMMF32.OutputRows? = qkNormTable.isEmpty && !usesRoPE ? nil : { first, count in
                prepareQK(qkvBuf, tokens: first..<(first + count), positions: positions, rope: rope)
            }
            if precision.usesInt8, qkv.packedI8 != nil, proj.packedI8 != nil {
                qkv.forwardI8(nil, rows: tokens, input: { first, count, into in
                    norm(stream + first * d, rows: count, into: into, parallel: false)
                }, output: prepare, into: qkvBuf)
                attend(qkvBuf, tokens: tokens, views: views, scratch: scores, into: attnOut)
                proj.forwardI8(attnOut, rows: tokens, accumulate: true, into: xp)
                return
            }
            if precision.usesBF16 {
                let input16 = workspace.input16.baseAddress!
                qkv.forwardBF16(nil, rows: tokens, input: { first, count, into in
                    norm.bf16(stream + first * d, rows: count, into: into, parallel: false)
                }, output: prepare, into: qkvBuf)
                let n = tokens / views
                for v in 0..<views {
                    Attention.forwardBF16Output(qkv: qkvBuf + v * n * 3 * d, tokens: n, heads: heads, headDim: headDim,
                                                scratch: scores, work: attnOut + v * n * d, into: input16 + v * n * d)
                }
                proj.forwardBF16(input16, rows: tokens, accumulate: true, into: xp)
                return
            }
            qkv.forward(stream, rows: tokens, input: { first, count, into in
                norm(stream + first * d, rows: count, into: into, parallel: false)
            }, output: prepare, staging: workspace.normed.baseAddress!, into: qkvBuf)
            attend(qkvBuf, tokens: tokens, views: views, scratch: scores, into: attnOut)
            proj.accumulate(attnOut, rows: tokens, into: xp)
        }
    }

    /// Attention within each of `views` equal sequences of the fused qkv rows, FP32 output (in this
    /// branch's precision: bfloat16 products for `.int8`).
    private func attend(_ qkv: UnsafePointer<Float>, tokens: Int, views: Int, scratch: UnsafeMutablePointer<Float>,
                        into out: UnsafeMutablePointer<Float>) {
        let n = tokens / views, d = dim
        for v in 0..<views {
            Attention.forward(qkv: qkv + v * n * 3 * d, tokens: n, heads: heads, headDim: headDim, scratch: scratch,
                              precision: precision, into: out + v * n * d)
        }
    }

    /// q/k LayerNorm per head, then RoPE, in place inside the fused qkv buffer for `tokens` (a
    /// token's heads are adjacent, so each norm is one call over `heads` rows).
    private func prepareQK(_ qkv: UnsafeMutablePointer<Float>, tokens: Range<Int>, positions: [(Int, Int)], rope: RoPE2D) {
        let stride = 3 * dim
        qkNormTable.withUnsafeBufferPointer { tb in
            for t in tokens {
                let q = qkv + t * stride
                if let norm = tb.baseAddress, let eps = qkNormEps {
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

/// A ViT block's MLP branch on the CPU (`MLPParameters`): x += fc2(gelu(fc1(norm2(x)))), normalized
/// part by part and each part's hidden rows kept in cache (`GEMMF32.mlp`, `GEMMBF16.mlp`).
public struct CPUMLP: Sendable {
    let norm: CPULayerNorm
    let fc1: CPULinear, fc2: CPULinear
    let precision: Precision
    /// SwiGLU (`CPUBackend.swiGLU`): fc1 is w12, fc2 is w3 (see CPUSwiGLU.swift).
    var gated = false

    init(_ loader: any ParameterLoader, _ p: MLPParameters, precision: Precision) throws {
        norm = try CPULayerNorm(loader, p.norm)
        fc1 = try CPULinear(packing: loader, p.fc1, precision: precision)
        fc2 = try CPULinear(packing: loader, p.fc2, precision: precision)
        self.precision = precision
    }

    /// Runs the branch in place on x (tokens x dim).
    func forward(_ x: inout Tensor, workspace: BlockWorkspace) {
        if gated { return forwardSwiGLU(&x) }
        let tokens = x.shape[0], d = fc1.inFeatures
        let int8 = precision.usesInt8 && fc1.packedI8 != nil && fc2.packedI8 != nil
        if !precision.usesBF16 && !int8 { workspace.reserveHidden(tokens: tokens, dim: d, hidden: fc1.outFeatures) }
        x.data.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!, stream = UnsafePointer(xb.baseAddress!)
            if int8 {
                CPULinear.mlpI8(fc1, fc2, rows: tokens, input: { first, count, into in
                    norm(stream + first * d, rows: count, into: into, parallel: false)
                }, accumulatingInto: xp)
                return
            }
            if precision.usesBF16 {
                CPULinear.mlpBF16(fc1, fc2, rows: tokens, input: { first, count, into in
                    norm.bf16(stream + first * d, rows: count, into: into, parallel: false)
                }, accumulatingInto: xp)
                return
            }
            CPULinear.mlp(fc1, fc2, rows: tokens, input: { first, count, into in
                norm(stream + first * d, rows: count, into: into, parallel: false)
            }, staging: workspace.normed.baseAddress!, hidden: workspace.hidden.baseAddress!, accumulatingInto: xp)
        }
    }
}

/// Work buffers reused by every block of a forward pass (freed with the pass, or by `release`).
final class BlockWorkspace {
    /// LayerNorm outputs (exact precision; staging of the unpacked fallback).
    var normed: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    var qkv: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    var attn: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    /// MLP hidden activations (exact precision, unpacked fallback).
    var hidden: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    var scores: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)
    /// bfloat16 input of the attention projection (fast precision).
    var input16: UnsafeMutableBufferPointer<UInt16> = .init(start: nil, count: 0)
    private var tokens = 0, dim = 0, heads = 0, precision = Precision.exact
    private var hiddenShape = (tokens: 0, width: 0)

    func reserveAttention(tokens: Int, dim: Int, heads: Int, precision: Precision) {
        if tokens == self.tokens && dim == self.dim && heads == self.heads && precision == self.precision { return }
        releaseAttention()
        self.tokens = tokens
        self.dim = dim
        self.heads = heads
        self.precision = precision
        qkv = .allocate(capacity: tokens * 3 * dim)
        attn = .allocate(capacity: tokens * dim)
        if precision.usesBF16 {
            input16 = .allocate(capacity: tokens * dim)
        } else {
            normed = .allocate(capacity: tokens * dim)
        }
        scores = .allocate(capacity: Attention.scratchCount(tokens: tokens, heads: heads, headDim: dim / heads))
    }

    func reserveHidden(tokens: Int, dim: Int, hidden width: Int) {
        if normed.count < tokens * dim {
            if normed.baseAddress != nil { normed.deallocate() }
            normed = .allocate(capacity: tokens * dim)
        }
        if hiddenShape == (tokens, width) { return }
        if hidden.baseAddress != nil { hidden.deallocate() }
        hidden = .allocate(capacity: tokens * width)
        hiddenShape = (tokens, width)
    }

    private func releaseAttention() {
        for b in [normed, qkv, attn, scores] where b.baseAddress != nil { b.deallocate() }
        if input16.baseAddress != nil { input16.deallocate() }
        normed = .init(start: nil, count: 0)
        qkv = normed; attn = normed; scores = normed
        input16 = .init(start: nil, count: 0)
        tokens = 0
    }

    func release() {
        releaseAttention()
        if hidden.baseAddress != nil { hidden.deallocate() }
        hidden = .init(start: nil, count: 0)
        hiddenShape = (0, 0)
    }

    deinit { release() }
}
