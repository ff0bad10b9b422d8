/// A dense Float32 tensor in row-major order. Token sequences are (tokens, channels);
/// feature maps are planar (channels, height, width).
public struct Tensor: Sendable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// Elements, row-major.
    public var data: [Float]

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor whose elements are left unset, for an output its producer writes in full (skips
    /// a zeroing pass over memory the producer overwrites anyway).
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        self.data = [Float](unsafeUninitializedCapacity: shape.reduce(1, *)) { _, count in count = shape.reduce(1, *) }
    }

    /// Wraps `data`; its count must equal the product of `shape`.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    /// Number of elements.
    public var count: Int { data.count }
}
