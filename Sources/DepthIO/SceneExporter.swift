import Foundation

/// The scene formats of `da3 images` (the official exporters' content).
public enum SceneFormat: String, Sendable, CaseIterable {
    /// `scene.npz`: depth (N,H,W) f4, conf (N,H,W) f4, extrinsics (N,3,4) f4, intrinsics (N,3,3) f4, image (N,H,W,3) u1.
    case npz
    /// `scene.glb`: the fused cloud in the world frame (glTF axes, centred) with camera frusta.
    case glb
    /// `colmap/cameras.bin`, `images.bin`, `points3D.bin`: a COLMAP model at the input sizes, as the
    /// official exporter writes it (or the `.txt` files with `SceneExportOptions.colmapText`).
    case colmap
    /// `scene.ply`: the fused cloud in the world frame (OpenCV axes).
    case ply
    /// `<stem>.depth.npy` per view: depth (H,W) f4.
    case npy

    /// Parses "npz,glb,..." (duplicates removed, order kept).
    public static func parseList(_ list: String) throws -> [SceneFormat] {
        var out: [SceneFormat] = []
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !item.isEmpty {
            guard let f = SceneFormat(rawValue: item) else {
                throw FormatListError(item: item, known: allCases.map(\.rawValue))
            }
            if !out.contains(f) { out.append(f) }
        }
        guard !out.isEmpty else { throw FormatListError(item: list, known: allCases.map(\.rawValue)) }
        return out
    }

    /// An unknown name in a format list.
    public struct FormatListError: Error, CustomStringConvertible {
        public let item: String, known: [String]
        public var description: String { "unknown format '\(item)' (expected a comma-separated list of \(known.joined(separator: ", ")))" }
    }
}

/// Options of the point-cloud exports (the official GLB exporter's defaults).
public struct SceneExportOptions: Sendable {
    /// Lower confidence percentile of the adaptive threshold (GLB, PLY, COLMAP; default 40).
    public var confThreshPercentile: Double
    /// At most this many points in GLB and PLY (default 1,000,000; evenly spaced subset).
    public var maxPoints: Int
    /// Camera frusta in the GLB (default on).
    public var showCameras: Bool
    /// The COLMAP model as text (`cameras.txt`, ...) instead of COLMAP's binary form (default off).
    public var colmapText: Bool

    public init(confThreshPercentile: Double = 40, maxPoints: Int = 1_000_000, showCameras: Bool = true,
                colmapText: Bool = false) {
        self.confThreshPercentile = confThreshPercentile
        self.maxPoints = maxPoints
        self.showCameras = showCameras
        self.colmapText = colmapText
    }
}

/// Encodes a ``SceneResult`` in the scene formats (the files of one format as (relative path, bytes)).
public enum SceneExporter {
    /// The files of `format` for `scene`; `stems` name the per-view files (`npy`).
    public static func encode(_ scene: SceneResult, as format: SceneFormat, stems: [String],
                              options: SceneExportOptions = .init()) throws -> [(path: String, data: Data)] {
        switch format {
        case .npz: return [("scene.npz", npz(scene))]
        case .glb: return [("scene.glb", try SceneGLB.encode(scene, options: options))]
        case .ply:
            let cloud = scene.worldPointCloud(confidenceThreshold: glbThreshold(scene, options), maxPoints: options.maxPoints)
            return [("scene.ply", PLY.encode(PointCloud(positions: cloud.positions, colors: cloud.colors)))]
        case .colmap: return SceneCOLMAP.encode(scene, options: options).map { ("colmap/" + $0.name, $0.data) }
        case .npy:
            return zip(scene.views, stems).map { view, stem in
                (stem + ".depth.npy", NPY.encode(view.depth, shape: [view.height, view.width]))
            }
        }
    }

    /// `scene.npz` (uncompressed; `numpy.load` reads it).
    public static func npz(_ scene: SceneResult) -> Data {
        let n = scene.views.count, h = scene.height, w = scene.width
        return NPZ.encode([
            ("depth", NPY.encode(scene.views.flatMap(\.depth), shape: [n, h, w])),
            ("conf", NPY.encode(scene.views.flatMap(\.confidence), shape: [n, h, w])),
            ("extrinsics", NPY.encode(scene.extrinsics.flatMap { $0 }, shape: [n, 3, 4])),
            ("intrinsics", NPY.encode(scene.intrinsics.flatMap { $0 }, shape: [n, 3, 3])),
            ("image", NPY.encode(scene.views.flatMap(\.image.pixels), shape: [n, h, w, 3])),
        ])
    }

    /// `get_conf_thresh` of the official GLB exporter: 1.05 clamped to the [p, 90th] percentiles of
    /// all views' confidence, p = `confThreshPercentile`.
    public static func glbThreshold(_ scene: SceneResult, _ options: SceneExportOptions) -> Float {
        let conf = scene.views.flatMap(\.confidence)
        let lower = percentile(conf, options.confThreshPercentile), upper = percentile(conf, 90)
        return min(max(1.05, lower), upper)
    }
}
