import XCTest
@testable import DA3Kernels

final class ConvolutionTests: XCTestCase {
    /// torch.nn.Conv2d, written directly: Double accumulation, zero padding.
    private func conv2dReference(
        _ x: [Float], channels: Int, height: Int, width: Int, weight: [Float], bias: [Float]?,
        outChannels: Int, kernel: Int, stride: Int, padding: Int
    ) -> (out: [Double], outH: Int, outW: Int) {
        let outH = (height + 2 * padding - kernel) / stride + 1
        let outW = (width + 2 * padding - kernel) / stride + 1
        var y = [Double](repeating: 0, count: outChannels * outH * outW)
        for co in 0..<outChannels {
            for oy in 0..<outH {
                for ox in 0..<outW {
                    var s = bias.map { Double($0[co]) } ?? 0
                    for ci in 0..<channels {
                        for ky in 0..<kernel {
                            let iy = oy * stride - padding + ky
                            if iy < 0 || iy >= height { continue }
                            for kx in 0..<kernel {
                                let ix = ox * stride - padding + kx
                                if ix < 0 || ix >= width { continue }
                                s += Double(x[(ci * height + iy) * width + ix])
                                    * Double(weight[((co * channels + ci) * kernel + ky) * kernel + kx])
                            }
                        }
                    }
                    y[(co * outH + oy) * outW + ox] = s
                }
            }
        }
        return (y, outH, outW)
    }

    private func runConv2D(
        _ x: [Float], channels: Int, height: Int, width: Int, weight: [Float], bias: [Float]?,
        outChannels: Int, kernel: Int, stride: Int, padding: Int, outCount: Int
    ) -> [Float] {
        var y = [Float](repeating: .nan, count: outCount)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    if let bias {
                        bias.withUnsafeBufferPointer { bp in
                            Conv2D.forward(xp.baseAddress!, channels: channels, height: height, width: width,
                                           weight: wp.baseAddress!, bias: bp.baseAddress!, outChannels: outChannels,
                                           kernel: kernel, stride: stride, padding: padding, into: yp.baseAddress!)
                        }
                    } else {
                        Conv2D.forward(xp.baseAddress!, channels: channels, height: height, width: width,
                                       weight: wp.baseAddress!, bias: nil, outChannels: outChannels,
                                       kernel: kernel, stride: stride, padding: padding, into: yp.baseAddress!)
                    }
                }
            }
        }
        return y
    }

    private func checkConv2D(
        rng: inout SeededRNG, channels: Int, outChannels: Int, height: Int, width: Int,
        kernel: Int, stride: Int, padding: Int, useBias: Bool, file: StaticString = #filePath, line: UInt = #line
    ) {
        let x = rng.floats(channels * height * width)
        let weight = rng.floats(outChannels * channels * kernel * kernel)
        let bias: [Float]? = useBias ? rng.floats(outChannels) : nil
        let ref = conv2dReference(x, channels: channels, height: height, width: width, weight: weight, bias: bias,
                                  outChannels: outChannels, kernel: kernel, stride: stride, padding: padding)
        XCTAssertEqual(Conv2D.outputSize(height, kernel: kernel, stride: stride, padding: padding), ref.outH, file: file, line: line)
        XCTAssertEqual(Conv2D.outputSize(width, kernel: kernel, stride: stride, padding: padding), ref.outW, file: file, line: line)
        let y = runConv2D(x, channels: channels, height: height, width: width, weight: weight, bias: bias,
                          outChannels: outChannels, kernel: kernel, stride: stride, padding: padding, outCount: ref.out.count)
        assertClose(y, ref.out, "conv2d \(channels)->\(outChannels) \(height)x\(width) k=\(kernel) s=\(stride) p=\(padding) bias=\(useBias)",
                    file: file, line: line)
    }

    func testConv2DOddSizesKernelsStridesPaddings() {
        var rng = SeededRNG(seed: 20)
        var cases = 0
        for (channels, outChannels) in [(3, 5), (5, 7), (7, 3)] {
            for (height, width) in [(1, 1), (2, 3), (17, 9)] {
                for kernel in [1, 3, 4] {
                    for stride in [1, 2] {
                        for padding in [0, 1] {
                            guard height + 2 * padding >= kernel, width + 2 * padding >= kernel else { continue }
                            checkConv2D(rng: &rng, channels: channels, outChannels: outChannels, height: height, width: width,
                                        kernel: kernel, stride: stride, padding: padding, useBias: cases % 2 == 0)
                            cases += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 60)
    }

    /// Padding as large as (or larger than) the input: whole rows and columns of taps fall outside.
    func testConv2DPaddingWiderThanInput() {
        var rng = SeededRNG(seed: 21)
        for (height, width, kernel, padding) in [(1, 1, 5, 2), (1, 2, 5, 2), (2, 1, 3, 2), (3, 1, 7, 3), (1, 1, 3, 3)] {
            for stride in [1, 2] {
                checkConv2D(rng: &rng, channels: 3, outChannels: 5, height: height, width: width,
                            kernel: kernel, stride: stride, padding: padding, useBias: true)
            }
        }
    }

    /// Convolutions whose column buffer exceeds `Conv2D.bandBudget`, so im2col runs in several row bands
    /// (with a shorter last band) and in parallel.
    func testConv2DSeveralRowBands() {
        var rng = SeededRNG(seed: 22)
        for (channels, height, width, kernel, stride, padding) in [(7, 200, 190, 3, 1, 1), (5, 401, 381, 4, 2, 1), (9, 1500, 41, 3, 1, 0)] {
            let outH = Conv2D.outputSize(height, kernel: kernel, stride: stride, padding: padding)
            let outW = Conv2D.outputSize(width, kernel: kernel, stride: stride, padding: padding)
            let kk = channels * kernel * kernel
            let bandRows = Conv2D.bandBudget / (kk * outW)
            XCTAssertLessThan(bandRows, outH, "case must need several bands")
            XCTAssertNotEqual(outH % bandRows, 0, "case should have a partial last band")
            checkConv2D(rng: &rng, channels: channels, outChannels: 5, height: height, width: width,
                        kernel: kernel, stride: stride, padding: padding, useBias: true)
        }
    }

    func testConvTranspose2DKernelEqualsStride() {
        var rng = SeededRNG(seed: 23)
        var cases = 0
        for (channels, outChannels) in [(3, 5), (7, 3), (5, 5)] {
            for (height, width) in [(1, 1), (2, 3), (17, 9)] {
                for s in [1, 2, 4] {
                    let useBias = cases % 2 == 1
                    cases += 1
                    let x = rng.floats(channels * height * width)
                    let weight = rng.floats(channels * outChannels * s * s)   // (Cin, Cout, s, s)
                    let bias: [Float]? = useBias ? rng.floats(outChannels) : nil
                    let outH = height * s, outW = width * s
                    // Scatter form of ConvTranspose2d with kernel == stride, no padding.
                    var ref = [Double](repeating: 0, count: outChannels * outH * outW)
                    for co in 0..<outChannels {
                        for oy in 0..<outH {
                            for ox in 0..<outW {
                                let iy = oy / s, ky = oy % s, ix = ox / s, kx = ox % s
                                var v = bias.map { Double($0[co]) } ?? 0
                                for ci in 0..<channels {
                                    v += Double(x[(ci * height + iy) * width + ix]) * Double(weight[((ci * outChannels + co) * s + ky) * s + kx])
                                }
                                ref[(co * outH + oy) * outW + ox] = v
                            }
                        }
                    }
                    var y = [Float](repeating: .nan, count: ref.count)
                    x.withUnsafeBufferPointer { xp in
                        weight.withUnsafeBufferPointer { wp in
                            y.withUnsafeMutableBufferPointer { yp in
                                if let bias {
                                    bias.withUnsafeBufferPointer { bp in
                                        ConvTranspose2D.forward(xp.baseAddress!, channels: channels, height: height, width: width,
                                                                weight: wp.baseAddress!, bias: bp.baseAddress!, outChannels: outChannels,
                                                                stride: s, into: yp.baseAddress!)
                                    }
                                } else {
                                    ConvTranspose2D.forward(xp.baseAddress!, channels: channels, height: height, width: width,
                                                            weight: wp.baseAddress!, bias: nil, outChannels: outChannels,
                                                            stride: s, into: yp.baseAddress!)
                                }
                            }
                        }
                    }
                    assertClose(y, ref, "convT \(channels)->\(outChannels) \(height)x\(width) s=\(s) bias=\(useBias)")
                }
            }
        }
    }
}
