import DA3Image

/// Pinhole intrinsics in pixels of the frame they belong to.
public struct PinholeIntrinsics: Sendable, Equatable, Codable {
    /// Focal lengths.
    public var fx: Double, fy: Double
    /// Principal point.
    public var cx: Double, cy: Double

    /// Creates intrinsics from focal lengths and principal point.
    public init(fx: Double, fy: Double, cx: Double, cy: Double) {
        self.fx = fx; self.fy = fy; self.cx = cx; self.cy = cy
    }

    /// Row-major 3x3 `K`.
    public var matrix: [Float] { [Float(fx), 0, Float(cx), 0, Float(fy), Float(cy), 0, 0, 1] }
}

/// Everything the writers need about one estimated image, at one resolution.
public struct DepthFrame: Sendable {
    /// Size of the maps.
    public var width: Int, height: Int
    /// Depth, row-major `height x width`.
    public var depth: [Float]
    /// Confidence, row-major `height x width` (nil when not available).
    public var confidence: [Float]?
    /// Intrinsics in pixels of this frame.
    public var intrinsics: PinholeIntrinsics
    /// The RGB image at this frame's size (colours for point clouds and side-by-side visualisations).
    public var image: RGBImage?
    /// Size of the image the network processed (stored in `.npz` as `processed_size`).
    public var processedWidth: Int, processedHeight: Int

    /// Creates a frame; array sizes must be `width * height` (and `image` the same size).
    public init(width: Int, height: Int, depth: [Float], confidence: [Float]?, intrinsics: PinholeIntrinsics,
                image: RGBImage?, processedWidth: Int? = nil, processedHeight: Int? = nil) {
        precondition(depth.count == width * height, "depth does not match the size")
        precondition(confidence.map { $0.count == width * height } ?? true, "confidence does not match the size")
        precondition(image.map { $0.width == width && $0.height == height } ?? true, "image does not match the size")
        self.width = width; self.height = height
        self.depth = depth; self.confidence = confidence
        self.intrinsics = intrinsics; self.image = image
        self.processedWidth = processedWidth ?? width
        self.processedHeight = processedHeight ?? height
    }
}
