/// Multiply-add work of one forward pass (depth branch, camera decoder), counted as
/// 2 FLOPs per multiply-accumulate of every linear, convolution and attention product.
public struct FLOPCount: Sendable, Equatable {
    /// Backbone linear layers (patch embedding, qkv, proj, MLP).
    public var backboneLinear: Int
    /// Attention products q k^T and p v.
    public var attention: Int
    /// DualDPT main branch convolutions (and the 1x1 projections).
    public var head: Int
    /// Camera decoder MLP.
    public var camera: Int

    public var total: Int { backboneLinear + attention + head + camera }

    /// The count for `config` at an input of `height` x `width` (multiples of the patch size).
    public init(config: ModelConfig, height: Int, width: Int) {
        let p = config.patchSize, d = config.embedDim
        let gh = height / p, gw = width / p, n = gh * gw, t = n + 1
        let hidden = config.mlpRatio * d
        backboneLinear = 2 * n * 3 * p * p * d + config.depth * 2 * t * d * (3 * d + d + 2 * hidden)
        attention = config.depth * 2 * 2 * t * t * d

        let f = config.headFeatures, oc = config.headOutChannels
        func conv(_ h: Int, _ w: Int, _ cin: Int, _ cout: Int, _ k: Int) -> Int { 2 * h * w * cin * cout * k * k }
        var work = 0
        // Projections (1x1 from 2D) and the resize layers.
        for c in oc { work += conv(gh, gw, 2 * d, c, 1) }
        work += conv(gh, gw, oc[0], oc[0], 4)                      // ConvTranspose k4 s4: each input pixel feeds 16 outputs
        work += conv(gh, gw, oc[1], oc[1], 2)                      // ConvTranspose k2 s2
        let h4 = (gh + 1) / 2, w4 = (gw + 1) / 2
        work += conv(h4, w4, oc[3], oc[3], 3)                      // Conv 3x3 stride 2
        // layer_rn at 4x, 2x, 1x, 1/2 of the grid.
        let sizes = [(4 * gh, 4 * gw), (2 * gh, 2 * gw), (gh, gw), (h4, w4)]
        for (k, (h, w)) in sizes.enumerated() { work += conv(h, w, oc[k], f, 3) }
        // Fusion blocks: RCUs at the block's input size, out_conv at its output size.
        let outputs = [(gh, gw), (2 * gh, 2 * gw), (4 * gh, 4 * gw), (8 * gh, 8 * gw)]  // refinenet4, 3, 2, 1
        for (i, (h, w)) in sizes.reversed().enumerated() {
            let rcus = i == 0 ? 1 : 2
            work += rcus * 2 * conv(h, w, f, f, 3)
            work += conv(outputs[i].0, outputs[i].1, f, f, 1)
        }
        work += conv(8 * gh, 8 * gw, f, f / 2, 3)                  // output_conv1
        work += conv(height, width, f / 2, 32, 3) + conv(height, width, 32, 2, 1)  // output_conv2
        head = work
        let c = 2 * d
        camera = 2 * (2 * c * c + c * 9)
    }
}
