/// Pinhole camera intrinsics in pixels of the maps they belong to: focal lengths, principal point
/// and the size of those maps (the processed image, or the original after resizing).
public struct Intrinsics: Sendable, Equatable, Codable {
    /// Focal lengths.
    public var fx: Double, fy: Double
    /// Principal point.
    public var cx: Double, cy: Double
    /// Size of the maps these intrinsics refer to.
    public var width: Int, height: Int

    /// Creates intrinsics from focal lengths, principal point and map size.
    public init(fx: Double, fy: Double, cx: Double, cy: Double, width: Int, height: Int) {
        self.fx = fx; self.fy = fy; self.cx = cx; self.cy = cy
        self.width = width; self.height = height
    }

    /// Row-major 3x3 `K`.
    public var matrix: [Float] { [Float(fx), 0, Float(cx), 0, Float(fy), Float(cy), 0, 0, 1] }

    /// These intrinsics for the same camera at `width` x `height` (focal lengths and principal
    /// point scaled by the size ratios).
    public func scaled(toWidth width: Int, height: Int) -> Intrinsics {
        let sx = Double(width) / Double(self.width), sy = Double(height) / Double(self.height)
        return Intrinsics(fx: fx * sx, fy: fy * sy, cx: cx * sx, cy: cy * sy, width: width, height: height)
    }
}
