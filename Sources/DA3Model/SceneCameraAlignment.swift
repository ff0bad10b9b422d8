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
        return try umeyama(x: centres(source), y: centres(target)).scale
    }

    /// Views from which upstream aligns with RANSAC (`ransac_view_thresh`).
    public static let ransacViews = 10

    /// The scale `_align_to_input_extrinsics_intrinsics` divides depth by: the Umeyama scale below
    /// `ransacViews` views, from there on upstream's RANSAC alignment (`_ransac_align_sim3`: 10
    /// rounds of Umeyama on half the views drawn by `np.random.default_rng(42)`, inliers within the
    /// median nearest-centre distance after a first full alignment, the best set refitted), with
    /// the same draws (`NumPyGenerator`).
    public static func inputScale(source: [[Float]], target: [[Float]]) throws -> Double {
        precondition(source.count == target.count)
        guard source.count >= ransacViews else { return try umeyamaScale(source: source, target: target) }
        return try ransacUmeyama(x: centres(source), y: centres(target), seed: 42).scale
    }

    /// A similarity y ≈ s R x + t.
    struct Similarity {
        /// Row-major 3x3 rotation.
        var rotation: [Double], translation: [Double], scale: Double

        func apply(_ p: [Double]) -> [Double] {
            (0..<3).map { r in scale * (0..<3).reduce(0.0) { $0 + rotation[r * 3 + $1] * p[$1] } + translation[r] }
        }
    }

    /// Camera centres of world-to-camera matrices (`affine_inverse_np` of the float32 matrices).
    static func centres(_ e: [[Float]]) -> [[Double]] {
        e.map { m in
            let c = CameraGeometry.affineInverse(CameraGeometry.homogeneous(m)).map(Double.init)
            return [c[3], c[7], c[11]]
        }
    }

    /// evo's `umeyama_alignment(x, y, with_scale=True)`.
    static func umeyama(x: [[Double]], y: [[Double]]) throws -> Similarity {
        let n = Double(x.count)
        let mx = (0..<3).map { a in x.reduce(0) { $0 + $1[a] } / n }
        let my = (0..<3).map { a in y.reduce(0) { $0 + $1[a] } / n }
        let sigma = x.reduce(0.0) { s, p in s + (0..<3).reduce(0.0) { $0 + (p[$1] - mx[$1]) * (p[$1] - mx[$1]) } } / n
        var cov = [Double](repeating: 0, count: 9)
        for (p, q) in zip(x, y) {
            for r in 0..<3 { for c in 0..<3 { cov[r * 3 + c] += (q[r] - my[r]) * (p[c] - mx[c]) / n } }
        }
        // cov = U D Vᵀ from the eigenvectors of covᵀcov (V) and u_i = cov v_i / d_i.
        var ctc = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { ctc[i * 3 + j] += cov[k * 3 + i] * cov[k * 3 + j] } } }
        let eigen = SmallLinearAlgebra.symmetricEigen(ctc, n: 3)
        let d = eigen.values.reversed().map { max($0, 0).squareRoot() }, v = Array(eigen.vectors.reversed())
        // evo requires two singular values above machine epsilon; these come from AᵀA's eigenvalues
        // (about 1e-8 relative accuracy), so the rank test is relative to the largest.
        guard d[0] > 0, d[1] > 1e-6 * d[0] else {
            throw Failure(description: "the camera centres are degenerate (at least 3 views with distinct, non-collinear centres are needed to align the scale, as the official Umeyama alignment)")
        }
        func times(_ w: [Double]) -> [Double] {
            (0..<3).map { r in cov[r * 3] * w[0] + cov[r * 3 + 1] * w[1] + cov[r * 3 + 2] * w[2] }
        }
        let u: [[Double]] = (0..<2).map { i in times(v[i]).map { $0 / d[i] } }
        let (a, b) = (u[0], u[1])
        let u2: [Double] = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
        // With u2 = u0 x u1 (det U = 1), evo's S = diag(1, 1, sign(det U det V)) makes the last term det V.
        let detV = SmallLinearAlgebra.determinant3(v.flatMap { $0 })
        let det = SmallLinearAlgebra.determinant3(cov)
        var rotation = [Double](repeating: 0, count: 9)
        for r in 0..<3 {
            for c in 0..<3 {
                let first: Double = a[r] * v[0][c] + b[r] * v[1][c]
                rotation[r * 3 + c] = first + detV * u2[r] * v[2][c]
            }
        }
        let scale = (d[0] + d[1] + (det < 0 ? -d[2] : d[2])) / sigma
        let rm = (0..<3).map { r in (0..<3).reduce(0.0) { $0 + rotation[r * 3 + $1] * mx[$1] } }
        return Similarity(rotation: rotation, translation: (0..<3).map { my[$0] - scale * rm[$0] }, scale: scale)
    }

    /// `_ransac_align_sim3(pose_ref = y, pose_est = x, random_state = seed)`.
    static func ransacUmeyama(x: [[Double]], y: [[Double]], seed: UInt64) throws -> Similarity {
        func distance(_ a: [Double], _ b: [Double]) -> Double {
            ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2])).squareRoot()
        }
        var generator = NumPyGenerator(seed: seed)
        let n = x.count, sampleSize = max(3, (n + 1) / 2)
        let first = try umeyama(x: x, y: y)
        // The median over the aligned centres of the distance to the nearest target centre.
        let nearest = x.map { p in let q = first.apply(p); return y.map { distance($0, q) }.min()! }.sorted()
        let threshold = n % 2 == 1 ? nearest[n / 2] : (nearest[n / 2 - 1] + nearest[n / 2]) / 2
        var best = first, bestInliers: [Bool]?, bestCount = -1, bestError = Double.infinity
        for _ in 0..<10 {
            let sample = generator.choice(n, size: sampleSize)
            guard let model = try? umeyama(x: sample.map { x[$0] }, y: sample.map { y[$0] }) else { continue }
            let errors = zip(x, y).map { distance(model.apply($0), $1) }
            let inliers = errors.map { $0 <= threshold }
            let count = inliers.filter { $0 }.count
            let mean = count > 0 ? zip(errors, inliers).filter(\.1).map(\.0).reduce(0, +) / Double(count) : .infinity
            if count > bestCount || (count == bestCount && mean < bestError) {
                (bestCount, bestError, best, bestInliers) = (count, mean, model, inliers)
            }
        }
        guard let bestInliers, bestCount >= 3 else { return best }
        let keep = (0..<n).filter { bestInliers[$0] }
        return try umeyama(x: keep.map { x[$0] }, y: keep.map { y[$0] })
    }
}
