import Foundation

/// What the official API does around a pose-conditioned pass (`api.py`): `_normalize_extrinsics`
/// before it and the scale of `_align_to_input_extrinsics_intrinsics` (`align_poses_umeyama`, evo's
/// Umeyama Sim(3) with scale) after it.
public enum SceneCameraAlignment {
    /// A failure of the alignment (too few or degenerate camera centres), as a reason.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `_normalize_extrinsics`: world-to-camera 4x4 matrices expressed relative to the first camera
    /// (ex @ inv(ex[0])), translations divided by the median camera distance (torch's lower median,
    /// at least 0.1). FP32 as the official code.
    public static func normalize(_ extrinsics: [[Float]]) -> [[Float]] {
        let first = CameraGeometry.affineInverse(CameraGeometry.homogeneous(extrinsics[0]))
        var out = extrinsics.map { CameraGeometry.multiply4(CameraGeometry.homogeneous($0), first) }
        let distances = out.map { e -> Float in
            let c = CameraGeometry.affineInverse(e)
            return (c[3] * c[3] + c[7] * c[7] + c[11] * c[11]).squareRoot()
        }
        let median = max(distances.sorted()[(distances.count - 1) / 2], 0.1)
        for i in out.indices { for r in 0..<3 { out[i][r * 4 + 3] /= median } }
        return out
    }

    /// The scale s of the Umeyama alignment that maps the camera centres of `source` (world-to-camera
    /// 3x4 or 4x4 each) onto those of `target` (s R x + t ≈ y), as `align_poses_umeyama(target, source)`.
    /// The depth of a pass conditioned on `source` is divided by it to return to the input scale.
    /// Throws where the centres are degenerate (fewer than 3 non-collinear), as evo does.
    public static func umeyamaScale(source: [[Float]], target: [[Float]]) throws -> Double {
        precondition(source.count == target.count)
        func centres(_ e: [[Float]]) -> [[Double]] {
            e.map { m in
                let c = CameraGeometry.affineInverse(CameraGeometry.homogeneous(m)).map(Double.init)
                // affine_inverse_np in float64 of the float32 matrices.
                return [c[3], c[7], c[11]]
            }
        }
        let x = centres(source), y = centres(target), n = Double(x.count)
        let mx = (0..<3).map { a in x.reduce(0) { $0 + $1[a] } / n }
        let my = (0..<3).map { a in y.reduce(0) { $0 + $1[a] } / n }
        let sigma = x.reduce(0.0) { s, p in s + (0..<3).reduce(0.0) { $0 + (p[$1] - mx[$1]) * (p[$1] - mx[$1]) } } / n
        var cov = [Double](repeating: 0, count: 9)
        for (p, q) in zip(x, y) {
            for r in 0..<3 { for c in 0..<3 { cov[r * 3 + c] += (q[r] - my[r]) * (p[c] - mx[c]) / n } }
        }
        let d = singularValues3(cov)
        // evo requires two singular values above machine epsilon; these come from AᵀA's eigenvalues
        // (about 1e-8 relative accuracy), so the rank test is relative to the largest.
        guard d[0] > 0, d[1] > 1e-6 * d[0] else {
            throw Failure(description: "the camera centres are degenerate (at least 3 views with distinct, non-collinear centres are needed to align the scale, as the official Umeyama alignment)")
        }
        let det = cov[0] * (cov[4] * cov[8] - cov[5] * cov[7]) - cov[1] * (cov[3] * cov[8] - cov[5] * cov[6])
            + cov[2] * (cov[3] * cov[7] - cov[4] * cov[6])
        return (d[0] + d[1] + (det < 0 ? -d[2] : d[2])) / sigma
    }

    /// Singular values of a row-major 3x3 matrix, descending (eigenvalues of AᵀA by Jacobi rotations).
    static func singularValues3(_ a: [Double]) -> [Double] {
        var m = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { m[i * 3 + j] += a[k * 3 + i] * a[k * 3 + j] } } }
        for _ in 0..<50 {
            var off = 0.0
            for (p, q) in [(0, 1), (0, 2), (1, 2)] {
                let apq = m[p * 3 + q]
                off += abs(apq)
                if abs(apq) < 1e-300 { continue }
                let theta = (m[q * 3 + q] - m[p * 3 + p]) / (2 * apq)
                let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<3 {
                    let mkp = m[k * 3 + p], mkq = m[k * 3 + q]
                    m[k * 3 + p] = c * mkp - s * mkq
                    m[k * 3 + q] = s * mkp + c * mkq
                }
                for k in 0..<3 {
                    let mpk = m[p * 3 + k], mqk = m[q * 3 + k]
                    m[p * 3 + k] = c * mpk - s * mqk
                    m[q * 3 + k] = s * mpk + c * mqk
                }
            }
            if off < 1e-30 { break }
        }
        return [m[0], m[4], m[8]].map { max($0, 0).squareRoot() }.sorted(by: >)
    }
}
