import DA3Image

/// A coloured point cloud in the camera frame of the image (OpenCV convention: x right, y down,
/// z forward, same units as the depth).
public struct PointCloud: Sendable {
    /// x, y, z per point.
    public var positions: [Float]
    /// r, g, b per point.
    public var colors: [UInt8]
    /// Number of points.
    public var count: Int { positions.count / 3 }

    /// Creates a cloud from flat xyz and rgb arrays of matching length.
    public init(positions: [Float], colors: [UInt8]) {
        precondition(positions.count % 3 == 0 && positions.count == colors.count, "positions and colours do not match")
        self.positions = positions
        self.colors = colors
    }

    /// Unprojects every pixel of `frame`: `X = depth * K⁻¹ (u, v, 1)` with pixel centres at integer
    /// coordinates (as the official `_depths_to_world_points_with_colors`).
    ///
    /// Pixels with non-finite or non-positive depth are skipped; so are pixels whose confidence is
    /// below the `confThreshPercentile`-th percentile of the frame's confidence (0 keeps all).
    /// When more than `maxPoints` remain, an evenly spaced subset of `maxPoints` is kept (deterministic).
    /// Sky pixels (`DepthResult.isSky`) are skipped unless `keepSky`.
    public static func unproject(_ frame: DepthFrame, confThreshPercentile: Double = 40, maxPoints: Int = 1_000_000,
                                 keepSky: Bool = false) -> PointCloud {
        let n = frame.width * frame.height
        var threshold = -Float.infinity
        if confThreshPercentile > 0, !frame.confidence.isEmpty {
            threshold = percentile(frame.confidence, confThreshPercentile)
        }
        var keep = [Int]()
        keep.reserveCapacity(n)
        for i in 0..<n {
            let d = frame.depth[i]
            guard d.isFinite, d > 0 else { continue }
            if frame.confidence[i] < threshold { continue }
            if !keepSky && frame.isSky(i) { continue }
            keep.append(i)
        }
        if maxPoints >= 0, keep.count > maxPoints {
            let total = keep.count
            keep = (0..<maxPoints).map { keep[$0 * total / maxPoints] }
        }
        var positions = [Float](), colors = [UInt8]()
        positions.reserveCapacity(keep.count * 3)
        colors.reserveCapacity(keep.count * 3)
        let k = frame.intrinsics
        for i in keep {
            let u = Double(i % frame.width), v = Double(i / frame.width), d = Double(frame.depth[i])
            positions += [Float((u - k.cx) / k.fx * d), Float((v - k.cy) / k.fy * d), Float(d)]
            colors += [frame.image.pixels[3 * i], frame.image.pixels[3 * i + 1], frame.image.pixels[3 * i + 2]]
        }
        return PointCloud(positions: positions, colors: colors)
    }
}
