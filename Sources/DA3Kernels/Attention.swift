/// Multi-head scaled dot-product attention over a fused QKV buffer, as
/// `F.scaled_dot_product_attention` on heads split from `nn.Linear(dim, 3*dim)`.
///
/// Work is split into (head, block of query rows) items spread over the engine's threads; each
/// item keeps its score block (rows x tokens) in a per-thread buffer that stays in cache, runs
/// softmax on it, and multiplies by V, so the full tokens x tokens matrix is never written out.
public enum Attention {
    /// Query rows per work item.
    static let blockRows = 64

    /// Floats of scratch `forward` needs for `tokens` tokens (one score block per thread).
    public static func scratchCount(tokens: Int) -> Int {
        Parallel.threadCount * blockRows * tokens
    }

    /// qkv: (tokens, 3, heads, headDim) row-major; out: (tokens, heads*headDim).
    /// `scratch` must hold `scratchCount(tokens:)` floats.
    public static func forward(
        qkv: UnsafePointer<Float>, tokens: Int, heads: Int, headDim: Int,
        scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>
    ) {
        _ = GEMM.configureBLAS
        let dim = heads * headDim
        let ld = 3 * dim
        let scale = 1 / Float(headDim).squareRoot()
        let blocks = (tokens + blockRows - 1) / blockRows
        let items = heads * blocks
        let workers = min(Parallel.threadCount, items)
        let pq = UncheckedBox(qkv), po = UncheckedBox(out), ps = UncheckedBox(scratch)
        Parallel.forEachIndex(workers) { w in
            let scores = ps.value + w * blockRows * tokens
            var item = w
            while item < items {
                let h = item / blocks, b = item % blocks
                let row0 = b * blockRows, rows = min(blockRows, tokens - row0)
                let q = pq.value + row0 * ld + h * headDim
                let k = pq.value + dim + h * headDim, v = pq.value + 2 * dim + h * headDim
                GEMM.serial(transB: true, m: rows, n: tokens, k: headDim, alpha: scale,
                            a: q, lda: ld, b: k, ldb: ld, c: scores, ldc: tokens)
                Softmax.serialRows(scores, rows: rows, width: tokens, ld: tokens)
                GEMM.serial(m: rows, n: headDim, k: tokens, a: scores, lda: tokens, b: v, ldb: ld,
                            c: po.value + row0 * dim + h * headDim, ldc: dim)
                item += workers
            }
        }
    }
}
