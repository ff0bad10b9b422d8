// Mirrors the official Depth Anything 3 `InputProcessor._process_one`
// (depth_anything_3/utils/io/input_processor.py): boundary resize (`_resize_longest_side` /
// `_resize_shortest_side`), then `_make_divisible_by_resize` or `_make_divisible_by_crop`,
// then `_normalize_image`.

/// How the image is fitted to `process_res` (`process_res_method` of the official code).
public enum ResizeMethod: String, Sendable, CaseIterable {
    /// Longest side to `process_res`, then each side resized to the nearest multiple of 14.
    case upperBoundResize = "upper_bound_resize"
    /// Shortest side to `process_res`, then each side resized to the nearest multiple of 14.
    case lowerBoundResize = "lower_bound_resize"
    /// Longest side to `process_res`, then each side center-cropped down to a multiple of 14.
    case upperBoundCrop = "upper_bound_crop"
    /// Shortest side to `process_res`, then each side center-cropped down to a multiple of 14.
    case lowerBoundCrop = "lower_bound_crop"

    var boundsLongestSide: Bool { self == .upperBoundResize || self == .upperBoundCrop }
    var crops: Bool { self == .upperBoundCrop || self == .lowerBoundCrop }
}

/// One image after the official preprocessing.
public struct PreparedImage: Sendable {
    /// Width of the decoded input before any resizing.
    public let originalWidth: Int
    /// Height of the decoded input before any resizing.
    public let originalHeight: Int
    /// Processed uint8 image (sides multiples of 14).
    public let image: RGBImage
    /// Processed width (a multiple of 14).
    public var width: Int { image.width }
    /// Processed height (a multiple of 14).
    public var height: Int { image.height }
    /// Normalized planar CHW float32 tensor (3 x height x width).
    public let tensor: [Float]

    /// Bundles a processed image with its tensor.
    public init(originalWidth: Int, originalHeight: Int, image: RGBImage, tensor: [Float]) {
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
        self.image = image
        self.tensor = tensor
    }
}

/// The official Depth Anything 3 input processor for one image.
public struct Preprocessor: Sendable {
    /// ViT patch size; processed sides are multiples of it.
    public static let patchSize = 14
    /// Largest accepted `processRes`.
    public static let maxProcessRes = 8192

    /// Target size of the bounded side (`process_res`).
    public let processRes: Int
    /// Fitting method (`process_res_method`).
    public let method: ResizeMethod

    /// - Throws: ``ImageError`` (file `"<config>"`) if `processRes` is below 1 or above ``maxProcessRes``.
    public init(processRes: Int = 504, method: ResizeMethod = .upperBoundResize) throws {
        guard processRes >= 1 && processRes <= Preprocessor.maxProcessRes else {
            throw ImageError(file: "<config>", reason: "process_res must be in 1...\(Preprocessor.maxProcessRes), got \(processRes)")
        }
        self.processRes = processRes
        self.method = method
    }

    /// Size after the boundary resize (`_resize_longest_side` / `_resize_shortest_side`).
    func boundarySize(width w: Int, height h: Int) -> (width: Int, height: Int, interpolation: Interpolation)? {
        let bound = method.boundsLongestSide ? max(w, h) : min(w, h)
        if bound == processRes { return nil }
        let scale = Double(processRes) / Double(bound)
        let nw = max(1, Int((Double(w) * scale).rounded(.toNearestOrEven)))
        let nh = max(1, Int((Double(h) * scale).rounded(.toNearestOrEven)))
        return (nw, nh, scale > 1.0 ? .cubic : .area)
    }

    /// `nearest_multiple` of `_make_divisible_by_resize` (ties go up), at least 1.
    static func nearestMultiple(_ x: Int, _ p: Int) -> Int {
        let down = (x / p) * p
        let up = down + p
        return max(1, abs(up - x) <= abs(x - down) ? up : down)
    }

    /// Processed size for an input of `width` x `height`, without doing any work.
    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) {
        var w = width, h = height
        if let b = boundarySize(width: w, height: h) { w = b.width; h = b.height }
        let p = Preprocessor.patchSize
        if method.crops { return ((w / p) * p, (h / p) * p) }
        return (Preprocessor.nearestMultiple(w, p), Preprocessor.nearestMultiple(h, p))
    }

    /// Runs the official preprocessing on `image`.
    /// - Throws: ``ImageError`` if the input is empty or the result would be smaller than one patch.
    public func prepare(_ image: RGBImage) throws -> PreparedImage {
        guard image.width > 0 && image.height > 0 else {
            throw ImageError(file: "<memory>", reason: "image has zero size (\(image.width)x\(image.height))")
        }
        let p = Preprocessor.patchSize
        let size = outputSize(width: image.width, height: image.height)
        guard size.width >= p && size.height >= p else {
            throw ImageError(file: "<memory>", reason: "image of \(image.width)x\(image.height) gives \(size.width)x\(size.height) at process_res \(processRes) (\(method.rawValue)), smaller than one \(p)x\(p) patch")
        }
        var img = image
        if let b = boundarySize(width: img.width, height: img.height) {
            img = OpenCVResize.resize(img, width: b.width, height: b.height, interpolation: b.interpolation)
        }
        if method.crops {
            let nw = (img.width / p) * p, nh = (img.height / p) * p
            if nw != img.width || nh != img.height {
                img = img.cropped(x: (img.width - nw) / 2, y: (img.height - nh) / 2, width: nw, height: nh)
            }
        } else {
            let nw = Preprocessor.nearestMultiple(img.width, p), nh = Preprocessor.nearestMultiple(img.height, p)
            if nw != img.width || nh != img.height {
                let upscale = nw > img.width || nh > img.height
                img = OpenCVResize.resize(img, width: nw, height: nh, interpolation: upscale ? .cubic : .area)
            }
        }
        return PreparedImage(originalWidth: image.width, originalHeight: image.height,
                             image: img, tensor: Preprocessor.normalize(img))
    }
}
