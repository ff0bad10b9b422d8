import Foundation
import XCTest
@testable import DA3Kernels

/// The `Precision.int8` products against a naive twin: per-row symmetric quantization written from
/// the definition, integer dot products, and the kernel's FP32 scaling.
final class Int8GEMMTests: XCTestCase {
    /// round(x * 127 / max|row|) clamped to ±127, and the row's scale max|row| / 127.
    private func quantize(_ row: ArraySlice<Float>) -> (q: [Int32], scale: Float) {
        let maxAbs = row.reduce(Float(0)) { max($0, abs($1)) }
        let inv = maxAbs > 0 ? 127 / maxAbs : 0
        let q = row.map { Int32(max(-127, min(127, ($0 * inv).rounded(.toNearestOrEven)))) }
        return (q, maxAbs / 127)
    }

    /// The twin: y = Float(dot(qa, qw)) * (sw * sa) + bias (+ y), in the kernel's order of FP32 operations.
    private func reference(_ x: [Float], _ w: [Float], _ bias: [Float], _ start: [Float]?, rows: Int, k: Int, n: Int) -> [Float] {
        let qw = (0..<n).map { quantize(w[($0 * k)..<($0 * k + k)]) }
        var y = [Float](repeating: 0, count: rows * n)
        for r in 0..<rows {
            let (qa, sa) = quantize(x[(r * k)..<(r * k + k)])
            for c in 0..<n {
                let dot = zip(qa, qw[c].q).reduce(Int32(0)) { $0 + $1.0 * $1.1 }
                var v = Float(dot) * (qw[c].scale * sa) + bias[c]
                if let start { v = start[r * n + c] + v }
                y[r * n + c] = v
            }
        }
        return y
    }

    private func linear(_ x: [Float], _ packed: PackedI8Weights, _ bias: [Float], rows: Int, start: [Float]?) -> [Float] {
        var y = start ?? [Float](repeating: .nan, count: rows * packed.outFeatures)
        x.withUnsafeBufferPointer { xp in
            bias.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer {
                    GEMMI8.linear(xp.baseAddress!, rows: rows, weights: packed, bias: bp.baseAddress!,
                                  accumulate: start != nil, into: $0.baseAddress!)
                }
            }
        }
        return y
    }

    func testProductMatchesTwinBitForBit() throws {
        try XCTSkipUnless(GEMMI8.available, "this CPU has no AVX512-VNNI")
        var rng = SeededRNG(seed: 81)
        // Rows around the 8-row micro-kernel and 64-row blocks; widths with partial panels and
        // partial 16-value quantization vectors; a zero row and a zero weight row.
        for (rows, k, n) in [(1, 4, 1), (9, 20, 33), (70, 64, 48), (133, 132, 72), (257, 32, 40)] {
            var x = rng.floats(rows * k, -3, 3), w = rng.floats(n * k, -0.2, 0.2)
            for i in 0..<k { x[(rows - 1) * k + i] = rows > 1 ? 0 : x[i]; w[i] = n > 1 ? 0 : w[i] }
            let bias = rng.floats(n), start = rng.floats(rows * n)
            let packed = w.withUnsafeBufferPointer { PackedI8Weights(weight: $0.baseAddress!, inFeatures: k, outFeatures: n) }
            for initial in [nil, start] {
                XCTAssertEqual(linear(x, packed, bias, rows: rows, start: initial),
                               reference(x, w, bias, initial, rows: rows, k: k, n: n), "\(rows)x\(k)->\(n)")
            }
            // Close to the FP32 product (the point of it): int8 on both sides, about 1% of the range.
            let exact = (0..<(rows * n)).map { i in
                (0..<k).reduce(Double(bias[i % n])) { $0 + Double(x[i / n * k + $1]) * Double(w[i % n * k + $1]) }
            }
            XCTAssertLessThan(normalizedError(linear(x, packed, bias, rows: rows, start: nil), exact), 0.03)
        }
    }

    func testRowScaleIsFoldedBeforeQuantizing() throws {
        try XCTSkipUnless(GEMMI8.available, "this CPU has no AVX512-VNNI")
        var rng = SeededRNG(seed: 82)
        let (rows, k, n) = (11, 36, 40)
        let x = rng.floats(rows * k), w = rng.floats(n * k), gamma = rng.floats(n, 0.1, 2), bias = rng.floats(n)
        let scaled = (0..<(n * k)).map { w[$0] * gamma[$0 / k] }
        let packed = w.withUnsafeBufferPointer { wp in
            gamma.withUnsafeBufferPointer { PackedI8Weights(weight: wp.baseAddress!, inFeatures: k, outFeatures: n, rowScale: $0.baseAddress!) }
        }
        XCTAssertEqual(linear(x, packed, bias, rows: rows, start: nil), reference(x, scaled, bias, nil, rows: rows, k: k, n: n))
    }

    /// The fused MLP and the staged-input product do the arithmetic of the plain calls.
    func testFusedMLPAndStagedInputMatchPlainCalls() throws {
        try XCTSkipUnless(GEMMI8.available, "this CPU has no AVX512-VNNI")
        var rng = SeededRNG(seed: 83)
        let (rows, d, hidden) = (150, 64, 256)
        let x = rng.floats(rows * d), w1 = rng.floats(hidden * d, -0.3, 0.3), w2 = rng.floats(d * hidden, -0.1, 0.1)
        let b1 = rng.floats(hidden), b2 = rng.floats(d), start = rng.floats(rows * d)
        let first = w1.withUnsafeBufferPointer { PackedI8Weights(weight: $0.baseAddress!, inFeatures: d, outFeatures: hidden) }
        let second = w2.withUnsafeBufferPointer { PackedI8Weights(weight: $0.baseAddress!, inFeatures: hidden, outFeatures: d) }
        // input: rows scaled by 2 (a stand-in for a LayerNorm written part by part).
        let doubled = x.map { $0 * 2 }
        var h = [Float](repeating: 0, count: rows * hidden)
        doubled.withUnsafeBufferPointer { xp in
            b1.withUnsafeBufferPointer { bp in
                h.withUnsafeMutableBufferPointer {
                    GEMMI8.linear(xp.baseAddress!, rows: rows, weights: first, bias: bp.baseAddress!, gelu: true, into: $0.baseAddress!)
                }
            }
        }
        let expected = linear(h, second, b2, rows: rows, start: start)
        var fused = start
        x.withUnsafeBufferPointer { xp in
            let source = UncheckedBox(xp.baseAddress!)
            b1.withUnsafeBufferPointer { bp1 in
                b2.withUnsafeBufferPointer { bp2 in
                    fused.withUnsafeMutableBufferPointer {
                        GEMMI8.mlp(rows: rows, input: { first, count, into in
                            for i in 0..<(count * d) { into[i] = source.value[first * d + i] * 2 }
                        }, first: first, firstBias: bp1.baseAddress, second: second, secondBias: bp2.baseAddress,
                        accumulatingInto: $0.baseAddress!)
                    }
                }
            }
        }
        XCTAssertEqual(fused, expected)
    }
}
