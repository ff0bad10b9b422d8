import DA3Core
import Foundation

/// The camera conversions of `model/utils/transform.py` and `utils/geometry.py` in FP32, as the
/// official code computes them: pose encodings (translation, quaternion xyzw, fov_h, fov_w) to and
/// from camera-to-world matrices, and the rigid inverse. Matrices are row-major 3x4 or 4x4 arrays.
public enum CameraGeometry {
    /// `quat_to_mat` (xyzw, scalar last): the row-major 3x3 rotation.
    public static func rotation(quaternion q: [Float]) -> [Float] {
        let i = q[0], j = q[1], k = q[2], r = q[3]
        let twoS: Float = 2.0 / (i * i + j * j + k * k + r * r)
        return [1 - twoS * (j * j + k * k), twoS * (i * j - k * r), twoS * (i * k + j * r),
                twoS * (i * j + k * r), 1 - twoS * (i * i + k * k), twoS * (j * k - i * r),
                twoS * (i * k - j * r), twoS * (j * k + i * r), 1 - twoS * (i * i + j * j)]
    }

    /// `mat_to_quat`: the xyzw quaternion (real part made non-negative) of a row-major 3x3 rotation.
    public static func quaternion(rotation m: [Float]) -> [Float] {
        let (m00, m01, m02, m10, m11, m12, m20, m21, m22) = (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])
        let qAbs = [1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22]
            .map { $0 > 0 ? $0.squareRoot() : 0 }
        let candidates: [[Float]] = [
            [qAbs[0] * qAbs[0], m21 - m12, m02 - m20, m10 - m01],
            [m21 - m12, qAbs[1] * qAbs[1], m10 + m01, m02 + m20],
            [m02 - m20, m10 + m01, qAbs[2] * qAbs[2], m12 + m21],
            [m10 - m01, m20 + m02, m21 + m12, qAbs[3] * qAbs[3]],
        ]
        var best = 0
        for n in 1..<4 where qAbs[n] > qAbs[best] { best = n }
        let rijk = candidates[best].map { $0 / (2 * max(qAbs[best], 0.1)) }
        let xyzw = [rijk[1], rijk[2], rijk[3], rijk[0]]
        return xyzw[3] < 0 ? xyzw.map { -$0 } : xyzw
    }

    /// `affine_inverse` of a rigid 3x4 or 4x4 [R | t]: [Rᵀ | -Rᵀ t] (same shape).
    public static func affineInverse(_ a: [Float]) -> [Float] { RigidTransform.inverse(a) }

    /// `pose_encoding_to_extri_intri` followed by `affine_inverse`: the world-to-camera 3x4 of a pose encoding.
    public static func extrinsics(poseEncoding p: [Float]) -> [Float] {
        let r = rotation(quaternion: Array(p[3..<7]))
        let c2w = [r[0], r[1], r[2], p[0], r[3], r[4], r[5], p[1], r[6], r[7], r[8], p[2]]
        return affineInverse(c2w)
    }

    /// `extri_intri_to_pose_encoding` of a camera-to-world matrix (3x4 or 4x4) and a row-major 3x3 K
    /// for an image of `height` x `width`.
    public static func poseEncoding(cameraToWorld c2w: [Float], intrinsics k: [Float], height: Int, width: Int) -> [Float] {
        let r = [c2w[0], c2w[1], c2w[2], c2w[4], c2w[5], c2w[6], c2w[8], c2w[9], c2w[10]]
        let fovH = 2 * atanf((Float(height) / 2) / k[4])
        let fovW = 2 * atanf((Float(width) / 2) / k[0])
        return [c2w[3], c2w[7], c2w[11]] + quaternion(rotation: r) + [fovH, fovW]
    }

    /// a @ b for row-major 4x4 matrices.
    public static func multiply4(_ a: [Float], _ b: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: 16)
        for i in 0..<4 { for j in 0..<4 { for k in 0..<4 { out[i * 4 + j] += a[i * 4 + k] * b[k * 4 + j] } } }
        return out
    }

    /// A 3x4 or 4x4 matrix as 4x4 (bottom row 0 0 0 1).
    public static func homogeneous(_ a: [Float]) -> [Float] {
        a.count == 16 ? a : a + [0, 0, 0, 1]
    }
}
