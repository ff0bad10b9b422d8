import Foundation
import SafeTensors

/// What `da3 info` reports about a checkpoint.
public struct ModelInfo: Sendable, Codable {
    /// Preset name (`da3-small`, ...) from config.json or inferred from the weights.
    public let preset: String
    /// Total number of values over all tensors in the file.
    public let parameters: Int
    /// Number of tensors per dtype (`F32`, `F16`, ...).
    public let dtypes: [String: Int]
    /// Parameters per dtype.
    public let parametersByDtype: [String: Int]
    /// Size of the safetensors file in bytes.
    public let fileSize: Int
    /// Path of the safetensors file.
    public let weights: String
    /// Where it was loaded from (path, or Hub id, commit and source).
    public let origin: String

    /// Reads the header of the checkpoint at `location` and infers the preset.
    public init(location: ModelLocation) throws {
        let file = try SafeTensorsFile(url: location.weightsURL, populate: false)  // the header only
        var dtypes: [String: Int] = [:], params: [String: Int] = [:]
        for info in file.tensors.values {
            dtypes[info.dtype.rawValue, default: 0] += 1
            params[info.dtype.rawValue, default: 0] += info.count
        }
        preset = try location.configuredModel()?.name ?? Self.inferPreset(file) ?? "unknown"
        parameters = params.values.reduce(0, +)
        self.dtypes = dtypes
        parametersByDtype = params
        fileSize = file.fileSize
        weights = location.weightsURL.path
        origin = location.origin
    }

    /// The preset read from the tensor set (`ModelDetection`: fixed keys, the same answer on every
    /// run); nil when it matches none.
    static func inferPreset(_ file: SafeTensorsFile) -> String? {
        try? ModelDetection.preset(shapes: file.tensors.mapValues(\.shape)).name
    }
}
