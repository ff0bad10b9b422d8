import DA3Image
import Foundation

/// Depth, confidence and cameras for every view of an any-view scene (one pass over N images),
/// in input order, at the processed size shared by all views.
public struct SceneResult: Sendable {
    /// Per view: depth, confidence, intrinsics (`SceneResult.intrinsics` as a struct), the processed image.
    public var views: [DepthResult]
    /// Per view: world-to-camera [R | t], row-major 3x4 (as the official `extrinsics`).
    public var extrinsics: [[Float]]
    /// The reference view (defines the world frame) when the cameras were predicted; nil when given.
    public var referenceView: Int?
    /// Per view: a name for exports that list images (COLMAP `images.bin` / `images.txt`), e.g. the file name.
    public var names: [String]

    /// Bundles per-view results (one size) with their cameras.
    public init(views: [DepthResult], extrinsics: [[Float]], referenceView: Int?, names: [String]) {
        precondition(!views.isEmpty && views.count == extrinsics.count && views.count == names.count)
        precondition(extrinsics.allSatisfy { $0.count == 12 } && views.allSatisfy { $0.width == views[0].width && $0.height == views[0].height })
        self.views = views
        self.extrinsics = extrinsics
        self.referenceView = referenceView
        self.names = names
    }

    /// Map width and height shared by all views.
    public var width: Int { views[0].width }
    public var height: Int { views[0].height }

    /// Per view: the row-major 3x3 K in pixels of the maps.
    public var intrinsics: [[Float]] { views.map { $0.intrinsics.matrix } }

    /// The fused coloured cloud in the world frame (see ``ScenePointCloud``).
    public func worldPointCloud(confidenceThreshold: Float, maxPoints: Int = .max) -> ScenePointCloud {
        ScenePointCloud.fuse(self, confidenceThreshold: confidenceThreshold, maxPoints: maxPoints)
    }
}

/// Points of all views in the world frame with their colours and where they come from.
public struct ScenePointCloud: Sendable {
    /// x, y, z per point (world frame of the scene's extrinsics).
    public var positions: [Float]
    /// r, g, b per point.
    public var colors: [UInt8]
    /// Per point: (view, x, y) of the pixel it was unprojected from.
    public var sources: [(view: Int, x: Int, y: Int)]

    public var count: Int { sources.count }

    /// `_depths_to_world_points_with_colors`: X_w = c2w (d K⁻¹ (u, v, 1)) for every pixel with finite
    /// positive depth and confidence >= `confidenceThreshold`, views in order; then, above
    /// `maxPoints`, an evenly spaced subset (the official exporter draws a random one).
    public static func fuse(_ scene: SceneResult, confidenceThreshold: Float, maxPoints: Int = .max) -> ScenePointCloud {
        var positions: [Float] = [], colors: [UInt8] = [], sources: [(view: Int, x: Int, y: Int)] = []
        let w = scene.width, h = scene.height
        for (v, view) in scene.views.enumerated() {
            let c2w = cameraToWorld(scene.extrinsics[v]).map(Double.init)
            let k = view.intrinsics
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x, d = Double(view.depth[i])
                    guard view.depth[i].isFinite, d > 0, view.confidence[i] >= confidenceThreshold else { continue }
                    let xc = (Double(x) - k.cx) / k.fx * d, yc = (Double(y) - k.cy) / k.fy * d
                    for r in 0..<3 {
                        positions.append(Float(c2w[r * 4] * xc + c2w[r * 4 + 1] * yc + c2w[r * 4 + 2] * d + c2w[r * 4 + 3]))
                    }
                    colors += view.image.pixels[(3 * i)..<(3 * i + 3)]
                    sources.append((v, x, y))
                }
            }
        }
        var cloud = ScenePointCloud(positions: positions, colors: colors, sources: sources)
        if cloud.count > maxPoints { cloud = cloud.subset((0..<maxPoints).map { $0 * cloud.count / maxPoints }) }
        return cloud
    }

    func subset(_ keep: [Int]) -> ScenePointCloud {
        ScenePointCloud(positions: keep.flatMap { positions[(3 * $0)..<(3 * $0 + 3)] },
                        colors: keep.flatMap { colors[(3 * $0)..<(3 * $0 + 3)] }, sources: keep.map { sources[$0] })
    }

    /// The rigid inverse of a world-to-camera 3x4 as a 3x4 camera-to-world.
    static func cameraToWorld(_ e: [Float]) -> [Float] { RigidTransform.inverse(Array(e.prefix(12))) }
}
