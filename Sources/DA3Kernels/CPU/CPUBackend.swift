/// The CPU backend: operators on the engine's AVX-512 / AVX512-BF16 kernels (BLAS elsewhere), tensors
/// in host memory. `Precision.exact` is FP32 throughout; `.fast` runs the backbone's products and
/// attention and the head's 3x3 convolutions in bfloat16 with FP32 accumulation.
public final class CPUBackend: ComputeBackend {
    public typealias Tensor = DA3Kernels.Tensor
    public typealias PatchEmbeddingOp = CPUPatchEmbedding
    public typealias AttentionOp = CPUAttention
    public typealias MLPOp = CPUMLP
    public typealias LayerNormOp = CPULayerNorm
    public typealias ProjectionOp = CPUProjection
    public typealias ConvOp = CPUConv
    public typealias ConvTransposeOp = CPUConvTranspose
    public typealias OutputStageOp = CPUOutputStage
    public typealias Execution = CPUExecution

    /// The arithmetic of the operators this backend prepares.
    public let precision: Precision

    /// `.fast` needs AVX512-BF16: it throws `PrecisionError.fastUnavailable` elsewhere.
    public init(precision: Precision = .exact) throws {
        if precision == .fast && !Precision.fastAvailable { throw PrecisionError.fastUnavailable }
        if precision == .int8 && !Precision.int8Available { throw PrecisionError.int8Unavailable }
        if precision == .int8FP32 && !Precision.int8FP32Available { throw PrecisionError.int8FP32Unavailable }
        self.precision = precision
    }

    public func patchEmbedding(_ parameters: LinearParameters, from loader: any ParameterLoader) throws -> CPUPatchEmbedding {
        try CPUPatchEmbedding(loader, parameters)
    }

    public func attention(_ parameters: AttentionParameters, from loader: any ParameterLoader) throws -> CPUAttention {
        try CPUAttention(loader, parameters, precision: precision)
    }

    public func mlp(_ parameters: MLPParameters, from loader: any ParameterLoader) throws -> CPUMLP {
        try CPUMLP(loader, parameters, precision: precision)
    }

    public func layerNorm(_ parameters: LayerNormParameters, from loader: any ParameterLoader) throws -> CPULayerNorm {
        try CPULayerNorm(loader, parameters)
    }

    public func projection(_ parameters: LinearParameters, from loader: any ParameterLoader) throws -> CPUProjection {
        try CPUProjection(loader, parameters, precision: precision)
    }

    public func conv(_ parameters: ConvParameters, from loader: any ParameterLoader) throws -> CPUConv {
        try CPUConv(loader, parameters, precision: precision)
    }

    public func convTranspose(_ parameters: ConvTransposeParameters, from loader: any ParameterLoader) throws -> CPUConvTranspose {
        try CPUConvTranspose(loader, parameters)
    }

    public func outputStage(_ parameters: OutputStageParameters, from loader: any ParameterLoader) throws -> CPUOutputStage {
        try CPUOutputStage(loader, parameters, precision: precision)
    }

    public func swiGLU(_ parameters: SwiGLUParameters, from loader: any ParameterLoader) throws -> CPUMLP {
        try CPUMLP(swiGLU: loader, parameters)
    }

    /// The CPU runs every operation.
    public func require(_ operation: BackendOperation) throws {}

    public func makeExecution() -> CPUExecution { CPUExecution() }

    /// The CPU runs any-view scenes (`CPUExecution+Views.swift`).
    public var supportsMultipleViews: Bool { true }
}

/// A precision the CPU cannot run.
public enum PrecisionError: Error, CustomStringConvertible {
    /// bfloat16 kernels were asked for on a CPU without AVX512-BF16.
    case fastUnavailable
    /// `DA3_FAST_KERNELS` holds something other than auto, bf16 or none.
    case unknownOverride(String)
    /// int8 kernels were asked for on a CPU without AVX512-VNNI and AVX512-BF16.
    case int8Unavailable
    /// int8 kernels with FP32 elsewhere were asked for on a CPU without AVX512-VNNI.
    case int8FP32Unavailable
    /// bfloat16 or int8 kernels were asked for on a device other than the CPU.
    case bf16NeedsCPU

    public var description: String {
        switch self {
        case .fastUnavailable:
            return "--precision bf16 needs a CPU with AVX512-BF16; this one lacks it (--precision fast picks what this CPU has)"
        case .int8Unavailable:
            return "--precision int8 needs a CPU with AVX512-VNNI and AVX512-BF16; this one lacks them (--precision fast picks what this CPU has)"
        case .int8FP32Unavailable:
            return "--precision int8-fp32 needs a CPU with AVX512-VNNI; this one lacks it (--precision fast picks what this CPU has)"
        case .bf16NeedsCPU:
            return "bf16 and int8 precisions are CPU modes; on a Vulkan device use --precision fast (FP16)"
        case .unknownOverride(let value):
            return "DA3_FAST_KERNELS='\(value)' is not one of auto, bf16, int8, int8-fp32, none"
        }
    }
}

/// One forward pass on the CPU: each operation runs at once on all engine threads; the transformer
/// blocks share one set of work buffers, freed before the head so it reuses their memory.
public final class CPUExecution: BackendExecution {
    public typealias Backend = CPUBackend
    let workspace = BlockWorkspace()

    init() {}

    public func host(_ x: Tensor) -> Tensor { x }

    public func embedPatches(_ op: CPUPatchEmbedding, image: [Float], height: Int, width: Int) -> Tensor {
        op.forward(image, height: height, width: width)
    }

    public func startTokens(_ x: inout Tensor, classToken: [Float], positionEmbedding: [Float]) {
        let d = x.shape[1]
        x.data.withUnsafeMutableBufferPointer { xp in
            xp.baseAddress!.update(from: classToken, count: d)
            positionEmbedding.withUnsafeBufferPointer { Elementwise.add($0.baseAddress!, into: xp.baseAddress!, count: xp.count) }
        }
    }

    public func setRow(_ x: inout Tensor, _ row: Int, to values: [Float]) {
        let d = x.shape[1]
        for c in 0..<d { x.data[row * d + c] = values[c] }
    }

    public func attention(_ op: CPUAttention, _ x: inout Tensor, positions: [(Int, Int)], rope: RoPE2D) {
        op.forward(&x, positions: positions, rope: rope, workspace: workspace)
    }

    public func mlp(_ op: CPUMLP, _ x: inout Tensor) {
        op.forward(&x, workspace: workspace)
    }

    public func endTransformer() { workspace.release() }

    public func concatenate(_ a: Tensor, _ b: Tensor, rows: Range<Int>, normalizingSecond norm: CPULayerNorm?) -> Tensor {
        var out = Tensor.concatenateRows(a, b, rows: rows)
        guard let norm else { return out }
        let d = a.shape[1]
        out.data.withUnsafeMutableBufferPointer { fp in
            norm(fp.baseAddress! + d, rows: rows.count, inStride: 2 * d, into: fp.baseAddress! + d, outStride: 2 * d)
        }
        return out
    }

    public func rows(_ x: Tensor, _ rows: Range<Int>) -> Tensor {
        let d = x.shape[1]
        return Tensor(shape: [rows.count, d], data: Array(x.data[rows.lowerBound * d..<rows.upperBound * d]))
    }

    public func project(_ tokens: inout Tensor, norm: CPULayerNorm, _ op: CPUProjection, height: Int, width: Int) -> Tensor {
        op.forward(&tokens, norm: norm, height: height, width: width)
    }

    public func addPositionTables(_ x: inout Tensor, columns: [Float], rows: [Float]) {
        x.addSeparableTables(columns: columns, rows: rows)
    }

    public func convTranspose(_ op: CPUConvTranspose, _ x: Tensor) -> Tensor { op.forward(x) }

    public func conv(_ op: CPUConv, _ x: Tensor, reluInput: Bool, residual: Tensor?) -> Tensor {
        op(x, reluInput: reluInput, residual: residual)
    }

    public func add(_ x: Tensor, to y: inout Tensor) { y.add(x) }

    public func resizeBilinear(_ x: Tensor, height: Int, width: Int) -> Tensor {
        x.resizedBilinear(height: height, width: width)
    }

    public func upsampledConvolution(_ op: CPUConv, _ x: Tensor, height: Int, width: Int) -> Tensor {
        op.upsampled(x, height: height, width: width)
    }

    public func outputStage(_ op: CPUOutputStage, _ x: Tensor, height: Int, width: Int, columns: [Float], rows: [Float],
                            intermediates: Bool) -> OutputStageResult<Tensor> {
        op.forward(x, height: height, width: width, uv: (columns, rows), intermediates: intermediates)
    }
}
