/// Operators only some Depth Anything 3 models use; a backend names the ones it cannot run
/// (`ComputeBackend.require`), so a model is refused at load rather than mid-pass.
public enum BackendOperation: String, Sendable {
    /// `BackendExecution.rows`: the DPT head's input is the backbone's rows without concatenation
    /// (DA3METRIC-LARGE, DA3MONO-LARGE).
    case tokenRows = "token-row copy (DPT head of da3metric-large / da3mono-large)"
    /// `ComputeBackend.swiGLU` (DA3-GIANT).
    case swiGLU = "SwiGLU MLP (da3-giant)"
    /// `BackendExecution.normalizeChannels`: the DualDPT head's auxiliary ray branch (`use_ray_pose`).
    case rayHead = "auxiliary ray head (--use-ray-pose)"
}

/// A backend cannot run an operator a model needs.
public struct BackendUnsupportedError: Error, CustomStringConvertible, Sendable {
    public let backend: String
    public let operation: BackendOperation

    public init(backend: String, operation: BackendOperation) {
        self.backend = backend
        self.operation = operation
    }

    public var description: String {
        "the \(backend) backend does not support the \(operation.rawValue) yet; run this model on the CPU (--device cpu)"
    }
}

/// A ViT block's SwiGLU MLP branch (`layers/swiglu_ffn.py` + `block.py`):
/// `x + ls2 * w3(silu(a) * b)` with `(a, b) = chunk(w12(norm2(x)), 2)`, the LayerScale as w3's
/// `outputScale`.
public struct SwiGLUParameters: Sendable {
    public var norm: LayerNormParameters
    /// `mlp.w12`: in -> 2 * hidden (first half a, second half b).
    public var w12: LinearParameters
    /// `mlp.w3`: hidden -> out.
    public var w3: LinearParameters

    public init(norm: LayerNormParameters, w12: LinearParameters, w3: LinearParameters) {
        self.norm = norm
        self.w12 = w12
        self.w3 = w3
    }
}
