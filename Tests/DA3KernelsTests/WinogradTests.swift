import DA3Kernels
import XCTest

final class WinogradTests: XCTestCase {
    /// Direct 3x3 stride-1 pad-1 convolution in Double.
    private func reference(_ x: [Float], cin: Int, h: Int, w: Int, weight: [Float], bias: [Float]?, cout: Int) -> [Double] {
        var out = [Double](repeating: 0, count: cout * h * w)
        for co in 0..<cout {
            for oy in 0..<h {
                for ox in 0..<w {
                    var s = bias.map { Double($0[co]) } ?? 0
                    for ci in 0..<cin {
                        for ky in 0..<3 {
                            let iy = oy + ky - 1
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<3 {
                                let ix = ox + kx - 1
                                if ix < 0 || ix >= w { continue }
                                s += Double(x[(ci * h + iy) * w + ix]) * Double(weight[((co * cin + ci) * 3 + ky) * 3 + kx])
                            }
                        }
                    }
                    out[(co * h + oy) * w + ox] = s
                }
            }
        }
        return out
    }

    private func run(_ conv: Winograd3x3, _ x: [Float], h: Int, w: Int) -> [Float] {
        // Sentinel-filled output: every element must be written.
        var y = [Float](repeating: .nan, count: conv.outChannels * h * w)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in conv.forward(xp.baseAddress!, height: h, width: w, into: yp.baseAddress!) }
        }
        return y
    }

    private func check(cin: Int, cout: Int, h: Int, w: Int, useBias: Bool, seed: UInt64,
                       file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRNG(seed: seed)
        let x = rng.floats(cin * h * w)
        let weight = rng.floats(cout * cin * 9, -0.5, 0.5)
        let bias = useBias ? rng.floats(cout) : nil
        let conv = Winograd3x3(weight: weight, bias: bias, inChannels: cin, outChannels: cout)
        let y = run(conv, x, h: h, w: w)
        let ref = reference(x, cin: cin, h: h, w: w, weight: weight, bias: bias, cout: cout)
        assertClose(y, ref, tolerance: 2e-6, "winograd \(cin)->\(cout) \(h)x\(w) bias=\(useBias)", file: file, line: line)
    }

    func testOddAndSmallSizes() {
        atEveryISALevel {
            var seed: UInt64 = 1
            for (h, w) in [(1, 1), (2, 3), (3, 2), (5, 7), (17, 9), (4, 4), (6, 8), (9, 17), (2, 2), (1, 9)] {
                for (cin, cout) in [(1, 1), (3, 5), (16, 8)] {
                    for useBias in [false, true] {
                        check(cin: cin, cout: cout, h: h, w: w, useBias: useBias, seed: seed)
                        seed += 1
                    }
                }
            }
        }
    }

    func testChannelCounts() {
        atEveryISALevel {
            var seed: UInt64 = 100
            for (cin, cout) in [(1, 70), (70, 1), (2, 33), (31, 17), (64, 64), (70, 70), (48, 64), (7, 13)] {
                check(cin: cin, cout: cout, h: 11, w: 14, useBias: true, seed: seed)
                seed += 1
            }
        }
    }

    /// Widths spanning several tile groups and chunks, heights spread over threads.
    func testWideImagesAcrossChunks() {
        check(cin: 8, cout: 8, h: 13, w: 301, useBias: true, seed: 200)   // 151 tiles per row
        check(cin: 64, cout: 64, h: 10, w: 130, useBias: false, seed: 201)  // several chunks per row at 64+64 channels
        check(cin: 32, cout: 16, h: 37, w: 67, useBias: true, seed: 202)
    }

    /// Many channels on narrow maps: chunks of a few tiles that span several tile rows and start mid-row.
    func testChunksAcrossTileRows() {
        check(cin: 256, cout: 16, h: 12, w: 7, useBias: true, seed: 400)
        check(cin: 384, cout: 8, h: 9, w: 13, useBias: false, seed: 401)
        check(cin: 200, cout: 24, h: 5, w: 1, useBias: true, seed: 402)
    }

    /// ReLU on the input and a residual added to the output (also in place), as in the DPT residual conv unit:
    /// y = x + conv2(relu(conv1(relu(x)))).
    func testFusedReluAndResidual() {
        atEveryISALevel {
            for (cin, cout, h, w) in [(5, 5, 7, 9), (24, 24, 13, 40), (64, 64, 9, 37), (3, 3, 1, 1)] {
                var rng = SeededRNG(seed: UInt64(cin * 1000 + w))
                let x = rng.floats(cin * h * w)
                let w1 = rng.floats(cin * cin * 9, -0.3, 0.3), b1 = rng.floats(cin)
                let w2 = rng.floats(cout * cin * 9, -0.3, 0.3), b2 = rng.floats(cout)
                let residual = rng.floats(cout * h * w)
                let conv1 = Winograd3x3(weight: w1, bias: b1, inChannels: cin, outChannels: cin)
                let conv2 = Winograd3x3(weight: w2, bias: b2, inChannels: cin, outChannels: cout)
                var mid = [Float](repeating: .nan, count: cin * h * w)
                var out = [Float](repeating: .nan, count: cout * h * w)
                var inPlace = residual
                x.withUnsafeBufferPointer { xp in
                    mid.withUnsafeMutableBufferPointer { conv1.forward(xp.baseAddress!, height: h, width: w, into: $0.baseAddress!, reluInput: true) }
                }
                mid.withUnsafeBufferPointer { mp in
                    residual.withUnsafeBufferPointer { rp in
                        out.withUnsafeMutableBufferPointer {
                            conv2.forward(mp.baseAddress!, height: h, width: w, into: $0.baseAddress!, reluInput: true, residual: rp.baseAddress!)
                        }
                    }
                    inPlace.withUnsafeMutableBufferPointer {
                        conv2.forward(mp.baseAddress!, height: h, width: w, into: $0.baseAddress!, reluInput: true,
                                      residual: UnsafePointer($0.baseAddress!))
                    }
                }
                // Double reference on the same (FP32) intermediate, so only conv2's error is measured.
                let midRef = reference(x.map { max($0, 0) }, cin: cin, h: h, w: w, weight: w1, bias: b1, cout: cin)
                assertClose(mid, midRef, tolerance: 2e-6, "relu-input conv \(cin) \(h)x\(w)")
                var ref = reference(mid.map { max($0, 0) }, cin: cin, h: h, w: w, weight: w2, bias: b2, cout: cout)
                for i in 0..<ref.count { ref[i] += Double(residual[i]) }
                assertClose(out, ref, tolerance: 2e-6, "residual conv \(cin)->\(cout) \(h)x\(w)")
                assertClose(inPlace, ref, tolerance: 2e-6, "in-place residual conv \(cin)->\(cout) \(h)x\(w)")
                XCTAssertEqual(out, inPlace)
            }
        }
    }

    /// Matches the im2col convolution on a DPT-like shape.
    func testMatchesIm2col() {
        atEveryISALevel {
            var rng = SeededRNG(seed: 300)
            let cin = 48, cout = 64, h = 32, w = 18
            let x = rng.floats(cin * h * w), weight = rng.floats(cout * cin * 9, -0.2, 0.2), bias = rng.floats(cout)
            let conv = Winograd3x3(weight: weight, bias: bias, inChannels: cin, outChannels: cout)
            let y = run(conv, x, h: h, w: w)
            var ref = [Float](repeating: 0, count: cout * h * w)
            x.withUnsafeBufferPointer { xp in
                weight.withUnsafeBufferPointer { wp in
                    bias.withUnsafeBufferPointer { bp in
                        ref.withUnsafeMutableBufferPointer { rp in
                            Conv2D.forward(xp.baseAddress!, channels: cin, height: h, width: w, weight: wp.baseAddress!,
                                           bias: bp.baseAddress!, outChannels: cout, kernel: 3, padding: 1, into: rp.baseAddress!)
                        }
                    }
                }
            }
            assertClose(y, ref.map(Double.init), tolerance: 2e-6, "winograd vs im2col")
        }
    }
}
