/// `nn.Conv2d` weights (groups = 1) with its stride and padding.
public struct CPUConv: Sendable {
    let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    let weight: WeightMemory<Float>
    let bias: [Float]?
    /// Winograd F(2x2,3x3) form of 3x3 stride-1 pad-1 weights, transformed once at load (or read
    /// back from the weight cache with the weights themselves).
    let winograd: Winograd3x3?
    /// `weight` as bfloat16 for the im2col path in `Precision.fast` (empty otherwise).
    let weightBF16: [UInt16]

    init(_ loader: any ParameterLoader, _ p: ConvParameters, precision: Precision) throws {
        let (key, inChannels, outChannels, kernel, stride, padding) =
            (p.key, p.inChannels, p.outChannels, p.kernel, p.stride, p.padding)
        let hasBias = p.hasBias
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let shape = [outChannels, inChannels, kernel, kernel]
        weight = try loader.memory(key + ".weight", shape)
        bias = hasBias ? try loader.tensor(key + ".bias", [outChannels]) : nil
        let winogradShape = kernel == 3 && stride == 1 && padding == 1
        if winogradShape {
            let transformed = try loader.derived(from: key + ".weight", shape, name: key + ".winograd",
                                                 count: 16 * outChannels * inChannels) { w in
                Winograd3x3.transform(w, inChannels: inChannels, outChannels: outChannels)
            }
            winograd = Winograd3x3(transformed: transformed,
                                   transformedBF16: Winograd3x3.usesBF16(precision, inChannels: inChannels) ? transformed.bf16() : nil,
                                   bias: bias, inChannels: inChannels, outChannels: outChannels)
        } else {
            winograd = nil
        }
        let kk = inChannels * kernel * kernel
        weightBF16 = precision.usesBF16 && !winogradShape && kernel > 1 && kk % 2 == 0 && Precision.fastAvailable
            ? weight.bf16().withUnsafeBufferPointer { Array($0) } : []
    }

    func outputSize(height: Int, width: Int) -> (Int, Int) {
        (Conv2D.outputSize(height, kernel: kernel, stride: stride, padding: padding),
         Conv2D.outputSize(width, kernel: kernel, stride: stride, padding: padding))
    }

    /// conv(x), or conv(relu(x)) with `reluInput`, plus `residual` when given (same shape as the
    /// output), on a (inChannels, height, width) map.
    func callAsFunction(_ x: Tensor, reluInput: Bool = false, residual: Tensor? = nil) -> Tensor {
        precondition(x.shape.count == 3 && x.shape[0] == inChannels)
        let (h, w) = (x.shape[1], x.shape[2])
        let (oh, ow) = outputSize(height: h, width: w)
        var y = Tensor(uninitialized: [outChannels, oh, ow])
        if let winograd, winograd.preferred(height: h, width: w) {
            x.data.withUnsafeBufferPointer { xp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    if let residual {
                        residual.data.withUnsafeBufferPointer { rp in
                            winograd.forward(xp.baseAddress!, height: h, width: w, into: yp.baseAddress!,
                                             reluInput: reluInput, residual: rp.baseAddress!)
                        }
                    } else {
                        winograd.forward(xp.baseAddress!, height: h, width: w, into: yp.baseAddress!, reluInput: reluInput)
                    }
                }
            }
            return y
        }
        let input = reluInput ? x.relu() : x
        input.data.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    bias.withOptionalPointer { bp in
                        weightBF16.withUnsafeBufferPointer { w16 in
                            Conv2D.forward(xp.baseAddress!, channels: inChannels, height: h, width: w, weight: wp.baseAddress!,
                                           bias: bp, outChannels: outChannels, kernel: kernel, stride: stride,
                                           padding: padding, weightBF16: w16.isEmpty ? nil : w16.baseAddress,
                                           into: yp.baseAddress!)
                        }
                    }
                }
            }
        }
        if let residual { y.add(residual) }
        return y
    }
}

extension CPUConv {
    /// conv(bilinear(x)) for a 3x3 pad-1 convolution, without materializing bilinear(x): computed in
    /// bands of output rows (`UpsampledConvolution`) where the weights have their Winograd form.
    func upsampled(_ x: Tensor, height: Int, width: Int) -> Tensor {
        guard let winograd else { return self(x.resizedBilinear(height: height, width: width)) }
        var y = Tensor(uninitialized: [outChannels, height, width])
        y.data.withUnsafeMutableBufferPointer { yb in
            let yp = yb.baseAddress!
            UpsampledConvolution(conv: winograd).forward(x, height: height, width: width) { band in
                for o in 0..<outChannels {
                    (yp + (o * height + band.row0) * width).update(from: band.interior + o * band.planeStride,
                                                                   count: band.rows * width)
                }
            }
        }
        return y
    }
}
