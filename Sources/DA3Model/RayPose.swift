import DA3Core
import DA3Kernels
import Foundation

/// Cameras from the auxiliary head's ray maps: the official `use_ray_pose` solve
/// (`utils/ray_utils.py`: `get_extrinsic_from_camray` → `camray_to_caminfo` →
/// `compute_optimal_rotation_intrinsics_batch` → `ransac_find_homography_weighted_fast_batch`,
/// then `_process_ray_pose_estimation` in `model/da3.py`).
///
/// Per view, a confidence-weighted RANSAC (100 groups of 8 points drawn from the best 30% by
/// confidence, reprojection threshold 0.2) finds the homography from the unit camera plane to the
/// rays' directions; a weighted least-squares refit on the best group's inliers (at most 8000,
/// drawn at random from the most confident 95% beyond that) gives it, and its QL decomposition
/// gives the rotation and intrinsics. The camera centre is the confidence-weighted mean of the ray
/// origins. Upstream draws the random samples from torch's global generator; here they come from a
/// `TorchGenerator` seeded by the caller, which draws exactly what torch draws after
/// `torch.manual_seed(seed)`, and confidences are sorted as torch sorts them (`TorchSort`).
public enum RayPose {
    /// Pose solve settings.
    public struct Options: Sendable, Equatable {
        /// The RANSAC draws equal torch's after `torch.manual_seed(seed)`.
        public var seed: UInt64

        public init(seed: UInt64 = 0) { self.seed = seed }
    }

    /// One view's solved camera, in the form the network returns cameras.
    public struct Camera: Sendable {
        /// World-to-camera [R | t], row-major 3x4.
        public let extrinsics: [Float]
        /// In pixels of the processed image.
        public let intrinsics: Intrinsics
    }

    /// A view whose rays give no camera (fewer than 4 usable inliers).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let view: Int
        public let reason: String
        public var description: String { "ray pose of view \(view): \(reason)" }
    }

    static let iterations = 100, groupSize = 8, sampleRatio = 0.3
    static let reprojectionThreshold: Float = 0.2, zThreshold: Float = 1e-4
    static let maxInliers = 8000, inlierKeepRatio = 0.95

    /// Every view's camera from its ray map (all maps of one size), for images of
    /// `imageWidth` x `imageHeight`. The draws come from `generator` in upstream's order: the
    /// RANSAC groups once for all views, then per view (in order) the inlier subset where needed.
    public static func cameras(_ maps: [RayMap], imageWidth: Int, imageHeight: Int,
                               generator: inout TorchGenerator) throws -> [Camera] {
        guard let first = maps.first else { return [] }
        precondition(maps.allSatisfy { $0.width == first.width && $0.height == first.height }, "ray maps of one size")
        let count = first.width * first.height
        let candidates = max(groupSize, Int(Double(count) * sampleRatio))
        let groups = (0..<iterations).map { _ in Array(generator.permutation(candidates).prefix(groupSize)) }
        let grid = planeGrid(width: first.width, height: first.height)
        return try maps.enumerated().map { view, map in
            let fit = try solve(map, grid: grid, candidates: candidates, groups: groups, generator: &generator, view: view)
            return camera(fit, imageWidth: imageWidth, imageHeight: imageHeight)
        }
    }

    /// What `camray_to_caminfo` returns for one view.
    struct Fit {
        /// Rotation, row-major 3x3 (camera to world), and the camera centre.
        var rotation: [Double], centre: [Double]
        /// `1 / f` and `pp + 1` (normalized to a 2 x 2 image).
        var focal: (Double, Double), principal: (Double, Double)
    }

    /// The unit camera plane's points (x, y) per ray-map pixel: `unproject_depth` of depth 1 with
    /// the normalized identity intrinsics (torch's float32 linspace, then - 1).
    static func planeGrid(width: Int, height: Int) -> (x: [Float], y: [Float]) {
        func axis(_ n: Int) -> [Float] {
            let d = 1 / Double(n), maxV = 1 - d, minV = -maxV
            return UVEmbedding.linspace(minV + 1, maxV + 1, n).map { $0 - 1 }
        }
        return (axis(width), axis(height))
    }

    static func solve(_ map: RayMap, grid: (x: [Float], y: [Float]), candidates: Int, groups: [[Int]],
                      generator: inout TorchGenerator, view: Int) throws -> Fit {
        let (w, n) = (map.width, map.width * map.height)
        var src = [Float](repeating: 0, count: 2 * n), dst = [Float](repeating: 0, count: 2 * n)
        var weight = map.confidence
        for p in 0..<n {
            src[2 * p] = grid.x[p % w]
            src[2 * p + 1] = grid.y[p / w]
            let (x, y, z) = (map.rays[6 * p], map.rays[6 * p + 1], map.rays[6 * p + 2])
            if abs(z) > zThreshold {
                dst[2 * p] = x / z
                dst[2 * p + 1] = y / z
            } else {
                dst[2 * p] = x
                dst[2 * p + 1] = y
                weight[p] = 0
            }
        }
        let order = TorchSort.argsortDescending(weight)
        let candidate = Array(order.prefix(candidates))
        // Each group's score on all points, groups spread over the engine threads (each score is
        // summed in point order, so the choice does not depend on the threading).
        let homographies = groups.map { group in homography(group.map { candidate[$0] }, src: src, dst: dst, weight: weight).map(Float.init) }
        var scores = [Double](repeating: 0, count: homographies.count)
        scores.withUnsafeMutableBufferPointer { out in
            let results = UncheckedBox(out.baseAddress!)
            Parallel.forEachChunk(homographies.count, costPerItem: 20 * n) { range in
                for g in range {
                    var score = 0.0
                    for p in 0..<n where isInlier(p, homographies[g], src: src, dst: dst) { score += Double(weight[p]) }
                    results.value[g] = score
                }
            }
        }
        let best = scores.indices.max { scores[$0] < scores[$1] }!  // the first maximum, as torch.argmax
        let bestMask = (0..<n).map { isInlier($0, homographies[best], src: src, dst: dst) }
        let inliers = (0..<n).filter { bestMask[$0] }
        var chosen = TorchSort.argsortDescending(inliers.map { weight[$0] }).map { inliers[$0] }
        if chosen.count > maxInliers {
            let keep = max(Int(Double(chosen.count) * inlierKeepRatio), maxInliers)
            chosen = Array(chosen.prefix(keep))
            chosen = generator.permutation(keep).prefix(maxInliers).map { chosen[$0] }
        }
        guard chosen.count >= 4 else {
            throw Failure(view: view, reason: "\(chosen.count) inliers; a homography needs at least 4")
        }
        var a = homography(chosen, src: src, dst: dst, weight: weight)
        if SmallLinearAlgebra.determinant3(a) < 0 { a = a.map { -$0 } }
        let (q, lRaw) = SmallLinearAlgebra.ql(a)
        let l = lRaw.map { $0 / lRaw[8] }
        var centre = [0.0, 0.0, 0.0], total = 0.0
        for p in 0..<n where weight[p] != 0 {
            for k in 0..<3 { centre[k] += Double(map.rays[6 * p + 3 + k]) * Double(weight[p]) }
            total += Double(weight[p])
        }
        return Fit(rotation: q, centre: centre.map { $0 / total }, focal: (1 / l[0], 1 / l[4]),
                   principal: (l[6] + 1, l[7] + 1))
    }

    /// Whether point p reprojects through h within the threshold (NaN: no).
    @inline(__always)
    static func isInlier(_ p: Int, _ h: [Float], src: [Float], dst: [Float]) -> Bool {
        let (x, y) = (src[2 * p], src[2 * p + 1])
        let pz = h[6] * x + h[7] * y + h[8]
        let px = (h[0] * x + h[1] * y + h[2]) / pz, py = (h[3] * x + h[4] * y + h[5]) / pz
        let (dx, dy) = (px - dst[2 * p], py - dst[2 * p + 1])
        return (dx * dx + dy * dy).squareRoot() < reprojectionThreshold
    }

    /// `find_homography_least_squares_weighted_torch` on the given points: the H (row-major, H[2][2]
    /// = 1) whose rows minimize the weighted algebraic error, from AᵀA in double precision.
    static func homography(_ points: [Int], src: [Float], dst: [Float], weight: [Float]) -> [Double] {
        var m = [Double](repeating: 0, count: 81)
        var r1 = [Double](repeating: 0, count: 9), r2 = [Double](repeating: 0, count: 9)
        for p in points {
            let s = Double(weight[p].squareRoot())
            let (x, y, u, v) = (Double(src[2 * p]), Double(src[2 * p + 1]), Double(dst[2 * p]), Double(dst[2 * p + 1]))
            r1 = [-x * s, -y * s, -s, 0, 0, 0, x * u * s, y * u * s, u * s]
            r2 = [0, 0, 0, -x * s, -y * s, -s, x * v * s, y * v * s, v * s]
            for i in 0..<9 {
                for j in i..<9 { m[i * 9 + j] += r1[i] * r1[j] + r2[i] * r2[j] }
            }
        }
        for i in 0..<9 { for j in 0..<i { m[i * 9 + j] = m[j * 9 + i] } }
        let h = SmallLinearAlgebra.smallestEigenvector(m, n: 9)
        return h.map { $0 / h[8] }
    }

    /// `get_extrinsic_from_camray` and `_process_ray_pose_estimation`: the inverse of [R | T] and K.
    static func camera(_ fit: Fit, imageWidth: Int, imageHeight: Int) -> Camera {
        let r = fit.rotation, t = fit.centre
        var ext = [Float](repeating: 0, count: 12)
        for i in 0..<3 {
            for j in 0..<3 { ext[i * 4 + j] = Float(r[j * 3 + i]) }
            ext[i * 4 + 3] = Float(-(r[0 * 3 + i] * t[0] + r[1 * 3 + i] * t[1] + r[2 * 3 + i] * t[2]))
        }
        let (w, h) = (Double(imageWidth), Double(imageHeight))
        let k = Intrinsics(fx: fit.focal.0 / 2 * w, fy: fit.focal.1 / 2 * h, cx: fit.principal.0 * w * 0.5,
                           cy: fit.principal.1 * h * 0.5, width: imageWidth, height: imageHeight)
        return Camera(extrinsics: ext, intrinsics: k)
    }
}
