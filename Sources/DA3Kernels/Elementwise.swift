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

    /// float -> bfloat16 bit patterns (round to nearest even), for `Precision.fast` products.
    public static func toBF16(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<UInt16>, count: Int) {
        let xs = UncheckedBox(x), ys = UncheckedBox(y)
        Parallel.forEachChunk(count) { range in
            da3_f32_to_bf16(xs.value + range.lowerBound, ys.value + range.lowerBound, range.count)
        }
    }

    /// ReLU in place.
    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        relu(x, into: x, count: count)
    }

    /// ReLU from `x` into `y` (NaN maps to 0, as max(x, 0) does in the reference).
    public static func relu(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        let xs = UncheckedBox(x), ys = UncheckedBox(y)
        Parallel.forEachChunk(count) { range in
            for i in range { ys.value[i] = xs.value[i] > 0 ? xs.value[i] : 0 }
        }
    }

    /// y += x.
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        let xs = UncheckedBox(x), ys = UncheckedBox(y)
        Parallel.forEachChunk(count) { range in
            for i in range { ys.value[i] += xs.value[i] }
        }
    }

    /// Adds `bias[c]` to every element of plane c of a (channels, plane) map.
    public static func addChannelBias(_ bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, channels: Int, plane: Int) {
        let bs = UncheckedBox(bias), ys = UncheckedBox(y)
        Parallel.forEachChunk(channels, costPerItem: plane) { range in
            for c in range {
                let b = bs.value[c], p = ys.value + c * plane
                for i in 0..<plane { p[i] += b }
            }
        }
    }
}

extension Array where Element == Float {
    /// The values rounded to bfloat16 (bit patterns), e.g. weights converted once at load.
    public func bf16() -> [UInt16] {
        var out = [UInt16](repeating: 0, count: count)
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { Elementwise.toBF16(src.baseAddress!, into: $0.baseAddress!, count: src.count) }
        }
        return out
    }
}
