/// The names under which `DepthAnything3Net.forward` hands intermediate tensors to its observer, in
/// one table. `tools/reference/make_goldens.py` stores the official model's tensors under the same
/// names (its forward hooks point back to this file), so the golden tests compare stage by stage.
public enum StageNames {
    /// Patch embeddings (N, D), before the class token and position embedding.
    public static let patchEmbed = "patch_embed"
    /// Tokens (1 + N, D) entering the first block.
    public static let tokens = "tokens"
    /// Tokens after block `i`.
    public static func block(_ i: Int) -> String { "block.\(i)" }
    /// Backbone output `k`: (N, 2D) = cat(local, norm(global)).
    public static func feature(_ k: Int) -> String { "feat.\(k)" }
    /// Token 0 of output layer `k` before the norm (2D), the camera decoder's input.
    public static func cameraToken(_ k: Int) -> String { "cam_token.\(k)" }
    /// Head level `k` after its projection and UV embedding (input of `resize_layers[k]`).
    public static func headProjection(_ k: Int) -> String { "head.proj.\(k)" }
    /// Head level `k` after `resize_layers[k]`.
    public static func headResized(_ k: Int) -> String { "head.resized.\(k)" }
    /// Head level `k` after `layer{k+1}_rn`.
    public static func headRN(_ k: Int) -> String { "head.rn.\(k)" }
    /// Output of `refinenet{j}`, j = 4 ... 1.
    public static func headRefine(_ j: Int) -> String { "head.refine.\(j)" }
    public static let headOutConv1 = "head.out_conv1"
    /// Input of `output_conv2` (upsampled + UV embedding), full resolution only.
    public static let headUpsampled = "head.upsampled"
    /// Output of `output_conv2` (2, H, W), full resolution only.
    public static let headLogits = "head.logits"
    public static let depth = "depth"
    /// DPT models: depth before the sky handling (exp of the head's logit).
    public static let rawDepth = "depth_raw"
    /// DPT models: the sky map (ReLU of `sky_output_conv2`).
    public static let sky = "sky"
    public static let depthConfidence = "depth_conf"
    public static let poseEncoding = "pose_enc"
}
