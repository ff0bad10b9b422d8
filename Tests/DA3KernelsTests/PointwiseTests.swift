import Foundation
import XCTest
@testable import DA3Kernels

final class PointwiseTests: XCTestCase {
    func testGELUIsExactErf() {
        atEveryISALevel {
            var rng = SeededRNG(seed: 10)
            // 200_003 elements takes the parallel path; 7 the serial one.
            for count in [7, 200_003] {
                var x = rng.floats(count, -8, 8)
                x[0] = 0
                let x0 = x
                let ref = x.map { v -> Double in let d = Double(v); return 0.5 * d * (1 + erf(d / 2.0.squareRoot())) }
                x.withUnsafeMutableBufferPointer { Elementwise.gelu($0.baseAddress!, count: count) }
                assertClose(x, ref, "gelu count=\(count)")
                // Elementwise relative error too, for x >= -2 (below that 1 + erf cancels, in PyTorch's formula as well).
                var worst = 0.0
                for i in 0..<count where x0[i] >= -2 && abs(ref[i]) > 1e-3 { worst = max(worst, abs(Double(x[i]) - ref[i]) / abs(ref[i])) }
                XCTAssertLessThan(worst, 1e-5, "gelu worst relative error")
            }
            // Values that distinguish exact GELU from the tanh approximation (differ by ~1e-4 around |x| = 2).
            var probe: [Float] = [-3, -2, -1, -0.5, 0.5, 1, 2, 3]
            let ref = probe.map { v -> Double in let d = Double(v); return 0.5 * d * (1 + erf(d / 2.0.squareRoot())) }
            probe.withUnsafeMutableBufferPointer { Elementwise.gelu($0.baseAddress!, count: $0.count) }
            assertClose(probe, ref, tolerance: 1e-6, "gelu probes")
        }
    }

    func testReLUAndAdds() {
        var rng = SeededRNG(seed: 11)
        let n = 1001
        let x = rng.floats(n, -2, 2)
        let ref = x.map { Double(max($0, 0)) }

        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer { Elementwise.relu($0.baseAddress!, count: n) }
        XCTAssertEqual(inPlace, ref.map { Float($0) })

        var out = [Float](repeating: 7, count: n)
        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { Elementwise.relu(xp.baseAddress!, into: $0.baseAddress!, count: n) } }
        XCTAssertEqual(out, ref.map { Float($0) })

        var y = rng.floats(n)
        let addRef = zip(x, y).map { Double($0) + Double($1) }
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Elementwise.add(xp.baseAddress!, into: $0.baseAddress!, count: n) } }
        assertClose(y, addRef, "add")

        let channels = 13, plane = 77
        let bias = rng.floats(channels)
        var z = rng.floats(channels * plane)
        let biasRef = (0..<(channels * plane)).map { Double(z[$0]) + Double(bias[$0 / plane]) }
        bias.withUnsafeBufferPointer { bp in
            z.withUnsafeMutableBufferPointer {
                Elementwise.addChannelBias(bp.baseAddress!, into: $0.baseAddress!, channels: channels, plane: plane)
            }
        }
        assertClose(z, biasRef, "addChannelBias")
    }

    private func layerNormReference(_ x: [Float], rows: Int, width: Int, inStride: Int, weight: [Float], bias: [Float], eps: Float) -> [[Double]] {
        (0..<rows).map { r in
            let row = (0..<width).map { Double(x[r * inStride + $0]) }
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
            let rstd = 1 / (variance + Double(eps)).squareRoot()
            return (0..<width).map { (row[$0] - mean) * rstd * Double(weight[$0]) + Double(bias[$0]) }
        }
    }

    func testLayerNormWithStrides() {
        atEveryISALevel {
            var rng = SeededRNG(seed: 12)
            for (rows, width, inStride, outStride) in [(1, 1, 1, 1), (3, 5, 5, 5), (7, 33, 40, 35), (257, 64, 64 * 3, 70), (1000, 129, 131, 129)] {
                // Shifted inputs check the mean is removed before squaring.
                let x = rng.floats(rows * inStride, 9, 11)
                let weight = rng.floats(width, 0.5, 1.5), bias = rng.floats(width)
                let eps: Float = 1e-6
                let sentinel: Float = -12345
                var y = [Float](repeating: sentinel, count: rows * outStride)
                x.withUnsafeBufferPointer { xp in
                    weight.withUnsafeBufferPointer { wp in
                        bias.withUnsafeBufferPointer { bp in
                            y.withUnsafeMutableBufferPointer { yp in
                                LayerNorm.forward(xp.baseAddress!, rows: rows, width: width, inStride: inStride,
                                                  weight: wp.baseAddress!, bias: bp.baseAddress!, eps: eps,
                                                  into: yp.baseAddress!, outStride: outStride)
                            }
                        }
                    }
                }
                let ref = layerNormReference(x, rows: rows, width: width, inStride: inStride, weight: weight, bias: bias, eps: eps)
                var got: [Float] = [], want: [Double] = []
                for r in 0..<rows {
                    for i in 0..<width { got.append(y[r * outStride + i]); want.append(ref[r][i]) }
                    for i in width..<outStride { XCTAssertEqual(y[r * outStride + i], sentinel, "LayerNorm wrote past width") }
                }
                assertClose(got, want, "layernorm rows=\(rows) width=\(width) inStride=\(inStride) outStride=\(outStride)")
            }
        }
    }

    func testLayerNormInPlace() {
        atEveryISALevel {
            var rng = SeededRNG(seed: 13)
            let rows = 9, width = 48, stride = 50
            var x = rng.floats(rows * stride, -3, 3)
            let weight = rng.floats(width), bias = rng.floats(width)
            let eps: Float = 1e-5
            let ref = layerNormReference(x, rows: rows, width: width, inStride: stride, weight: weight, bias: bias, eps: eps)
            let original = x
            weight.withUnsafeBufferPointer { wp in
                bias.withUnsafeBufferPointer { bp in
                    x.withUnsafeMutableBufferPointer { xp in
                        LayerNorm.forward(UnsafePointer(xp.baseAddress!), rows: rows, width: width, inStride: stride,
                                          weight: wp.baseAddress!, bias: bp.baseAddress!, eps: eps,
                                          into: xp.baseAddress!, outStride: stride)
                    }
                }
            }
            var got: [Float] = [], want: [Double] = []
            for r in 0..<rows {
                for i in 0..<width { got.append(x[r * stride + i]); want.append(ref[r][i]) }
                for i in width..<stride { XCTAssertEqual(x[r * stride + i], original[r * stride + i]) }
            }
            assertClose(got, want, "layernorm in place")
        }
    }

    func testSoftmaxRowsStableWithLargeValuesAndLeadingDimension() {
        atEveryISALevel {
            var rng = SeededRNG(seed: 14)
            for (rows, width, ld, magnitude) in [(1, 1, 1, Float(1)), (3, 7, 9, 1), (5, 33, 33, 1000), (17, 129, 130, 1e4), (400, 300, 301, 80)] {
                var x = rng.floats(rows * ld, -magnitude, magnitude)
                // Rows of huge equal-ish values: exp without subtracting the max would overflow.
                for i in 0..<width { x[i] = 3e4 + Float(i % 3) }
                let sentinel: Float = 42
                for r in 0..<rows { for i in width..<ld { x[r * ld + i] = sentinel } }
                var ref: [Double] = []
                for r in 0..<rows {
                    let row = (0..<width).map { Double(x[r * ld + $0]) }
                    let m = row.max()!
                    let e = row.map { exp($0 - m) }
                    let s = e.reduce(0, +)
                    ref += e.map { $0 / s }
                }
                x.withUnsafeMutableBufferPointer { Softmax.rows($0.baseAddress!, rows: rows, width: width, ld: ld) }
                var got: [Float] = []
                for r in 0..<rows {
                    got += x[(r * ld)..<(r * ld + width)]
                    for i in width..<ld { XCTAssertEqual(x[r * ld + i], sentinel, "softmax wrote past width") }
                }
                XCTAssertFalse(got.contains { !$0.isFinite }, "softmax produced a non-finite value")
                assertClose(got, ref, "softmax rows=\(rows) width=\(width) ld=\(ld) magnitude=\(magnitude)")
                for r in 0..<rows {
                    let s = got[(r * width)..<((r + 1) * width)].reduce(0.0) { $0 + Double($1) }
                    XCTAssertEqual(s, 1, accuracy: 1e-5)
                }
            }
        }
    }

    func testParallelChunksCoverRangeExactlyOnce() {
        for (count, cost) in [(0, 1), (1, 1_000_000), (5, 1), (1003, 1000), (100_000, 1)] {
            let hits = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
            hits.initialize(repeating: 0, count: max(count, 1))
            defer { hits.deallocate() }
            let box = HitBox(hits)
            Parallel.forEachChunk(count, costPerItem: cost) { range in
                for i in range { box.pointer[i] += 1 }
            }
            for i in 0..<count { XCTAssertEqual(hits[i], 1, "index \(i) of \(count)") }
        }
    }
}

private struct HitBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init(_ pointer: UnsafeMutablePointer<Int32>) { self.pointer = pointer }
}
