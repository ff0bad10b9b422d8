import DepthAnything3
import Foundation

/// Loads the native model on another thread, started before the first image is decoded, so that
/// decoding and preprocessing overlap with reading and packing the weights. The outcome (model or
/// error) is only looked at when an image needs the model, as before: a batch whose images all
/// fail to decode still reports only those failures.
final class BackgroundModelLoad: @unchecked Sendable {
    private let done = DispatchGroup()
    private var outcome: Result<(estimator: DepthEstimator, origin: String), Error>?
    /// Wall time of the load itself (for the JSON summary).
    private(set) var milliseconds = 0.0

    init(model: String, precision: Precision, weightCache: WeightCache?, quiet: Bool, device: ComputeDevice = .cpu) {
        done.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            let start = DispatchTime.now().uptimeNanoseconds
            self.outcome = Result {
                let location = try ModelLoading.locate(model, quiet: quiet)
                let estimator = try DepthEstimator(modelPath: location.weightsURL.path, config: location.configuredModel(),
                                                   precision: precision, weightCache: weightCache, device: device)
                return (estimator, location.origin)
            }
            self.milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            self.done.leave()
        }
    }

    /// Waits for the load and returns the model and its origin, or throws the load's error.
    func wait() throws -> (estimator: DepthEstimator, origin: String) {
        done.wait()
        return try outcome!.get()
    }
}
