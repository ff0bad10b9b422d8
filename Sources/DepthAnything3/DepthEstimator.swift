import Foundation
import SafeTensors

/// How an image is prepared for the network (the official `process_res` options).
public struct EstimationOptions: Sendable {
    /// Target size of the longer (upper bound) or shorter (lower bound) side before rounding to multiples of 14.
    public var processRes: Int
    /// `upper_bound_resize` (default) or `lower_bound_resize` (and the `*_crop` variants).
    public var method: ResizeMethod

    public init(processRes: Int = 504, method: ResizeMethod = .upperBoundResize) {
        self.processRes = processRes
        self.method = method
    }
}

/// Depth, confidence and intrinsics for one image, at the processed size.
public struct DepthResult: Sendable {
    /// Processed image size (both multiples of 14).
    public let width: Int, height: Int
    /// Size of the input image before preprocessing.
    public let originalWidth: Int, originalHeight: Int
    /// Depth, row-major `height x width`.
    public let depth: [Float]
    /// Confidence (>= 1), row-major `height x width`.
    public let confidence: [Float]
    /// Focal lengths and principal point in processed-image pixels.
    public let intrinsics: Intrinsics
    /// Raw camera decoder output: translation (3), quaternion xyzw (4), fov_h, fov_w (radians).
    public let poseEncoding: [Float]
}

/// Loads a Depth Anything 3 checkpoint once and estimates depth for many images.
///
/// ```swift
/// let estimator = try DepthEstimator(modelPath: "DA3-SMALL")  // dir with model.safetensors, or the file
/// let result = try estimator.estimate(imageAt: URL(fileURLWithPath: "photo.jpg"))
/// print(result.width, result.height, result.intrinsics.fx)
/// ```
public final class DepthEstimator: Sendable {
    /// The loaded network (read-only; safe to share between threads).
    public let network: DepthAnything3Network
    /// Where the weights came from.
    public let location: ModelLocation

    /// Loads the checkpoint at `modelPath` (a directory with `model.safetensors`, or the file).
    /// The preset comes from `config` if given, else from `config.json`, else from the weights.
    public init(modelPath: String, config: ModelConfig? = nil) throws {
        location = try ModelLocation(path: modelPath)
        let file = try SafeTensorsFile(url: location.weightsURL)
        network = try DepthAnything3Network(checkpoint: file, config: config ?? location.configuredModel())
    }

    /// Decodes, preprocesses and runs an image file (JPEG or PNG).
    public func estimate(imageAt url: URL, options: EstimationOptions = .init()) throws -> DepthResult {
        let image = try ImageDecoder.decode(fileAt: url)
        let prepared = try Preprocessor(processRes: options.processRes, method: options.method).prepare(image, file: url.path)
        return estimate(prepared)
    }

    /// Preprocesses and runs an 8-bit RGB image.
    public func estimate(_ image: RGBImage, options: EstimationOptions = .init()) throws -> DepthResult {
        let prepared = try Preprocessor(processRes: options.processRes, method: options.method).prepare(image)
        return estimate(prepared)
    }

    /// Runs an already preprocessed image; `observer` (optional) sees each network stage as it completes.
    public func estimate(_ prepared: PreparedImage, observer: StageObserver? = nil) -> DepthResult {
        let out = network.forward(prepared.tensor, height: prepared.height, width: prepared.width, observer: observer)
        return DepthResult(width: out.width, height: out.height,
                           originalWidth: prepared.originalWidth, originalHeight: prepared.originalHeight,
                           depth: out.depth, confidence: out.confidence,
                           intrinsics: out.intrinsics, poseEncoding: out.poseEncoding)
    }
}

extension Preprocessor {
    /// `prepare`, with errors naming `file` instead of the in-memory image.
    public func prepare(_ image: RGBImage, file: String) throws -> PreparedImage {
        do {
            return try prepare(image)
        } catch let error as ImageError {
            throw ImageError(file: file, reason: error.reason)
        }
    }
}
