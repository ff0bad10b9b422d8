/// The DPT head's 1x1 projections on the CPU (`projects` in `dualdpt.py`): normalized tokens to a
/// planar map. Exact precision: token-major products on the packed FP32 kernel, normalized part by
/// part and each finished part transposed into the map; otherwise (and for `Precision.fast`, in
/// bfloat16) W (C x 2D) times the normalized map.
public struct CPUProjection: Sendable {
    let linear: CPULinear
    /// The weights as bfloat16 (`Precision.fast`; nil otherwise).
    let weightBF16: WeightMemory<UInt16>?

    init(_ loader: any ParameterLoader, _ p: LinearParameters, precision: Precision) throws {
        if precision.usesBF16 {
            linear = try CPULinear(loader, p)
            weightBF16 = linear.weight.bf16()
        } else {
            linear = try CPULinear(packing: loader, p, precision: .exact)
            weightBF16 = nil
        }
    }

    /// The projection of norm(feature) (tokens x 2D, gh * gw tokens) as a (C, gh, gw) map. The
    /// feature is released (28 MB at 896 x 504 for DA3-Small) and its buffer reused.
    func forward(_ feature: inout Tensor, norm: CPULayerNorm, height gh: Int, width gw: Int) -> Tensor {
        let n = gh * gw
        // The feature is normalized in place: its buffer is no longer shared once taken out.
        var normed = feature.data
        feature = Tensor(zeros: [0])
        let dimIn = normed.count / n
        let proj = linear, c = proj.outFeatures
        var x = Tensor(uninitialized: [c, gh, gw])
        x.data.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!
            normed.withUnsafeMutableBufferPointer { nb in
                let np = nb.baseAddress!
                if proj.isPackedF32 {
                    // Token-major products, normalized part by part, each finished part transposed into the map.
                    let rows = UnsafeMutablePointer<Float>.allocate(capacity: n * c)
                    defer { rows.deallocate() }
                    proj.forward(np, rows: n, input: { first, count, into in
                        norm(np + first * dimIn, rows: count, into: into, parallel: false)
                    }, output: { first, count in
                        for t in first..<(first + count) {
                            for o in 0..<c { xp[o * n + t] = rows[t * c + o] }
                        }
                    }, staging: np, into: rows)
                    return
                }
                // 1x1 conv on the (2D, gh, gw) map = W (C x 2D) * normed^T.
                norm(np, rows: n, into: np)
                if let weightBF16 {
                    weightBF16.withUnsafeBufferPointer { wp in
                        GEMMBF16.product(wp.baseAddress!, m: c, b: np, layout: .rows, n: n, k: dimIn, into: xp, ldc: n)
                    }
                } else {
                    proj.weight.withUnsafeBufferPointer { wp in
                        GEMM.sgemm(transB: true, m: c, n: n, k: dimIn, a: wp.baseAddress!, lda: dimIn, b: np, ldb: dimIn,
                                   c: xp, ldc: n)
                    }
                }
                proj.bias.withUnsafeBufferPointer {
                    Elementwise.addChannelBias($0.baseAddress!, into: xp, channels: c, plane: n)
                }
            }
        }
        return x
    }
}

/// ConvTranspose2d with kernel == stride on the CPU (the head's `resize_layers` 0 and 1).
public struct CPUConvTranspose: Sendable {
    let weight: WeightMemory<Float>
    let bias: [Float]
    let channels: Int, stride: Int

    init(_ loader: any ParameterLoader, _ p: ConvTransposeParameters) throws {
        weight = try loader.memory(p.key + ".weight", [p.channels, p.channels, p.stride, p.stride])
        bias = try loader.tensor(p.key + ".bias", [p.channels])
        channels = p.channels
        stride = p.stride
    }

    func forward(_ x: Tensor) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2]), s = stride
        var y = Tensor(uninitialized: [channels, h * s, w * s])
        x.data.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                bias.withUnsafeBufferPointer { bp in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        ConvTranspose2D.forward(xp.baseAddress!, channels: c, height: h, width: w, weight: wp.baseAddress!,
                                                bias: bp.baseAddress!, outChannels: channels, stride: s, into: yp.baseAddress!)
                    }
                }
            }
        }
        return y
    }
}
