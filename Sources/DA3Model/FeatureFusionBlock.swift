import DA3Kernels
import DA3Weights

/// DPT top-down fusion block (`FeatureFusionBlock` and `ResidualConvUnit` in `model/dpt.py`):
/// y = x (+ RCU1(lateral)); y = RCU2(y); bilinear (align_corners) to the next size; 1x1 out_conv.
/// The 1x1 out_conv runs before the (upsampling) bilinear resize: both are linear and the bilinear
/// weights of each output pixel sum to 1, so the order is algebraically exact and the 1x1 product
/// costs 4x less at the smaller size.
struct FeatureFusionBlock<B: ComputeBackend> {
    struct ResidualConvUnit {
        let conv1: B.ConvOp, conv2: B.ConvOp

        /// x + conv2(relu(conv1(relu(x)))), with the ReLUs and the residual fused into the convolutions.
        func forward(_ x: B.Tensor, _ run: B.Execution) -> B.Tensor {
            run.conv(conv2, run.conv(conv1, x, reluInput: true, residual: nil), reluInput: true, residual: x)
        }
    }

    let rcu1: ResidualConvUnit?
    let rcu2: ResidualConvUnit
    let outConv: B.ConvOp

    init(_ backend: B, _ loader: WeightLoader, _ key: String, features f: Int, hasResidual: Bool) throws {
        typealias K = CheckpointKeys.Fusion
        func rcu(_ name: String) throws -> ResidualConvUnit {
            ResidualConvUnit(
                conv1: try backend.conv(ConvParameters(key + name + K.conv1, in: f, out: f, kernel: 3, padding: 1), from: loader),
                conv2: try backend.conv(ConvParameters(key + name + K.conv2, in: f, out: f, kernel: 3, padding: 1), from: loader))
        }
        rcu1 = hasResidual ? try rcu(K.rcu1) : nil
        rcu2 = try rcu(K.rcu2)
        outConv = try backend.conv(ConvParameters(key + K.outConv, in: f, out: f, kernel: 1), from: loader)
    }

    func forward(_ x: B.Tensor, lateral: B.Tensor?, height: Int, width: Int, _ run: B.Execution) -> B.Tensor {
        run.resizeBilinear(forwardBeforeResize(x, lateral: lateral, run), height: height, width: width)
    }

    /// Everything but the final bilinear resize (for callers that fuse the resize into what follows).
    func forwardBeforeResize(_ x: B.Tensor, lateral: B.Tensor?, _ run: B.Execution) -> B.Tensor {
        var y = x
        if let rcu1, let lateral { run.add(rcu1.forward(lateral, run), to: &y) }
        y = rcu2.forward(y, run)
        return run.conv(outConv, y)
    }
}
