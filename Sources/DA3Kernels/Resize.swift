import CKernels
import Foundation

/// Resampling of planar (C, H, W) maps with PyTorch's `F.interpolate` conventions.
public enum Resize {
    /// Bilinear with align_corners=True (DPT fusion blocks and the head's final upsampling).
    public static func bilinearAlignCorners(
        _ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        outHeight: Int, outWidth: Int, into y: UnsafeMutablePointer<Float>
    ) {
        let ys = alignCornersTaps(input: height, output: outHeight)
        let xs = AxisTaps(alignCornersTaps(input: width, output: outWidth))
        let xp = UncheckedBox(x), yp = UncheckedBox(y)
        Parallel.forEachChunk(channels, costPerItem: outHeight * outWidth * 3) { range in
            for c in range {
                bilinearAlignCornersRows(xp.value + c * height * width, height: height, width: width, rowTaps: ys,
                                         columnTaps: xs, firstRow: 0, rows: outHeight,
                                         into: yp.value + c * outHeight * outWidth)
            }
        }
    }

    /// Output rows firstRow ..< firstRow + rows of one channel of the bilinear align_corners
    /// upsampling of `src` (height x width), with taps from `alignCornersTaps`; rows outside the
    /// output are zero (a convolution's padding). Each row gets `columnAddend[x]` (outWidth values)
    /// or `rowAddend[y]` (indexed by output row) added when given.
    ///
    /// Separable and exact: each source row is interpolated horizontally once, then each output
    /// row blends two such rows, so the result equals w0 * (h-interp row y0) + w1 * (h-interp row y1)
    /// evaluated per pixel, in the same order.
    public static func bilinearAlignCornersRows(
        _ src: UnsafePointer<Float>, height: Int, width: Int,
        rowTaps: [(Int, Int, Float, Float)], columnTaps: AxisTaps,
        firstRow: Int, rows: Int, columnAddend: UnsafePointer<Float>? = nil, rowAddend: UnsafePointer<Float>? = nil,
        into out: UnsafeMutablePointer<Float>
    ) {
        let outHeight = rowTaps.count, outWidth = columnTaps.first.count
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * outWidth) { buffer in
            let slots = buffer.baseAddress!
            var slotRow = (-1, -1)
            // The horizontally interpolated source row `sy`, computed unless held; never evicts `keep`.
            func interpolated(_ sy: Int, keep: Int) -> UnsafePointer<Float> {
                if slotRow.0 == sy { return UnsafePointer(slots) }
                if slotRow.1 == sy { return UnsafePointer(slots + outWidth) }
                let second = slotRow.0 == keep
                let d = slots + (second ? outWidth : 0)
                columnTaps.interpolate(src + sy * width, into: d)
                if second { slotRow.1 = sy } else { slotRow.0 = sy }
                return UnsafePointer(d)
            }
            for j in 0..<rows {
                let y = firstRow + j
                let dst = out + j * outWidth
                guard y >= 0 && y < outHeight else { dst.update(repeating: 0, count: outWidth); continue }
                let (y0, y1, ly0, ly1) = rowTaps[y]
                let h0 = interpolated(y0, keep: y1), h1 = interpolated(y1, keep: y0)
                if let columnAddend {
                    for ox in 0..<outWidth { dst[ox] = ly0 * h0[ox] + ly1 * h1[ox] + columnAddend[ox] }
                } else if let rowAddend {
                    let e = rowAddend[y]
                    for ox in 0..<outWidth { dst[ox] = ly0 * h0[ox] + ly1 * h1[ox] + e }
                } else {
                    for ox in 0..<outWidth { dst[ox] = ly0 * h0[ox] + ly1 * h1[ox] }
                }
            }
        }
    }

    /// Two-tap interpolation along a row, as separate arrays for the gathering kernel.
    public struct AxisTaps: Sendable {
        let first: [Int32], second: [Int32]
        let firstWeight: [Float], secondWeight: [Float]

        /// From per-output (i0, i1, w0, w1) taps, e.g. `alignCornersTaps`.
        public init(_ taps: [(Int, Int, Float, Float)]) {
            first = taps.map { Int32($0.0) }
            second = taps.map { Int32($0.1) }
            firstWeight = taps.map { $0.2 }
            secondWeight = taps.map { $0.3 }
        }

        /// out[o] = w0 * row[i0] + w1 * row[i1] for every output o.
        func interpolate(_ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
            first.withUnsafeBufferPointer { i0 in
                second.withUnsafeBufferPointer { i1 in
                    firstWeight.withUnsafeBufferPointer { w0 in
                        secondWeight.withUnsafeBufferPointer { w1 in
                            da3_lerp_gather(row, i0.baseAddress!, i1.baseAddress!, w0.baseAddress!, w1.baseAddress!,
                                            i0.count, out)
                        }
                    }
                }
            }
        }
    }

    /// Bilinear align_corners=True taps along one axis, per output index: (i0, i1, w0, w1), with
    /// scale = (in-1)/(out-1) in Float32 as PyTorch computes it. Output = w0 * x[i0] + w1 * x[i1].
    public static func alignCornersTaps(input: Int, output: Int) -> [(Int, Int, Float, Float)] {
        let scale: Float = output > 1 ? Float(input - 1) / Float(output - 1) : 0
        return (0..<output).map { o in
            let real = scale * Float(o)
            let i0 = min(Int(real), input - 1)
            let i1 = i0 + (i0 < input - 1 ? 1 : 0)
            let l1 = min(max(real - Float(i0), 0), 1)
            return (i0, i1, 1 - l1, l1)
        }
    }

    /// `bicubic` on arrays: returns the (outHeight, outWidth) channels-last result.
    public static func bicubic(
        _ x: [Float], channels: Int, height: Int, width: Int,
        outHeight: Int, outWidth: Int, scaleHeight: Double, scaleWidth: Double
    ) -> [Float] {
        precondition(x.count == channels * height * width)
        var y = [Float](repeating: 0, count: channels * outHeight * outWidth)
        x.withUnsafeBufferPointer { src in
            y.withUnsafeMutableBufferPointer { dst in
                bicubic(src.baseAddress!, channels: channels, height: height, width: width, outHeight: outHeight,
                        outWidth: outWidth, scaleHeight: scaleHeight, scaleWidth: scaleWidth, into: dst.baseAddress!)
            }
        }
        return y
    }

    /// Bicubic (A = -0.75), align_corners=False, antialias=False, with explicit scale factors as
    /// `F.interpolate(..., scale_factor=(sh, sw), mode="bicubic")`: the source coordinate is
    /// (dst + 0.5) / scale - 0.5 and border taps clamp. Channels-last maps (the position embedding's
    /// layout): x is height * width pixels of `channels` contiguous values, y outHeight * outWidth
    /// pixels likewise; per value, the four horizontal taps of each of the four rows are summed,
    /// then the rows in order. The inner loop runs over contiguous channels (vectorized).
    public static func bicubic(
        _ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        outHeight: Int, outWidth: Int, scaleHeight: Double, scaleWidth: Double,
        into y: UnsafeMutablePointer<Float>
    ) {
        let ys = cubicAxis(input: height, output: outHeight, scaleFactor: scaleHeight)
        let xs = cubicAxis(input: width, output: outWidth, scaleFactor: scaleWidth)
        let io = UncheckedBox((x, y))
        Parallel.forEachChunk(outHeight, costPerItem: outWidth * channels * 16) { rows in
            let (x, y) = io.value
            for oy in rows {
                let (ry, wy) = ys[oy]
                for ox in 0..<outWidth {
                    let (rx, wx) = xs[ox]
                    let dst = y + (oy * outWidth + ox) * channels
                    dst.update(repeating: 0, count: channels)
                    for i in 0..<4 {
                        let row = x + ry[i] * width * channels
                        let p0 = row + rx[0] * channels, p1 = row + rx[1] * channels
                        let p2 = row + rx[2] * channels, p3 = row + rx[3] * channels
                        let (w0, w1, w2, w3, wi) = (wx[0], wx[1], wx[2], wx[3], wy[i])
                        for c in 0..<channels {
                            dst[c] += wi * (w0 * p0[c] + w1 * p1[c] + w2 * p2[c] + w3 * p3[c])
                        }
                    }
                }
            }
        }
    }

    static func cubicAxis(input: Int, output: Int, scaleFactor: Double) -> [([Int], [Float])] {
        let a: Float = -0.75
        let scale = Float(1.0 / scaleFactor)
        func conv1(_ t: Float) -> Float { ((a + 2) * t - (a + 3)) * t * t + 1 }
        func conv2(_ t: Float) -> Float { ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
        return (0..<output).map { o in
            let real = scale * (Float(o) + 0.5) - 0.5
            let i0 = Int(floorf(real))
            let t = real - floorf(real)
            let w = [conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)]
            let idx = (0..<4).map { min(max(i0 - 1 + $0, 0), input - 1) }
            return (idx, w)
        }
    }
}
