import Foundation
import XCTest
@testable import DA3Kernels

final class ResamplingTests: XCTestCase {
    // MARK: bilinear, align_corners=True

    private func bilinearReference(_ x: [Float], channels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int) -> [Double] {
        func taps(_ input: Int, _ output: Int) -> [(Int, Int, Double)] {
            let scale = output > 1 ? Double(input - 1) / Double(output - 1) : 0
            return (0..<output).map { o in
                let src = scale * Double(o)
                let i0 = min(Int(src.rounded(.down)), input - 1)
                let i1 = min(i0 + 1, input - 1)
                return (i0, i1, src - Double(i0))
            }
        }
        let ty = taps(height, outHeight), tx = taps(width, outWidth)
        var y = [Double](repeating: 0, count: channels * outHeight * outWidth)
        for c in 0..<channels {
            func at(_ iy: Int, _ ix: Int) -> Double { Double(x[(c * height + iy) * width + ix]) }
            for oy in 0..<outHeight {
                let (y0, y1, ly) = ty[oy]
                for ox in 0..<outWidth {
                    let (x0, x1, lx) = tx[ox]
                    let top = (1 - lx) * at(y0, x0) + lx * at(y0, x1)
                    let bottom = (1 - lx) * at(y1, x0) + lx * at(y1, x1)
                    y[(c * outHeight + oy) * outWidth + ox] = (1 - ly) * top + ly * bottom
                }
            }
        }
        return y
    }

    func testBilinearAlignCornersUpDownAndSizeOne() {
        atEveryISALevel {
            var rng = SeededRNG(seed: 30)
            let cases: [(Int, Int, Int, Int, Int)] = [
                (3, 17, 9, 34, 18),    // up x2
                (5, 17, 9, 61, 23),    // up, odd factors
                (3, 37, 29, 11, 7),    // down
                (2, 9, 17, 9, 17),     // identity size
                (3, 1, 1, 5, 7),       // from 1x1
                (3, 1, 6, 4, 1),       // from 1 row, to 1 column
                (4, 7, 5, 1, 1),       // to 1x1 (takes the corner)
                (1, 2, 3, 1, 8),       // mixed
                (7, 64, 48, 128, 96),  // large enough for the parallel path
            ]
            for (channels, height, width, outHeight, outWidth) in cases {
                let x = rng.floats(channels * height * width)
                var y = [Float](repeating: .nan, count: channels * outHeight * outWidth)
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        Resize.bilinearAlignCorners(xp.baseAddress!, channels: channels, height: height, width: width,
                                                    outHeight: outHeight, outWidth: outWidth, into: yp.baseAddress!)
                    }
                }
                let ref = bilinearReference(x, channels: channels, height: height, width: width, outHeight: outHeight, outWidth: outWidth)
                assertClose(y, ref, "bilinear \(channels)x\(height)x\(width) -> \(outHeight)x\(outWidth)")
                // align_corners=True keeps the four corners exactly.
                if outHeight > 1 && outWidth > 1 {
                    for c in 0..<channels {
                        XCTAssertEqual(y[c * outHeight * outWidth], x[c * height * width])
                        XCTAssertEqual(y[(c + 1) * outHeight * outWidth - 1], x[(c + 1) * height * width - 1])
                    }
                }
            }
        }
    }

    // MARK: bicubic, PyTorch upsample_bicubic2d with scale factors

    /// PyTorch's formula: src = (dst + 0.5) / scale - 0.5, i = floor(src), t = src - i,
    /// weights cubic_convolution2(t+1), cubic_convolution1(t), cubic_convolution1(1-t), cubic_convolution2(2-t)
    /// with A = -0.75, and taps i-1..i+2 clamped to the image.
    private func bicubicReference(_ x: [Float], channels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int,
                                  scaleHeight: Double, scaleWidth: Double) -> [Double] {
        let a = -0.75
        func cc1(_ t: Double) -> Double { ((a + 2) * t - (a + 3)) * t * t + 1 }
        func cc2(_ t: Double) -> Double { ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
        func taps(_ input: Int, _ output: Int, _ scale: Double) -> [([Int], [Double])] {
            (0..<output).map { o in
                let src = (Double(o) + 0.5) / scale - 0.5
                let i = Int(src.rounded(.down))
                let t = src - Double(i)
                let w = [cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)]
                let idx = (-1...2).map { min(max(i + $0, 0), input - 1) }
                return (idx, w)
            }
        }
        let ty = taps(height, outHeight, scaleHeight), tx = taps(width, outWidth, scaleWidth)
        var y = [Double](repeating: 0, count: channels * outHeight * outWidth)
        for c in 0..<channels {
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    var s = 0.0
                    for j in 0..<4 {
                        for i in 0..<4 {
                            s += ty[oy].1[j] * tx[ox].1[i] * Double(x[(c * height + ty[oy].0[j]) * width + tx[ox].0[i]])
                        }
                    }
                    y[(c * outHeight + oy) * outWidth + ox] = s
                }
            }
        }
        return y
    }

    func testBicubicScaleFactorsMatchPyTorchFormula() {
        var rng = SeededRNG(seed: 31)
        let cases: [(Int, Int, Int, Double, Double)] = [
            (3, 6, 6, 5.1 / 6, 4.1 / 6),        // slight down-scaling
            (3, 37, 37, 64.1 / 37, 36.1 / 37),  // DA3's patch-grid resize shape
            (5, 37, 29, 64.1 / 37, 36.1 / 29),
            (2, 7, 5, 2.0, 0.5),
            (3, 1, 1, 3.0, 2.0),                // every tap clamps to the one pixel
            (1, 2, 9, 1.5, 1.0),
            (3, 17, 9, 0.3, 0.45),
        ]
        for (channels, height, width, sh, sw) in cases {
            // Output size as PyTorch derives it from a scale factor: floor(input * scale).
            let outHeight = Int((Double(height) * sh).rounded(.down))
            let outWidth = Int((Double(width) * sw).rounded(.down))
            XCTAssertGreaterThan(outHeight * outWidth, 0)
            let x = rng.floats(channels * height * width)
            let y = bicubicPlanar(x, channels: channels, height: height, width: width, outHeight: outHeight,
                                  outWidth: outWidth, scaleHeight: sh, scaleWidth: sw)
            let ref = bicubicReference(x, channels: channels, height: height, width: width,
                                       outHeight: outHeight, outWidth: outWidth, scaleHeight: sh, scaleWidth: sw)
            assertClose(y, ref, "bicubic \(channels)x\(height)x\(width) -> \(outHeight)x\(outWidth) scale (\(sh), \(sw))")
        }
    }

    /// `Resize.bicubic` (channels-last) on a planar (C, H, W) map, through transposes.
    private func bicubicPlanar(_ x: [Float], channels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int,
                               scaleHeight: Double, scaleWidth: Double) -> [Float] {
        let pixels = height * width, outPixels = outHeight * outWidth
        let xLast = (0..<(pixels * channels)).map { x[($0 % channels) * pixels + $0 / channels] }
        var yLast = [Float](repeating: .nan, count: channels * outPixels)
        xLast.withUnsafeBufferPointer { xp in
            yLast.withUnsafeMutableBufferPointer { yp in
                Resize.bicubic(xp.baseAddress!, channels: channels, height: height, width: width, outHeight: outHeight,
                               outWidth: outWidth, scaleHeight: scaleHeight, scaleWidth: scaleWidth, into: yp.baseAddress!)
            }
        }
        return (0..<(outPixels * channels)).map { yLast[($0 % outPixels) * channels + $0 / outPixels] }
    }

    func testBicubicSpecificShapes() {
        XCTAssertEqual(Int((6.0 * (5.1 / 6)).rounded(.down)), 5)
        XCTAssertEqual(Int((6.0 * (4.1 / 6)).rounded(.down)), 4)
        XCTAssertEqual(Int((37.0 * (64.1 / 37)).rounded(.down)), 64)
        XCTAssertEqual(Int((37.0 * (36.1 / 37)).rounded(.down)), 36)
        // The cubic weights sum to one, so a constant image stays constant.
        let x = [Float](repeating: 0.625, count: 2 * 37 * 37)
        let y = bicubicPlanar(x, channels: 2, height: 37, width: 37, outHeight: 64, outWidth: 36,
                              scaleHeight: 64.1 / 37, scaleWidth: 36.1 / 37)
        assertClose(y, [Double](repeating: 0.625, count: y.count), "bicubic constant")
    }
}
