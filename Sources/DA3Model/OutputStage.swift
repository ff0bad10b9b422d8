import DA3Kernels
import Foundation

/// The end of the DualDPT main branch (`_forward_impl` after `_fuse` in `model/dualdpt.py`):
/// bilinear (align_corners) from the output_conv1 map to the image size, + UV embedding,
/// output_conv2 (3x3 → ReLU → 1x1), depth = exp, confidence = exp + 1.
///
/// Computed in bands of output rows so the full-resolution 32-channel maps (58 MB each at
/// 896 x 504) are never materialized; each step of a band runs on all threads.
struct OutputStage {
    let conv2a: ConvWeights   // 3x3, features/2 → 32
    let conv2b: ConvWeights   // 1x1, 32 → 2
    static let bandRows = 64

    /// `x`: (features/2, h, w) from output_conv1. Returns depth and confidence, height x width.
    func forward(_ x: Tensor, height: Int, width: Int, plan: ShapePlan, observer: StageObserver?) -> (depth: [Float], confidence: [Float]) {
        let c = x.shape[0]
        let hidden = conv2a.outChannels
        let taps = (rows: Resize.alignCornersTaps(input: x.shape[1], output: height),
                    columns: Resize.alignCornersTaps(input: x.shape[2], output: width))
        let uv = UVEmbedding.tables(channels: c, width: width, height: height, imageWidth: plan.width, imageHeight: plan.height)
        let plane = height * width
        var depth = [Float](repeating: 0, count: plane), confidence = depth
        // Full intermediate maps only when someone is watching the stages (tests).
        var upsampled = observer == nil ? [] : [Float](repeating: 0, count: c * plane)
        var logits = observer == nil ? [] : [Float](repeating: 0, count: 2 * plane)

        let maxRows = min(Self.bandRows, height)
        var input = [Float](repeating: 0, count: c * (maxRows + 2) * width)
        var convolved = [Float](repeating: 0, count: hidden * (maxRows + 2) * width)
        var bandLogits = [Float](repeating: 0, count: 2 * maxRows * width)
        var row0 = 0
        while row0 < height {
            let rows = min(Self.bandRows, height - row0)
            let haloRows = rows + 2, n = rows * width
            // 1. Upsampled + UV-embedded input rows row0-1 ... row0+rows (zero outside the image = conv padding).
            x.data.withUnsafeBufferPointer { xb in
                input.withUnsafeMutableBufferPointer { ib in
                    let io = UncheckedBox((xb.baseAddress!, ib.baseAddress!))
                    Parallel.forEachChunk(c, costPerItem: haloRows * width * 4) { range in
                        for ch in range {
                            upsampleRows(channel: ch, of: io.value.0, channels: c, inHeight: x.shape[1], inWidth: x.shape[2],
                                         firstRow: row0 - 1, rows: haloRows, height: height, width: width, taps: taps,
                                         uv: uv, into: io.value.1 + ch * haloRows * width)
                        }
                    }
                }
            }
            if !upsampled.isEmpty {
                for ch in 0..<c {
                    let src = (ch * haloRows + 1) * width, dst = (ch * height + row0) * width
                    upsampled.replaceSubrange(dst..<(dst + n), with: input[src..<(src + n)])
                }
            }
            // 2. output_conv2[0] (3x3 + bias) over the band with its halo; rows 1...rows are exact.
            input.withUnsafeBufferPointer { ib in
                convolved.withUnsafeMutableBufferPointer { cb in
                    conv2a.winograd!.forward(ib.baseAddress!, height: haloRows, width: width, into: cb.baseAddress!)
                }
            }
            // 3. ReLU, output_conv2[2] (1x1 → 2), activations.
            convolved.withUnsafeMutableBufferPointer { cb in
                bandLogits.withUnsafeMutableBufferPointer { lb in
                    conv2b.weight.withUnsafeBufferPointer { wp in
                        let interior = cb.baseAddress! + width, stride = haloRows * width
                        for o in 0..<hidden { Elementwise.relu(interior + o * stride, count: n) }
                        GEMM.sgemm(m: 2, n: n, k: hidden, a: wp.baseAddress!, lda: hidden, b: interior, ldb: stride,
                                   c: lb.baseAddress!, ldc: n)
                    }
                }
            }
            let (b0, b1) = (conv2b.bias![0], conv2b.bias![1])
            bandLogits.withUnsafeBufferPointer { lb in
                depth.withUnsafeMutableBufferPointer { db in
                    confidence.withUnsafeMutableBufferPointer { fb in
                        let io = UncheckedBox((lb.baseAddress!, db.baseAddress! + row0 * width, fb.baseAddress! + row0 * width))
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
                    logits[row0 * width + i] = bandLogits[i] + b0
                    logits[plane + row0 * width + i] = bandLogits[n + i] + b1
                }
            }
            row0 += rows
        }
        if let observer {
            observer("head.upsampled", Tensor(shape: [c, height, width], data: upsampled))
            observer("head.logits", Tensor(shape: [2, height, width], data: logits))
        }
        return (depth, confidence)
    }

    /// Rows firstRow ..< firstRow + rows of one channel of bilinear(x) + UV embedding, zero outside 0..<height.
    private func upsampleRows(
        channel ch: Int, of x: UnsafePointer<Float>, channels c: Int, inHeight h: Int, inWidth w: Int,
        firstRow: Int, rows: Int, height: Int, width: Int,
        taps: (rows: [(Int, Int, Float, Float)], columns: [(Int, Int, Float, Float)]),
        uv: (col: [Float], row: [Float]), into out: UnsafeMutablePointer<Float>
    ) {
        let src = x + ch * h * w
        for j in 0..<rows {
            let y = firstRow + j
            let dst = out + j * width
            guard y >= 0 && y < height else { dst.update(repeating: 0, count: width); continue }
            let (y0, y1, ly0, ly1) = taps.rows[y]
            let r0 = src + y0 * w, r1 = src + y1 * w
            for ox in 0..<width {
                let (x0, x1, lx0, lx1) = taps.columns[ox]
                let e = ch < c / 2 ? uv.col[ch * width + ox] : uv.row[(ch - c / 2) * height + y]
                dst[ox] = ly0 * (lx0 * r0[x0] + lx1 * r0[x1]) + ly1 * (lx0 * r1[x0] + lx1 * r1[x1]) + e
            }
        }
    }
}
