import CKernels
import Foundation

/// Pointwise operations on contiguous buffers.
public enum Elementwise {
    /// Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), as `torch.nn.GELU()` (approximate="none").
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let xs = UncheckedBox(x)
        Parallel.forEachChunk(count, costPerItem: 20) { range in
            da3_gelu(xs.value + range.lowerBound, range.count)
        }
    }

    /// ReLU in place.
    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count where !(x[i] > 0) { x[i] = 0 }
    }

    /// ReLU from `x` into `y`.
    public static func relu(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
    }

    /// y += x.
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// y += x * scale, with `scale` broadcast per channel over rows of `width` (LayerScale).
    public static func addScaledRows(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, rows: Int, width: Int, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r * width, yr = y + r * width
            for i in 0..<width { yr[i] += xr[i] * scale[i] }
        }
    }
}
