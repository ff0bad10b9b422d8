// Mirrors OpenCV's separable fixed-point resize for 8-bit images (resize.cpp: the coefficient
// set-up at the end of `resize`, `resizeGeneric_` / `resizeGeneric_Invoker`, `HResizeLinear`,
// `HResizeCubic`, `VResizeLinear` + `VResizeLinearVec_32s8u`, `VResizeCubic` +
// `VResizeCubicVec_32s8u`, `FixedPtCast`), as compiled for the x86-64 SSE3 baseline (128-bit
// vectors). The vertical passes reproduce the vector formulas, which round differently from the
// scalar fixed-point cast; where cv2 5.0 uses which one was measured against cv2.resize.

enum GenericResize {
    enum Kernel {
        /// INTER_AREA when enlarging (OpenCV's bilinear "area mode" coefficients).
        case areaLinear
        /// OpenCV's own INTER_CUBIC (used by cv2 when IPP declines, i.e. sources under 4x4).
        case cubic
    }

    /// `INTER_RESIZE_COEF_SCALE`.
    static let coefScale: Float = 2048

    /// `interpolateCubic` with A = -0.75 in float.
    @inline(__always)
    static func cubicCoeffs(_ x: Float) -> (Float, Float, Float, Float) {
        let a: Float = -0.75
        let c0 = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a
        let c1 = ((a + 2) * x - (a + 3)) * x * x + 1
        let c2 = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1
        let c3 = 1 - c0 - c1 - c2
        return (c0, c1, c2, c3)
    }

    /// `saturate_cast<short>(float)`.
    @inline(__always)
    static func fixed(_ v: Float) -> Int32 {
        let r = v.rounded(.toNearestOrEven)
        return Int32(max(-32768, min(32767, r)))
    }

    /// Per-axis taps: the first source index (before clamping) and ksize fixed-point weights.
    static func axis(source ssize: Int, destination dsize: Int, kernel: Kernel, isX: Bool) -> (ofs: [Int], coef: [Int32]) {
        let invScale = Double(dsize) / Double(ssize)
        let scale = 1.0 / invScale
        let ksize = kernel == .cubic ? 4 : 2
        var ofs = [Int](repeating: 0, count: dsize)
        var coef = [Int32](repeating: 0, count: dsize * ksize)
        for d in 0..<dsize {
            var s: Int
            var f: Float
            if kernel == .cubic {
                f = Float((Double(d) + 0.5) * scale - 0.5)
                s = Int(f.rounded(.down))
                f -= Float(s)
            } else {
                s = Int((Double(d) * scale).rounded(.down))
                f = Float(Double(d + 1) - Double(s + 1) * invScale)
                f = f <= 0 ? 0 : f - f.rounded(.down)
            }
            if kernel == .areaLinear && isX {
                // Left/right clamping of the 2-tap horizontal kernel.
                if s < 0 { f = 0; s = 0 }
                if s >= ssize - 1 { f = 0; s = ssize - 1 }
            }
            ofs[d] = s
            if kernel == .cubic {
                let c = cubicCoeffs(f)
                coef[d * 4] = fixed(c.0 * coefScale); coef[d * 4 + 1] = fixed(c.1 * coefScale)
                coef[d * 4 + 2] = fixed(c.2 * coefScale); coef[d * 4 + 3] = fixed(c.3 * coefScale)
            } else {
                coef[d * 2] = fixed((1 - f) * coefScale); coef[d * 2 + 1] = fixed(f * coefScale)
            }
        }
        return (ofs, coef)
    }

    static func resize(_ image: RGBImage, width dw: Int, height dh: Int, kernel: Kernel) -> RGBImage {
        let sw = image.width, sh = image.height
        let ksize = kernel == .cubic ? 4 : 2
        let (xofs, alpha) = axis(source: sw, destination: dw, kernel: kernel, isX: true)
        let (yofs, beta) = axis(source: sh, destination: dh, kernel: kernel, isX: false)
        let n = dw * 3
        // Horizontal pass for every source row (integer, so the order of evaluation is irrelevant).
        var hrows = [Int32](repeating: 0, count: sh * n)
        image.pixels.withUnsafeBufferPointer { src in
            hrows.withUnsafeMutableBufferPointer { h in
                for sy in 0..<sh {
                    let row = sy * sw * 3
                    let o = sy * n
                    for dx in 0..<dw {
                        let s0 = xofs[dx]
                        for c in 0..<3 {
                            var v: Int32 = 0
                            if kernel == .cubic {
                                for k in 0..<4 {
                                    let sx = min(max(s0 - 1 + k, 0), sw - 1)
                                    v += Int32(src[row + sx * 3 + c]) * alpha[dx * 4 + k]
                                }
                            } else {
                                let sx1 = min(s0 + 1, sw - 1)
                                v = Int32(src[row + s0 * 3 + c]) * alpha[dx * 2] + Int32(src[row + sx1 * 3 + c]) * alpha[dx * 2 + 1]
                            }
                            h[o + dx * 3 + c] = v
                        }
                    }
                }
            }
        }
        // Vertical pass.
        var out = [UInt8](repeating: 0, count: dh * n)
        hrows.withUnsafeBufferPointer { h in
            out.withUnsafeMutableBufferPointer { dst in
                for dy in 0..<dh {
                    var rows = [Int](repeating: 0, count: ksize)
                    for k in 0..<ksize {
                        let sy = yofs[dy] - (ksize / 2 - 1) + k
                        rows[k] = min(max(sy, 0), sh - 1) * n
                    }
                    let o = dy * n
                    if kernel == .cubic {
                        verticalCubic(h, rows, Array(beta[(dy * 4)..<(dy * 4 + 4)]), dst, o, n)
                    } else {
                        verticalLinear(h, rows, beta[dy * 2], beta[dy * 2 + 1], dst, o, n)
                    }
                }
            }
        }
        return RGBImage(width: dw, height: dh, pixels: out)
    }

    /// `(v + 2^21) >> 22`, saturated (`FixedPtCast<int, uchar, 22>`).
    @inline(__always)
    static func fixedCast(_ v: Int32) -> UInt8 { saturate8((v &+ (1 << 21)) >> 22) }

    /// int32 -> int16 with saturation (`v_pack`).
    @inline(__always)
    static func sat16(_ v: Int32) -> Int32 { max(-32768, min(32767, v)) }

    /// `VResizeLinear` with `VResizeLinearVec_32s8u`: cv2 5.0 evaluates every element of the row
    /// with the vector formula (measured: the integer `FixedPtCast` formula is never used here):
    /// mulhi(pack16(S >> 4), beta) summed with saturation, then (a + 2) >> 2 packed to uint8.
    static func verticalLinear(_ h: UnsafeBufferPointer<Int32>, _ rows: [Int], _ b0: Int32, _ b1: Int32,
                               _ dst: UnsafeMutableBufferPointer<UInt8>, _ o: Int, _ n: Int) {
        let r0 = rows[0], r1 = rows[1]
        for x in 0..<n {
            let a0 = (sat16(h[r0 + x] >> 4) * b0) >> 16
            let a1 = (sat16(h[r1 + x] >> 4) * b1) >> 16
            let a = sat16(a0 + a1)
            dst[o + x] = saturate8(sat16(a + 2) >> 2)
        }
    }

    /// `VResizeCubic`: 8-element vector blocks in float (no FMA on the SSE3 baseline), scalar remainder.
    static func verticalCubic(_ h: UnsafeBufferPointer<Int32>, _ rows: [Int], _ beta: [Int32],
                              _ dst: UnsafeMutableBufferPointer<UInt8>, _ o: Int, _ n: Int) {
        let scale: Float = 1.0 / (2048 * 2048)
        let f0 = Float(beta[0]) * scale, f1 = Float(beta[1]) * scale
        let f2 = Float(beta[2]) * scale, f3 = Float(beta[3]) * scale
        let vec = (n / 8) * 8
        for x in 0..<n {
            let s0 = h[rows[0] + x], s1 = h[rows[1] + x], s2 = h[rows[2] + x], s3 = h[rows[3] + x]
            if x < vec {
                let inner = Float(s2) * f2 + Float(s3) * f3
                let mid = Float(s1) * f1 + inner
                let v = Float(s0) * f0 + mid
                let r = v.rounded(.toNearestOrEven)
                dst[o + x] = saturate8(Int32(max(-32768, min(32767, r))))
            } else {
                dst[o + x] = fixedCast(s0 &* beta[0] &+ s1 &* beta[1] &+ s2 &* beta[2] &+ s3 &* beta[3])
            }
        }
    }
}
