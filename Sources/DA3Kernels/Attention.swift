import CKernels

/// Multi-head scaled dot-product attention over a fused QKV buffer, as
/// `F.scaled_dot_product_attention` on heads split from `nn.Linear(dim, 3*dim)`.
///
/// Work is split into (head, block of query rows) items taken one at a time by the engine's threads; each
/// item keeps its score block (rows x tokens) in a per-thread buffer that stays in cache, runs
/// softmax on it, and multiplies by V, so the full tokens x tokens matrix is never written out.
/// With head dimension 64 on AVX-512 the products run in the CKernels micro-kernels on K/V packed
/// once per head; otherwise each item uses two BLAS calls.
public enum Attention {
    /// Query rows per work item: a multiple of both micro-kernels' row counts (8 for the scores,
    /// 6 for the product with V), so only a sequence's last block needs the one-row kernels.
    static let blockRows = 48

    static func usesFastPath(headDim: Int) -> Bool { da3_attention_fast_path_available(headDim) != 0 }

    /// Whether `Precision.fast` attention (bfloat16 products) runs here.
    public static func usesBF16Path(headDim: Int) -> Bool { da3_attention_bf16_available(headDim) != 0 }

    /// Floats of scratch `forward` needs (score blocks per thread, packed K/V per head), enough
    /// for either precision.
    public static func scratchCount(tokens: Int, heads: Int = 1, headDim: Int = 64) -> Int {
        let scores = Parallel.threadCount * blockRows * tokens
        var count = usesFastPath(headDim: headDim) ? scores + heads * da3_attention_packed_count(tokens) : scores
        if usesBF16Path(headDim: headDim) {
            count = max(count, Parallel.threadCount * da3_attention_bf16_scratch_words(tokens, blockRows)
                        + heads * da3_attention_bf16_packed_words(tokens))
        }
        return count
    }

    /// qkv: (tokens, 3, heads, headDim) row-major; out: (tokens, heads*headDim).
    /// `scratch` must hold `scratchCount(tokens:heads:headDim:)` floats.
    public static func forward(
        qkv: UnsafePointer<Float>, tokens: Int, heads: Int, headDim: Int,
        scratch: UnsafeMutablePointer<Float>, precision: Precision = .exact, into out: UnsafeMutablePointer<Float>
    ) {
        if precision.usesBF16 && usesBF16Path(headDim: headDim) {
            forwardBF16(qkv: qkv, tokens: tokens, heads: heads, scratch: scratch, into: out, bf16: nil)
            return
        }
        let dim = heads * headDim
        let ld = 3 * dim
        let scale = 1 / Float(headDim).squareRoot()
        let blocks = (tokens + blockRows - 1) / blockRows
        let items = heads * blocks
        let fast = usesFastPath(headDim: headDim)
        let packedCount = fast ? da3_attention_packed_count(tokens) : 0
        let packed = scratch + Parallel.threadCount * blockRows * tokens
        let pq = UncheckedBox(qkv), po = UncheckedBox(out), ps = UncheckedBox(scratch), pp = UncheckedBox(packed)
        if fast {
            Parallel.forEachItem(heads) { _, h in
                da3_attention_pack(pq.value + dim + h * headDim, pq.value + 2 * dim + h * headDim, ld, tokens,
                                   pp.value + h * packedCount)
            }
        }
        Parallel.forEachItem(items) { w, item in
            let scores = ps.value + w * blockRows * tokens
            let h = item / blocks, b = item % blocks
            let row0 = b * blockRows, rows = min(blockRows, tokens - row0)
            let q = pq.value + row0 * ld + h * headDim
            let o = po.value + row0 * dim + h * headDim
            if fast {
                da3_attention_block(q, ld, pp.value + h * packedCount, tokens, rows, scale, scores, o, dim)
            } else {
                let k = pq.value + dim + h * headDim, v = pq.value + 2 * dim + h * headDim
                GEMM.serial(transB: true, m: rows, n: tokens, k: headDim, alpha: scale,
                            a: q, lda: ld, b: k, ldb: ld, c: scores, ldc: tokens)
                Softmax.serialRows(scores, rows: rows, width: tokens, ld: tokens)
                GEMM.serial(m: rows, n: headDim, k: tokens, a: scores, lda: tokens, b: v, ldb: ld, c: o, ldc: dim)
            }
        }
    }

    /// `Precision.fast` attention with a bfloat16 result (the input of the projection that
    /// follows); `work` (tokens x heads*64 floats) is work space. Falls back to the FP32 kernels and
    /// a rounding pass where the bfloat16 ones cannot run.
    public static func forwardBF16Output(
        qkv: UnsafePointer<Float>, tokens: Int, heads: Int, headDim: Int,
        scratch: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<UInt16>
    ) {
        guard usesBF16Path(headDim: headDim) else {
            forward(qkv: qkv, tokens: tokens, heads: heads, headDim: headDim, scratch: scratch, into: work)
            Elementwise.toBF16(work, into: out, count: tokens * heads * headDim)
            return
        }
        forwardBF16(qkv: qkv, tokens: tokens, heads: heads, scratch: scratch, into: work, bf16: out)
    }

    /// `Precision.fast`: K and V packed as bfloat16 pairs per head, then per (head, row block)
    /// items on the bfloat16 micro-kernels (head dimension 64); the result goes to `bf16` when given.
    private static func forwardBF16(
        qkv: UnsafePointer<Float>, tokens: Int, heads: Int,
        scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, bf16: UnsafeMutablePointer<UInt16>?
    ) {
        let headDim = 64, dim = heads * headDim, ld = 3 * dim
        let scale = 1 / Float(headDim).squareRoot()
        let blocks = (tokens + blockRows - 1) / blockRows
        let items = heads * blocks
        let threads = Parallel.threadCount
        let words = UnsafeMutableRawPointer(scratch).assumingMemoryBound(to: UInt32.self)
        let perThread = da3_attention_bf16_scratch_words(tokens, blockRows)
        let packedWords = da3_attention_bf16_packed_words(tokens)
        let packed = words + threads * perThread
        let pq = UncheckedBox(qkv), po = UncheckedBox(out), ps = UncheckedBox(words), pp = UncheckedBox(packed)
        let pb = UncheckedBox(bf16)
        Parallel.forEachItem(heads) { _, h in
            da3_attention_bf16_pack(pq.value + dim + h * headDim, pq.value + 2 * dim + h * headDim, ld, tokens,
                                    pp.value + h * packedWords)
        }
        Parallel.forEachItem(items) { w, item in
            let h = item / blocks, b = item % blocks
            let row0 = b * blockRows, rows = min(blockRows, tokens - row0)
            let offset = row0 * dim + h * headDim
            da3_attention_bf16_block(pq.value + row0 * ld + h * headDim, ld, pp.value + h * packedWords, tokens,
                                     rows, scale, ps.value + w * perThread, po.value + offset,
                                     pb.value.map { $0 + offset }, dim)
        }
    }
}
