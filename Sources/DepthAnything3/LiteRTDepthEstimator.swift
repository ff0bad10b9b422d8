import Foundation
@_exported import DA3LiteRT

/// Depth from a DA3 `.tflite` (made by `tools/litert/convert.py`, exported from the official
/// module, or the LiteRT GPU model card's file) run through the LiteRT CompiledModel C API.
///
/// The model takes one float32 image, ImageNet-normalized, in any of the layouts of
/// ``LiteRTInputLayout``: NCHW (1, 3, H, W), the official module's (1, 1, 3, H, W), or NHWC
/// (1, H, W, 3). Depth is the output of H x W values shaped (1, 1, H, W), (1, H, W),
/// (1, 1, 1, H, W) or (1, H, W, 1), picked by name (`depth`) where the model names it, else by
/// shape (the first such output); an output named like `conf` of the same size is the confidence
/// (all ones otherwise). ``depthOutput`` says which output was chosen and why.
/// Images are prepared with the native engine's preprocessing (``Preprocessor``, OpenCV-exact
/// resizing, the same normalization): when the official `upper_bound_resize` at
/// `process_res = max(H, W)` gives exactly W x H (an image of the model's aspect) that path is used
/// unchanged, so the input equals the native engine's; otherwise the image is resized directly to
/// W x H (INTER_CUBIC when a side grows, INTER_AREA otherwise, the official rule) as the model
/// card prescribes.
///
/// Such a model has no camera head: ``DepthResult/poseEncoding`` is empty and the intrinsics
/// have `fx = fy = 0` (unknown), principal point at the centre.
///
/// `libLiteRt.so` comes from the PyPI wheel `ai-edge-litert` and is loaded at run time (see
/// ``LiteRTRuntime``); without it the initializer throws ``LiteRTError/libraryNotFound(searched:)``.
public final class LiteRTDepthEstimator: Sendable {
    /// The compiled model.
    public let model: LiteRTCompiledModel
    /// The model's fixed input size.
    public let width: Int, height: Int
    /// How the model's input is laid out.
    public let inputLayout: LiteRTInputLayout
    /// The output read as depth, and why it was chosen.
    public let depthOutput: LiteRTOutputChoice
    /// The output read as confidence (by name), if any.
    public let confidenceOutput: Int?

    /// Loads `modelPath` (a `.tflite`) and compiles it for `accelerator` (`threads`: CPU threads,
    /// default all active processors; `gpuPrecision`: the GPU delegate's arithmetic).
    /// - Throws: ``LiteRTError`` (runtime absent, unsupported model with the shapes found, no GPU
    ///   adapter, operators the GPU delegate refuses).
    public init(modelPath: String, accelerator: LiteRTAccelerator = .cpu, threads: Int? = nil,
                gpuPrecision: LiteRTGPUPrecision = .fp32) throws {
        let m = try LiteRTCompiledModel(path: modelPath, accelerator: accelerator, threads: threads, gpuPrecision: gpuPrecision)
        let io = try LiteRTModelIO(inputs: m.inputs, outputs: m.outputs)
        model = m
        width = io.width
        height = io.height
        inputLayout = io.layout
        depthOutput = io.depth
        confidenceOutput = io.confidence
    }

    /// Prepares `image` for the model's fixed W x H (see the type's documentation).
    public func prepare(_ image: RGBImage, file: String = "<memory>") throws -> PreparedImage {
        guard image.width > 0 && image.height > 0 else {
            throw ImageError(file: file, reason: "image has zero size (\(image.width)x\(image.height))")
        }
        let pre = try Preprocessor(processRes: max(width, height), method: .upperBoundResize)
        let size = pre.outputSize(width: image.width, height: image.height)
        if size.width == width && size.height == height {
            return try pre.prepare(image, file: file)
        }
        var img = image
        if img.width != width || img.height != height {
            let up = width > img.width || height > img.height
            img = OpenCVResize.resize(img, width: width, height: height, interpolation: up ? .cubic : .area)
        }
        return PreparedImage(originalWidth: image.width, originalHeight: image.height, image: img,
                             tensor: Preprocessor.normalize(img))
    }

    /// Decodes, prepares and runs an image file (JPEG or PNG).
    public func estimate(imageAt url: URL, outputSize: OutputSize = .processed) throws -> DepthResult {
        try estimate(ImageDecoder.decode(fileAt: url), outputSize: outputSize, name: url.path)
    }

    /// Prepares and runs an 8-bit RGB image; with `.original` the depth is resized back to the input size.
    public func estimate(_ image: RGBImage, outputSize: OutputSize = .processed, name: String = "<memory>") throws -> DepthResult {
        let result = try estimate(prepare(image, file: name))
        return outputSize == .original ? result.resized(to: image) : result
    }

    /// Runs an already prepared image of the model's size.
    public func estimate(_ prepared: PreparedImage) throws -> DepthResult {
        guard prepared.width == width && prepared.height == height else {
            throw LiteRTError.unsupportedModel("the model takes \(width)x\(height) images, this one is \(prepared.width)x\(prepared.height) (use prepare(_:))")
        }
        let outputs = try model.run([inputLayout.arrange(chw: prepared.tensor, width: width, height: height)])
        let depth = outputs[depthOutput.index]
        try Self.checkUsable(depth, accelerator: model.accelerator, gpuPrecision: model.gpuPrecision)
        let confidence = confidenceOutput.map { outputs[$0] } ?? [Float](repeating: 1, count: depth.count)
        let k = Intrinsics(fx: 0, fy: 0, cx: Double(width) / 2, cy: Double(height) / 2, width: width, height: height)
        return DepthResult(width: width, height: height,
                           originalWidth: prepared.originalWidth, originalHeight: prepared.originalHeight,
                           processedWidth: width, processedHeight: height,
                           depth: depth, confidence: confidence,
                           intrinsics: k, poseEncoding: [], image: prepared.image)
    }

    /// An accelerator that fails silently must not produce a depth file. Seen: SwiftShader at
    /// `--gpu-precision fp16` returns all zeros for DA3-Small at 504 x 280 and a map of ones (zero
    /// logits) at 168 x 168; a network's depth is never one value everywhere.
    static func checkUsable(_ depth: [Float], accelerator: LiteRTAccelerator, gpuPrecision: LiteRTGPUPrecision?) throws {
        let where_ = "\(accelerator.rawValue)" + (gpuPrecision.map { " at GPU precision \($0.rawValue)" } ?? "")
        if let bad = depth.first(where: { !$0.isFinite }) {
            throw LiteRTError.unusableOutput("the depth map holds \(bad) (\(where_)); try --gpu-precision fp32 or --accelerator cpu")
        }
        if let first = depth.first, depth.count > 1, !depth.contains(where: { $0 != first }) {
            let what = first == 0 ? "all zeros" : "\(first) everywhere"
            throw LiteRTError.unusableOutput("the depth map is \(what) (\(where_)); the accelerator failed silently; "
                                             + "try --gpu-precision fp32 or --accelerator cpu")
        }
    }
}
