/// Small dense linear algebra in double precision (the ray-to-pose solve, the scene alignment).
enum SmallLinearAlgebra {
    /// Eigenvalues (ascending) and unit eigenvectors (`vectors[k]` for `values[k]`) of a symmetric
    /// n x n matrix (row-major), by cyclic Jacobi rotations.
    static func symmetricEigen(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [[Double]]) {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0, scale = 0.0
            for i in 0..<n {
                scale += a[i * n + i] * a[i * n + i]
                for j in (i + 1)..<n { off += a[i * n + j] * a[i * n + j] }
            }
            if off <= 1e-30 * scale || off == 0 { break }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n where a[p * n + q] != 0 {
                    // The rotation that zeroes a[p][q] (Golub & Van Loan, symmetric Schur).
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] < a[$1 * n + $1] }
        return (order.map { a[$0 * n + $0] }, order.map { k in (0..<n).map { v[$0 * n + k] } })
    }

    /// The unit eigenvector of the smallest eigenvalue of a symmetric n x n matrix: for AᵀA it is
    /// A's right singular vector of the smallest singular value (the last row of
    /// `torch.linalg.svd(A).Vh`, up to sign).
    static func smallestEigenvector(_ matrix: [Double], n: Int) -> [Double] {
        symmetricEigen(matrix, n: n).vectors[0]
    }

    /// A = Q L with Q orthogonal and L lower triangular with a positive diagonal (row-major 3x3),
    /// as upstream's `ql_decomposition` (QR of A with reversed columns, then its sign fix) returns it.
    static func ql(_ a: [Double]) -> (q: [Double], l: [Double]) {
        // Gram-Schmidt from the last column backwards: column j of A is Σ_{k >= j} L[k][j] q_k.
        var q = [Double](repeating: 0, count: 9), l = [Double](repeating: 0, count: 9)
        for j in stride(from: 2, through: 0, by: -1) {
            var col = (0..<3).map { a[$0 * 3 + j] }
            for k in (j + 1)..<3 {
                let dot = (0..<3).reduce(0.0) { $0 + q[$1 * 3 + k] * col[$1] }
                l[k * 3 + j] = dot
                for i in 0..<3 { col[i] -= dot * q[i * 3 + k] }
            }
            let norm = col.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            l[j * 3 + j] = norm
            for i in 0..<3 { q[i * 3 + j] = col[i] / norm }
        }
        return (q, l)
    }

    static func determinant3(_ m: [Double]) -> Double {
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }
}
