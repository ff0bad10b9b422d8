/// `nn.Linear` weights (out x in) packed once for one of the engine's GEMM kernels:
/// `PackedF32Weights` (FP32 panels for `GEMMF32`) or `PackedBF16Weights` (bfloat16 pairs in 32-bit
/// words for `GEMMBF16`). The storage is filled by the kernel's packer or read back from a weight cache.
public struct PackedWeights<Element: PackedElement>: Sendable {
    public let inFeatures: Int, outFeatures: Int
    /// The packed elements (`packedCount` of them).
    public let storage: WeightMemory<Element>

    /// Number of elements the packed form of an outFeatures x inFeatures matrix takes.
    public static func packedCount(inFeatures: Int, outFeatures: Int) -> Int {
        Element.packedCount(inFeatures: inFeatures, outFeatures: outFeatures)
    }

    /// Weights packed earlier (by the kernel's packer, or read back from a weight cache).
    public init(storage: WeightMemory<Element>, inFeatures: Int, outFeatures: Int) {
        precondition(storage.count == Self.packedCount(inFeatures: inFeatures, outFeatures: outFeatures),
                     "packed weights of \(storage.count) elements for a \(outFeatures) x \(inFeatures) matrix")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.storage = storage
    }
}

/// The element of a GEMM kernel's packed weights, with the kernel's packed size.
public protocol PackedElement: BitwiseCopyable {
    static func packedCount(inFeatures: Int, outFeatures: Int) -> Int
}
