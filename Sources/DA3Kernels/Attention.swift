/// Multi-head scaled dot-product attention over a fused QKV buffer, as
/// `F.scaled_dot_product_attention` on heads split from `nn.Linear(dim, 3*dim)`.
public enum Attention {
    /// qkv: (tokens, 3, heads, headDim) row-major; out: (tokens, heads*headDim).
    /// `scores` must hold tokens*tokens floats (one head at a time).
    public static func forward(
        qkv: UnsafePointer<Float>, tokens: Int, heads: Int, headDim: Int,
        scores: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>
    ) {
        let dim = heads * headDim
        let ld = 3 * dim
        let scale = 1 / Float(headDim).squareRoot()
        for h in 0..<heads {
            let q = qkv + h * headDim, k = qkv + dim + h * headDim, v = qkv + 2 * dim + h * headDim
            GEMM.sgemm(transB: true, m: tokens, n: tokens, k: headDim, alpha: scale,
                       a: q, lda: ld, b: k, ldb: ld, c: scores, ldc: tokens)
            Softmax.rows(scores, rows: tokens, width: tokens)
            GEMM.sgemm(m: tokens, n: headDim, k: tokens, a: scores, lda: tokens, b: v, ldb: ld,
                       c: out + h * headDim, ldc: dim)
        }
    }
}
