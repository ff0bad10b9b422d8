import DA3Image
import Foundation

/// Where the focal length for metric depth (and for point clouds of models without a camera) comes
/// from, in pixels of the INPUT image. Precedence: `pixels`, then `intrinsics`, then the image's EXIF.
///
/// The EXIF rule: `FocalLengthIn35mmFilm` (tag 0xA405) is the focal length a 36 x 24 mm frame
/// would need for the same field of view, so f_px = f35 / 36 * max(width, height) of the image as
/// stored (the longer side spans the 36 mm side). Images without the tag give no focal length.
public struct FocalSource: Sendable, Equatable {
    /// `--focal-px`: fx = fy in input-image pixels.
    public var pixels: Double?
    /// `--intrinsics-in`: fx, fy in pixels of an image of `width x height` (nil: the input image).
    public var intrinsics: (fx: Double, fy: Double, width: Int?, height: Int?)?
    /// Read the EXIF 35 mm-equivalent focal length when nothing else is given.
    public var useEXIF: Bool

    public init(pixels: Double? = nil, intrinsics: (fx: Double, fy: Double, width: Int?, height: Int?)? = nil,
                useEXIF: Bool = true) {
        self.pixels = pixels
        self.intrinsics = intrinsics
        self.useEXIF = useEXIF
    }

    public static func == (a: FocalSource, b: FocalSource) -> Bool {
        a.pixels == b.pixels && a.useEXIF == b.useEXIF && a.intrinsics?.fx == b.intrinsics?.fx
            && a.intrinsics?.fy == b.intrinsics?.fy && a.intrinsics?.width == b.intrinsics?.width
            && a.intrinsics?.height == b.intrinsics?.height
    }

    /// Reads `K.json`: `{"fx", "fy"[, "cx", "cy", "width", "height"]}` (the `intrinsics` format of
    /// `da3 depth`; width/height name the image the values are for) or a 3x3 matrix `[[fx,0,cx],[0,fy,cy],[0,0,1]]`.
    public static func intrinsics(fromJSONAt url: URL) throws -> (fx: Double, fy: Double, width: Int?, height: Int?) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FileError(file: url.path, reason: "cannot read the file")
        }
        let json = try? JSONSerialization.jsonObject(with: data)
        if let object = json as? [String: Any], let fx = (object["fx"] as? NSNumber)?.doubleValue,
           let fy = (object["fy"] as? NSNumber)?.doubleValue, fx > 0, fy > 0 {
            return (fx, fy, (object["width"] as? NSNumber)?.intValue, (object["height"] as? NSNumber)?.intValue)
        }
        if let rows = json as? [[NSNumber]], rows.count == 3, rows.allSatisfy({ $0.count == 3 }),
           rows[0][0].doubleValue > 0, rows[1][1].doubleValue > 0 {
            return (rows[0][0].doubleValue, rows[1][1].doubleValue, nil, nil)
        }
        throw FileError(file: url.path, reason: "expected {\"fx\": ..., \"fy\": ...} (positive) or a 3x3 intrinsics matrix")
    }

    /// (fx, fy) in pixels of the input image (`width x height`), or nil when unknown.
    func focal(imageWidth: Int, imageHeight: Int, imageFile: URL?) -> (fx: Double, fy: Double)? {
        if let pixels { return (pixels, pixels) }
        if let k = intrinsics {
            let sx = k.width.map { Double(imageWidth) / Double($0) } ?? 1
            let sy = k.height.map { Double(imageHeight) / Double($0) } ?? 1
            return (k.fx * sx, k.fy * sy)
        }
        if useEXIF, let imageFile, let data = try? Data(contentsOf: imageFile),
           let mm = EXIFFocalLength.millimetres35(jpeg: data) {
            let f = mm / 36 * Double(max(imageWidth, imageHeight))
            return (f, f)
        }
        return nil
    }
}

/// `--metric`: DA3METRIC-LARGE's output in metres, metres = focal_px * depth / 300 (official FAQ),
/// focal_px = (fx + fy) / 2 of the processed image (as `apply_metric_scaling`).
public enum MetricDepth {
    /// Why depth cannot be made metric.
    public struct Refusal: Error, CustomStringConvertible {
        public let file: String, reason: String
        public var description: String { "\(file): \(reason)" }
    }

    /// Gives a model without a camera the intrinsics of the known focal length (principal point at
    /// the centre), and with `convert` turns Metric-Large depth into metres. `result` is at the
    /// processed size; `method` must be a *_resize one for the focal length to carry over.
    public static func apply(to result: DepthResult, focal source: FocalSource, convert: Bool, modelName: String,
                             method: ResizeMethod, imageFile: URL?, name: String) throws -> DepthResult {
        var out = result
        if convert {
            switch result.depthKind {
            case .metres:
                return out  // the nested model is metric already
            case .relative:
                let hint = modelName == ModelConfig.metricOrMonoLargeName
                    ? "its config.json does not say whether it is da3metric-large or da3mono-large (same tensors): add config.json with \"model_name\": \"da3metric-large\""
                    : "\(modelName) predicts relative depth; metric depth needs da3metric-large or da3nested-giant-large"
                throw Refusal(file: name, reason: "--metric: \(hint)")
            case .metricPerFocal:
                break
            }
        }
        let hasCamera = result.intrinsics.fx > 0 && result.intrinsics.fy > 0
        guard convert || !hasCamera else { return out }
        guard let f = source.focal(imageWidth: result.originalWidth, imageHeight: result.originalHeight, imageFile: imageFile) else {
            if convert {
                throw Refusal(file: name, reason: "--metric needs the focal length: give --focal-px, --intrinsics-in K.json, or an image with an EXIF 35 mm-equivalent focal length (FocalLengthIn35mmFilm)")
            }
            return out
        }
        if method == .upperBoundCrop || method == .lowerBoundCrop {
            throw Refusal(file: name, reason: "a focal length carries over to the processed image only with a *_resize --process-res-method (\(method.rawValue) crops)")
        }
        let fx = f.fx * Double(result.processedWidth) / Double(result.originalWidth)
        let fy = f.fy * Double(result.processedHeight) / Double(result.originalHeight)
        if !hasCamera {
            out.intrinsics = Intrinsics(fx: fx, fy: fy, cx: Double(result.width) / 2, cy: Double(result.height) / 2,
                                        width: result.width, height: result.height)
        }
        if convert {
            // As apply_metric_scaling: float32 depth * (focal / 300).
            let scale = Float((Float(fx) + Float(fy)) / 2) / 300
            out.depth = result.depth.map { $0 * scale }
            out.depthKind = .metres
            out.focalPx = (fx + fy) / 2
        }
        return out
    }
}
