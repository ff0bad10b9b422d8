import Foundation

/// One image through the whole chain: decode → prepare → estimate → resize to the original size
/// (when asked) → encode → write, reporting each stage as it ends (for progress bars and
/// `--timings`). The model loads on another thread from the moment the pipeline is made, so that
/// decoding and, for the official preparation, preprocessing the first image overlap with it; the
/// load's outcome is only looked at when an image needs the model.
public final class DepthPipeline: @unchecked Sendable {
    /// A finished stage: its name (`decode`, `load model`, `preprocess`, the network's own stages,
    /// `inference`, `resize`, `encode`, `write`) and its wall time.
    public struct Event: Sendable {
        public let stage: String
        public let milliseconds: Double
    }

    /// The model could not be loaded: this ends a batch, unlike a bad image.
    public struct ModelLoadFailure: Error, CustomStringConvertible {
        public let underlying: Error
        public var description: String { "\(underlying)" }
    }

    /// How images are prepared and at which size results are returned.
    public let options: EstimationOptions
    private let preparation: ImagePreparation
    private let loaded = DispatchGroup()
    private var outcome: Result<any DepthEstimating, Error>?
    /// Wall time of the model load (0 until it has finished).
    public private(set) var loadMilliseconds = 0.0
    /// Whether the wait for the model was reported (to the first image's events only).
    private var loadReported = false
    private let lock = NSLock()

    /// A pipeline whose model `load` runs on another thread, started now. `preparation` says
    /// whether images can be prepared before the model is there (see ``ImagePreparation``).
    public init(options: EstimationOptions = .init(), preparation: ImagePreparation,
                load: @escaping @Sendable () throws -> any DepthEstimating) {
        self.options = options
        self.preparation = preparation
        loaded.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = Result { try load() }
            self.loadMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            self.outcome = result
            self.loaded.leave()
        }
    }

    /// A pipeline around an estimator that is already loaded.
    public convenience init(estimator: any DepthEstimating, options: EstimationOptions = .init()) {
        self.init(options: options, preparation: estimator.preparation) { estimator }
    }

    /// The estimator, once loaded (waits for the load).
    /// - Throws: ``ModelLoadFailure`` with the load's error.
    public func estimator() throws -> any DepthEstimating {
        loaded.wait()
        do {
            return try outcome!.get()
        } catch {
            throw ModelLoadFailure(underlying: error)
        }
    }

    /// Decodes, prepares and estimates the image at `url`, resized to the input size when
    /// ``EstimationOptions/outputSize`` is ``OutputSize/original``.
    /// - Throws: ``ImageError`` for the image, ``ModelLoadFailure``, or the estimator's error.
    public func estimate(imageAt url: URL, events: ((Event) -> Void)? = nil) throws -> DepthResult {
        var clock = StageTimer(events)
        let image = try ImageDecoder.decode(fileAt: url)
        clock.mark("decode")
        var prepared: PreparedImage?
        if preparation == .official {
            prepared = try ImagePreparation.official(image, options: options, file: url.path)
            clock.mark("preprocess")
        }
        if let prepared { prefaultWhileLoading(for: prepared) }
        let estimator = try self.estimator()
        let firstWait = lock.withLock { () -> Bool in
            defer { loadReported = true }
            return !loadReported
        }
        if firstWait { clock.mark("load model") }
        if prepared == nil {
            prepared = try estimator.prepare(image, options: options, file: url.path)
            clock.mark("preprocess")
        }
        let observer: StageObserver? = events == nil ? nil : { name, _ in clock.mark(name) }
        let inferenceStart = DispatchTime.now().uptimeNanoseconds
        var result = try estimator.estimate(prepared!, observer: observer)
        clock.report("inference", since: inferenceStart)
        if options.metric || options.focal != nil {
            let model = (estimator as? DepthEstimator)?.network.config.name ?? "this model"
            result = try MetricDepth.apply(to: result, focal: options.focal ?? FocalSource(), convert: options.metric,
                                           modelName: model, method: options.method, imageFile: url, name: url.path)
        }
        if options.outputSize == .original {
            result = result.resized(to: image)
            clock.mark("resize")
        }
        return result
    }

    /// Heap bytes a DA3-Small forward pass maps per input pixel (its activations and feature maps:
    /// measured ~28 MB at 504 x 280 and ~82 MB at 896 x 504 with glibc's mallinfo2). Larger models
    /// need more; prefaulting less than a forward uses only leaves the rest to fault in as before.
    static let forwardHeapBytesPerPixel = 192

    /// While the model is still loading on its other thread, this thread would only wait: it maps
    /// the heap memory the first forward pass will write instead (see
    /// ``AllocatorTuning/prefaultHeap(upTo:while:)``), up to what the pass needs and only until the
    /// load ends. No result changes: only where the pages are first touched.
    private func prefaultWhileLoading(for prepared: PreparedImage) {
        guard loaded.wait(timeout: .now()) == .timedOut else { return }
        let bytes = Self.forwardHeapBytesPerPixel * prepared.height * prepared.width
        AllocatorTuning.prefaultHeap(upTo: bytes) { loaded.wait(timeout: .now()) == .timedOut }
    }

    /// Estimates the image at `url` and writes `outputs` for it: every file is encoded first and
    /// then written atomically, so a failure leaves no file of this image. Returns the result and
    /// the files written.
    @discardableResult
    public func process(imageAt url: URL, outputs: OutputSet,
                        events: ((Event) -> Void)? = nil) throws -> (result: DepthResult, files: [URL]) {
        let result = try estimate(imageAt: url, events: events)
        var clock = StageTimer(events)
        let encoded = try outputs.encode(result)
        clock.mark("encode")
        let written = try OutputSet.write(encoded)
        clock.mark("write")
        return (result, written)
    }
}

/// Times consecutive stages and reports each to an event handler.
private struct StageTimer {
    private let handler: ((DepthPipeline.Event) -> Void)?
    private var last = DispatchTime.now().uptimeNanoseconds

    init(_ handler: ((DepthPipeline.Event) -> Void)?) { self.handler = handler }

    /// Reports the time since the previous mark as `stage`.
    mutating func mark(_ stage: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        handler?(.init(stage: stage, milliseconds: Double(now - last) / 1e6))
        last = now
    }

    /// Reports the time since `start` as `stage` (a span that contains other marks).
    mutating func report(_ stage: String, since start: UInt64) {
        let now = DispatchTime.now().uptimeNanoseconds
        last = now
        handler?(.init(stage: stage, milliseconds: Double(now - start) / 1e6))
    }
}
