import DA3Kernels

/// DPT top-down fusion block (`FeatureFusionBlock` and `ResidualConvUnit` in `model/dpt.py`):
/// y = x (+ RCU1(lateral)); y = RCU2(y); bilinear (align_corners) to the next size; 1x1 out_conv.
/// The 1x1 out_conv runs before the (upsampling) bilinear resize: both are linear and the bilinear
/// weights of each output pixel sum to 1, so the order is algebraically exact and the 1x1 product
/// costs 4x less at the smaller size.
struct FeatureFusionBlock {
    struct ResidualConvUnit {
        let conv1: ConvWeights, conv2: ConvWeights

        /// x + conv2(relu(conv1(relu(x)))), with the ReLUs and the residual fused into the convolutions.
        func callAsFunction(_ x: Tensor) -> Tensor {
            conv2(conv1(x, reluInput: true), reluInput: true, residual: x)
        }
    }

    let rcu1: ResidualConvUnit?
    let rcu2: ResidualConvUnit
    let outConv: ConvWeights

    init(_ loader: WeightLoader, _ key: String, features f: Int, hasResidual: Bool, precision: Precision = .exact) throws {
        typealias K = CheckpointKeys.Fusion
        func rcu(_ name: String) throws -> ResidualConvUnit {
            ResidualConvUnit(
                conv1: try ConvWeights(loader, key + name + K.conv1, in: f, out: f, kernel: 3, padding: 1, precision: precision),
                conv2: try ConvWeights(loader, key + name + K.conv2, in: f, out: f, kernel: 3, padding: 1, precision: precision))
        }
        rcu1 = hasResidual ? try rcu(K.rcu1) : nil
        rcu2 = try rcu(K.rcu2)
        outConv = try ConvWeights(loader, key + K.outConv, in: f, out: f, kernel: 1)
    }

    func forward(_ x: Tensor, lateral: Tensor?, height: Int, width: Int) -> Tensor {
        forwardBeforeResize(x, lateral: lateral).resizedBilinear(height: height, width: width)
    }

    /// Everything but the final bilinear resize (for callers that fuse the resize into what follows).
    func forwardBeforeResize(_ x: Tensor, lateral: Tensor?) -> Tensor {
        var y = x
        if let rcu1, let lateral { y.add(rcu1(lateral)) }
        y = rcu2(y)
        return outConv(y)
    }
}
