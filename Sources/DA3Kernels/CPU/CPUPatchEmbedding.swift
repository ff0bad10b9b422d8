/// Patch embedding on the CPU (`patch_embed` in `vision_transformer.py`): Conv2d(3, D, p, stride p) as
/// a product on gathered patches, always FP32 (packed for the FP32 micro-kernel where it runs).
public struct CPUPatchEmbedding: Sendable {
    let patchSize: Int
    let linear: CPULinear

    init(_ loader: any ParameterLoader, _ p: LinearParameters) throws {
        patchSize = p.weightShape.last ?? 1
        linear = try CPULinear(packing: loader, p, precision: .exact)
    }

    /// (1 + N) x D tokens, row 0 zero, rows 1... the embeddings of each 14x14x3 patch gathered
    /// channel-major (as the conv weight) from a planar (3, h, w) image.
    func forward(_ image: [Float], height h: Int, width w: Int) -> Tensor {
        let p = patchSize, d = linear.outFeatures
        let (gh, gw) = (h / p, w / p)
        let k = 3 * p * p
        var x = Tensor(zeros: [1 + gh * gw, d])
        var patches = [Float](repeating: 0, count: gh * gw * k)
        image.withUnsafeBufferPointer { ib in
            patches.withUnsafeMutableBufferPointer { pb in
                let io = UncheckedBox((ib.baseAddress!, pb.baseAddress!))
                Parallel.forEachChunk(gh, costPerItem: gw * k) { rows in
                    let (image, patches) = io.value
                    for py in rows {
                        for px in 0..<gw {
                            let base = (py * gw + px) * k
                            for c in 0..<3 {
                                for ky in 0..<p {
                                    (patches + base + (c * p + ky) * p).update(from: image + (c * h + py * p + ky) * w + px * p,
                                                                               count: p)
                                }
                            }
                        }
                    }
                }
            }
        }
        x.data.withUnsafeMutableBufferPointer { xp in
            patches.withUnsafeBufferPointer { pp in
                linear(pp.baseAddress!, rows: gh * gw, into: xp.baseAddress! + d)
            }
        }
        return x
    }
}
