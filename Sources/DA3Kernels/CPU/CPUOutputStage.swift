import Foundation

/// The DualDPT output stage on the CPU (`OutputStageParameters`): bilinear (align_corners) from the
/// output_conv1 map to the image size, + position tables (the UV embedding), output_conv2 (3x3 →
/// ReLU → 1x1), depth = exp, confidence = exp + 1.
///
/// Computed in bands of output rows (`UpsampledConvolution`) so the full-resolution 32-channel
/// maps (58 MB each at 896 x 504) are never materialized; each step of a band runs on all threads.
public struct CPUOutputStage: Sendable {
    let conv3x3: CPUConv   // 3x3, features/2 → 32
    let conv1x1: CPUConv   // 1x1, 32 → 2

    init(_ loader: any ParameterLoader, _ p: OutputStageParameters, precision: Precision) throws {
        conv3x3 = try CPUConv(loader, p.conv3x3, precision: precision)
        conv1x1 = try CPUConv(loader, p.conv1x1, precision: precision)
        precondition(conv3x3.winograd != nil && conv1x1.kernel == 1 && conv1x1.outChannels == 2 && conv1x1.bias != nil,
                     "the output stage is a 3x3 pad-1 convolution then a 1x1 one to two channels with bias")
    }

    /// `x`: (features/2, h, w) from output_conv1; `uv`: the tables as `UpsampledConvolution.forward`
    /// takes them. Returns depth and confidence (height, width), and with `intermediates` the upsampled
    /// map (+ tables) and the logits at full size.
    func forward(_ x: Tensor, height: Int, width: Int, uv: (col: [Float], row: [Float]),
                 intermediates: Bool) -> OutputStageResult<Tensor> {
        let c = x.shape[0]
        let hidden = conv3x3.outChannels
        let plane = height * width
        var depth = [Float](repeating: 0, count: plane), confidence = depth
        // Full intermediate maps only when someone is watching the stages (tests).
        var upsampled = intermediates ? [Float](repeating: 0, count: c * plane) : []
        var logits = intermediates ? [Float](repeating: 0, count: 2 * plane) : []
        var bandLogits = [Float](repeating: 0, count: 2 * min(UpsampledConvolution.bandRows, height) * width)
        let (b0, b1) = (conv1x1.bias![0], conv1x1.bias![1])
        let stage = UpsampledConvolution(conv: conv3x3.winograd!)
        stage.forward(x, height: height, width: width, uv: uv, upsampled: !intermediates ? nil : { rows, stride, row0, count in
            for ch in 0..<c {
                let dst = (ch * height + row0) * width
                upsampled.withUnsafeMutableBufferPointer { ($0.baseAddress! + dst).update(from: rows + ch * stride, count: count * width) }
            }
        }) { band in
            let n = band.rows * width
            // ReLU, output_conv2[2] (1x1 → 2), activations.
            bandLogits.withUnsafeMutableBufferPointer { lb in
                conv1x1.weight.withUnsafeBufferPointer { wp in
                    for o in 0..<hidden { Elementwise.relu(band.interior + o * band.planeStride, count: n) }
                    GEMM.sgemm(m: 2, n: n, k: hidden, a: wp.baseAddress!, lda: hidden, b: band.interior, ldb: band.planeStride,
                               c: lb.baseAddress!, ldc: n)
                }
            }
            bandLogits.withUnsafeBufferPointer { lb in
                depth.withUnsafeMutableBufferPointer { db in
                    confidence.withUnsafeMutableBufferPointer { fb in
                        let offset = band.row0 * width
                        let io = UncheckedBox((lb.baseAddress!, db.baseAddress! + offset, fb.baseAddress! + offset))
                        Parallel.forEachChunk(n, costPerItem: 20) { range in
                            let (l, d, f) = io.value
                            for i in range {
                                d[i] = expf(l[i] + b0)
                                f[i] = expf(l[n + i] + b1) + 1
                            }
                        }
                    }
                }
            }
            if !logits.isEmpty {
                for i in 0..<n {
                    logits[band.row0 * width + i] = bandLogits[i] + b0
                    logits[plane + band.row0 * width + i] = bandLogits[n + i] + b1
                }
            }
        }
        return OutputStageResult(
            depth: Tensor(shape: [height, width], data: depth), confidence: Tensor(shape: [height, width], data: confidence),
            upsampled: intermediates ? Tensor(shape: [c, height, width], data: upsampled) : nil,
            logits: intermediates ? Tensor(shape: [2, height, width], data: logits) : nil)
    }
}
