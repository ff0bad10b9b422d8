import DA3Image
import Foundation

/// The file formats `da3 depth --formats` and ``DepthExporter`` write.
public enum OutputFormat: String, Sendable, CaseIterable, Codable {
    /// Depth as a float32 `.npy` (H, W).
    case npy
    /// `.npz` with `depth` (H, W) f4, `conf` (H, W) f4, `intrinsics` (3, 3) f4, `image` (H, W, 3) u1,
    /// `processed_size` (2,) i8 = (height, width) of the network input, `is_metric` () i8, and where
    /// known `sky` (H, W) f4 and `focal_px` () f4 (the focal length that made the depth metric).
    case npz
    /// 16-bit greyscale PNG, `depth = sample * depth_scale` (see ``DepthPNG16``).
    case png16
    /// Portable Float Map of the depth (bottom row first, little-endian).
    case pfm
    /// Colour-mapped depth PNG (optionally side by side with the input).
    case vis
    /// Coloured point cloud, binary little-endian PLY.
    case ply
    /// Coloured point cloud, binary glTF 2.0.
    case glb
    /// Confidence as a float32 `.npy` (H, W).
    case conf
    /// Intrinsics as JSON `{"cx", "cy", "fx", "fy", "height", "width"}` (pixels of the maps).
    case intrinsics
    /// The sky map as a float32 `.npy` (H, W) (models with a sky head).
    case sky

    /// File name suffix appended to an image's output stem.
    public var suffix: String {
        switch self {
        case .npy: return ".depth.npy"
        case .npz: return ".npz"
        case .png16: return ".depth.png"
        case .pfm: return ".depth.pfm"
        case .vis: return ".vis.png"
        case .ply: return ".ply"
        case .glb: return ".glb"
        case .conf: return ".conf.npy"
        case .intrinsics: return ".intrinsics.json"
        case .sky: return ".sky.npy"
        }
    }

    /// Parses a comma-separated list (`"npy,vis"`); throws naming an unknown entry.
    public static func parseList(_ list: String) throws -> [OutputFormat] {
        var result: [OutputFormat] = []
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !item.isEmpty {
            guard let f = OutputFormat(rawValue: item) else {
                throw OutputError(file: "--formats", reason: "unknown format '\(item)' (expected a comma list of \(allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if !result.contains(f) { result.append(f) }
        }
        guard !result.isEmpty else { throw OutputError(file: "--formats", reason: "no format given") }
        return result
    }
}

/// Options for the visualisation and point-cloud formats.
public struct ExportOptions: Sendable {
    /// Colour map for `vis`.
    public var colorMap: ColorMap
    /// `vis`: put the input image left of the colour-mapped depth.
    public var sideBySide: Bool
    /// `ply`/`glb`: drop points whose confidence is below this percentile (0...100; 0 keeps all).
    public var confThreshPercentile: Double
    /// `ply`/`glb`: keep at most this many points.
    public var maxPoints: Int
    /// `vis`/`ply`/`glb`: keep sky pixels (dropped by default: their depth is a placeholder).
    public var keepSky = false

    /// Defaults follow the official exporter: spectral, percentile 40, one million points.
    public init(colorMap: ColorMap = .spectral, sideBySide: Bool = false, confThreshPercentile: Double = 40, maxPoints: Int = 1_000_000) {
        self.colorMap = colorMap
        self.sideBySide = sideBySide
        self.confThreshPercentile = confThreshPercentile
        self.maxPoints = maxPoints
    }
}

/// Encodes a ``DepthFrame`` in any ``OutputFormat`` and writes files atomically.
public enum DepthExporter {
    /// The encoded bytes of `frame` in `format`.
    public static func encode(_ frame: DepthFrame, as format: OutputFormat, options: ExportOptions = .init()) throws -> Data {
        switch format {
        case .npy:
            return NPY.encode(frame.depth, shape: [frame.height, frame.width])
        case .npz:
            var members: [(name: String, npy: Data)] = [("depth", NPY.encode(frame.depth, shape: [frame.height, frame.width]))]
            members.append(("conf", NPY.encode(frame.confidence, shape: [frame.height, frame.width])))
            members.append(("intrinsics", NPY.encode(frame.intrinsics.matrix, shape: [3, 3])))
            members.append(("image", NPY.encode(frame.image.pixels, shape: [frame.height, frame.width, 3])))
            members.append(("processed_size", NPY.encode([Int64(frame.processedHeight), Int64(frame.processedWidth)], shape: [2])))
            if let sky = frame.sky { members.append(("sky", NPY.encode(sky, shape: [frame.height, frame.width]))) }
            members.append(("is_metric", NPY.encode([Int64(frame.depthKind.isMetric ? 1 : 0)], shape: [])))
            if let f = frame.focalPx { members.append(("focal_px", NPY.encode([Float(f)], shape: []))) }
            return NPZ.encode(members)
        case .png16:
            return try DepthPNG16.encode(frame.depth, width: frame.width, height: frame.height)
        case .pfm:
            return PFM.encode(frame.depth, width: frame.width, height: frame.height)
        case .vis:
            let sky = options.keepSky ? nil : frame.sky.map { $0.map { $0 >= DepthResult.skyThreshold } }
            var vis = DepthVisualizer.render(frame.depth, width: frame.width, height: frame.height, colorMap: options.colorMap,
                                             masked: sky)
            if options.sideBySide { vis = DepthVisualizer.sideBySide(frame.image, vis) }
            return try PNGEncoder.encode(vis)
        case .ply:
            try requireCamera(frame, format)
            return PLY.encode(PointCloud.unproject(frame, confThreshPercentile: options.confThreshPercentile,
                                                   maxPoints: options.maxPoints, keepSky: options.keepSky))
        case .glb:
            try requireCamera(frame, format)
            return try GLB.encode(PointCloud.unproject(frame, confThreshPercentile: options.confThreshPercentile,
                                                       maxPoints: options.maxPoints, keepSky: options.keepSky))
        case .conf:
            return NPY.encode(frame.confidence, shape: [frame.height, frame.width])
        case .intrinsics:
            return try IntrinsicsJSON.encode(frame.intrinsics)
        case .sky:
            guard let sky = frame.sky else {
                throw OutputError(file: "sky", reason: "this model has no sky head (sky maps come from da3metric-large, da3mono-large and da3nested-giant-large)")
            }
            return NPY.encode(sky, shape: [frame.height, frame.width])
        }
    }

    /// A point cloud needs a focal length: models without a camera get one only from the user.
    private static func requireCamera(_ frame: DepthFrame, _ format: OutputFormat) throws {
        guard frame.intrinsics.fx > 0, frame.intrinsics.fy > 0 else {
            throw OutputError(file: format.rawValue, reason: "this model predicts no camera: a point cloud needs a focal length (--focal-px, --intrinsics-in, or an image with an EXIF 35 mm focal length)")
        }
    }

    /// Encodes `frame` as `format` and writes it atomically to `url`.
    public static func write(_ frame: DepthFrame, as format: OutputFormat, to url: URL, options: ExportOptions = .init()) throws {
        let data: Data
        do {
            data = try encode(frame, as: format, options: options)
        } catch let error as OutputError {
            throw OutputError(file: url.path, reason: error.reason)
        }
        try AtomicFile.write(data, to: url)
    }
}

/// `{"cx", "cy", "fx", "fy", "height", "width"}`, pretty-printed with sorted keys, newline-terminated.
public enum IntrinsicsJSON {
    /// The JSON bytes of `k`.
    public static func encode(_ k: Intrinsics) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(k)
        data.append(0x0a)
        return data
    }
}
