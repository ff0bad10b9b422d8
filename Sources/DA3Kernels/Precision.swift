import CKernels

/// Arithmetic used for the backbone's products.
public enum Precision: String, Sendable, CaseIterable {
    /// FP32 throughout, matching official PyTorch FP32 (the default).
    case exact
    /// bfloat16 inputs with FP32 accumulation for the backbone's linear layers and attention
    /// (needs AVX512-BF16; LayerNorm, softmax, GELU, residuals and the head stay FP32; attention
    /// stays FP32 for head dimensions other than 64). About twice the arithmetic rate of those
    /// products, at slightly different numbers.
    case fast

    /// Whether `.fast` runs natively on this CPU.
    public static var fastAvailable: Bool { da3_bf16_available() != 0 }
}
