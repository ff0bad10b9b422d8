/// `nn.LayerNorm` weights and epsilon.
public struct CPULayerNorm: Sendable {
    let width: Int
    let eps: Float
    let weight: [Float]
    let bias: [Float]

    init(_ loader: any ParameterLoader, _ p: LayerNormParameters) throws {
        width = p.width
        eps = p.eps
        weight = try loader.tensor(p.key + ".weight", [p.width])
        bias = try loader.tensor(p.key + ".bias", [p.width])
    }

    /// Normalizes `rows` contiguous rows into bfloat16.
    func bf16(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<UInt16>, parallel: Bool = true) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                LayerNorm.forwardBF16(x, rows: rows, width: width, weight: w.baseAddress!, bias: b.baseAddress!, eps: eps,
                                      into: y, parallel: parallel)
            }
        }
    }

    /// Normalizes `rows` rows (strides in elements; in-place allowed).
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, inStride: Int? = nil,
                        into y: UnsafeMutablePointer<Float>, outStride: Int? = nil, parallel: Bool = true) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                LayerNorm.forward(x, rows: rows, width: width, inStride: inStride, weight: w.baseAddress!,
                                  bias: b.baseAddress!, eps: eps, into: y, outStride: outStride, parallel: parallel)
            }
        }
    }
}
