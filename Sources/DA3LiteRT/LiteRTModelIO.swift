/// How a depth model's image input is laid out.
public enum LiteRTInputLayout: String, Sendable {
    /// (1, 3, H, W), channels first.
    case nchw
    /// (1, 1, 3, H, W): batch and view, channels first (the official module's (B, N, 3, H, W)).
    case viewsNCHW = "nchw-5d"
    /// (1, H, W, 3), channels last.
    case nhwc

    /// The model input from a CHW image tensor (3 x height x width).
    public func arrange(chw: [Float], width: Int, height: Int) -> [Float] {
        guard self == .nhwc else { return chw }
        let plane = width * height
        var out = [Float](repeating: 0, count: 3 * plane)
        for p in 0..<plane {
            out[3 * p] = chw[p]
            out[3 * p + 1] = chw[plane + p]
            out[3 * p + 2] = chw[2 * plane + p]
        }
        return out
    }
}

/// The output a depth estimator reads as depth, and why.
public struct LiteRTOutputChoice: Sendable, Equatable, CustomStringConvertible {
    /// Index in the signature's outputs.
    public let index: Int
    /// The output's name ("" where unnamed) and shape.
    public let name: String, shape: [Int]
    /// Whether it was picked by its name (else by its shape).
    public let byName: Bool

    public var description: String {
        let n = name.isEmpty ? "output \(index)" : "output \(index) '\(name)'"
        return "\(n) \(shape.map(String.init).joined(separator: "x")), chosen by \(byName ? "name" : "shape")"
    }
}

/// The image input and depth (and confidence) outputs of a depth `.tflite`, found from the
/// signature's shapes and names.
public struct LiteRTModelIO: Sendable {
    /// The image size the model takes.
    public let width: Int, height: Int
    /// The input's layout.
    public let layout: LiteRTInputLayout
    /// The depth output.
    public let depth: LiteRTOutputChoice
    /// The confidence output's index (an output of the depth's size named like `conf`), if any.
    public let confidence: Int?

    /// Finds the image input and the depth / confidence outputs.
    /// - Throws: ``LiteRTError/unsupportedModel(_:)`` naming the shapes found.
    public init(inputs: [LiteRTTensorInfo], outputs: [LiteRTTensorInfo]) throws {
        func shapes(_ list: [LiteRTTensorInfo]) -> String {
            list.isEmpty ? "none" : list.map { "(" + $0.shape.map(String.init).joined(separator: ", ") + ")" }.joined(separator: ", ")
        }
        let expected = "expected one image input shaped (1, 3, H, W), (1, 1, 3, H, W) or (1, H, W, 3)"
        guard inputs.count == 1 else {
            throw LiteRTError.unsupportedModel("\(expected); the model has \(inputs.count) inputs: \(shapes(inputs))")
        }
        let s = inputs[0].shape
        switch (s.count, s) {
        case (4, let d) where d[0] == 1 && d[1] == 3:
            (layout, height, width) = (.nchw, d[2], d[3])
        case (5, let d) where d[0] == 1 && d[1] == 1 && d[2] == 3:
            (layout, height, width) = (.viewsNCHW, d[3], d[4])
        case (4, let d) where d[0] == 1 && d[3] == 3:
            (layout, height, width) = (.nhwc, d[1], d[2])
        default:
            throw LiteRTError.unsupportedModel("\(expected); got input \(shapes(inputs))")
        }
        let (h, w) = (height, width)
        let depthShapes: [[Int]] = [[1, 1, h, w], [1, h, w], [1, 1, 1, h, w], [1, h, w, 1]]
        let maps = outputs.indices.filter { depthShapes.contains(outputs[$0].shape) }
        let named = { (word: String) in maps.first { outputs[$0].name.lowercased().contains(word) } }
        let confidence = named("conf")
        if let i = maps.first(where: { outputs[$0].name.lowercased().contains("depth") && $0 != confidence }) {
            depth = LiteRTOutputChoice(index: i, name: outputs[i].name, shape: outputs[i].shape, byName: true)
        } else if let i = maps.first(where: { $0 != confidence }) {
            depth = LiteRTOutputChoice(index: i, name: outputs[i].name, shape: outputs[i].shape, byName: false)
        } else {
            throw LiteRTError.unsupportedModel("expected a depth output of \(h)x\(w) values shaped (1, 1, H, W), (1, H, W), "
                + "(1, 1, 1, H, W) or (1, H, W, 1) for the input \(shapes(inputs)); got outputs \(shapes(outputs))")
        }
        self.confidence = confidence
    }
}
