import DA3Kernels
import Foundation

/// Times the engine's kernels on the shapes DA3-Small uses at 896 x 504 (`--kernels`).
enum KernelBenchmark {
    static func run(repeats: Int) {
        print("kernel timings (DA3-Small shapes at 896x504, best of \(repeats)):")
        for (cin, cout, h, w) in [(64, 64, 256, 144), (64, 32, 512, 288), (32, 32, 896, 504), (48, 64, 256, 144)] {
            let x = [Float](repeating: 0.1, count: cin * h * w)
            let weight = [Float](repeating: 0.01, count: cout * cin * 9), bias = [Float](repeating: 0, count: cout)
            var y = [Float](repeating: 0, count: cout * h * w)
            let seconds = best(repeats) {
                x.withUnsafeBufferPointer { xp in
                    weight.withUnsafeBufferPointer { wp in
                        bias.withUnsafeBufferPointer { bp in
                            y.withUnsafeMutableBufferPointer { yp in
                                Conv2D.forward(xp.baseAddress!, channels: cin, height: h, width: w, weight: wp.baseAddress!,
                                               bias: bp.baseAddress!, outChannels: cout, kernel: 3, padding: 1, into: yp.baseAddress!)
                            }
                        }
                    }
                }
            }
            report("conv3x3 \(cin)->\(cout) \(h)x\(w)", flops: 2 * h * w * cin * cout * 9, seconds: seconds)
            // Winograd F(2x2,3x3) on the same shape (weights transformed once, outside the timing);
            // GFLOP/s counts the direct convolution's FLOPs so the two lines compare directly.
            let wino = Winograd3x3(weight: weight, bias: bias, inChannels: cin, outChannels: cout)
            let winoSeconds = best(repeats) {
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in wino.forward(xp.baseAddress!, height: h, width: w, into: yp.baseAddress!) }
                }
            }
            report("  winograd F(2x2,3x3)", flops: 2 * h * w * cin * cout * 9, seconds: winoSeconds)
            print(String(format: "      speedup %.2fx", seconds / winoSeconds))
            if Precision.fastAvailable {
                let fast = Winograd3x3(weight: weight, bias: bias, inChannels: cin, outChannels: cout, precision: .fast)
                let fastSeconds = best(repeats) {
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in fast.forward(xp.baseAddress!, height: h, width: w, into: yp.baseAddress!) }
                    }
                }
                report("  winograd bf16 (fast mode)", flops: 2 * h * w * cin * cout * 9, seconds: fastSeconds)
            }
        }
        let tokens = 2305, heads = 6, headDim = 64, dim = heads * headDim
        let qkv = (0..<(tokens * 3 * dim)).map { Float($0 % 17) * 0.01 }
        var out = [Float](repeating: 0, count: tokens * dim)
        var scratch = [Float](repeating: 0, count: Attention.scratchCount(tokens: tokens, heads: heads, headDim: headDim))
        let seconds = best(repeats) {
            qkv.withUnsafeBufferPointer { q in
                scratch.withUnsafeMutableBufferPointer { s in
                    out.withUnsafeMutableBufferPointer { o in
                        Attention.forward(qkv: q.baseAddress!, tokens: tokens, heads: heads, headDim: headDim,
                                          scratch: s.baseAddress!, into: o.baseAddress!)
                    }
                }
            }
        }
        report("attention 2305 tokens x 6 heads", flops: 4 * tokens * tokens * dim, seconds: seconds)
        if Precision.fastAvailable {
            var fastOut = out
            let fastSeconds = best(repeats) {
                qkv.withUnsafeBufferPointer { q in
                    scratch.withUnsafeMutableBufferPointer { s in
                        fastOut.withUnsafeMutableBufferPointer { o in
                            Attention.forward(qkv: q.baseAddress!, tokens: tokens, heads: heads, headDim: headDim,
                                              scratch: s.baseAddress!, precision: .fast, into: o.baseAddress!)
                        }
                    }
                }
            }
            report("  bf16 (fast mode)", flops: 4 * tokens * tokens * dim, seconds: fastSeconds)
        }
        for (m, n, k) in [(2305, 1152, 384), (2305, 1536, 384), (2305, 384, 1536)] {
            let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: n * k)
            var c = [Float](repeating: 0, count: m * n)
            let flops = 2 * m * n * k
            b.withUnsafeBufferPointer { bp in
                timeProduct("linear \(m)x\(k) -> \(n) (BLAS)", a, into: &c, flops: flops, repeats: repeats) { x, y in
                    GEMM.sgemm(transB: true, m: m, n: n, k: k, a: x, lda: k, b: bp.baseAddress!, ldb: k, c: y, ldc: n)
                }
            }
            if GEMMF32.available {
                let packed = b.withUnsafeBufferPointer { PackedF32Weights(weight: $0.baseAddress!, inFeatures: k, outFeatures: n) }
                timeProduct("  CKernels fp32 (exact)", a, into: &c, flops: flops, repeats: repeats) { x, y in
                    GEMMF32.linear(x, rows: m, weights: packed, bias: nil, into: y)
                }
            }
            if Precision.fastAvailable {
                let packed = b.withUnsafeBufferPointer { PackedBF16Weights(weight: $0.baseAddress!, inFeatures: k, outFeatures: n) }
                timeProduct("  CKernels bf16 (fast mode)", a.bf16(), into: &c, flops: flops, repeats: repeats) { x, y in
                    GEMMBF16.linear(x, rows: m, weights: packed, bias: nil, into: y)
                }
            }
        }
        mlp(repeats: repeats)
    }

    /// The MLP (384 -> 1536, GELU, -> 384, accumulated) as two products vs fused per row part.
    static func mlp(repeats: Int) {
        guard GEMMF32.available else { return }
        let (m, d, hidden) = (2305, 384, 1536)
        let x = (0..<(m * d)).map { Float($0 % 13) * 0.01 }
        let w1 = (0..<(hidden * d)).map { Float($0 % 7) * 0.01 }, w2 = (0..<(d * hidden)).map { Float($0 % 5) * 0.01 }
        let fc1 = w1.withUnsafeBufferPointer { PackedF32Weights(weight: $0.baseAddress!, inFeatures: d, outFeatures: hidden) }
        let fc2 = w2.withUnsafeBufferPointer { PackedF32Weights(weight: $0.baseAddress!, inFeatures: hidden, outFeatures: d) }
        var h = [Float](repeating: 0, count: m * hidden), y = [Float](repeating: 0, count: m * d)
        let flops = 4 * m * d * hidden
        x.withUnsafeBufferPointer { xb in
            let xp = UncheckedBox(xb.baseAddress!)
            let copy: GEMMF32.InputRows = { first, count, into in into.update(from: xp.value + first * d, count: count * d) }
            let twoPasses = best(repeats) {
                h.withUnsafeMutableBufferPointer { hp in
                    y.withUnsafeMutableBufferPointer { yp in
                        GEMMF32.linear(xp.value, rows: m, weights: fc1, bias: nil, gelu: true, input: copy, into: hp.baseAddress!)
                        GEMMF32.linear(hp.baseAddress!, rows: m, weights: fc2, bias: nil, accumulate: true, into: yp.baseAddress!)
                    }
                }
            }
            report("mlp 2305x384x1536 (two products)", flops: flops, seconds: twoPasses)
            let fused = best(repeats) {
                y.withUnsafeMutableBufferPointer { yp in
                    GEMMF32.mlp(rows: m, input: copy, first: fc1, firstBias: nil, second: fc2, secondBias: nil,
                                accumulatingInto: yp.baseAddress!)
                }
            }
            report("  fused per row part", flops: flops, seconds: fused)
        }
    }

    /// Times `body(x, c)` (best of `repeats`) and reports it as `flops`.
    static func timeProduct<X>(_ name: String, _ x: [X], into c: inout [Float], flops: Int, repeats: Int,
                               _ body: (UnsafePointer<X>, UnsafeMutablePointer<Float>) -> Void) {
        let seconds = best(repeats) {
            x.withUnsafeBufferPointer { xp in
                c.withUnsafeMutableBufferPointer { body(xp.baseAddress!, $0.baseAddress!) }
            }
        }
        report(name, flops: flops, seconds: seconds)
    }

    static func best(_ repeats: Int, _ body: () -> Void) -> Double {
        var bestTime = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            bestTime = min(bestTime, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return bestTime
    }

    static func report(_ name: String, flops: Int, seconds: Double) {
        print("  " + name.padding(toLength: 34, withPad: " ", startingAt: 0)
              + String(format: "%8.2f ms %8.1f GFLOP/s", seconds * 1000, Double(flops) / seconds / 1e9))
    }
}
