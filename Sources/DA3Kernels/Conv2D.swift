/// 2-D convolution on planar (C, H, W) maps, as `torch.nn.Conv2d` (groups = 1, dilation = 1).
/// 1x1 convolutions are a single GEMM; larger kernels use im2col on bands of output rows so
/// the column buffer stays a few MB however large the image is.
public enum Conv2D {
    /// Output size of one spatial dimension.
    public static func outputSize(_ input: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        (input + 2 * padding - kernel) / stride + 1
    }

    /// Column-buffer budget in floats per band.
    static let bandBudget = 1 << 21

    /// weight: (outChannels, inChannels, kernel, kernel); bias: outChannels or nil.
    /// Writes (outChannels, outH, outW) into `y`. With `weightBF16` (the same weights as bfloat16,
    /// `Precision.fast`) the im2col products run in bfloat16 with FP32 accumulation.
    public static func forward(
        _ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outChannels: Int,
        kernel: Int, stride: Int = 1, padding: Int = 0, weightBF16: UnsafePointer<UInt16>? = nil,
        into y: UnsafeMutablePointer<Float>
    ) {
        let outH = outputSize(height, kernel: kernel, stride: stride, padding: padding)
        let outW = outputSize(width, kernel: kernel, stride: stride, padding: padding)
        let plane = outH * outW
        if kernel == 1 && stride == 1 && padding == 0 {
            GEMMF32.product(weight, m: outChannels, k: channels, b: x, ldb: plane, n: plane, into: y, ldc: plane)
        } else {
            let kk = channels * kernel * kernel
            let bandRows = max(1, min(outH, bandBudget / max(1, kk * outW)))
            let col = UnsafeMutablePointer<Float>.allocate(capacity: kk * bandRows * outW)
            defer { col.deallocate() }
            var r0 = 0
            while r0 < outH {
                let rows = min(bandRows, outH - r0)
                im2col(x, channels: channels, height: height, width: width, kernel: kernel, stride: stride, padding: padding,
                       outW: outW, rowStart: r0, rows: rows, into: col)
                if let weightBF16 {
                    GEMMBF16.product(weightBF16, m: outChannels, b: col, layout: .columns, n: rows * outW, k: kk,
                                     into: y + r0 * outW, ldc: plane)
                } else {
                    GEMMF32.product(weight, m: outChannels, k: kk, b: col, ldb: rows * outW, n: rows * outW,
                                    into: y + r0 * outW, ldc: plane)
                }
                r0 += rows
            }
        }
        if let bias { Elementwise.addChannelBias(bias, into: y, channels: outChannels, plane: plane) }
    }

    /// Fills col[(c*k + ky)*k + kx][r*outW + ox] for output rows rowStart..<rowStart+rows (zero padding).
    /// `parallel: false` keeps it on the calling thread (inside an already parallel region).
    public static func im2col(
        _ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int,
        outW: Int, rowStart: Int, rows: Int, into col: UnsafeMutablePointer<Float>, parallel: Bool = true
    ) {
        let n = rows * outW
        let xs = UncheckedBox(x), cs = UncheckedBox(col)
        Parallel.forEachChunk(channels * kernel * kernel, costPerItem: parallel ? n : 0) { range in
            for kRow in range {
                let c = kRow / (kernel * kernel), ky = (kRow / kernel) % kernel, kx = kRow % kernel
                let dst = cs.value + kRow * n
                let src = xs.value + c * height * width
                for r in 0..<rows {
                    let iy = (rowStart + r) * stride - padding + ky
                    let d = dst + r * outW
                    if iy < 0 || iy >= height {
                        d.update(repeating: 0, count: outW)
                        continue
                    }
                    let srow = src + iy * width
                    if stride == 1 {
                        // Contiguous span with zero edges.
                        let lo = min(outW, max(0, padding - kx)), hi = min(outW, width + padding - kx)
                        if lo > 0 { d.update(repeating: 0, count: lo) }
                        if hi > lo { (d + lo).update(from: srow + (lo - padding + kx), count: hi - lo) }
                        if hi < outW { (d + max(hi, 0)).update(repeating: 0, count: outW - max(hi, 0)) }
                    } else {
                        for ox in 0..<outW {
                            let ix = ox * stride - padding + kx
                            d[ox] = (ix >= 0 && ix < width) ? srow[ix] : 0
                        }
                    }
                }
            }
        }
    }
}
