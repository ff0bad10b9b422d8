import DA3Kernels
import Foundation

/// The end of the DualDPT main branch (`_forward_impl` after `_fuse` in `model/dualdpt.py`):
/// bilinear (align_corners) from the output_conv1 map to the image size, + UV embedding,
/// output_conv2 (3x3 → ReLU → 1x1), depth = exp, confidence = exp + 1.
///
/// Computed in bands of output rows, each on one thread with its own small buffers, so the
/// full-resolution 32-channel maps (58 MB each at 896 x 504) are never materialized.
struct OutputStage {
    let conv2a: ConvWeights   // 3x3, features/2 → 32
    let conv2b: ConvWeights   // 1x1, 32 → 2
    static let bandRows = 8

    /// `x`: (features/2, h, w) from output_conv1. Returns depth and confidence, height x width.
    func forward(_ x: Tensor, height: Int, width: Int, plan: ShapePlan, observer: StageObserver?) -> (depth: [Float], confidence: [Float]) {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let ys = Resize.alignCornersTaps(input: h, output: height)
        let xs = Resize.alignCornersTaps(input: w, output: width)
        let (colTable, rowTable) = UVEmbedding.tables(channels: c, width: width, height: height,
                                                      imageWidth: plan.width, imageHeight: plan.height)
        let plane = height * width
        var depth = [Float](repeating: 0, count: plane), confidence = depth
        // Full intermediate maps only when someone is watching the stages (tests).
        var upsampled = observer == nil ? [] : [Float](repeating: 0, count: c * plane)
        var logits = observer == nil ? [] : [Float](repeating: 0, count: 2 * plane)
        let bands = (height + Self.bandRows - 1) / Self.bandRows
        let workers = min(Parallel.threadCount, bands)
        x.data.withUnsafeBufferPointer { xb in
            depth.withUnsafeMutableBufferPointer { db in
                confidence.withUnsafeMutableBufferPointer { cb in
                    upsampled.withUnsafeMutableBufferPointer { ub in
                        logits.withUnsafeMutableBufferPointer { lb in
                            let io = UncheckedBox((xb, db, cb, ub, lb))
                            Parallel.forEachIndex(workers) { worker in
                                var buffers = BandBuffers(channels: c, width: width, rows: Self.bandRows)
                                defer { buffers.release() }
                                var band = worker
                                while band < bands {
                                    let (xb, db, cb, ub, lb) = io.value
                                    runBand(band * Self.bandRows, rows: min(Self.bandRows, height - band * Self.bandRows),
                                            input: xb.baseAddress!, channels: c, inHeight: h, inWidth: w,
                                            height: height, width: width, ys: ys, xs: xs, colTable: colTable, rowTable: rowTable,
                                            buffers: &buffers, depth: db.baseAddress!, confidence: cb.baseAddress!,
                                            upsampled: ub.isEmpty ? nil : ub.baseAddress, logits: lb.isEmpty ? nil : lb.baseAddress)
                                    band += workers
                                }
                            }
                        }
                    }
                }
            }
        }
        if let observer {
            observer("head.upsampled", Tensor(shape: [c, height, width], data: upsampled))
            observer("head.logits", Tensor(shape: [2, height, width], data: logits))
        }
        return (depth, confidence)
    }

    /// Per-thread work buffers for one band.
    struct BandBuffers {
        let input: UnsafeMutablePointer<Float>   // channels x (rows + 2) x width, with a one-row halo
        let columns: UnsafeMutablePointer<Float> // channels*9 x rows*width
        let hidden: UnsafeMutablePointer<Float>  // 32 x rows*width
        let logits: UnsafeMutablePointer<Float>  // 2 x rows*width

        init(channels: Int, width: Int, rows: Int) {
            input = .allocate(capacity: channels * (rows + 2) * width)
            columns = .allocate(capacity: channels * 9 * rows * width)
            hidden = .allocate(capacity: 32 * rows * width)
            logits = .allocate(capacity: 2 * rows * width)
        }

        func release() {
            input.deallocate(); columns.deallocate(); hidden.deallocate(); logits.deallocate()
        }
    }

    // swiftlint:disable:next function_parameter_count
    private func runBand(
        _ row0: Int, rows: Int, input x: UnsafePointer<Float>, channels c: Int, inHeight h: Int, inWidth w: Int,
        height: Int, width: Int, ys: [(Int, Int, Float, Float)], xs: [(Int, Int, Float, Float)],
        colTable: [Float], rowTable: [Float], buffers: inout BandBuffers,
        depth: UnsafeMutablePointer<Float>, confidence: UnsafeMutablePointer<Float>,
        upsampled: UnsafeMutablePointer<Float>?, logits: UnsafeMutablePointer<Float>?
    ) {
        let haloRows = rows + 2
        let n = rows * width
        // 1. Upsampled + UV-embedded input rows row0-1 ... row0+rows (zero outside the image = conv padding).
        for ch in 0..<c {
            let src = x + ch * h * w
            for j in 0..<haloRows {
                let y = row0 - 1 + j
                let dst = buffers.input + (ch * haloRows + j) * width
                guard y >= 0 && y < height else { dst.update(repeating: 0, count: width); continue }
                let (y0, y1, ly0, ly1) = ys[y]
                let r0 = src + y0 * w, r1 = src + y1 * w
                if ch < c / 2 {
                    let uv = ch * width
                    for ox in 0..<width {
                        let (x0, x1, lx0, lx1) = xs[ox]
                        dst[ox] = ly0 * (lx0 * r0[x0] + lx1 * r0[x1]) + ly1 * (lx0 * r1[x0] + lx1 * r1[x1]) + colTable[uv + ox]
                    }
                } else {
                    let e = rowTable[(ch - c / 2) * height + y]
                    for ox in 0..<width {
                        let (x0, x1, lx0, lx1) = xs[ox]
                        dst[ox] = ly0 * (lx0 * r0[x0] + lx1 * r0[x1]) + ly1 * (lx0 * r1[x0] + lx1 * r1[x1]) + e
                    }
                }
                if let upsampled, j >= 1 && j <= rows {
                    (upsampled + (ch * height + y) * width).update(from: dst, count: width)
                }
            }
        }
        // 2. output_conv2[0]: 3x3 conv as im2col + GEMM over the band, then bias and ReLU.
        Conv2D.im2col(buffers.input, channels: c, height: haloRows, width: width, kernel: 3, stride: 1, padding: 1,
                      outW: width, rowStart: 1, rows: rows, into: buffers.columns, parallel: false)
        conv2a.weight.withUnsafeBufferPointer { wp in
            GEMM.serial(m: 32, n: n, k: c * 9, a: wp.baseAddress!, lda: c * 9, b: buffers.columns, ldb: n, c: buffers.hidden, ldc: n)
        }
        let bias2a = conv2a.bias!
        for o in 0..<32 {
            let p = buffers.hidden + o * n, b = bias2a[o]
            for i in 0..<n { let v = p[i] + b; p[i] = v > 0 ? v : 0 }
        }
        // 3. output_conv2[2]: 1x1 to (log-depth, confidence logit), then the activations.
        conv2b.weight.withUnsafeBufferPointer { wp in
            GEMM.serial(m: 2, n: n, k: 32, a: wp.baseAddress!, lda: 32, b: buffers.hidden, ldb: n, c: buffers.logits, ldc: n)
        }
        let b0 = conv2b.bias![0], b1 = conv2b.bias![1]
        let offset = row0 * width
        for i in 0..<n {
            let l0 = buffers.logits[i] + b0, l1 = buffers.logits[n + i] + b1
            depth[offset + i] = expf(l0)
            confidence[offset + i] = expf(l1) + 1
            if let logits {
                logits[offset + i] = l0
                logits[height * width + offset + i] = l1
            }
        }
    }
}
