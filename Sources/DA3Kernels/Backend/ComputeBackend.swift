/// A place where the Depth Anything 3 model runs: it prepares the model's operators from the
/// checkpoint (each operator owns its weights in the form its kernels read) and runs them on
/// activations it owns. The model (`DA3Model`) is written once against this protocol and never
/// sees pointers, storage forms or precisions; see DESIGN.md for how a backend plugs in.
///
/// Preparation happens once per model load, in the model's module order; running happens through
/// an `Execution` per forward pass (its work buffers, or a GPU's command recording).
public protocol ComputeBackend: AnyObject, Sendable {
    /// Activations: (tokens, channels) sequences and planar (channels, height, width) maps.
    associatedtype Tensor: BackendTensor
    /// Patch embedding: Conv2d(3, D, p, stride p) as a product on gathered patches.
    associatedtype PatchEmbeddingOp: Sendable
    /// A ViT block's whole attention branch (`AttentionParameters`).
    associatedtype AttentionOp: Sendable
    /// A ViT block's whole MLP branch (`MLPParameters`).
    associatedtype MLPOp: Sendable
    /// LayerNorm over the last dimension.
    associatedtype LayerNormOp: Sendable
    /// A 1x1 projection from tokens to a planar map (the DPT head's `projects`).
    associatedtype ProjectionOp: Sendable
    /// Conv2d (3x3 / 1x1 / strided); also the convolution after a fused bilinear upsampling.
    associatedtype ConvOp: Sendable
    /// ConvTranspose2d with kernel == stride.
    associatedtype ConvTransposeOp: Sendable
    /// The head's output stage (`OutputStageParameters`), fused with the upsampling before it.
    associatedtype OutputStageOp: Sendable
    /// One forward pass's state.
    associatedtype Execution: BackendExecution where Execution.Backend == Self

    func patchEmbedding(_ parameters: LinearParameters, from loader: any ParameterLoader) throws -> PatchEmbeddingOp
    func attention(_ parameters: AttentionParameters, from loader: any ParameterLoader) throws -> AttentionOp
    func mlp(_ parameters: MLPParameters, from loader: any ParameterLoader) throws -> MLPOp
    func layerNorm(_ parameters: LayerNormParameters, from loader: any ParameterLoader) throws -> LayerNormOp
    func projection(_ parameters: LinearParameters, from loader: any ParameterLoader) throws -> ProjectionOp
    func conv(_ parameters: ConvParameters, from loader: any ParameterLoader) throws -> ConvOp
    func convTranspose(_ parameters: ConvTransposeParameters, from loader: any ParameterLoader) throws -> ConvTransposeOp
    func outputStage(_ parameters: OutputStageParameters, from loader: any ParameterLoader) throws -> OutputStageOp
    /// A SwiGLU MLP branch (DINOv2-G, `SwiGLUParameters`), run by the execution's `mlp`.
    func swiGLU(_ parameters: SwiGLUParameters, from loader: any ParameterLoader) throws -> MLPOp
    /// Throws `BackendUnsupportedError` where the backend cannot run `operation` (checked at load,
    /// before any pass calls it).
    func require(_ operation: BackendOperation) throws

    /// State for one forward pass (work buffers; on a GPU, the command recording for the input size).
    func makeExecution() -> Execution

    /// Whether executions run several views in one pass (`BackendExecution.stackViews` and the
    /// `views:` forms). Backends without it keep the defaults, which accept one view only.
    var supportsMultipleViews: Bool { get }
}

extension ComputeBackend {
    public var supportsMultipleViews: Bool { false }
}

/// An activation value of a backend: what the model may know about it is its shape.
public protocol BackendTensor {
    /// Dimensions, outermost first.
    var shape: [Int] { get }
}

/// The operations of one forward pass, on the backend's tensors and prepared operators. The
/// model calls them in its module order; a CPU backend runs each at once, a GPU backend may
/// record them (once per input size) and replay. `host` is the only way back to host memory.
public protocol BackendExecution: AnyObject {
    associatedtype Backend: ComputeBackend
    typealias Value = Backend.Tensor

    /// The tensor in host memory (for observers and the final outputs).
    func host(_ x: Value) -> Tensor

    // MARK: Backbone

    /// (1 + N) x D tokens whose rows 1... are the patch embeddings of `image` (planar (3, height, width),
    /// normalized) in row-major patch order and row 0 is zero.
    func embedPatches(_ op: Backend.PatchEmbeddingOp, image: [Float], height: Int, width: Int) -> Value
    /// Writes `classToken` into row 0 and adds `positionEmbedding` ((1 + N) x D) to every row.
    func startTokens(_ x: inout Value, classToken: [Float], positionEmbedding: [Float])
    /// Replaces row `row` of a (tokens, D) sequence with `values`.
    func setRow(_ x: inout Value, _ row: Int, to values: [Float])
    /// x += attention branch(x); `positions` are RoPE's (y, x) per token.
    func attention(_ op: Backend.AttentionOp, _ x: inout Value, positions: [(Int, Int)], rope: RoPE2D)
    /// x += MLP branch(x).
    func mlp(_ op: Backend.MLPOp, _ x: inout Value)
    /// The transformer blocks are done (their work buffers may go, for the head to reuse).
    func endTransformer()
    /// cat(a[rows], norm(b[rows])) along channels for two (tokens, D) sequences (no norm: nil).
    func concatenate(_ a: Value, _ b: Value, rows: Range<Int>, normalizingSecond norm: Backend.LayerNormOp?) -> Value
    /// A copy of rows `rows` of a (tokens, D) sequence (`BackendOperation.tokenRows`).
    func rows(_ x: Value, _ rows: Range<Int>) -> Value

    // MARK: Several views (any-view scenes; see `ComputeBackend.supportsMultipleViews`)

    /// The views' (tokens, D) sequences one after another in one (views * tokens, D) sequence.
    func stackViews(_ views: [Value]) -> Value
    /// x holds `views` sequences of equal length one after another: x += attention branch(x) within
    /// each view on its own (`positions` covers all rows).
    func attention(_ op: Backend.AttentionOp, _ x: inout Value, positions: [(Int, Int)], rope: RoPE2D, views: Int)
    /// Reorders the equal-length views of x: view i of the result is view `order[i]` of x.
    func reorderViews(_ x: inout Value, order: [Int])

    // MARK: Head

    /// The 1x1 projection of norm(tokens) ((height * width) x C tokens, row-major) as a planar
    /// (C', height, width) map. The tokens are consumed (their memory may be reused).
    func project(_ tokens: inout Value, norm: Backend.LayerNormOp, _ op: Backend.ProjectionOp,
                 height: Int, width: Int) -> Value
    /// Adds separable position tables to a (C, h, w) map: channel c < C/2 gets `columns[c * w + x]`,
    /// channel c >= C/2 gets `rows[(c - C/2) * h + y]`.
    func addPositionTables(_ x: inout Value, columns: [Float], rows: [Float])
    func convTranspose(_ op: Backend.ConvTransposeOp, _ x: Value) -> Value
    /// conv(x), conv(relu(x)) with `reluInput`, plus `residual` (the output's shape) when given.
    func conv(_ op: Backend.ConvOp, _ x: Value, reluInput: Bool, residual: Value?) -> Value
    /// y += x (same shape).
    func add(_ x: Value, to y: inout Value)
    /// Bilinear align_corners=True resize of a (C, h, w) map.
    func resizeBilinear(_ x: Value, height: Int, width: Int) -> Value
    /// conv(bilinear align_corners resize of x to height x width) for a 3x3 pad-1 convolution,
    /// without materializing the resized map where the backend can.
    func upsampledConvolution(_ op: Backend.ConvOp, _ x: Value, height: Int, width: Int) -> Value
    /// The output stage on bilinear(x) + position tables (as `addPositionTables`, at height x width).
    /// With `intermediates` the result also holds the upsampled map and the logits (for observers).
    func outputStage(_ op: Backend.OutputStageOp, _ x: Value, height: Int, width: Int,
                     columns: [Float], rows: [Float], intermediates: Bool) -> OutputStageResult<Value>
    /// LayerNorm of every pixel's channel vector of a (C, h, w) map, in place (the auxiliary ray
    /// head's `Permute → LayerNorm → Permute`; `BackendOperation.rayHead`).
    func normalizeChannels(_ x: inout Value, _ norm: Backend.LayerNormOp)
}

extension BackendExecution {
    /// One view only (backends without `supportsMultipleViews`).
    public func stackViews(_ views: [Value]) -> Value {
        precondition(views.count == 1, "this backend runs one view per pass")
        return views[0]
    }

    /// One view only (backends without `supportsMultipleViews`).
    public func attention(_ op: Backend.AttentionOp, _ x: inout Value, positions: [(Int, Int)], rope: RoPE2D, views: Int) {
        precondition(views == 1, "this backend runs one view per pass")
        attention(op, &x, positions: positions, rope: rope)
    }

    /// The identity only (backends without `supportsMultipleViews`).
    public func reorderViews(_ x: inout Value, order: [Int]) {
        precondition(order == Array(order.indices), "this backend runs one view per pass")
    }

    public func conv(_ op: Backend.ConvOp, _ x: Value) -> Value { conv(op, x, reluInput: false, residual: nil) }

    /// Backends whose `require(.rayHead)` throws never run it.
    public func normalizeChannels(_ x: inout Value, _ norm: Backend.LayerNormOp) {
        preconditionFailure("unreachable: this backend refuses the ray head (require(.rayHead))")
    }
}

/// What the output stage produces: depth (exp of the first logit) and confidence (exp + 1 of the
/// second), each (height, width); the upsampled input and the (2, height, width) logits on request.
public struct OutputStageResult<Value> {
    public var depth: Value, confidence: Value
    public var upsampled: Value?, logits: Value?

    public init(depth: Value, confidence: Value, upsampled: Value? = nil, logits: Value? = nil) {
        self.depth = depth
        self.confidence = confidence
        self.upsampled = upsampled
        self.logits = logits
    }
}

extension Tensor: BackendTensor {}
