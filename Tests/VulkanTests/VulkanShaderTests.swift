import DA3Kernels
import DA3Vulkan
import Foundation
import XCTest

/// Every shader against its naive CPU twin (double accumulation where sums are long), on the
/// test device (lavapipe in CI). Sizes are small and deliberately not multiples of the tiles.
final class VulkanShaderTests: XCTestCase {
    /// Runs `encode` as a one-off sequence and reads `count` floats of `out`.
    func run(_ count: Int, from out: VulkanBuffer, _ encode: (VulkanSequence) throws -> Void) throws -> [Float] {
        let opened = try VulkanTestDevice.open()
        let seq = VulkanSequence(device: opened.device)
        try encode(seq)
        try seq.run()
        return try out.read(Float.self, count: count)
    }

    func naiveGEMM(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transB: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i * k + p]) * Double(transB ? b[j * k + p] : b[p * n + j]) }
                c[i * n + j] = Float(s)
            }
        }
        return c
    }

    func naiveGELU(_ x: Float) -> Float { Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))) }

    func testGEMMLinearWithBiasGELUGammaResidual() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (m, n, k) = (37, 70, 45)
        let a = randomValues(m * k, seed: 1), w = randomValues(n * k, seed: 2), bias = randomValues(n, seed: 3)
        let gamma = randomValues(n, seed: 4), res = randomValues(m * n, seed: 5)
        let ba = try buffer(dev, a), bw = try buffer(dev, w), bb = try buffer(dev, bias), bg = try buffer(dev, gamma)
        let bc = try buffer(dev, res)  // in place: C = C + gamma * gelu(A W^T + b)
        let got = try run(m * n, from: bc) {
            try $0.gemm(lib, m: m, n: n, k: k, a: ba, lda: k, b: bw, ldb: k, transB: true, c: bc, ldc: n,
                        bias: bb, activation: .gelu, gamma: bg, residual: bc)
        }
        let prod = naiveGEMM(a, w, m: m, n: n, k: k, transB: true)
        var want = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { want[i * n + j] = res[i * n + j] + gamma[j] * naiveGELU(prod[i * n + j] + bias[j]) } }
        let err = maxRelativeError(got, want)
        print("gemm_f32 linear+gelu+gamma+residual max rel err \(err)")
        XCTAssertLessThan(err, 2e-6)
    }

    func testGEMMPlainBWithRowBiasReLUAndOffsets() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (m, n, k) = (19, 130, 70)
        let a = randomValues(m * k + 3, seed: 6), b = randomValues(k * n + 5, seed: 7), bias = randomValues(m, seed: 8)
        let ba = try buffer(dev, a), bb = try buffer(dev, b), bbias = try buffer(dev, bias)
        let bc = try VulkanBuffer(device: dev, size: (m * n + 2) * 4)
        let got = try run(m * n + 2, from: bc) {
            try $0.gemm(lib, m: m, n: n, k: k, a: ba, aOffset: 3, lda: k, b: bb, bOffset: 5, ldb: n, transB: false,
                        c: bc, cOffset: 2, ldc: n, bias: bbias, biasPerRow: true, activation: .relu)
        }
        let prod = naiveGEMM(Array(a[3...]), Array(b[5...]), m: m, n: n, k: k, transB: false)
        let want = (0..<(m * n)).map { max(prod[$0] + bias[$0 / n], 0) }
        XCTAssertLessThan(maxRelativeError(Array(got[2...]), want), 2e-6)
    }

    func testGEMMFP16() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        guard dev.fp16Enabled else { throw XCTSkip("\(dev.info.label) has no FP16") }
        let (m, n, k) = (33, 66, 80)
        let a = randomValues(m * k, seed: 9), w = randomValues(n * k, seed: 10)
        let ba = try buffer(dev, a), bw = try buffer(dev, w)
        let a16 = try VulkanBuffer(device: dev, size: m * k * 2), w16 = try VulkanBuffer(device: dev, size: n * k * 2)
        let bc = try VulkanBuffer(device: dev, size: m * n * 4)
        let got = try run(m * n, from: bc) {
            try $0.convertToFP16(lib, x: ba, count: m * k, y: a16)
            try $0.convertToFP16(lib, x: bw, count: n * k, y: w16)
            try $0.gemm(lib, m: m, n: n, k: k, a: a16, lda: k, b: w16, ldb: k, transB: true, c: bc, ldc: n, fp16: true)
        }
        // Twin: operands rounded to FP16 on the CPU, products exact, FP32-or-better accumulation.
        let a16r = a.map { Float(Float16($0)) }, w16r = w.map { Float(Float16($0)) }
        let want = naiveGEMM(a16r, w16r, m: m, n: n, k: k, transB: true)
        let err = maxRelativeError(got, want)
        print("gemm_f16 vs FP16-operand twin max rel err \(err); vs FP32 \(maxRelativeError(got, naiveGEMM(a, w, m: m, n: n, k: k, transB: true)))")
        XCTAssertLessThan(err, 2e-6)
        let converted = try a16.read(UInt16.self, count: m * k)
        XCTAssertEqual(converted, a.map { Float16($0).bitPattern })
    }

    func testLayerNormRowsAndPerHeadInPlace() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (rows, width) = (5, 300)
        let x = randomValues(rows * width, seed: 11, scale: 3).map { $0 + 0.5 }
        let w = randomValues(width, seed: 12), b = randomValues(width, seed: 13)
        let bx = try buffer(dev, x), bw = try buffer(dev, w), bb = try buffer(dev, b)
        let by = try VulkanBuffer(device: dev, size: rows * width * 4)
        let got = try run(rows * width, from: by) {
            try $0.layerNorm(lib, x: bx, rows: rows, width: width, weight: bw, bias: bb, eps: 1e-6, y: by)
        }
        func naive(_ v: ArraySlice<Float>, _ w: [Float]?, _ b: [Float]?, eps: Double) -> [Float] {
            let mean = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
            let variance = v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(v.count)
            return v.enumerated().map { i, e in
                let nrm = (Double(e) - mean) / (variance + eps).squareRoot()
                return Float(w.map { nrm * Double($0[i]) + Double(b![i]) } ?? nrm)
            }
        }
        let want = (0..<rows).flatMap { naive(x[($0 * width)..<(($0 + 1) * width)], w, b, eps: 1e-6) }
        XCTAssertLessThan(maxRelativeError(got, want), 2e-6)

        // q/k norm layout: 4 tokens x (3 * 2 heads * 16) qkv rows, normalize the k heads in place.
        let (tokens, heads, hd) = (4, 2, 16)
        let ld = 3 * heads * hd
        let qkv = randomValues(tokens * ld, seed: 14, scale: 2)
        let hw = randomValues(hd, seed: 15), hb = randomValues(hd, seed: 16)
        let bq = try buffer(dev, qkv), bhw = try buffer(dev, hw), bhb = try buffer(dev, hb)
        let got2 = try run(tokens * ld, from: bq) {
            try $0.layerNorm(lib, x: bq, inOffset: heads * hd, rows: tokens * heads, width: hd, groups: heads,
                             inStride: ld, innerStride: hd, weight: bhw, bias: bhb, eps: 1e-5, y: bq, outOffset: heads * hd)
        }
        var want2 = qkv
        for t in 0..<tokens {
            for h in 0..<heads {
                let s = t * ld + heads * hd + h * hd
                want2.replaceSubrange(s..<(s + hd), with: naive(qkv[s..<(s + hd)], hw, hb, eps: 1e-5))
            }
        }
        XCTAssertLessThan(maxRelativeError(got2, want2), 2e-6)
    }

    func testSoftmax() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (rows, width, ld) = (6, 200, 210)
        let x = randomValues(rows * ld, seed: 17, scale: 8)
        let bx = try buffer(dev, x)
        let got = try run(rows * ld, from: bx) { try $0.softmax(lib, x: bx, rows: rows, width: width, ld: ld, scale: 0.5) }
        var want = x
        for r in 0..<rows {
            let row = x[(r * ld)..<(r * ld + width)].map { Double($0) * 0.5 }
            let mx = row.max()!
            let e = row.map { Foundation.exp($0 - mx) }
            let s = e.reduce(0, +)
            for i in 0..<width { want[r * ld + i] = Float(e[i] / s) }
        }
        XCTAssertLessThan(maxRelativeError(got, want), 2e-6)
    }

    func testAttentionAcrossKeyBlocks() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (tokens, heads, hd) = (150, 3, 64)   // 150 keys: three blocks, the last partial
        let dim = heads * hd, ld = 3 * dim
        let qkv = randomValues(tokens * ld, seed: 18, scale: 2)
        let bq = try buffer(dev, qkv), bo = try VulkanBuffer(device: dev, size: tokens * dim * 4)
        let scale: Float = 0.125
        let got = try run(tokens * dim, from: bo) {
            try $0.attention(lib, qkv: bq, tokens: tokens, heads: heads, headDim: hd, ldIn: ld, qOffset: 0, kOffset: dim,
                             vOffset: 2 * dim, scale: scale, output: bo, ldOut: dim)
        }
        var want = [Float](repeating: 0, count: tokens * dim)
        for h in 0..<heads {
            for i in 0..<tokens {
                var s = [Double](repeating: 0, count: tokens)
                for j in 0..<tokens {
                    var d = 0.0
                    for c in 0..<hd { d += Double(qkv[i * ld + h * hd + c]) * Double(qkv[j * ld + dim + h * hd + c]) }
                    s[j] = d * Double(scale)
                }
                let mx = s.max()!
                let e = s.map { Foundation.exp($0 - mx) }
                let total = e.reduce(0, +)
                for c in 0..<hd {
                    var acc = 0.0
                    for j in 0..<tokens { acc += e[j] * Double(qkv[j * ld + 2 * dim + h * hd + c]) }
                    want[i * dim + h * hd + c] = Float(acc / total)
                }
            }
        }
        let err = maxRelativeError(got, want)
        print("attention max rel err \(err)")
        XCTAssertLessThan(err, 2e-6)
    }

    func testRoPE2DMatchesCPUKernel() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (tokens, heads, hd) = (7, 2, 64)
        let ld = 3 * heads * hd
        let x = randomValues(tokens * ld, seed: 19)
        // Token 0 is the special token at (0, 0); the others a 2 x 3 grid at (y + 1, x + 1).
        let positions: [(Int, Int)] = [(0, 0), (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
        let maxPos = 8, quarter = hd / 4
        var cosT = [Float](repeating: 0, count: maxPos * quarter), sinT = cosT
        for i in 0..<quarter {
            let invFreq = 1 / powf(100, Float(2 * i) / Float(hd / 2))
            for p in 0..<maxPos { cosT[p * quarter + i] = cosf(Float(p) * invFreq); sinT[p * quarter + i] = sinf(Float(p) * invFreq) }
        }
        let bx = try buffer(dev, x), bc = try buffer(dev, cosT), bs = try buffer(dev, sinT)
        let bp = try VulkanBuffer(device: dev, size: tokens * 8)
        try bp.write(positions.flatMap { [Int32($0.0), Int32($0.1)] })
        let got = try run(tokens * ld, from: bx) {
            try $0.rope(lib, x: bx, tokens: tokens, heads: heads, headDim: hd, ld: ld, offset: heads * hd,
                        positions: bp, cos: bc, sin: bs)
        }
        // Twin: the CPU kernel on the k heads.
        let rope = RoPE2D(headDim: hd, maxPosition: maxPos)
        var want = x
        want.withUnsafeMutableBufferPointer { w in
            for t in 0..<tokens { for h in 0..<heads { rope.apply(w.baseAddress! + t * ld + heads * hd + h * hd, posY: positions[t].0, posX: positions[t].1) } }
        }
        XCTAssertLessThan(maxRelativeError(got, want), 1e-6)
    }

    func naiveConv(_ x: [Float], c: Int, h: Int, w: Int, weight: [Float], bias: [Float]?, cout: Int, k: Int, stride: Int, pad: Int,
                   reluIn: Bool = false) -> (out: [Float], oh: Int, ow: Int) {
        let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
        var y = [Float](repeating: 0, count: cout * oh * ow)
        for co in 0..<cout { for oy in 0..<oh { for ox in 0..<ow {
            var s = Double(bias?[co] ?? 0)
            for ci in 0..<c { for ky in 0..<k { for kx in 0..<k {
                let iy = oy * stride + ky - pad, ix = ox * stride + kx - pad
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                var v = x[(ci * h + iy) * w + ix]
                if reluIn { v = max(v, 0) }
                s += Double(weight[((co * c + ci) * k + ky) * k + kx]) * Double(v)
            } } }
            y[(co * oh + oy) * ow + ox] = Float(s)
        } } }
        return (y, oh, ow)
    }

    func testConv2DDirectAndIm2colVariants() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        for (k, stride, pad) in [(3, 1, 1), (1, 1, 0), (3, 2, 1)] {
            let (c, h, w, cout) = (5, 9, 11, 7)
            let x = randomValues(c * h * w, seed: 20), weight = randomValues(cout * c * k * k, seed: 21), bias = randomValues(cout, seed: 22)
            let ref = naiveConv(x, c: c, h: h, w: w, weight: weight, bias: bias, cout: cout, k: k, stride: stride, pad: pad, reluIn: true)
            let res = randomValues(ref.out.count, seed: 23)
            let want = (0..<res.count).map { res[$0] + ref.out[$0] }
            let bx = try buffer(dev, x), bw = try buffer(dev, weight), bb = try buffer(dev, bias), br = try buffer(dev, res)
            let by = try VulkanBuffer(device: dev, size: ref.out.count * 4)
            let direct = try run(ref.out.count, from: by) {
                try $0.conv2d(lib, x: bx, channels: c, height: h, width: w, weight: bw, bias: bb, outChannels: cout,
                              kernel: k, stride: stride, padding: pad, reluInput: true, residual: br, y: by)
            }
            XCTAssertLessThan(maxRelativeError(direct, want), 2e-6, "direct k\(k) s\(stride)")
            let cols = try VulkanBuffer(device: dev, size: c * k * k * ref.oh * ref.ow * 4)
            let viaGEMM = try run(ref.out.count, from: by) {
                try $0.conv2dGEMM(lib, x: bx, channels: c, height: h, width: w, weight: bw, bias: bb, outChannels: cout,
                                  kernel: k, stride: stride, padding: pad, reluInput: true, residual: br, columns: cols, y: by)
            }
            XCTAssertLessThan(maxRelativeError(viaGEMM, want), 2e-6, "im2col k\(k) s\(stride)")
        }
        // ReLU on the output.
        let (c, h, w, cout) = (3, 6, 5, 4)
        let x = randomValues(c * h * w, seed: 24), weight = randomValues(cout * c * 9, seed: 25)
        let ref = naiveConv(x, c: c, h: h, w: w, weight: weight, bias: nil, cout: cout, k: 3, stride: 1, pad: 1)
        let bx = try buffer(dev, x), bw = try buffer(dev, weight), by = try VulkanBuffer(device: dev, size: ref.out.count * 4)
        let got = try run(ref.out.count, from: by) {
            try $0.conv2d(lib, x: bx, channels: c, height: h, width: w, weight: bw, bias: nil, outChannels: cout,
                          kernel: 3, stride: 1, padding: 1, reluOutput: true, y: by)
        }
        XCTAssertLessThan(maxRelativeError(got, ref.out.map { max($0, 0) }), 2e-6)
    }

    func testConvTranspose() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        for s in [2, 4] {
            let (c, h, w, cout) = (6, 3, 5, 4)
            let x = randomValues(c * h * w, seed: 26), weight = randomValues(c * cout * s * s, seed: 27), bias = randomValues(cout, seed: 28)
            var want = [Float](repeating: 0, count: cout * h * s * w * s)
            for co in 0..<cout { for oy in 0..<(h * s) { for ox in 0..<(w * s) {
                var acc = Double(bias[co])
                for ci in 0..<c { acc += Double(x[(ci * h + oy / s) * w + ox / s]) * Double(weight[((ci * cout + co) * s + oy % s) * s + ox % s]) }
                want[(co * h * s + oy) * w * s + ox] = Float(acc)
            } } }
            let bx = try buffer(dev, x), bw = try buffer(dev, weight), bb = try buffer(dev, bias)
            let by = try VulkanBuffer(device: dev, size: want.count * 4)
            let got = try run(want.count, from: by) {
                try $0.convTranspose2d(lib, x: bx, channels: c, height: h, width: w, weight: bw, bias: bb, outChannels: cout, stride: s, y: by)
            }
            XCTAssertLessThan(maxRelativeError(got, want), 2e-6, "stride \(s)")
        }
    }

    func testPatchEmbed() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (gh, gw, dim, patch) = (2, 3, 8, 14)
        let img = randomValues(3 * gh * patch * gw * patch, seed: 29), weight = randomValues(dim * 3 * patch * patch, seed: 30)
        let bias = randomValues(dim, seed: 31)
        let ref = naiveConv(img, c: 3, h: gh * patch, w: gw * patch, weight: weight, bias: bias, cout: dim, k: patch, stride: patch, pad: 0)
        var want = [Float](repeating: 0, count: (1 + gh * gw) * dim)   // row 0 left for the cls token
        for t in 0..<(gh * gw) { for c in 0..<dim { want[(1 + t) * dim + c] = ref.out[c * gh * gw + t] } }
        let bx = try buffer(dev, img), bw = try buffer(dev, weight), bb = try buffer(dev, bias)
        let by = try buffer(dev, [Float](repeating: 0, count: want.count))
        let got = try run(want.count, from: by) {
            try $0.patchEmbed(lib, image: bx, channels: 3, gridHeight: gh, gridWidth: gw, weight: bw, bias: bb, dim: dim,
                              patch: patch, rowOffset: 1, y: by)
        }
        XCTAssertLessThan(maxRelativeError(got, want), 2e-6)
    }

    func testBilinearAlignCornersMatchesCPUKernel() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        for (h, w, oh, ow) in [(5, 7, 10, 14), (9, 4, 17, 9), (6, 6, 6, 6), (8, 5, 3, 4)] {
            let c = 3
            let x = randomValues(c * h * w, seed: 32)
            var want = [Float](repeating: 0, count: c * oh * ow)
            x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer { yp in
                Resize.bilinearAlignCorners(xp.baseAddress!, channels: c, height: h, width: w, outHeight: oh, outWidth: ow, into: yp.baseAddress!)
            } }
            // Naive twin of the same formula in double.
            func naive() -> [Float] {
                var y = [Float](repeating: 0, count: c * oh * ow)
                for ch in 0..<c { for oy in 0..<oh { for ox in 0..<ow {
                    let ry = oh > 1 ? Double(oy) * Double(h - 1) / Double(oh - 1) : 0, rx = ow > 1 ? Double(ox) * Double(w - 1) / Double(ow - 1) : 0
                    let y0 = min(Int(ry), h - 1), x0 = min(Int(rx), w - 1)
                    let y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
                    let ly = ry - Double(y0), lx = rx - Double(x0)
                    func v(_ yy: Int, _ xx: Int) -> Double { Double(x[(ch * h + yy) * w + xx]) }
                    y[(ch * oh + oy) * ow + ox] = Float((1 - ly) * ((1 - lx) * v(y0, x0) + lx * v(y0, x1)) + ly * ((1 - lx) * v(y1, x0) + lx * v(y1, x1)))
                } } }
                return y
            }
            let bx = try buffer(dev, x), by = try VulkanBuffer(device: dev, size: want.count * 4)
            let got = try run(want.count, from: by) {
                try $0.bilinearAlignCorners(lib, x: bx, channels: c, height: h, width: w, outHeight: oh, outWidth: ow, y: by)
            }
            XCTAssertLessThan(maxRelativeError(got, want), 1e-6, "\(h)x\(w) -> \(oh)x\(ow) vs CPU kernel")
            XCTAssertLessThan(maxRelativeError(got, naive()), 2e-6, "\(h)x\(w) -> \(oh)x\(ow) vs naive")
        }
    }

    func testBicubicMatchesCPUKernel() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (c, h, w) = (5, 6, 6)
        for (oh, ow) in [(4, 9), (8, 3)] {
            let sh = (Double(oh) + 0.1) / Double(h), sw = (Double(ow) + 0.1) / Double(w)
            let x = randomValues(h * w * c, seed: 33)
            var want = [Float](repeating: 0, count: oh * ow * c)
            x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer { yp in
                Resize.bicubic(xp.baseAddress!, channels: c, height: h, width: w, outHeight: oh, outWidth: ow,
                               scaleHeight: sh, scaleWidth: sw, into: yp.baseAddress!)
            } }
            let bx = try buffer(dev, x), by = try VulkanBuffer(device: dev, size: want.count * 4)
            let got = try run(want.count, from: by) {
                try $0.bicubic(lib, x: bx, channels: c, height: h, width: w, outHeight: oh, outWidth: ow, scaleHeight: sh, scaleWidth: sw, y: by)
            }
            XCTAssertLessThan(maxRelativeError(got, want), 1e-6, "\(oh)x\(ow)")
        }
    }

    func testElementwiseOps() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let n = 1000
        let a = randomValues(n, seed: 34, scale: 6), b = randomValues(n, seed: 35)
        let ba = try buffer(dev, a), bb = try buffer(dev, b), by = try VulkanBuffer(device: dev, size: n * 4)
        let cases: [(VulkanSequence.ElementwiseOp, (Int) -> Double)] = [
            (.add, { Double(a[$0]) + Double(b[$0]) }), (.relu, { max(Double(a[$0]), 0) }),
            (.gelu, { Double(self.naiveGELU(a[$0])) }), (.exp, { Foundation.exp(Double(a[$0])) }),
            (.expPlusOne, { Foundation.exp(Double(a[$0])) + 1 }), (.multiply, { Double(a[$0]) * Double(b[$0]) }),
            (.copy, { Double(a[$0]) }), (.addBroadcast, { Double(a[$0]) + Double(b[$0 % 7]) }),
        ]
        for (op, twin) in cases {
            let got = try run(n, from: by) { try $0.elementwise(lib, op, a: ba, b: bb, count: n, period: 7, y: by) }
            // Elementwise: per-value relative error.
            var worst = 0.0
            for i in 0..<n { let w = twin(i); worst = max(worst, abs(Double(got[i]) - w) / max(abs(w), 1e-30)) }
            print("elementwise \(op) max per-value rel err \(worst)")
            XCTAssertLessThan(worst, op == .gelu ? 1e-5 : 2e-6, "\(op)")
        }
        // GELU against the CPU kernel too (its erf is glibc's).
        var cpu = a
        cpu.withUnsafeMutableBufferPointer { Elementwise.gelu($0.baseAddress!, count: n) }
        let got = try run(n, from: by) { try $0.elementwise(lib, .gelu, a: ba, count: n, y: by) }
        XCTAssertLessThan(maxRelativeError(got, cpu), 1e-6)
    }

    func testLargeLinearGridSpillsIntoY() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let n = 65536 * 256 + 1000   // more than 65535 workgroups of 256
        let a = try VulkanBuffer(device: dev, size: n * 4)
        guard let p = a.contents else { throw XCTSkip("buffer not host-mapped on \(dev.info.label)") }
        let f = p.bindMemory(to: Float.self, capacity: n)
        for i in 0..<n { f[i] = Float(i % 1000) - 500 }
        let seq = VulkanSequence(device: dev)
        try seq.elementwise(lib, .relu, a: a, count: n, y: a)
        try seq.run()
        XCTAssertEqual(f[n - 1], max(Float((n - 1) % 1000) - 500, 0))
        XCTAssertEqual(f[65535 * 256 + 499], 0)
        let i = 65535 * 256 + 999
        XCTAssertEqual(f[i], max(Float(i % 1000) - 500, 0))
    }

    func testCopy2DAndLayerNormIntoConcatenation() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        // cat(a[rows 1..<4], norm(b[rows 1..<4])) for two 5 x 6 sequences, as the backbone's outputs.
        let (tokens, d) = (5, 6)
        let a = randomValues(tokens * d, seed: 50), b = randomValues(tokens * d, seed: 51, scale: 3)
        let ba = try buffer(dev, a), bb = try buffer(dev, b), out = try VulkanBuffer(device: dev, size: 3 * 2 * d * 4)
        let got = try run(3 * 2 * d, from: out) {
            try $0.copy2D(lib, x: ba, srcOffset: d, srcStride: d, y: out, dstStride: 2 * d, rows: 3, cols: d)
            try $0.layerNorm(lib, x: bb, inOffset: d, rows: 3, width: d, inStride: d, outStride: 2 * d,
                             weight: nil, bias: nil, eps: 1e-5, y: out, outOffset: d)
        }
        var want: [Float] = []
        for r in 1..<4 {
            want += a[(r * d)..<((r + 1) * d)]
            let row = b[(r * d)..<((r + 1) * d)].map(Double.init)
            let mean = row.reduce(0, +) / Double(d)
            let v = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
            want += row.map { Float(($0 - mean) / (v + 1e-5).squareRoot()) }
        }
        XCTAssertLessThan(maxRelativeError(got, want), 2e-6)
    }

    func testPositionTables() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (c, h, w) = (6, 4, 5)
        let x = randomValues(c * h * w, seed: 52), cols = randomValues(c / 2 * w, seed: 53), rows = randomValues(c / 2 * h, seed: 54)
        let bx = try buffer(dev, x), bc = try buffer(dev, cols), br = try buffer(dev, rows)
        let got = try run(c * h * w, from: bx) { try $0.addPositionTables(lib, x: bx, channels: c, height: h, width: w, columns: bc, rows: br) }
        var want = x
        for ch in 0..<c { for y in 0..<h { for xx in 0..<w {
            want[(ch * h + y) * w + xx] += ch < c / 2 ? cols[ch * w + xx] : rows[(ch - c / 2) * h + y]
        } } }
        XCTAssertEqual(got, want)
    }

    func testGEMMRowsWithEpilogueAndTransposedOutput() throws {
        let (dev, lib) = try { let o = try VulkanTestDevice.open(); return (o.device, o.library) }()
        let (m, n, k) = (21, 70, 33)   // a partial 8-row group and a partial 64-column group
        let a = randomValues(m * k, seed: 60), w = randomValues(n * k, seed: 61), bias = randomValues(n, seed: 62)
        let gamma = randomValues(n, seed: 63), res = randomValues(m * n, seed: 64)
        var wt = [Float](repeating: 0, count: n * k)   // K x N
        for j in 0..<n { for p in 0..<k { wt[p * n + j] = w[j * k + p] } }
        let ba = try buffer(dev, a), bw = try buffer(dev, wt), bb = try buffer(dev, bias), bg = try buffer(dev, gamma)
        let bc = try buffer(dev, res)
        let got = try run(m * n, from: bc) {
            try $0.gemmRows(lib, m: m, n: n, k: k, a: ba, lda: k, b: bw, ldb: n, c: bc, ldc: n,
                            bias: bb, activation: .gelu, gamma: bg, residual: bc)
        }
        let prod = naiveGEMM(a, w, m: m, n: n, k: k, transB: true)
        var want = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { want[i * n + j] = res[i * n + j] + gamma[j] * naiveGELU(prod[i * n + j] + bias[j]) } }
        XCTAssertLessThan(maxRelativeError(got, want), 2e-6)

        // Planar output (a 1x1 projection of tokens): C[n][m], bias per output channel n.
        let bt = try VulkanBuffer(device: dev, size: m * n * 4)
        let planar = try run(m * n, from: bt) {
            try $0.gemmRows(lib, m: m, n: n, k: k, a: ba, lda: k, b: bw, ldb: n, c: bt, ldc: m, transposedOutput: true, bias: bb)
        }
        var wantPlanar = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { wantPlanar[j * m + i] = prod[i * n + j] + bias[j] } }
        XCTAssertLessThan(maxRelativeError(planar, wantPlanar), 2e-6)
    }
}
