import Foundation

/// What the pipeline needs of an estimator: the native engine (``DepthEstimator``) and LiteRT
/// (``LiteRTDepthEstimator``) alike, and any later backend.
public protocol DepthEstimating: AnyObject, Sendable {
    /// How images are prepared for it: ``ImagePreparation/official`` when the preparation depends
    /// only on the options (it can then run while the model is still loading), or
    /// ``ImagePreparation/byEstimator`` when the model decides (a fixed input size).
    var preparation: ImagePreparation { get }
    /// Prepares a decoded image for this estimator (`file` names it in errors).
    func prepare(_ image: RGBImage, options: EstimationOptions, file: String) throws -> PreparedImage
    /// Runs a prepared image; `observer` (optional) sees each network stage as it completes.
    func estimate(_ prepared: PreparedImage, observer: StageObserver?) throws -> DepthResult
}

/// Who prepares images for an estimator.
public enum ImagePreparation: Sendable {
    /// The official input processing (`process_res`, resize method): known before the model loads.
    case official
    /// The estimator's own (e.g. a `.tflite` of one fixed size).
    case byEstimator

    /// The official preparation of `image` for `options` (`file` names it in errors).
    public static func official(_ image: RGBImage, options: EstimationOptions, file: String) throws -> PreparedImage {
        try Preprocessor(processRes: options.processRes, method: options.method).prepare(image, file: file)
    }
}

extension DepthEstimator: DepthEstimating {
    public var preparation: ImagePreparation { .official }

    public func prepare(_ image: RGBImage, options: EstimationOptions, file: String) throws -> PreparedImage {
        try ImagePreparation.official(image, options: options, file: file)
    }
}

extension LiteRTDepthEstimator: DepthEstimating {
    public var preparation: ImagePreparation { .byEstimator }

    public func prepare(_ image: RGBImage, options: EstimationOptions, file: String) throws -> PreparedImage {
        try prepare(image, file: file)
    }

    public func estimate(_ prepared: PreparedImage, observer: StageObserver?) throws -> DepthResult {
        try estimate(prepared)
    }
}
