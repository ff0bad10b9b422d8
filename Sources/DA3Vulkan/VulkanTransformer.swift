import DA3Kernels
import Foundation

/// The ViT block's two branches as fused device operators (the model's AttentionOp and MLPOp).

/// RoPE inputs for one token layout: (y, x) per token and the cos/sin tables of the CPU's `RoPE2D`
/// (one source of truth for the angles).
public final class VulkanRoPE: @unchecked Sendable {
    let positions: VulkanBuffer, cos: VulkanBuffer, sin: VulkanBuffer
    public let tokens: Int

    /// Tables built for `positions` and `headDim` by the CPU's `RoPE2D`.
    public convenience init(device: VulkanDevice, positions: [(Int, Int)], headDim: Int, frequency: Float = 100) throws {
        let maxPosition = (positions.map { max($0.0, $0.1) }.max() ?? 0) + 1
        try self.init(device: device, positions: positions,
                      tables: RoPE2D(headDim: headDim, maxPosition: maxPosition, frequency: frequency))
    }

    /// The model's own tables (`RoPE2D`, [position][axisDim / 2]) for `positions`.
    public init(device: VulkanDevice, positions: [(Int, Int)], tables rope: RoPE2D) throws {
        guard positions.allSatisfy({ max($0.0, $0.1) < rope.maxPosition }) else {
            throw VulkanError.invalidArgument("RoPE position beyond the table's \(rope.maxPosition)")
        }
        tokens = positions.count
        self.positions = try VulkanBuffer(device: device, size: positions.count * 8)
        try self.positions.write(positions.flatMap { [Int32($0.0), Int32($0.1)] })
        cos = try VulkanBuffer(device: device, values: rope.cosTable)
        sin = try VulkanBuffer(device: device, values: rope.sinTable)
    }
}

/// Work buffers shared by every block of a transformer for one token count (dispatches are
/// ordered by barriers, so one set serves all blocks).
public final class VulkanBlockScratch: @unchecked Sendable {
    public let tokens: Int, dim: Int, hidden: Int
    /// Heads whose score matrices `scores` holds (attention as products, on CPU devices).
    public let scoreHeads: Int
    let normed: VulkanBuffer, qkv: VulkanBuffer, attended: VulkanBuffer, mlpHidden: VulkanBuffer
    let scores: VulkanBuffer?
    /// FP16 operands of the fast mode's products (normed tokens, attention output, MLP hidden layer).
    public let fp16: Bool
    let normed16: VulkanBuffer?, attended16: VulkanBuffer?, mlpHidden16: VulkanBuffer?

    /// `heads`: room for that many tokens x tokens score matrices where the device computes
    /// attention as products (`VulkanDevice.prefersLaneGEMM`). `fp16`: also the FP16 operand buffers.
    public init(device: VulkanDevice, tokens: Int, dim: Int, hidden: Int, heads: Int = 0, fp16: Bool = false) throws {
        self.tokens = tokens
        self.dim = dim
        self.hidden = hidden
        self.fp16 = fp16
        scoreHeads = device.prefersLaneGEMM ? heads : 0
        scores = scoreHeads > 0 ? try VulkanBuffer(device: device, size: scoreHeads * tokens * tokens * 4) : nil
        normed = try VulkanBuffer(device: device, size: tokens * dim * 4)
        qkv = try VulkanBuffer(device: device, size: tokens * 3 * dim * 4)
        attended = try VulkanBuffer(device: device, size: tokens * dim * 4)
        // The MLP of an FP16 pass never writes the FP32 hidden layer: keep a token of room only.
        mlpHidden = try VulkanBuffer(device: device, size: (fp16 ? 1 : tokens) * hidden * 4)
        normed16 = fp16 ? try VulkanBuffer(device: device, size: tokens * dim * 2) : nil
        attended16 = fp16 ? try VulkanBuffer(device: device, size: tokens * dim * 2) : nil
        mlpHidden16 = fp16 ? try VulkanBuffer(device: device, size: tokens * hidden * 2) : nil
    }
}

/// x += proj(attention(rope(qk_norm(qkv(norm1(x)))))) * ls1 — `attention.py` + `block.py`.
public final class VulkanAttentionBranch: @unchecked Sendable {
    public let heads: Int, headDim: Int
    /// Whether the model asks for RoPE in this block (blocks before rope_start do not).
    public internal(set) var usesRoPE = true
    let norm: VulkanLayerNorm, qkv: VulkanLinear, proj: VulkanLinear
    let qNorm: VulkanLayerNorm?, kNorm: VulkanLayerNorm?

    public init(norm: VulkanLayerNorm, qkv: VulkanLinear, qNorm: VulkanLayerNorm?, kNorm: VulkanLayerNorm?,
                proj: VulkanLinear, heads: Int, headDim: Int) throws {
        guard qkv.outFeatures == 3 * heads * headDim, proj.inFeatures == heads * headDim, headDim <= 64, headDim % 4 == 0 else {
            throw VulkanError.invalidArgument("attention shapes: qkv \(qkv.outFeatures), \(heads) heads of \(headDim)")
        }
        self.norm = norm
        self.qkv = qkv
        self.qNorm = qNorm
        self.kNorm = kNorm
        self.proj = proj
        self.heads = heads
        self.headDim = headDim
    }

    /// Appends the branch for x (tokens x dim) to `seq`; rope nil: no rotary embedding.
    public func encode(_ seq: VulkanSequence, _ lib: VulkanKernelLibrary, x: VulkanBuffer, scratch s: VulkanBlockScratch,
                       rope: VulkanRoPE?) throws {
        let t = s.tokens, d = heads * headDim
        if qkv.fp16 {
            // Fast mode: the products read FP16 operands; LayerNorm statistics, q/k norms, RoPE,
            // softmax and attention stay FP32.
            guard let normed16 = s.normed16 else { throw VulkanError.invalidArgument("FP16 attention without FP16 work buffers") }
            try seq.layerNormToFP16(lib, x: x, rows: t, width: norm.width, weight: norm.weight, bias: norm.bias, eps: norm.eps, y: normed16)
            try qkv.encode(seq, lib, x: normed16, rows: t, y: s.qkv)
        } else {
            try seq.layerNorm(lib, x: x, rows: t, width: norm.width, weight: norm.weight, bias: norm.bias, eps: norm.eps, y: s.normed)
            try qkv.encode(seq, lib, x: s.normed, rows: t, y: s.qkv)
        }
        for (n, offset) in [(qNorm, 0), (kNorm, d)] {
            guard let n else { continue }
            try seq.layerNorm(lib, x: s.qkv, inOffset: offset, rows: t * heads, width: headDim, groups: heads,
                              inStride: 3 * d, innerStride: headDim, weight: n.weight, bias: n.bias, eps: n.eps,
                              y: s.qkv, outOffset: offset)
        }
        if let rope {
            for offset in [0, d] {
                try seq.rope(lib, x: s.qkv, tokens: t, heads: heads, headDim: headDim, ld: 3 * d, offset: offset,
                             positions: rope.positions, cos: rope.cos, sin: rope.sin)
            }
        }
        let scale = 1 / Float(headDim).squareRoot()
        if let scores = s.scores, s.scoreHeads >= heads {
            // CPU devices: q k^T per head, one softmax over all heads' rows, then P v (three products
            // run far faster there than the barrier-heavy flash kernel).
            for h in 0..<heads {
                try seq.gemm(lib, m: t, n: t, k: headDim, a: s.qkv, aOffset: h * headDim, lda: 3 * d,
                             b: s.qkv, bOffset: d + h * headDim, ldb: 3 * d, transB: true, c: scores, cOffset: h * t * t, ldc: t)
            }
            try seq.softmax(lib, x: scores, rows: heads * t, width: t, ld: t, scale: scale)
            for h in 0..<heads {
                try seq.gemmRows(lib, m: t, n: headDim, k: t, a: scores, aOffset: h * t * t, lda: t,
                                 b: s.qkv, bOffset: 2 * d + h * headDim, ldb: 3 * d, c: s.attended, cOffset: h * headDim, ldc: d)
            }
        } else {
            try seq.attention(lib, qkv: s.qkv, tokens: t, heads: heads, headDim: headDim, ldIn: 3 * d, qOffset: 0, kOffset: d,
                              vOffset: 2 * d, scale: scale, output: s.attended, ldOut: d)
        }
        if proj.fp16, let attended16 = s.attended16 {
            try seq.convertToFP16(lib, x: s.attended, count: t * d, y: attended16)
            try proj.encode(seq, lib, x: attended16, rows: t, y: x, residual: x)
        } else {
            try proj.encode(seq, lib, x: s.attended, rows: t, y: x, residual: x)
        }
    }
}

/// x += fc2(gelu(fc1(norm2(x)))) * ls2 — `mlp.py` + `block.py`.
public final class VulkanMLPBranch: @unchecked Sendable {
    let norm: VulkanLayerNorm, fc1: VulkanLinear, fc2: VulkanLinear

    public init(norm: VulkanLayerNorm, fc1: VulkanLinear, fc2: VulkanLinear) {
        self.norm = norm
        self.fc1 = fc1
        self.fc2 = fc2
    }

    public func encode(_ seq: VulkanSequence, _ lib: VulkanKernelLibrary, x: VulkanBuffer, scratch s: VulkanBlockScratch) throws {
        if fc1.fp16 {
            // Fast mode: FP16 normed tokens and hidden layer (GELU in FP32, rounded once when stored).
            guard let normed16 = s.normed16, let hidden16 = s.mlpHidden16 else {
                throw VulkanError.invalidArgument("FP16 MLP without FP16 work buffers")
            }
            try seq.layerNormToFP16(lib, x: x, rows: s.tokens, width: norm.width, weight: norm.weight, bias: norm.bias, eps: norm.eps,
                                    y: normed16)
            try fc1.encode(seq, lib, x: normed16, rows: s.tokens, y: hidden16, activation: .gelu, halfOutput: true)
            try fc2.encode(seq, lib, x: hidden16, rows: s.tokens, y: x, residual: x)
            return
        }
        try seq.layerNorm(lib, x: x, rows: s.tokens, width: norm.width, weight: norm.weight, bias: norm.bias, eps: norm.eps, y: s.normed)
        try fc1.encode(seq, lib, x: s.normed, rows: s.tokens, y: s.mlpHidden, activation: .gelu)
        try fc2.encode(seq, lib, x: s.mlpHidden, rows: s.tokens, y: x, residual: x)
    }
}
