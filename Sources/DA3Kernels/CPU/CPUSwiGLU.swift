import Foundation

extension CPUMLP {
    /// A SwiGLU branch (`SwiGLUParameters`): w12 and w3 in FP32 panels whatever the precision (the
    /// bfloat16 fused MLP kernel is GELU's; FP32 here is exact and never slower than asked).
    init(swiGLU loader: any ParameterLoader, _ p: SwiGLUParameters) throws {
        norm = try CPULayerNorm(loader, p.norm)
        fc1 = try CPULinear(packing: loader, p.w12, precision: .exact)
        fc2 = try CPULinear(packing: loader, p.w3, precision: .exact)
        precision = .exact
        gated = true
    }

    /// x += w3(silu(a) * b), (a, b) = halves of w12(norm2(x)): two products around the gate.
    func forwardSwiGLU(_ x: inout Tensor) {
        let tokens = x.shape[0], d = fc1.inFeatures, wide = fc1.outFeatures, hidden = wide / 2
        var staging = [Float](repeating: 0, count: tokens * d)
        var both = [Float](repeating: 0, count: tokens * wide)
        var gatedRows = [Float](repeating: 0, count: tokens * hidden)
        x.data.withUnsafeMutableBufferPointer { xb in
            let stream = UnsafePointer(xb.baseAddress!)
            staging.withUnsafeMutableBufferPointer { st in
                both.withUnsafeMutableBufferPointer { ab in
                    fc1.forward(stream, rows: tokens, input: { first, count, into in
                        norm(stream + first * d, rows: count, into: into, parallel: false)
                    }, staging: st.baseAddress!, into: ab.baseAddress!)
                }
            }
            both.withUnsafeBufferPointer { ab in
                gatedRows.withUnsafeMutableBufferPointer { gb in
                    let io = UncheckedBox((UnsafePointer(ab.baseAddress!), gb.baseAddress!))
                    Parallel.forEachChunk(tokens, costPerItem: hidden * 8) { range in
                        let (a, g) = io.value
                        for r in range {
                            let row = a + r * wide, out = g + r * hidden
                            for j in 0..<hidden {
                                let v = row[j]
                                out[j] = v / (1 + expf(-v)) * row[hidden + j]
                            }
                        }
                    }
                }
            }
            gatedRows.withUnsafeBufferPointer { gb in fc2.accumulate(gb.baseAddress!, rows: tokens, into: xb.baseAddress!) }
        }
    }
}
