import CKernels

/// Single-precision matrix multiply through BLAS (OpenBLAS, loaded at run time), row-major:
/// C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C.
///
/// BLAS runs single-threaded; the engine owns the threads (`Parallel`) and splits large products
/// itself, so BLAS worker threads never spin against the engine's own parallel regions.
public enum GEMM {
    /// Starts loading BLAS on a thread of its own and returns at once, so that the load overlaps
    /// whatever the process does next (argument checks, reading the model).
    public static func preload() { da3_blas_load_async() }

    /// Throws `BLASUnavailable` when OpenBLAS cannot be loaded: the operators that run on BLAS (the
    /// CPU backend's, the host-side camera layers) need it. Loads it if need be.
    public static func requireBLAS() throws {
        if let reason = da3_blas_error() { throw BLASUnavailable(reason: String(cString: reason)) }
    }

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
        da3_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k),
                  alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
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

/// BLAS could not be loaded (`reason`: the dynamic loader's message).
public struct BLASUnavailable: Error, CustomStringConvertible {
    public let reason: String
    public var description: String {
        "BLAS could not be loaded (\(reason)): the engine's matrix products need OpenBLAS (Debian/Ubuntu: apt install "
            + "libopenblas0) or the CBLAS library that DA3_BLAS_LIBRARY names"
    }
}
