/// Typed encoders for the shader library: each appends one (or two) dispatches to a sequence.
/// Offsets and strides are in elements (floats, or halves for FP16 operands).
extension VulkanSequence {
    /// Activation applied in a GEMM's epilogue.
    public enum Activation: Sendable { case none, gelu, relu }

    /// C[m, n] = act(sum_k A[m, k] op(B)[k, n] + bias) * gamma[n] + R[m, n] (see gemm_f32.comp).
    /// `transB`: B is N x K (a Linear weight) rather than K x N. `fp16`: A and B are FP16 buffers.
    /// `halfOutput` (with `fp16`, no residual): C is an FP16 buffer.
    public func gemm(
        _ lib: VulkanKernelLibrary, m: Int, n: Int, k: Int,
        a: VulkanBuffer, aOffset: Int = 0, lda: Int,
        b: VulkanBuffer, bOffset: Int = 0, ldb: Int, transB: Bool,
        c: VulkanBuffer, cOffset: Int = 0, ldc: Int,
        bias: VulkanBuffer? = nil, biasPerRow: Bool = false, activation: Activation = .none,
        gamma: VulkanBuffer? = nil, residual: VulkanBuffer? = nil, residualOffset: Int = 0, fp16: Bool = false,
        halfOutput: Bool = false
    ) throws {
        var flags = Self.epilogueFlags(bias: bias != nil, biasPerRow: biasPerRow, activation: activation,
                                       gamma: gamma != nil, residual: residual != nil)
        if halfOutput { flags |= try Self.halfOutputFlag(fp16: fp16, residual: residual) }
        let p = lib.placeholder
        try dispatch(try lib.kernel(fp16 ? .gemmF16 : .gemmF32), buffers: [a, b, bias ?? p, gamma ?? p, residual ?? p, c],
                     push: [m, n, k, lda, ldb, ldc, transB ? 1 : 0].map(\.pushWord)
                        + [flags] + [aOffset, bOffset, cOffset, residualOffset].map(\.pushWord),
                     groups: ((n + 63) / 64, (m + 63) / 64, 1))
    }

    /// C[m, n] = act(sum_k A[m, k] B[k, n] + bias) * gamma[n] + R with B stored K x N (gemm_rows.comp:
    /// no shared memory, for CPU devices). `transposedOutput` stores C[n * ldc + m]. `fp16`: A and B
    /// are FP16 buffers (gemm_rows_f16.comp); `halfOutput` (with `fp16`, no residual): C is FP16.
    public func gemmRows(
        _ lib: VulkanKernelLibrary, m: Int, n: Int, k: Int,
        a: VulkanBuffer, aOffset: Int = 0, lda: Int, b: VulkanBuffer, bOffset: Int = 0, ldb: Int,
        c: VulkanBuffer, cOffset: Int = 0, ldc: Int, transposedOutput: Bool = false,
        bias: VulkanBuffer? = nil, biasPerRow: Bool = false, activation: Activation = .none,
        gamma: VulkanBuffer? = nil, residual: VulkanBuffer? = nil, residualOffset: Int = 0,
        fp16: Bool = false, halfOutput: Bool = false
    ) throws {
        var flags = Self.epilogueFlags(bias: bias != nil, biasPerRow: biasPerRow, activation: activation,
                                       gamma: gamma != nil, residual: residual != nil)
        if transposedOutput { flags |= 64 }
        if halfOutput { flags |= try Self.halfOutputFlag(fp16: fp16, residual: residual) }
        let p = lib.placeholder
        try dispatch(try lib.kernel(fp16 ? .gemmRowsF16 : .gemmRows), buffers: [a, b, bias ?? p, gamma ?? p, residual ?? p, c],
                     push: [m, n, k, lda, ldb, ldc, 0].map(\.pushWord) + [flags] + [aOffset, bOffset, cOffset, residualOffset].map(\.pushWord),
                     groups: ((n + 63) / 64, (m + 7) / 8, 1))
    }

    /// The epilogue bits both GEMM shaders read from their push constants (gemm.comp, gemm_rows.comp):
    /// 1 bias, 2 bias per row, 4 GELU, 8 ReLU, 16 LayerScale gamma, 32 residual.
    static func epilogueFlags(bias: Bool, biasPerRow: Bool, activation: Activation, gamma: Bool, residual: Bool) -> UInt32 {
        var flags: UInt32 = 0
        if bias { flags |= 1 }
        if biasPerRow { flags |= 2 }
        if activation == .gelu { flags |= 4 }
        if activation == .relu { flags |= 8 }
        if gamma { flags |= 16 }
        if residual { flags |= 32 }
        return flags
    }

    /// The F16_OUT bit of the FP16 GEMM shaders (gemm_f16.comp, gemm_rows_f16.comp): only they write
    /// FP16, and a residual is added in FP32 into an FP32 output.
    static func halfOutputFlag(fp16: Bool, residual: VulkanBuffer?) throws -> UInt32 {
        guard fp16, residual == nil else {
            throw VulkanError.invalidArgument("an FP16 GEMM output needs FP16 operands and no residual")
        }
        return 128
    }

    /// LayerNorm of `rows` contiguous FP32 rows of `width` values, with weight and bias, into an FP16
    /// buffer (layernorm_f16.comp: statistics in FP32, rounded once when stored).
    public func layerNormToFP16(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, inOffset: Int = 0, rows: Int, width: Int,
        weight: VulkanBuffer, bias: VulkanBuffer, eps: Float, y: VulkanBuffer, outOffset: Int = 0
    ) throws {
        try dispatch(try lib.kernel(.layernormF16), buffers: [x, weight, bias, y],
                     push: [rows, width, inOffset, outOffset].map(\.pushWord) + [eps.pushWord, 0],
                     groups: VulkanGrid.rows(rows))
    }

    /// LayerNorm of `rows` rows of `width` values. Row r is read at inOffset + (r / groups) * inStride +
    /// (r % groups) * innerStride and written at outOffset + (r / groups) * outStride + (r % groups) *
    /// innerStride (contiguous rows: the defaults). `y` may be `x`; no weight: plain normalization.
    public func layerNorm(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, inOffset: Int = 0, rows: Int, width: Int,
        groups: Int = 1, inStride: Int? = nil, outStride: Int? = nil, innerStride: Int = 0,
        weight: VulkanBuffer?, bias: VulkanBuffer?, eps: Float, y: VulkanBuffer, outOffset: Int = 0
    ) throws {
        let p = lib.placeholder
        let words = [rows, width, groups, inStride ?? width, outStride ?? inStride ?? width, innerStride, inOffset, outOffset]
        try dispatch(try lib.kernel(.layernorm), buffers: [x, weight ?? p, bias ?? p, y],
                     push: words.map(\.pushWord) + [eps.pushWord, weight != nil ? 1 : 0],
                     groups: VulkanGrid.rows(rows))
    }

    /// y[dstOffset + r * dstStride + c] = x[srcOffset + r * srcStride + c] for a rows x cols block.
    public func copy2D(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, srcOffset: Int = 0, srcStride: Int,
        y: VulkanBuffer, dstOffset: Int = 0, dstStride: Int, rows: Int, cols: Int
    ) throws {
        try dispatch(try lib.kernel(.copy2d), buffers: [x, y],
                     push: [rows, cols, srcOffset, srcStride, dstOffset, dstStride].map(\.pushWord),
                     groups: VulkanGrid.linear(rows * cols))
    }

    /// Adds the separable UV position tables to a planar (C, h, w) map in place (see position_tables.comp).
    public func addPositionTables(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, channels: Int, height: Int, width: Int,
        columns: VulkanBuffer, rows: VulkanBuffer
    ) throws {
        try dispatch(try lib.kernel(.positionTables), buffers: [x, columns, rows],
                     push: [channels, height, width, 0].map(\.pushWord), groups: VulkanGrid.linear(channels * height * width))
    }

    /// Softmax in place over `rows` rows of `width` values (row stride `ld`) of x * scale (scale > 0).
    public func softmax(_ lib: VulkanKernelLibrary, x: VulkanBuffer, rows: Int, width: Int, ld: Int? = nil, scale: Float = 1) throws {
        try dispatch(try lib.kernel(.softmax), buffers: [x], push: [rows, width, ld ?? width].map(\.pushWord) + [scale.pushWord],
                     groups: VulkanGrid.rows(rows))
    }

    /// softmax(q k^T * scale) v per head from a fused (tokens, ldIn) qkv buffer into (tokens, ldOut).
    public func attention(
        _ lib: VulkanKernelLibrary, qkv: VulkanBuffer, tokens: Int, heads: Int, headDim: Int, ldIn: Int,
        qOffset: Int, kOffset: Int, vOffset: Int, scale: Float,
        output: VulkanBuffer, ldOut: Int, outOffset: Int = 0
    ) throws {
        guard headDim <= 64 else { throw VulkanError.invalidArgument("attention head dimension \(headDim) > 64") }
        try dispatch(try lib.kernel(.attention), buffers: [qkv, output],
                     push: [tokens, headDim, ldIn, ldOut, qOffset, kOffset, vOffset, outOffset].map(\.pushWord) + [scale.pushWord, 0],
                     groups: (tokens, heads, 1))
    }

    /// 2-D RoPE in place on `heads` heads at `offset` of each token row (row stride ld);
    /// positions: (y, x) Int32 pairs per token; cos/sin tables [pos * headDim/4 + i].
    public func rope(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, tokens: Int, heads: Int, headDim: Int, ld: Int, offset: Int,
        positions: VulkanBuffer, cos: VulkanBuffer, sin: VulkanBuffer
    ) throws {
        try dispatch(try lib.kernel(.rope), buffers: [x, positions, cos, sin],
                     push: [tokens, heads, headDim, ld, offset, 0].map(\.pushWord),
                     groups: VulkanGrid.linear(tokens * heads * (headDim / 2)))
    }

    /// Direct convolution (see conv2d.comp). Output (cout, oh, ow).
    public func conv2d(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, channels: Int, height: Int, width: Int,
        weight: VulkanBuffer, bias: VulkanBuffer?, outChannels: Int, kernel: Int, stride: Int, padding: Int,
        reluInput: Bool = false, reluOutput: Bool = false, residual: VulkanBuffer? = nil, y: VulkanBuffer
    ) throws {
        let oh = (height + 2 * padding - kernel) / stride + 1, ow = (width + 2 * padding - kernel) / stride + 1
        var flags: UInt32 = 0
        if bias != nil { flags |= 1 }
        if reluInput { flags |= 2 }
        if reluOutput { flags |= 4 }
        if residual != nil { flags |= 8 }
        let p = lib.placeholder
        try dispatch(try lib.kernel(.conv2d), buffers: [x, weight, bias ?? p, residual ?? p, y],
                     push: [channels, height, width, outChannels, oh, ow, kernel, stride, padding].map(\.pushWord) + [flags],
                     groups: VulkanGrid.linear((outChannels + 7) / 8 * oh * ow))
    }

    /// Convolution as im2col (into `columns`, cin*k*k x oh*ow floats) + GEMM.
    public func conv2dGEMM(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, channels: Int, height: Int, width: Int,
        weight: VulkanBuffer, bias: VulkanBuffer?, outChannels: Int, kernel: Int, stride: Int, padding: Int,
        reluInput: Bool = false, activation: Activation = .none, residual: VulkanBuffer? = nil,
        columns: VulkanBuffer, y: VulkanBuffer
    ) throws {
        let oh = (height + 2 * padding - kernel) / stride + 1, ow = (width + 2 * padding - kernel) / stride + 1
        let kk = channels * kernel * kernel
        try dispatch(try lib.kernel(.im2col), buffers: [x, columns],
                     push: [channels, height, width, oh, ow, kernel, stride, padding, reluInput ? 1 : 0].map(\.pushWord),
                     groups: VulkanGrid.linear(kk * oh * ow))
        try gemm(lib, m: outChannels, n: oh * ow, k: kk, a: weight, lda: kk, b: columns, ldb: oh * ow, transB: false,
                 c: y, ldc: oh * ow, bias: bias, biasPerRow: true, activation: activation, residual: residual)
    }

    /// Transposed convolution with kernel = stride `s`; weight (cin, cout, s, s).
    public func convTranspose2d(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, channels: Int, height: Int, width: Int,
        weight: VulkanBuffer, bias: VulkanBuffer?, outChannels: Int, stride: Int, y: VulkanBuffer
    ) throws {
        try dispatch(try lib.kernel(.convTranspose), buffers: [x, weight, bias ?? lib.placeholder, y],
                     push: [channels, height, width, outChannels, stride, bias != nil ? 1 : 0].map(\.pushWord),
                     groups: VulkanGrid.linear(outChannels * height * stride * width * stride))
    }

    /// Patch embedding of a (cin, gh*patch, gw*patch) image into token rows rowOffset..< of y (dim wide).
    public func patchEmbed(
        _ lib: VulkanKernelLibrary, image: VulkanBuffer, channels: Int, gridHeight: Int, gridWidth: Int,
        weight: VulkanBuffer, bias: VulkanBuffer, dim: Int, patch: Int, rowOffset: Int, y: VulkanBuffer
    ) throws {
        try dispatch(try lib.kernel(.patchEmbed), buffers: [image, weight, bias, y],
                     push: [channels, gridHeight, gridWidth, dim, patch, rowOffset, 0, 0].map(\.pushWord),
                     groups: VulkanGrid.linear(gridHeight * gridWidth * dim))
    }

    /// Bilinear align_corners=True resize of planar (C, H, W) maps.
    public func bilinearAlignCorners(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, channels: Int, height: Int, width: Int,
        outHeight: Int, outWidth: Int, y: VulkanBuffer
    ) throws {
        let sy: Float = outHeight > 1 ? Float(height - 1) / Float(outHeight - 1) : 0
        let sx: Float = outWidth > 1 ? Float(width - 1) / Float(outWidth - 1) : 0
        try dispatch(try lib.kernel(.bilinear), buffers: [x, y],
                     push: [channels, height, width, outHeight, outWidth].map(\.pushWord) + [sy.pushWord, sx.pushWord],
                     groups: VulkanGrid.linear(channels * outHeight * outWidth))
    }

    /// Bicubic (A = -0.75, align_corners False) resize of channels-last maps with explicit scale factors.
    public func bicubic(
        _ lib: VulkanKernelLibrary, x: VulkanBuffer, channels: Int, height: Int, width: Int,
        outHeight: Int, outWidth: Int, scaleHeight: Double, scaleWidth: Double, y: VulkanBuffer
    ) throws {
        let iy = Float(1.0 / scaleHeight), ix = Float(1.0 / scaleWidth)
        try dispatch(try lib.kernel(.bicubic), buffers: [x, y],
                     push: [channels, height, width, outHeight, outWidth].map(\.pushWord) + [iy.pushWord, ix.pushWord],
                     groups: VulkanGrid.linear(channels * outHeight * outWidth))
    }

    /// Elementwise operations of elementwise.comp.
    public enum ElementwiseOp: UInt32, Sendable {
        case add = 0, relu, gelu, exp, expPlusOne, multiply, copy, addBroadcast
    }

    /// y[i] = op(a[aOffset + i], b[i]) for i < count (`addBroadcast`: b[i % period]).
    public func elementwise(
        _ lib: VulkanKernelLibrary, _ op: ElementwiseOp, a: VulkanBuffer, aOffset: Int = 0, b: VulkanBuffer? = nil,
        count: Int, period: Int = 1, y: VulkanBuffer
    ) throws {
        try dispatch(try lib.kernel(.elementwise), buffers: [a, b ?? lib.placeholder, y],
                     push: [count.pushWord, op.rawValue, period.pushWord, aOffset.pushWord], groups: VulkanGrid.linear(count))
    }

    /// FP32 -> FP16 conversion of `count` values.
    public func convertToFP16(_ lib: VulkanKernelLibrary, x: VulkanBuffer, count: Int, y: VulkanBuffer) throws {
        try dispatch(try lib.kernel(.convertF16), buffers: [x, y], push: [count.pushWord, 0], groups: VulkanGrid.linear(count))
    }
}
