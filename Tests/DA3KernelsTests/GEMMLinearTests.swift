import CKernels
import XCTest
@testable import DA3Kernels

final class GEMMLinearTests: XCTestCase {
    /// op(A) m x k, op(B) k x n, row-major with leading dimensions larger than the minimum.
    func testSGEMMAllTransposesWithLeadingDimensionsAndBeta() {
        var rng = SeededRNG(seed: 1)
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 31, 129)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let aRows = transA ? k : m, aCols = transA ? m : k
                    let bRows = transB ? n : k, bCols = transB ? k : n
                    let lda = aCols + 2, ldb = bCols + 3, ldc = n + 1
                    let a = rng.floats(aRows * lda), b = rng.floats(bRows * ldb)
                    var c = rng.floats(m * ldc)
                    let alpha: Float = 0.75, beta: Float = -0.5
                    var ref = c.map(Double.init)
                    for i in 0..<m {
                        for j in 0..<n {
                            var s = 0.0
                            for p in 0..<k {
                                let av = transA ? a[p * lda + i] : a[i * lda + p]
                                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                                s += Double(av) * Double(bv)
                            }
                            ref[i * ldc + j] = Double(alpha) * s + Double(beta) * Double(c[i * ldc + j])
                        }
                    }
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                           a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                           beta: beta, c: cp.baseAddress!, ldc: ldc)
                            }
                        }
                    }
                    // Padding columns of C (j >= n) must be untouched: ref kept their old values.
                    assertClose(c, ref, "sgemm m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB)")
                }
            }
        }
    }

    func testLinearWithAndWithoutBias() {
        var rng = SeededRNG(seed: 2)
        for (rows, inF, outF) in [(1, 1, 1), (1, 7, 3), (5, 3, 7), (23, 65, 17)] {
            for useBias in [false, true] {
                let x = rng.floats(rows * inF), w = rng.floats(outF * inF)
                let bias: [Float]? = useBias ? rng.floats(outF) : nil
                var ref = [Double](repeating: 0, count: rows * outF)
                for r in 0..<rows {
                    for o in 0..<outF {
                        var s = bias.map { Double($0[o]) } ?? 0
                        for i in 0..<inF { s += Double(x[r * inF + i]) * Double(w[o * inF + i]) }
                        ref[r * outF + o] = s
                    }
                }
                let y = Linear.forward(x, rows: rows, weight: w, bias: bias, outFeatures: outF)
                assertClose(y, ref, "linear rows=\(rows) in=\(inF) out=\(outF) bias=\(useBias)")

                // The pointer form, writing into a buffer that starts with garbage.
                var y2 = rng.floats(rows * outF, 100, 200)
                x.withUnsafeBufferPointer { xp in
                    w.withUnsafeBufferPointer { wp in
                        y2.withUnsafeMutableBufferPointer { yp in
                            if let bias {
                                bias.withUnsafeBufferPointer { bp in
                                    Linear.forward(xp.baseAddress!, rows: rows, inFeatures: inF, weight: wp.baseAddress!,
                                                   bias: bp.baseAddress!, outFeatures: outF, into: yp.baseAddress!)
                                }
                            } else {
                                Linear.forward(xp.baseAddress!, rows: rows, inFeatures: inF, weight: wp.baseAddress!,
                                               bias: nil, outFeatures: outF, into: yp.baseAddress!)
                            }
                        }
                    }
                }
                assertClose(y2, ref, "linear(pointer) rows=\(rows) in=\(inF) out=\(outF) bias=\(useBias)")
            }
        }
    }

    /// The packed-weight FP32 micro-kernel (exact path's transformer linears) against a Double
    /// reference: partial 32-column panels, row counts around the 8-row groups and 64-row parts.
    func testPackedFP32LinearMatchesReference() throws {
        try XCTSkipUnless(GEMMF32.available, "no AVX-512 here; the engine uses BLAS")
        var rng = SeededRNG(seed: 60)
        for (rows, inFeatures, outFeatures) in [(1, 1, 1), (9, 5, 33), (70, 64, 48), (133, 384, 100), (257, 96, 384)] {
            let x = rng.floats(rows * inFeatures, -2, 2), w = rng.floats(outFeatures * inFeatures), bias = rng.floats(outFeatures)
            let start = rng.floats(rows * outFeatures)
            let packed = w.withUnsafeBufferPointer { PackedF32Weights(weight: $0.baseAddress!, inFeatures: inFeatures, outFeatures: outFeatures) }
            func product(_ i: Int) -> Double {
                let (r, o) = (i / outFeatures, i % outFeatures)
                return (0..<inFeatures).reduce(0.0) { $0 + Double(x[r * inFeatures + $1]) * Double(w[o * inFeatures + $1]) } + Double(bias[o])
            }
            for (accumulate, gelu) in [(false, false), (true, false), (false, true)] {
                var y = accumulate ? start : [Float](repeating: .nan, count: rows * outFeatures)
                x.withUnsafeBufferPointer { xp in
                    bias.withUnsafeBufferPointer { bp in
                        y.withUnsafeMutableBufferPointer {
                            GEMMF32.linear(xp.baseAddress!, rows: rows, weights: packed, bias: bp.baseAddress!,
                                           accumulate: accumulate, gelu: gelu, into: $0.baseAddress!)
                        }
                    }
                }
                let ref = (0..<(rows * outFeatures)).map { i -> Double in
                    let v = product(i)
                    if gelu { return 0.5 * v * (1 + erf(v / 2.0.squareRoot())) }
                    return v + (accumulate ? Double(start[i]) : 0)
                }
                assertClose(y, ref, "\(rows)x\(inFeatures)->\(outFeatures) accumulate \(accumulate) gelu \(gelu)")
            }
        }
    }

    /// The part hooks and the fused MLP do the arithmetic of the plain calls: `input` rewriting each
    /// part (here a scaled copy) equals the plain product on the rewritten rows, `output` sees every
    /// row once, and `mlp` equals gelu-linear then accumulate-linear bit for bit.
    func testPackedFP32HooksAndFusedMLPMatchPlainProducts() throws {
        try XCTSkipUnless(GEMMF32.available, "no AVX-512 here; the engine uses BLAS")
        var rng = SeededRNG(seed: 61)
        for (rows, d, hidden) in [(1, 8, 16), (70, 64, 96), (133, 96, 160)] {
            let x = rng.floats(rows * d, -2, 2), start = rng.floats(rows * d)
            let w1 = rng.floats(hidden * d), w2 = rng.floats(d * hidden), b1 = rng.floats(hidden), b2 = rng.floats(d)
            let fc1 = w1.withUnsafeBufferPointer { PackedF32Weights(weight: $0.baseAddress!, inFeatures: d, outFeatures: hidden) }
            let fc2 = w2.withUnsafeBufferPointer { PackedF32Weights(weight: $0.baseAddress!, inFeatures: hidden, outFeatures: d) }
            let scaled = x.map { $0 * 0.5 }
            var plainHidden = [Float](repeating: 0, count: rows * hidden), plain = start
            var hooked = [Float](repeating: 0, count: rows * hidden), fused = start
            var seen = [Int](repeating: 0, count: rows)
            x.withUnsafeBufferPointer { xb in
                let xp = UncheckedBox(xb.baseAddress!)
                let input: GEMMF32.InputRows = { first, count, into in
                    for i in 0..<(count * d) { into[i] = xp.value[first * d + i] * 0.5 }
                }
                b1.withUnsafeBufferPointer { b1p in
                    b2.withUnsafeBufferPointer { b2p in
                        scaled.withUnsafeBufferPointer { sp in
                            GEMMF32.linear(sp.baseAddress!, rows: rows, weights: fc1, bias: b1p.baseAddress!, gelu: true,
                                           into: &plainHidden)
                        }
                        plainHidden.withUnsafeBufferPointer { hp in
                            GEMMF32.linear(hp.baseAddress!, rows: rows, weights: fc2, bias: b2p.baseAddress!, accumulate: true,
                                           into: &plain)
                        }
                        seen.withUnsafeMutableBufferPointer { sb in
                            let counts = UncheckedBox(sb.baseAddress!)
                            GEMMF32.linear(xp.value, rows: rows, weights: fc1, bias: b1p.baseAddress!, gelu: true, input: input,
                                           output: { first, count in for r in first..<(first + count) { counts.value[r] += 1 } },
                                           into: &hooked)
                        }
                        GEMMF32.mlp(rows: rows, input: input, first: fc1, firstBias: b1p.baseAddress!, second: fc2,
                                    secondBias: b2p.baseAddress!, accumulatingInto: &fused)
                    }
                }
            }
            XCTAssertEqual(hooked, plainHidden, "input hook, \(rows) rows")
            XCTAssertEqual(seen, [Int](repeating: 1, count: rows), "output hook, \(rows) rows")
            XCTAssertEqual(fused, plain, "fused MLP, \(rows) rows")
        }
    }
}

final class GEMMInPlaceTests: XCTestCase {
    /// C = A B with B read in place (no packing), on shapes with partial 32-column panels, a single
    /// column, rows that are not multiples of 8, row strides wider than the product and accumulation
    /// into C; columns past n (in B's and C's padding) are neither read into C nor written.
    func testInPlaceProductMatchesReference() throws {
        try XCTSkipUnless(GEMMF32.available, "no AVX-512 here; the engine uses BLAS")
        var rng = SeededRNG(seed: 61)
        for (m, n, k) in [(1, 1, 1), (8, 32, 16), (9, 17, 5), (64, 100, 64), (33, 47, 3456), (384, 180, 40)] {
            let ldb = n + 5, ldc = n + 3
            let a = rng.floats(m * k), b = rng.floats(k * ldb), start = rng.floats(m * ldc)
            for accumulate in [false, true] {
                var c = start
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer {
                            da3_gemm_f32_kn(ap.baseAddress!, k, bp.baseAddress!, ldb, m, n, k, accumulate ? 1 : 0,
                                            $0.baseAddress!, ldc)
                        }
                    }
                }
                var got: [Float] = [], ref: [Double] = []
                for i in 0..<m {
                    for j in 0..<ldc {
                        if j >= n {
                            XCTAssertEqual(c[i * ldc + j], start[i * ldc + j], "padding column \(j) written")
                            continue
                        }
                        let dot = (0..<k).reduce(0.0) { $0 + Double(a[i * k + $1]) * Double(b[$1 * ldb + j]) }
                        got.append(c[i * ldc + j])
                        ref.append(dot + (accumulate ? Double(start[i * ldc + j]) : 0))
                    }
                }
                assertClose(got, ref, "\(m)x\(n)x\(k) accumulate \(accumulate)")
            }
            // The threaded entry point (column strips) gives the same values as one call.
            var whole = [Float](repeating: 0, count: m * ldc), strips = whole
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    whole.withUnsafeMutableBufferPointer {
                        da3_gemm_f32_kn(ap.baseAddress!, k, bp.baseAddress!, ldb, m, n, k, 0, $0.baseAddress!, ldc)
                    }
                    strips.withUnsafeMutableBufferPointer {
                        GEMMF32.product(ap.baseAddress!, m: m, k: k, b: bp.baseAddress!, ldb: ldb, n: n,
                                        into: $0.baseAddress!, ldc: ldc)
                    }
                }
            }
            XCTAssertEqual(whole, strips, "\(m)x\(n)x\(k): strips differ from one call")
        }
    }
}
