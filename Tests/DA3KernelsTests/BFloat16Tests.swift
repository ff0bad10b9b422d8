import Foundation
import XCTest
@testable import DA3Kernels

/// The `Precision.fast` kernels: bfloat16 rounding, the bfloat16 GEMM and bfloat16 attention.
final class BFloat16Tests: XCTestCase {
    /// Round to nearest even on the top 16 bits, written from the definition.
    private func referenceBF16(_ x: Float) -> UInt16 {
        if x.isNaN { return 0x7FC0 }
        let bits = x.bitPattern, upper = bits >> 16, lower = bits & 0xFFFF
        let roundUp = lower > 0x8000 || (lower == 0x8000 && upper & 1 == 1)
        return UInt16(truncatingIfNeeded: roundUp ? upper + 1 : upper)
    }

    private func float(_ b: UInt16) -> Double { Double(Float(bitPattern: UInt32(b) << 16)) }

    func testConversionRoundsToNearestEven() {
        var rng = SeededRNG(seed: 50)
        // Ties both ways, the largest finite value, infinities, zeros, subnormals and random values;
        // 37 values so the vector path and the scalar tail both run.
        var values: [Float] = [Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), .greatestFiniteMagnitude,
                               .infinity, -.infinity, 0, -0.0, Float(bitPattern: 0x0000_8001)]
        values += rng.floats(29, -1000, 1000)
        var out = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { Elementwise.toBF16(v.baseAddress!, into: $0.baseAddress!, count: v.count) }
        }
        for (x, got) in zip(values, out) {
            // vcvtneps2bf16 treats subnormal inputs as zero.
            if x.isSubnormal && got & 0x7FFF == 0 { continue }
            XCTAssertEqual(got, referenceBF16(x), "bfloat16(\(x))")
        }
        var nan = [UInt16](repeating: 0, count: 1)
        [Float.nan].withUnsafeBufferPointer { v in nan.withUnsafeMutableBufferPointer { Elementwise.toBF16(v.baseAddress!, into: $0.baseAddress!, count: 1) } }
        XCTAssertTrue(Float(bitPattern: UInt32(nan[0]) << 16).isNaN)
    }

    func testGEMMMatchesReferenceOnRoundedInputs() throws {
        try XCTSkipUnless(Precision.fastAvailable, "this CPU has no AVX512-BF16")
        var rng = SeededRNG(seed: 51)
        // Row counts around the 8-row micro-kernel and the 64-row blocks; widths with partial panels.
        for (rows, inFeatures, outFeatures) in [(1, 2, 1), (9, 6, 33), (70, 64, 48), (133, 384, 100), (257, 96, 384)] {
            let x = rng.floats(rows * inFeatures, -2, 2), w = rng.floats(outFeatures * inFeatures), bias = rng.floats(outFeatures)
            let start = rng.floats(rows * outFeatures)
            let x16 = x.map(referenceBF16), w16 = w.map(referenceBF16)
            func product(_ r: Int, _ o: Int) -> Double {
                (0..<inFeatures).reduce(0.0) { $0 + float(x16[r * inFeatures + $1]) * float(w16[o * inFeatures + $1]) } + Double(bias[o])
            }
            let packed = w.withUnsafeBufferPointer { PackedBF16Weights(weight: $0.baseAddress!, inFeatures: inFeatures, outFeatures: outFeatures) }
            for accumulate in [false, true] {
                var y = accumulate ? start : [Float](repeating: .nan, count: rows * outFeatures)
                x16.withUnsafeBufferPointer { xp in
                    bias.withUnsafeBufferPointer { bp in
                        y.withUnsafeMutableBufferPointer {
                            GEMMBF16.linear(xp.baseAddress!, rows: rows, weights: packed, bias: bp.baseAddress!,
                                            accumulate: accumulate, into: $0.baseAddress!)
                        }
                    }
                }
                let ref = (0..<(rows * outFeatures)).map { i in
                    product(i / outFeatures, i % outFeatures) + (accumulate ? Double(start[i]) : 0)
                }
                XCTAssertLessThan(normalizedError(y, ref), 1e-6, "\(rows)x\(inFeatures)->\(outFeatures) accumulate \(accumulate)")
            }
            // GELU variant: bfloat16(gelu(product)).
            var g = [UInt16](repeating: 0, count: rows * outFeatures)
            x16.withUnsafeBufferPointer { xp in
                bias.withUnsafeBufferPointer { bp in
                    g.withUnsafeMutableBufferPointer {
                        GEMMBF16.linearGELU(xp.baseAddress!, rows: rows, weights: packed, bias: bp.baseAddress!, into: $0.baseAddress!)
                    }
                }
            }
            for i in 0..<(rows * outFeatures) {
                let v = product(i / outFeatures, i % outFeatures)
                let expected = 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
                XCTAssertEqual(float(g[i]), expected, accuracy: abs(expected) * 1e-2 + 1e-6, "gelu \(i)")
            }
        }
    }

    func testProductWithFloatOperandInBothLayouts() throws {
        try XCTSkipUnless(Precision.fastAvailable, "this CPU has no AVX512-BF16")
        var rng = SeededRNG(seed: 53)
        for (m, n, k) in [(1, 1, 2), (24, 70, 48), (48, 100, 96), (17, 33, 768)] {
            let a = rng.floats(m * k), b = rng.floats(n * k, -3, 3)  // b: n x k
            let a16 = a.map(referenceBF16), b16 = b.map(referenceBF16)
            let ref = (0..<(m * n)).map { i in
                (0..<k).reduce(0.0) { $0 + float(a16[(i / n) * k + $1]) * float(b16[(i % n) * k + $1]) }
            }
            let bT = (0..<(k * n)).map { b[($0 % n) * k + $0 / n] }  // k x n
            for (layout, operand) in [(GEMMBF16.Layout.rows, b), (.columns, bT)] {
                var c = [Float](repeating: .nan, count: m * n)
                a16.withUnsafeBufferPointer { ap in
                    operand.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer {
                            GEMMBF16.product(ap.baseAddress!, m: m, b: bp.baseAddress!, layout: layout, n: n, k: k,
                                             into: $0.baseAddress!, ldc: n)
                        }
                    }
                }
                XCTAssertLessThan(normalizedError(c, ref), 1e-6, "\(m)x\(n)x\(k) \(layout)")
            }
        }
    }

    func testAttentionIsCloseToFP32() throws {
        try XCTSkipUnless(Precision.fastAvailable, "this CPU has no AVX512-BF16")
        var rng = SeededRNG(seed: 52)
        // Odd token counts (a padded last pair and partial panels), one row block and several.
        for (tokens, heads) in [(1, 1), (3, 2), (33, 1), (137, 3), (301, 2)] {
            let dim = heads * 64
            let qkv = rng.floats(tokens * 3 * dim, -3, 3)
            func run(_ precision: Precision) -> [Float] {
                var out = [Float](repeating: .nan, count: tokens * dim)
                var scratch = [Float](repeating: .nan, count: Attention.scratchCount(tokens: tokens, heads: heads, headDim: 64))
                qkv.withUnsafeBufferPointer { qp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        out.withUnsafeMutableBufferPointer { op in
                            Attention.forward(qkv: qp.baseAddress!, tokens: tokens, heads: heads, headDim: 64,
                                              scratch: sp.baseAddress!, precision: precision, into: op.baseAddress!)
                        }
                    }
                }
                return out
            }
            let exact = run(.exact).map(Double.init), fast = run(.fast)
            // bfloat16 keeps 8 significant bits: inputs and probabilities are rounded to 2^-9 relative.
            let error = normalizedError(fast, exact)
            XCTAssertLessThan(error, 2e-2, "tokens \(tokens) heads \(heads)")
            XCTAssertTrue(fast.allSatisfy(\.isFinite))
        }
    }

    /// The bfloat16 part hooks and fused MLP do the arithmetic of the plain calls, bit for bit.
    func testHooksAndFusedMLPMatchPlainProducts() throws {
        try XCTSkipUnless(Precision.fastAvailable, "no AVX512-BF16 here")
        var rng = SeededRNG(seed: 62)
        for (rows, d, hidden) in [(1, 8, 16), (70, 64, 96), (133, 96, 160)] {
            let x = rng.floats(rows * d, -2, 2).bf16(), start = rng.floats(rows * d)
            let w1 = rng.floats(hidden * d), w2 = rng.floats(d * hidden), b1 = rng.floats(hidden), b2 = rng.floats(d)
            let fc1 = w1.withUnsafeBufferPointer { PackedBF16Weights(weight: $0.baseAddress!, inFeatures: d, outFeatures: hidden) }
            let fc2 = w2.withUnsafeBufferPointer { PackedBF16Weights(weight: $0.baseAddress!, inFeatures: hidden, outFeatures: d) }
            var hidden16 = [UInt16](repeating: 0, count: rows * hidden), plain = start, fused = start
            var direct = [Float](repeating: 0, count: rows * hidden), hooked = direct
            var seen = [Int](repeating: 0, count: rows)
            x.withUnsafeBufferPointer { xb in
                let xp = UncheckedBox(xb.baseAddress!)
                let input: GEMMBF16.InputRows = { first, count, into in into.update(from: xp.value + first * d, count: count * d) }
                b1.withUnsafeBufferPointer { b1p in
                    b2.withUnsafeBufferPointer { b2p in
                        GEMMBF16.linearGELU(xp.value, rows: rows, weights: fc1, bias: b1p.baseAddress!, into: &hidden16)
                        hidden16.withUnsafeBufferPointer { hp in
                            GEMMBF16.linear(hp.baseAddress!, rows: rows, weights: fc2, bias: b2p.baseAddress!, accumulate: true,
                                            into: &plain)
                        }
                        GEMMBF16.mlp(rows: rows, input: input, first: fc1, firstBias: b1p.baseAddress!, second: fc2,
                                     secondBias: b2p.baseAddress!, accumulatingInto: &fused)
                        GEMMBF16.linear(xp.value, rows: rows, weights: fc1, bias: b1p.baseAddress!, into: &direct)
                        seen.withUnsafeMutableBufferPointer { sb in
                            let counts = UncheckedBox(sb.baseAddress!)
                            GEMMBF16.linear(nil, rows: rows, weights: fc1, bias: b1p.baseAddress!, input: input,
                                            output: { first, count in for r in first..<(first + count) { counts.value[r] += 1 } },
                                            into: &hooked)
                        }
                    }
                }
            }
            XCTAssertEqual(fused, plain, "fused MLP, \(rows) rows")
            XCTAssertEqual(hooked, direct, "input hook, \(rows) rows")
            XCTAssertEqual(seen, [Int](repeating: 1, count: rows), "output hook, \(rows) rows")
        }
    }
}
