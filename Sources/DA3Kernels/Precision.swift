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
    /// The transformer's linear layers in int8 as `.int8`, everything else FP32 as `.exact`
    /// (attention products, the head's convolutions): for CPUs whose bfloat16 products do not beat
    /// FP32 (Intel Xeon cores with two FP32 FMA ports) or that have none (AVX512-VNNI without
    /// AVX512-BF16). Needs AVX512-VNNI only.
    case int8FP32 = "int8-fp32"

    /// Whether `.fast` runs natively on this CPU.
    public static var fastAvailable: Bool { da3_bf16_available() != 0 }

    /// Whether `.int8` runs natively on this CPU.
    public static var int8Available: Bool { fastAvailable && GEMMI8.available }

    /// Whether `.int8FP32` runs natively on this CPU.
    public static var int8FP32Available: Bool { GEMMI8.available && GEMMF32.available }

    /// Whether attention and the head's convolutions run their bfloat16 kernels (`.fast`, `.int8`).
    public var usesBF16: Bool { self == .fast || self == .int8 }

    /// Whether the transformer's linear layers run the int8 kernel (`.int8`, `.int8FP32`).
    public var usesInt8: Bool { self == .int8 || self == .int8FP32 }
}
