/// Every checkpoint tensor name the engine reads, in one place. Names are those of the Hub
/// checkpoints (`DepthAnything3` wrapper state dict), without the leading `model.`.
enum CheckpointKeys {
    /// Prefix of every key in the Hub checkpoints.
    static let prefix = "model."

    /// Parts of the checkpoint a load leaves unread: the camera encoder and the auxiliary ray branch
    /// are read on first use (known cameras, `use_ray_pose`); the Gaussian-splatting head never.
    static let ignoredPrefixes = [
        "cam_enc.",                          // camera encoder: only used when the caller supplies poses
        "head.scratch.refinenet1_aux.", "head.scratch.refinenet2_aux.",
        "head.scratch.refinenet3_aux.", "head.scratch.refinenet4_aux.",
        "head.scratch.output_conv1_aux.", "head.scratch.output_conv2_aux.",  // auxiliary ray branch
        "gs_head.", "gs_adapter.",           // Giant's Gaussian-splatting head: only run with infer_gs
    ]

    enum Backbone {
        static let root = "backbone.pretrained."
        static let patchEmbed = root + "patch_embed.proj"
        static let patchWeight = patchEmbed + ".weight"
        static let clsToken = root + "cls_token"
        static let cameraToken = root + "camera_token"
        static let posEmbed = root + "pos_embed"
        static let norm = root + "norm"
        static func block(_ i: Int) -> String { root + "blocks.\(i)." }
    }

    /// Relative to `Backbone.block(i)`.
    enum Block {
        static let norm1 = "norm1", norm2 = "norm2"
        static let qkv = "attn.qkv", proj = "attn.proj"
        static let qNorm = "attn.q_norm", kNorm = "attn.k_norm"
        static let ls1 = "ls1.gamma", ls2 = "ls2.gamma"
        static let fc1 = "mlp.fc1", fc2 = "mlp.fc2"
        /// SwiGLU MLP (DINOv2-G).
        static let w12 = "mlp.w12", w3 = "mlp.w3"
    }

    enum Head {
        static let root = "head."
        static let norm = root + "norm"
        static func project(_ k: Int) -> String { root + "projects.\(k)" }
        static func resize(_ k: Int) -> String { root + "resize_layers.\(k)" }
        static func layerRN(_ k: Int) -> String { root + "scratch.layer\(k + 1)_rn" }
        static func refine(_ j: Int) -> String { root + "scratch.refinenet\(j)" }
        static let outputConv1 = root + "scratch.output_conv1"
        static let outputConv2a = root + "scratch.output_conv2.0"
        static let outputConv2b = root + "scratch.output_conv2.2"
        /// DPT sky head (3x3 -> ReLU -> 1x1 -> ReLU).
        static let skyOutputConv2a = root + "scratch.sky_output_conv2.0"
        static let skyOutputConv2b = root + "scratch.sky_output_conv2.2"
    }

    /// Relative to `Head.refine(j)`.
    enum Fusion {
        static let rcu1 = ".resConfUnit1", rcu2 = ".resConfUnit2", outConv = ".out_conv"
        static let conv1 = ".conv1", conv2 = ".conv2"
    }

    enum Camera {
        static let root = "cam_dec."
        static let fc1 = root + "backbone.0", fc2 = root + "backbone.2"
        static let translation = root + "fc_t", quaternion = root + "fc_qvec", fov = root + "fc_fov.0"
    }
}

extension CheckpointKeys {
    /// The camera encoder (`model/cam_enc.py`), read when the checkpoint has one.
    enum CameraEncoder {
        static let root = "cam_enc."
        static let fc1 = root + "pose_branch.fc1", fc2 = root + "pose_branch.fc2"
        static let tokenNorm = root + "token_norm", trunkNorm = root + "trunk_norm"
        static func block(_ i: Int) -> String { root + "trunk.\(i)." }
    }
}

extension CheckpointKeys {
    /// The DualDPT head's auxiliary ray branch, read on the first `use_ray_pose` pass.
    enum RayHead {
        static let root = "head.scratch."
        /// Pyramid levels of output_conv1_aux / output_conv2_aux (only the last one is used).
        static let levels = 4
        static func refine(_ j: Int) -> String { root + "refinenet\(j)_aux" }
        static func neck(_ level: Int, _ i: Int) -> String { root + "output_conv1_aux.\(level).\(i)" }
        /// Module `i` of output_conv2_aux[level] (0: 3x3, 2: LayerNorm, 5: 1x1).
        static func outputConv(_ level: Int, _ i: Int) -> String { root + "output_conv2_aux.\(level).\(i)" }
    }
}
