import CKernels

/// Layer normalization over the last dimension, as `torch.nn.LayerNorm` (biased variance).
public enum LayerNorm {
    /// Normalizes `rows` vectors of `width` elements read with stride `inStride` and written with
    /// stride `outStride` (both in elements; in-place is allowed). `parallel: false` stays on the
    /// calling thread (inside an already parallel region).
    public static func forward(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, inStride: Int? = nil,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float,
        into y: UnsafeMutablePointer<Float>, outStride: Int? = nil, parallel: Bool = true
    ) {
        let sIn = inStride ?? width, sOut = outStride ?? width
        let xs = UncheckedBox(x), ys = UncheckedBox(y), ws = UncheckedBox(weight), bs = UncheckedBox(bias)
        Parallel.forEachChunk(rows, costPerItem: parallel ? width * 4 : 0) { range in
            da3_layernorm_rows(xs.value + range.lowerBound * sIn, range.count, width, sIn, ws.value, bs.value, eps,
                               ys.value + range.lowerBound * sOut, sOut)
        }
    }

    /// `rows` rows on the calling thread, straight into the C kernel (for many small calls inside
    /// an already parallel region, e.g. per-head q/k norms).
    @inline(__always)
    public static func serial(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, inStride: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float,
        into y: UnsafeMutablePointer<Float>, outStride: Int
    ) {
        da3_layernorm_rows(x, rows, width, inStride, weight, bias, eps, y, outStride)
    }

    /// As `forward` (contiguous rows), writing bfloat16 (the input of `Precision.fast` products):
    /// each row is normalized in FP32 into a cache-resident buffer, then rounded.
    public static func forwardBF16(
        _ x: UnsafePointer<Float>, rows: Int, width: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float,
        into y: UnsafeMutablePointer<UInt16>, parallel: Bool = true
    ) {
        let xs = UncheckedBox(x), ys = UncheckedBox(y), ws = UncheckedBox(weight), bs = UncheckedBox(bias)
        Parallel.forEachChunk(rows, costPerItem: parallel ? width * 5 : 0) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { row in
                for r in range {
                    da3_layernorm_rows(xs.value + r * width, 1, width, width, ws.value, bs.value, eps, row.baseAddress!, width)
                    da3_f32_to_bf16(row.baseAddress!, ys.value + r * width, width)
                }
            }
        }
    }
}
