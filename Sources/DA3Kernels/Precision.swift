import CKernels

/// Arithmetic used for the backbone's products.
public enum Precision: String, Sendable, CaseIterable {
    /// FP32 throughout, matching official PyTorch FP32 (the default).
    case exact
    /// bfloat16 inputs with FP32 accumulation (needs AVX512-BF16) for the backbone's linear layers
    /// and attention products and for the channel mixes of the head's 3x3 convolutions (Winograd
    /// domain). LayerNorm, softmax, GELU, residuals, RoPE, the transforms and the output stage's
    /// 1x1 convolution stay FP32; attention stays FP32 for head dimensions other than 64.
    /// About 1.7x faster at 896 x 504 on DA3-Small; depth correlation with the exact path about
    /// 0.99997 (synthetic weights, `FullSizeGoldenTests`).
    case fast
    /// `.fast` with the transformer's linear layers in int8 instead (AVX512-VNNI `vpdpbusd`): weights
    /// quantized per output channel at load, activations per row at run time, int32 dot products,
    /// FP32 scaling. Needs AVX512-VNNI and AVX512-BF16; depth correlation with exact about 0.9999
    /// (synthetic weights, `FullSizeGoldenTests`).
    case int8

    /// Whether `.fast` runs natively on this CPU.
    public static var fastAvailable: Bool { da3_bf16_available() != 0 }

    /// Whether `.int8` runs natively on this CPU.
    public static var int8Available: Bool { fastAvailable && GEMMI8.available }

    /// Whether attention and the head's convolutions run their bfloat16 kernels (`.fast`, `.int8`).
    public var usesBF16: Bool { self != .exact }
}
