/// Fully connected layer on a row-major batch of vectors, as `torch.nn.Linear`:
/// y (rows x out) = x (rows x in) * W^T + b, with W stored (out x in).
public enum Linear {
    /// y = x W^T + b, or y += x W^T + b with `accumulate` (a residual branch added in place).
    public static func forward(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outFeatures: Int,
        accumulate: Bool = false, into y: UnsafeMutablePointer<Float>
    ) {
        var beta: Float = accumulate ? 1 : 0
        if let bias {
            let ys = UncheckedBox(y), bs = UncheckedBox(bias)
            Parallel.forEachChunk(rows, costPerItem: outFeatures) { range in
                for r in range {
                    if accumulate {
                        Elementwise.add(bs.value, into: ys.value + r * outFeatures, count: outFeatures)
                    } else {
                        (ys.value + r * outFeatures).update(from: bs.value, count: outFeatures)
                    }
                }
            }
            beta = 1
        }
        GEMM.sgemm(transB: true, m: rows, n: outFeatures, k: inFeatures,
                   a: x, lda: inFeatures, b: weight, ldb: inFeatures, beta: beta, c: y, ldc: outFeatures)
    }

    /// Convenience over arrays: returns rows x outFeatures.
    public static func forward(_ x: [Float], rows: Int, weight: [Float], bias: [Float]?, outFeatures: Int) -> [Float] {
        let inFeatures = x.count / max(rows, 1)
        precondition(weight.count == outFeatures * inFeatures)
        var y = [Float](repeating: 0, count: rows * outFeatures)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    if let bias {
                        bias.withUnsafeBufferPointer { bp in
                            forward(xp.baseAddress!, rows: rows, inFeatures: inFeatures, weight: wp.baseAddress!, bias: bp.baseAddress!, outFeatures: outFeatures, into: yp.baseAddress!)
                        }
                    } else {
                        forward(xp.baseAddress!, rows: rows, inFeatures: inFeatures, weight: wp.baseAddress!, bias: nil, outFeatures: outFeatures, into: yp.baseAddress!)
                    }
                }
            }
        }
        return y
    }
}
