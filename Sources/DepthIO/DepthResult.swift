@_exported import DA3Core
import DA3Image
import Foundation

/// Depth, confidence and intrinsics for one image: what every estimator returns and every writer
/// takes (the project's one result type; `DepthFrame` is its older name).
public struct DepthResult: Sendable {
    /// Size of the maps (the processed size, or the original size with `OutputSize.original`).
    public var width: Int, height: Int
    /// Size of the input image before preprocessing.
    public var originalWidth: Int, originalHeight: Int
    /// Size of the image the network processed (both multiples of 14; `processed_size` in `.npz`).
    public var processedWidth: Int, processedHeight: Int
    /// Depth, row-major `height x width`.
    public var depth: [Float]
    /// Confidence (>= 1 from the native engine; all ones where a model has none), row-major `height x width`.
    public var confidence: [Float]
    /// Focal lengths and principal point in pixels of the maps (`width x height`).
    public var intrinsics: Intrinsics
    /// Raw camera decoder output: translation (3), quaternion xyzw (4), fov_h, fov_w (radians);
    /// empty where the model has no camera head.
    public var poseEncoding: [Float]
    /// The RGB image at the maps' size (the processed image, or the input).
    public var image: RGBImage
    /// The sky map (row-major `height x width`; sky where >= `skyThreshold`) of models with a sky
    /// head (Metric, Mono, Nested), as the model's `sky` output; nil otherwise.
    public var sky: [Float]? = nil
    /// What the depth values mean (relative, DA3METRIC-LARGE's raw output, metres).
    public var depthKind: DepthKind = .relative
    /// The focal length in pixels of the processed image that made the depth metric (nil when none
    /// was used or known).
    public var focalPx: Double? = nil
    /// The nested model's scale from its any-view depth to metres.
    public var scaleFactor: Float? = nil

    /// Sky pixels are those whose sky value is at least this (`compute_sky_mask`'s 0.3: the pixels
    /// whose depth the models' sky handling replaced).
    public static let skyThreshold: Float = 0.3

    /// Whether pixel `i` is sky (false without a sky map).
    public func isSky(_ i: Int) -> Bool { sky.map { $0[i] >= Self.skyThreshold } ?? false }

    /// Creates a result; array sizes must be `width * height` (and `image` the same size).
    public init(width: Int, height: Int, originalWidth: Int, originalHeight: Int, processedWidth: Int, processedHeight: Int,
                depth: [Float], confidence: [Float], intrinsics: Intrinsics, poseEncoding: [Float], image: RGBImage) {
        precondition(depth.count == width * height, "depth does not match the size")
        precondition(confidence.count == width * height, "confidence does not match the size")
        precondition(image.width == width && image.height == height, "image does not match the size")
        self.width = width; self.height = height
        self.originalWidth = originalWidth; self.originalHeight = originalHeight
        self.processedWidth = processedWidth; self.processedHeight = processedHeight
        self.depth = depth; self.confidence = confidence
        self.intrinsics = intrinsics; self.poseEncoding = poseEncoding; self.image = image
    }

    /// A result from maps alone (no original size or pose known): what writers and tests need.
    public init(width: Int, height: Int, depth: [Float], confidence: [Float], intrinsics: Intrinsics,
                image: RGBImage, processedWidth: Int? = nil, processedHeight: Int? = nil) {
        self.init(width: width, height: height, originalWidth: width, originalHeight: height,
                  processedWidth: processedWidth ?? width, processedHeight: processedHeight ?? height,
                  depth: depth, confidence: confidence, intrinsics: intrinsics, poseEncoding: [], image: image)
    }

    /// Itself (writers took a `DepthFrame`; both names are this type).
    public var frame: DepthResult { self }

    /// Writes the result in `format` to `url` atomically.
    public func write(_ format: OutputFormat, to url: URL, options: ExportOptions = .init()) throws {
        try DepthExporter.write(self, as: format, to: url, options: options)
    }

    /// The coloured point cloud in the camera frame (see ``PointCloud/unproject(_:confThreshPercentile:maxPoints:)``).
    public func pointCloud(confThreshPercentile: Double = 40, maxPoints: Int = 1_000_000) -> PointCloud {
        PointCloud.unproject(self, confThreshPercentile: confThreshPercentile, maxPoints: maxPoints)
    }

    /// This result resized to `original` (the input image): maps resized bilinearly, intrinsics scaled.
    public func resized(to original: RGBImage) -> DepthResult {
        let w = original.width, h = original.height
        var out = DepthResult(width: w, height: h, originalWidth: originalWidth, originalHeight: originalHeight,
                              processedWidth: processedWidth, processedHeight: processedHeight,
                              depth: FloatMapResize.bilinear(depth, width: width, height: height, newWidth: w, newHeight: h),
                              confidence: FloatMapResize.bilinear(confidence, width: width, height: height, newWidth: w, newHeight: h),
                              intrinsics: intrinsics.scaled(toWidth: w, height: h), poseEncoding: poseEncoding, image: original)
        out.sky = sky.map { FloatMapResize.bilinear($0, width: width, height: height, newWidth: w, newHeight: h) }
        out.depthKind = depthKind
        out.focalPx = focalPx
        out.scaleFactor = scaleFactor
        return out
    }
}

/// What depth values mean.
public enum DepthKind: String, Sendable, Codable {
    /// Relative depth (scale unknown): the any-view and mono models.
    case relative
    /// DA3METRIC-LARGE's raw output: metres = focal_px * depth / 300 (official FAQ).
    case metricPerFocal = "metric_per_focal"
    /// Metres (the nested model, or Metric-Large converted with a known focal length).
    case metres

    /// Whether the values are metres.
    public var isMetric: Bool { self == .metres }
}

/// The result type under the name the writers used to take.
public typealias DepthFrame = DepthResult
