import CBLAS

/// Single-precision matrix multiply through BLAS, row-major:
/// C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C.
///
/// BLAS runs single-threaded; the engine owns the threads (`Parallel`) and splits large products
/// itself, so BLAS worker threads never spin against the engine's own parallel regions.
public enum GEMM {
    /// Makes BLAS single-threaded (done once, before the first product).
    static let configureBLAS: Void = { openblas_set_num_threads(1) }()

    /// Makes BLAS single-threaded now (products do it on first use anyway).
    public static func makeSerial() { _ = configureBLAS }

    /// One BLAS call on the current thread.
    @inlinable
    public static func serial(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor,
            transA ? CblasTrans : CblasNoTrans,
            transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }

    /// The product on all engine threads: rows of C are split when m is the larger side,
    /// columns otherwise; each part is an independent BLAS call.
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = configureBLAS
        let workers = Parallel.threadCount
        // Below ~4 MFLOP a split costs more than it saves.
        guard workers > 1, m * n * k >= 2_000_000, max(m, n) >= 32 * workers else {
            serial(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
            return
        }
        let splitRows = m >= n
        let total = splitRows ? m : n
        // Parts aligned to 16 so BLAS micro-kernels see whole panels.
        let part = ((total + workers - 1) / workers + 15) / 16 * 16
        let pa = UncheckedBox(a), pb = UncheckedBox(b), pc = UncheckedBox(c)
        Parallel.forEachIndex(workers) { w in
            let start = w * part
            let count = min(total, start + part) - start
            guard count > 0 else { return }
            if splitRows {
                let aPart = pa.value + (transA ? start : start * lda)
                serial(transA: transA, transB: transB, m: count, n: n, k: k, alpha: alpha, a: aPart, lda: lda,
                       b: pb.value, ldb: ldb, beta: beta, c: pc.value + start * ldc, ldc: ldc)
            } else {
                let bPart = pb.value + (transB ? start * ldb : start)
                serial(transA: transA, transB: transB, m: m, n: count, k: k, alpha: alpha, a: pa.value, lda: lda,
                       b: bPart, ldb: ldb, beta: beta, c: pc.value + start, ldc: ldc)
            }
        }
    }
}
