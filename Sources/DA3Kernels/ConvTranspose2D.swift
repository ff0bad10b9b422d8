/// Transposed convolution whose kernel equals its stride (no overlap), as
/// `torch.nn.ConvTranspose2d(k, k, kernel_size=s, stride=s)`: one GEMM, then a scatter.
public enum ConvTranspose2D {
    /// weight: (inChannels, outChannels, s, s); bias: outChannels. Input (Cin, h, w) → output (Cout, h*s, w*s).
    public static func forward(
        _ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outChannels: Int, stride s: Int,
        into y: UnsafeMutablePointer<Float>
    ) {
        let hw = height * width
        let rowsOut = outChannels * s * s
        // tmp[(co*s + ky)*s + kx][p] = sum_ci W[ci][co][ky][kx] * x[ci][p]
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: rowsOut * hw)
        defer { tmp.deallocate() }
        GEMM.sgemm(transA: true, m: rowsOut, n: hw, k: channels, a: weight, lda: rowsOut, b: x, ldb: hw, c: tmp, ldc: hw)
        let outW = width * s, outPlane = hw * s * s
        let ts = UncheckedBox(tmp), ys = UncheckedBox(y), bs = UncheckedBox(bias)
        Parallel.forEachChunk(outChannels, costPerItem: outPlane) { range in
            for co in range {
                let b = bs.value?[co] ?? 0
                for ky in 0..<s {
                    for kx in 0..<s {
                        let src = ts.value + ((co * s + ky) * s + kx) * hw
                        let dst = ys.value + co * outPlane
                        for iy in 0..<height {
                            let drow = dst + (iy * s + ky) * outW + kx
                            let srow = src + iy * width
                            for ix in 0..<width { drow[ix * s] = srow[ix] + b }
                        }
                    }
                }
            }
        }
    }
}
