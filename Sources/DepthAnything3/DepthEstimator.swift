import Foundation
import DA3Kernels
import SafeTensors
import DA3Vulkan

/// The resolution of the maps in a ``DepthResult``.
public enum OutputSize: String, Sendable, CaseIterable {
    /// The network's processed size (each side a multiple of 14), as the official tool outputs.
    case processed
    /// The input image's size: depth and confidence resized bilinearly, intrinsics scaled to match.
    /// Only with the `*_resize` methods (a crop discards part of the input).
    case original
}

/// How an image is prepared for the network (the official `process_res` options) and at which
/// size the results are returned.
public struct EstimationOptions: Sendable {
    /// Target size of the longer (upper bound) or shorter (lower bound) side before rounding to multiples of 14.
    public var processRes: Int
    /// `upper_bound_resize` (default) or `lower_bound_resize` (and the `*_crop` variants).
    public var method: ResizeMethod
    /// Resolution of the returned maps (default: processed).
    public var outputSize: OutputSize
    /// `DepthPipeline`: convert DA3METRIC-LARGE's depth to metres (`MetricDepth`; refused without a
    /// focal length or for a relative-depth model). The nested model is metric already.
    public var metric = false
    /// `DepthPipeline`: where a focal length comes from (for `metric`, and as the intrinsics of a
    /// model without a camera); nil: EXIF only, and only for `metric`.
    public var focal: FocalSource? = nil

    /// Options with the official defaults (504, `upper_bound_resize`) and processed-size output.
    public init(processRes: Int = 504, method: ResizeMethod = .upperBoundResize, outputSize: OutputSize = .processed) {
        self.processRes = processRes
        self.method = method
        self.outputSize = outputSize
    }
}

/// Loads a Depth Anything 3 checkpoint once and estimates depth for many images.
///
/// ```swift
/// let estimator = try DepthEstimator(model: "depth-anything/DA3-SMALL")  // Hub id, directory or file
/// let result = try estimator.estimate(imageAt: URL(fileURLWithPath: "photo.jpg"))
/// print(result.width, result.height, result.intrinsics.fx)
/// ```
public final class DepthEstimator: Sendable {
    /// The loaded network (read-only; safe to share between threads), on the chosen device.
    public let network: any DepthNetwork
    /// Where the weights came from.
    public let location: ModelLocation
    /// What the load did with its `weightCache` (nil without one).
    public let weightCacheStatus: WeightCache.Status?
    /// The precision that runs and why (`.fast` on a CPU where no fast kernel beats FP32 runs exact).
    public let precisionChoice: PrecisionChoice

    /// Loads the checkpoint at `modelPath` (a directory with `model.safetensors`, or the file).
    /// The preset comes from `config` if given, else from `config.json`, else from the weights.
    /// `precision: .fast` trades exactness for speed: on the CPU it runs the fastest reduced-precision
    /// kernel by `fastKernels` (bfloat16 products where a short measurement says they beat FP32, else
    /// the exact kernels; see ``PrecisionChoice``); on Vulkan, FP16 operands with FP32 accumulation
    /// (see `VulkanBackend`). `weightCache` (off by default) keeps the packed weights in a file for faster later loads (CPU).
    /// `device: .vulkan(index:)` runs the network on a Vulkan device (weights uploaded once; see
    /// `VulkanBackend`); it throws `VulkanError` naming the cause where there is no loader, no
    /// device, no such index, or no FP16 for `.fast`.
    public init(modelPath: String, config: ModelConfig? = nil, precision: Precision = .exact,
                fastKernels: FastKernelPolicy = .measured, weightCache: WeightCache? = nil, device: ComputeDevice = .cpu) throws {
        location = try ModelLocation(path: modelPath)
        precisionChoice = try Self.choose(precision, fastKernels: fastKernels, weightCache: weightCache, device: device)
        (network, weightCacheStatus) = try Self.loadNetwork(location, config: config, precision: precisionChoice.used,
                                                            weightCache: weightCache, device: device)
    }

    /// Loads a model by reference: a local directory or `.safetensors` file, or a Hugging Face Hub
    /// id such as `depth-anything/DA3-SMALL` (optionally `@revision`), downloaded into the standard
    /// Hub cache (`HF_HUB_CACHE` / `HF_HOME`; `HF_ENDPOINT`, `HF_TOKEN`, `HF_HUB_OFFLINE` honoured).
    public init(model: String = HubModelReference.defaultModel.repo, hub: HubClient = HubClient(),
                progress: HubProgress? = nil, config: ModelConfig? = nil, precision: Precision = .exact,
                fastKernels: FastKernelPolicy = .measured, weightCache: WeightCache? = nil, device: ComputeDevice = .cpu) throws {
        location = try ModelLocation(reference: model, hub: hub, progress: progress)
        precisionChoice = try Self.choose(precision, fastKernels: fastKernels, weightCache: weightCache, device: device)
        (network, weightCacheStatus) = try Self.loadNetwork(location, config: config, precision: precisionChoice.used,
                                                            weightCache: weightCache, device: device)
    }

    private static func choose(_ precision: Precision, fastKernels: FastKernelPolicy, weightCache: WeightCache?,
                               device: ComputeDevice) throws -> PrecisionChoice {
        guard device == .cpu else {
            if precision.usesInt8 || (precision == .fast && fastKernels != .measured) {
                throw PrecisionError.bf16NeedsCPU
            }
            return .asRequested(precision, reason: precision == .fast ? "the device's FP16 path" : "as requested")
        }
        return try .cpu(precision, policy: fastKernels, cacheDirectory: weightCache?.directory)
    }

    /// "cpu", or "vulkan:N NAME" of the device that runs the network.
    public var deviceLabel: String { network.deviceLabel }

    private static func loadNetwork(_ location: ModelLocation, config: ModelConfig?, precision: Precision,
                                    weightCache: WeightCache?, device: ComputeDevice) throws -> (any DepthNetwork, WeightCache.Status?) {
        if case .vulkan(let index) = device {
            // Open the device first: a missing driver is reported before the weights are read.
            let backend = try VulkanBackend(deviceIndex: index, precision: precision)
            let config = try config ?? location.configuredModel()
            let file = try NestedModelLoading.open(location.weightsURL)
            if try NestedModelLoading.isNested(config, location.weightsURL) {
                return (try NestedDepthAnything3Net(checkpoint: file, config: config, backend: backend), nil)
            }
            return (try DepthAnything3Net(checkpoint: file, config: config, backend: backend), nil)
        }
        let config = try config ?? location.configuredModel()
        if try NestedModelLoading.isNested(config, location.weightsURL) {
            // Two branches in one file: packed per branch, not through the single-network weight cache.
            return (try NestedDepthAnything3Net(checkpoint: NestedModelLoading.open(location.weightsURL), config: config,
                                                backend: CPUBackend(precision: precision)), nil)
        }
        if let weightCache {  // maps the checkpoint itself (header only when the packed file fits)
            return try weightCache.loadNetwork(weights: location.weightsURL, config: config, precision: precision)
        }
        return (try DepthAnything3Network(checkpoint: NestedModelLoading.open(location.weightsURL), config: config,
                                          precision: precision), nil)
    }

    /// Decodes, preprocesses and runs an image file (JPEG or PNG).
    public func estimate(imageAt url: URL, options: EstimationOptions = .init()) throws -> DepthResult {
        try estimate(ImageDecoder.decode(fileAt: url), options: options, name: url.path)
    }

    /// Decodes, preprocesses and runs an encoded image (JPEG or PNG bytes); `name` appears in errors.
    public func estimate(imageData: Data, name: String = "<memory>", options: EstimationOptions = .init()) throws -> DepthResult {
        try estimate(ImageDecoder.decode(data: imageData, name: name), options: options, name: name)
    }

    /// Preprocesses and runs an 8-bit RGB image.
    public func estimate(_ image: RGBImage, options: EstimationOptions = .init()) throws -> DepthResult {
        try estimate(image, options: options, name: "<memory>")
    }

    /// Raw interleaved RGB pixels (`width * height * 3` bytes, rows top to bottom).
    public func estimate(rgb pixels: [UInt8], width: Int, height: Int, options: EstimationOptions = .init()) throws -> DepthResult {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw ImageError(file: "<memory>", reason: "pixel buffer of \(pixels.count) bytes does not match \(width)x\(height)x3")
        }
        return try estimate(RGBImage(width: width, height: height, pixels: pixels), options: options)
    }

    private func estimate(_ image: RGBImage, options: EstimationOptions, name: String) throws -> DepthResult {
        if options.outputSize == .original, options.method == .upperBoundCrop || options.method == .lowerBoundCrop {
            throw ImageError(file: name, reason: "output size 'original' needs a *_resize method (\(options.method.rawValue) crops the input)")
        }
        let prepared = try ImagePreparation.official(image, options: options, file: name)
        let result = try estimate(prepared)
        return options.outputSize == .original ? result.resized(to: image) : result
    }

    /// Runs an already preprocessed image; `observer` (optional) sees each network stage as it
    /// completes (for progress and timing; full-resolution intermediate maps are not built).
    public func estimate(_ prepared: PreparedImage, observer: StageObserver? = nil) throws -> DepthResult {
        let out = try network.checkedForward(prepared.tensor, height: prepared.height, width: prepared.width,
                                             observer: observer, captureFullResolution: false)
        var result = DepthResult(width: out.width, height: out.height,
                                 originalWidth: prepared.originalWidth, originalHeight: prepared.originalHeight,
                                 processedWidth: out.width, processedHeight: out.height,
                                 depth: out.depth, confidence: out.confidence,
                                 intrinsics: out.intrinsics, poseEncoding: out.poseEncoding, image: prepared.image)
        result.sky = out.sky
        result.scaleFactor = out.scaleFactor
        if out.isMetric {
            // The nested model: metres, scaled through the focal length of its own camera.
            result.depthKind = .metres
            result.focalPx = (out.intrinsics.fx + out.intrinsics.fy) / 2
        } else if network.config.metricPerFocal {
            result.depthKind = .metricPerFocal
        }
        return result
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
