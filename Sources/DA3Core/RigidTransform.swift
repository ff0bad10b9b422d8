/// Rigid camera transforms stored row-major as 3x4 [R | t] (or 4x4 with a last row 0 0 0 1).
public enum RigidTransform {
    /// The inverse of a rigid [R | t]: [Rᵀ | -Rᵀ t], in the same shape (the official `affine_inverse`;
    /// world-to-camera to camera-to-world and back).
    public static func inverse(_ a: [Float]) -> [Float] {
        precondition(a.count == 12 || a.count == 16, "a rigid transform is 3x4 or 4x4")
        var out = a
        for r in 0..<3 {
            var t: Float = 0
            for c in 0..<3 {
                out[r * 4 + c] = a[c * 4 + r]
                t += a[c * 4 + r] * a[c * 4 + 3]
            }
            out[r * 4 + 3] = -t
        }
        return out
    }
}
