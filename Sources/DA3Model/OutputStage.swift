import DA3Kernels
import Foundation

/// The end of the DualDPT main branch (`_forward_impl` after `_fuse` in `model/dualdpt.py`):
/// bilinear (align_corners) from the output_conv1 map to the image size, + UV embedding,
/// output_conv2 (3x3 → ReLU → 1x1), depth = exp, confidence = exp + 1.
///
/// Computed in bands of output rows (`UpsampledConvolution`) so the full-resolution 32-channel
/// maps (58 MB each at 896 x 504) are never materialized; each step of a band runs on all threads.
struct OutputStage {
    let conv2a: ConvWeights   // 3x3, features/2 → 32
    let conv2b: ConvWeights   // 1x1, 32 → 2

    /// `x`: (features/2, h, w) from output_conv1. Returns depth and confidence, height x width.
    func forward(_ x: Tensor, height: Int, width: Int, plan: ShapePlan, observer: StageObserver?) -> (depth: [Float], confidence: [Float]) {
        let c = x.shape[0]
        let hidden = conv2a.outChannels
        let uv = UVEmbedding.tables(channels: c, width: width, height: height, imageWidth: plan.width, imageHeight: plan.height)
        let plane = height * width
        var depth = [Float](repeating: 0, count: plane), confidence = depth
        // Full intermediate maps only when someone is watching the stages (tests).
        var upsampled = observer == nil ? [] : [Float](repeating: 0, count: c * plane)
        var logits = observer == nil ? [] : [Float](repeating: 0, count: 2 * plane)
        var bandLogits = [Float](repeating: 0, count: 2 * min(UpsampledConvolution.bandRows, height) * width)
        let (b0, b1) = (conv2b.bias![0], conv2b.bias![1])
        let stage = UpsampledConvolution(conv: conv2a.winograd!)
        stage.forward(x, height: height, width: width, uv: uv, upsampled: observer == nil ? nil : { rows, stride, row0, count in
            for ch in 0..<c {
                let dst = (ch * height + row0) * width
                upsampled.withUnsafeMutableBufferPointer { ($0.baseAddress! + dst).update(from: rows + ch * stride, count: count * width) }
            }
        }) { band in
            let n = band.rows * width
            // ReLU, output_conv2[2] (1x1 → 2), activations.
            bandLogits.withUnsafeMutableBufferPointer { lb in
                conv2b.weight.withUnsafeBufferPointer { wp in
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
        if let observer {
            observer("head.upsampled", Tensor(shape: [c, height, width], data: upsampled))
            observer("head.logits", Tensor(shape: [2, height, width], data: logits))
        }
        return (depth, confidence)
    }
}
