// Mirrors OpenCV's INTER_AREA decimation (resize.cpp): `resizeAreaFast_` (integer factors,
// box average; 2x2 rounds as (sum + 2) >> 2 like `ResizeAreaFastVec_SIMD_8u`, every other factor
// as cvRound(sum * (1.f/area))) and
// `resizeArea_` / `ResizeArea_Invoker` with `computeResizeAreaTab` (fractional factors, float
// weights accumulated per source row, then per destination row, in OpenCV's order).

enum AreaResize {
    /// Integer scale factors in both directions (`is_area_fast`).
    static func fast(_ image: RGBImage, width dw: Int, height dh: Int, scaleX sx: Int, scaleY sy: Int) -> RGBImage {
        let sw = image.width
        let area = sx * sy
        let inv = Float(1) / Float(area)
        var out = [UInt8](repeating: 0, count: dw * dh * 3)
        var sums = [Int32](repeating: 0, count: dw * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                sums.withUnsafeMutableBufferPointer { acc in
                    for dy in 0..<dh {
                        for i in 0..<(dw * 3) { acc[i] = 0 }
                        for ry in 0..<sy {
                            let row = (dy * sy + ry) * sw * 3
                            for dx in 0..<dw {
                                var s0: Int32 = 0, s1: Int32 = 0, s2: Int32 = 0
                                var p = row + dx * sx * 3
                                for _ in 0..<sx {
                                    s0 += Int32(src[p]); s1 += Int32(src[p + 1]); s2 += Int32(src[p + 2])
                                    p += 3
                                }
                                acc[dx * 3] += s0; acc[dx * 3 + 1] += s1; acc[dx * 3 + 2] += s2
                            }
                        }
                        let o = dy * dw * 3
                        if sx == 2 && sy == 2 {
                            for i in 0..<(dw * 3) { dst[o + i] = saturate8((acc[i] + 2) >> 2) }
                        } else {
                            for i in 0..<(dw * 3) { dst[o + i] = saturateRound(Float(acc[i]) * inv) }
                        }
                    }
                }
            }
        }
        return RGBImage(width: dw, height: dh, pixels: out)
    }

    /// One weight of the decimation table: destination index, source index, weight.
    struct Tap { var d: Int; var s: Int; var alpha: Float }

    /// `computeResizeAreaTab` for one axis (indices in pixels, not channels).
    static func table(source ssize: Int, destination dsize: Int, scale: Double) -> [Tap] {
        var tab: [Tap] = []
        tab.reserveCapacity(ssize * 2)
        for dx in 0..<dsize {
            let fsx1 = Double(dx) * scale
            let fsx2 = fsx1 + scale
            let cellWidth = min(scale, Double(ssize) - fsx1)
            var sx1 = Int(fsx1.rounded(.up)), sx2 = Int(fsx2.rounded(.down))
            sx2 = min(sx2, ssize - 1)
            sx1 = min(sx1, sx2)
            if Double(sx1) - fsx1 > 1e-3 {
                tab.append(Tap(d: dx, s: sx1 - 1, alpha: Float((Double(sx1) - fsx1) / cellWidth)))
            }
            if sx1 < sx2 {
                for sx in sx1..<sx2 { tab.append(Tap(d: dx, s: sx, alpha: Float(1.0 / cellWidth))) }
            }
            if fsx2 - Double(sx2) > 1e-3 {
                tab.append(Tap(d: dx, s: sx2, alpha: Float(min(min(fsx2 - Double(sx2), 1.0), cellWidth) / cellWidth)))
            }
        }
        return tab
    }

    /// Fractional shrink factors (both >= 1).
    static func general(_ image: RGBImage, width dw: Int, height dh: Int, scaleX: Double, scaleY: Double) -> RGBImage {
        let sw = image.width, sh = image.height
        let xtab = table(source: sw, destination: dw, scale: scaleX)
        let ytab = table(source: sh, destination: dh, scale: scaleY)
        let n = dw * 3
        var out = [UInt8](repeating: 0, count: dh * n)
        var buf = [Float](repeating: 0, count: n)
        var sum = [Float](repeating: 0, count: n)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                buf.withUnsafeMutableBufferPointer { buf in
                    sum.withUnsafeMutableBufferPointer { sum in
                        xtab.withUnsafeBufferPointer { xt in
                            var j = 0
                            while j < ytab.count {
                                let dy = ytab[j].d
                                for i in 0..<n { sum[i] = 0 }
                                while j < ytab.count && ytab[j].d == dy {
                                    let beta = ytab[j].alpha
                                    let row = ytab[j].s * sw * 3
                                    for i in 0..<n { buf[i] = 0 }
                                    for t in xt {
                                        let s = row + t.s * 3, d = t.d * 3, a = t.alpha
                                        buf[d] = buf[d] + Float(src[s]) * a
                                        buf[d + 1] = buf[d + 1] + Float(src[s + 1]) * a
                                        buf[d + 2] = buf[d + 2] + Float(src[s + 2]) * a
                                    }
                                    for i in 0..<n { sum[i] = sum[i] + buf[i] * beta }
                                    j += 1
                                }
                                let o = dy * n
                                for i in 0..<n { dst[o + i] = saturateRound(sum[i]) }
                            }
                        }
                    }
                }
            }
        }
        _ = sh
        return RGBImage(width: dw, height: dh, pixels: out)
    }
}
