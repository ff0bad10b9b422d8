import ArgumentParser
import DepthAnything3
import Foundation

/// `da3 depth`: metric depth and the focal length it needs.
struct MetricOptions: ParsableArguments {
    @Flag(name: .long, help: "Convert DA3METRIC-LARGE's depth to metres (metres = focal_px * output / 300, focal_px of the processed image); refused without a focal length or for a relative-depth model. The nested model's depth is metric already.")
    var metric = false

    @Option(name: .customLong("focal-px"), help: ArgumentHelp("Focal length in pixels of the input image (fx = fy), for --metric and as the camera of models without one (ply/glb).", valueName: "pixels"))
    var focalPx: Double?

    @Option(name: .customLong("intrinsics-in"), help: ArgumentHelp("Intrinsics of the input image: JSON {\"fx\", \"fy\"[, \"width\", \"height\"]} (the --intrinsics format) or a 3x3 matrix; used like --focal-px.", valueName: "K.json"))
    var intrinsicsIn: String?

    @Flag(name: .customLong("no-exif"), help: "Do not read the focal length from the images' EXIF.")
    var noEXIF = false

    /// Adds the validated choice to `options`.
    func apply(to options: inout EstimationOptions) throws {
        if let focalPx, !(focalPx > 0 && focalPx.isFinite) { throw UsageError("--focal-px must be a positive number of pixels, got \(focalPx)") }
        if focalPx != nil && intrinsicsIn != nil { throw UsageError("give --focal-px or --intrinsics-in, not both") }
        options.metric = metric
        let intrinsics = try intrinsicsIn.map { path -> (fx: Double, fy: Double, width: Int?, height: Int?) in
            do {
                return try FocalSource.intrinsics(fromJSONAt: URL(fileURLWithPath: path))
            } catch let error as FileError {
                throw UsageError("--intrinsics-in \(error.file): \(error.reason)")
            }
        }
        if metric || focalPx != nil || intrinsics != nil {
            options.focal = FocalSource(pixels: focalPx, intrinsics: intrinsics, useEXIF: !noEXIF)
        }
    }
}
