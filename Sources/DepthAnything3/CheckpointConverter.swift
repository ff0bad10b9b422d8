import Foundation
import SafeTensors

/// Rewrites a checkpoint with its floating-point tensors in another dtype (`da3 convert`).
public enum CheckpointConverter {
    /// Target dtypes.
    public enum Target: String, Sendable, CaseIterable {
        /// IEEE half precision (round to nearest even): half the size of FP32.
        case f16
        /// bfloat16 (round to nearest even).
        case bf16
        /// Single precision.
        case f32

        var dtype: DType {
            switch self {
            case .f16: return .f16
            case .bf16: return .bf16
            case .f32: return .f32
            }
        }
    }

    /// The entries of `file` with every float tensor converted to `target` (others unchanged), in key order.
    public static func convertedEntries(of file: SafeTensorsFile, to target: Target) throws -> [SafeTensorsWriter.Entry] {
        try file.tensors.keys.sorted().map { name in
            let info = file.tensors[name]!
            if info.dtype.isFloatConvertible && info.dtype != target.dtype {
                return SafeTensorsWriter.Entry(name: name, shape: info.shape, values: try file.floats(info, name: name), dtype: target.dtype)
            }
            return SafeTensorsWriter.Entry(name: name, dtype: info.dtype, shape: info.shape, bytes: file.rawBytes(info) { Array($0) })
        }
    }

    /// Converts the checkpoint at `location` into `directory` (`model.safetensors`, plus a copy of
    /// `config.json` when there is one). Returns the written weights file.
    @discardableResult
    public static func convert(_ location: ModelLocation, to target: Target, directory: URL) throws -> URL {
        let file = try SafeTensorsFile(url: location.weightsURL)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var metadata = file.metadata
        metadata["format"] = metadata["format"] ?? "pt"
        metadata["converted_by"] = "da3 convert --dtype \(target.rawValue)"
        let data = try SafeTensorsWriter.serialize(try convertedEntries(of: file, to: target), metadata: metadata)
        let out = directory.appendingPathComponent("model.safetensors")
        try AtomicFile.write(data, to: out)
        if let config = location.configURL {
            try AtomicFile.write(try Data(contentsOf: config), to: directory.appendingPathComponent("config.json"))
        }
        return out
    }
}
