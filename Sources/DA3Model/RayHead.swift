import DA3Kernels
import DA3Weights
import Foundation

/// The DualDPT head's auxiliary ray branch (`model/dualdpt.py`): its own fusion chain
/// (refinenet4_aux ... refinenet1_aux over the main branch's layer{k}_rn maps), then the last
/// level's pre-head (`output_conv1_aux[-1]`, five 3x3 convolutions), the UV position tables and
/// `output_conv2_aux[-1]` (3x3 → LayerNorm over channels → ReLU → 1x1 to 7). Upstream computes
/// the pre-heads of all four levels and returns only the last; the other three are not computed.
/// `use_ray_pose` reads its output instead of the camera decoder's.
struct RayHead<B: ComputeBackend> {
    /// refinenet1_aux ... refinenet4_aux (index 0 = refinenet1_aux).
    let refine: [FeatureFusionBlock<B>]
    /// output_conv1_aux[3]: f → f/2 → f → f/2 → f → f/2, no activations in between.
    let neck: [B.ConvOp]
    /// output_conv2_aux[3]: the 3x3 to 32 channels, its LayerNorm and the final 1x1.
    let conv: B.ConvOp, norm: B.LayerNormOp, projection: B.ConvOp

    init(_ backend: B, _ loader: WeightLoader, config: ModelConfig) throws {
        typealias K = CheckpointKeys.RayHead
        let f = config.headFeatures, level = K.levels - 1
        refine = try (1...4).map { try FeatureFusionBlock(backend, loader, K.refine($0), features: f, hasResidual: $0 != 4) }
        let widths = [f, f / 2, f, f / 2, f, f / 2]
        neck = try (0..<5).map {
            try backend.conv(ConvParameters(K.neck(level, $0), in: widths[$0], out: widths[$0 + 1], kernel: 3, padding: 1),
                             from: loader)
        }
        conv = try backend.conv(ConvParameters(K.outputConv(level, 0), in: f / 2, out: 32, kernel: 3, padding: 1), from: loader)
        // Upstream builds this LayerNorm once and puts the same module in every level, so the
        // checkpoints keep it under level 0's name only.
        norm = try backend.layerNorm(LayerNormParameters(K.outputConv(0, 2), width: 32, eps: 1e-5), from: loader)
        projection = try backend.conv(ConvParameters(K.outputConv(level, 5), in: 32, out: 7, kernel: 1), from: loader)
    }

    /// The ray map of one view from the pyramid levels (layer{k}_rn outputs, finest first), at twice
    /// the finest level's size (8x the patch grid).
    func forward(levels: [B.Tensor], plan: ShapePlan, _ run: B.Execution) -> RayMap {
        var out = refine[3].forward(levels[3], lateral: nil, height: levels[2].shape[1], width: levels[2].shape[2], run)
        out = refine[2].forward(out, lateral: levels[2], height: levels[1].shape[1], width: levels[1].shape[2], run)
        out = refine[1].forward(out, lateral: levels[1], height: levels[0].shape[1], width: levels[0].shape[2], run)
        let (h, w) = (2 * levels[0].shape[1], 2 * levels[0].shape[2])
        out = refine[0].forward(out, lateral: levels[0], height: h, width: w, run)
        for op in neck { out = run.conv(op, out) }
        let uv = UVEmbedding.tables(channels: out.shape[0], width: w, height: h, imageWidth: plan.width, imageHeight: plan.height)
        run.addPositionTables(&out, columns: uv.col, rows: uv.row)
        var hidden = run.conv(conv, out)
        run.normalizeChannels(&hidden, norm)
        let logits = run.host(run.conv(projection, hidden, reluInput: true, residual: nil)).data
        return RayMap(width: w, height: h, planarLogits: logits)
    }
}

/// The auxiliary head's output for one view: per ray-map pixel a ray (direction x, y, z, then
/// origin x, y, z; linear) and its confidence (exp + 1), as the official `ray` and `ray_conf`.
public struct RayMap: Sendable {
    /// Ray-map size (8x the patch grid: 288 x 288 for a 504 x 504 view).
    public let width: Int, height: Int
    /// Row-major height x width x 6.
    public let rays: [Float]
    /// Row-major height x width.
    public let confidence: [Float]

    public init(width: Int, height: Int, rays: [Float], confidence: [Float]) {
        precondition(rays.count == 6 * width * height && confidence.count == width * height)
        self.width = width
        self.height = height
        self.rays = rays
        self.confidence = confidence
    }

    /// From the head's (7, height, width) logits.
    init(width: Int, height: Int, planarLogits x: [Float]) {
        let plane = width * height
        var rays = [Float](repeating: 0, count: 6 * plane)
        for c in 0..<6 {
            for p in 0..<plane { rays[p * 6 + c] = x[c * plane + p] }
        }
        self.init(width: width, height: height, rays: rays, confidence: (0..<plane).map { expf(x[6 * plane + $0]) + 1 })
    }
}
