import Foundation
import SafeTensors

/// A checkpoint on disk: a directory holding `model.safetensors` (and usually `config.json`, as
/// published on the Hugging Face Hub), or a `.safetensors` file.
public struct ModelLocation: Sendable {
    /// The safetensors file.
    public let weightsURL: URL
    /// `config.json` beside it, when present.
    public let configURL: URL?

    /// Resolves `path`; throws `CheckpointError` naming the path when nothing usable is there.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw CheckpointError(file: url.path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            let weights = url.appendingPathComponent("model.safetensors")
            guard FileManager.default.fileExists(atPath: weights.path) else {
                throw CheckpointError(file: url.path, reason: "directory has no model.safetensors")
            }
            weightsURL = weights
        } else {
            weightsURL = url
        }
        let config = weightsURL.deletingLastPathComponent().appendingPathComponent("config.json")
        configURL = FileManager.default.fileExists(atPath: config.path) ? config : nil
    }

    /// The model dimensions named by `config.json`: a known `model_name` preset, or explicit
    /// `backbone`/`head` dimensions; nil when there is no config (the preset is then inferred
    /// from the weights).
    public func configuredModel() throws -> ModelConfig? {
        guard let configURL else { return nil }
        let path = configURL.path
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CheckpointError(file: path, reason: "not a valid JSON object")
        }
        let name = (json["model_name"] as? String) ?? (json["preset"] as? String)
        if let name, let preset = ModelConfig.preset(named: name) { return preset }
        if let backbone = json["backbone"] as? [String: Any], let head = json["head"] as? [String: Any],
           let dim = backbone["embed_dim"] as? Int, let heads = backbone["num_heads"] as? Int,
           let depth = backbone["depth"] as? Int, let outLayers = backbone["out_layers"] as? [Int],
           let features = head["features"] as? Int, let outChannels = head["out_channels"] as? [Int],
           outLayers.count == 4, outChannels.count == 4, heads > 0, dim % heads == 0 {
            let alt = backbone["alt_start"] as? Int ?? -1
            return ModelConfig(name: name ?? "custom", embedDim: dim, heads: heads, depth: depth, outLayers: outLayers,
                               altStart: alt, qkNormStart: backbone["qknorm_start"] as? Int ?? alt,
                               ropeStart: backbone["rope_start"] as? Int ?? alt,
                               headFeatures: features, headOutChannels: outChannels)
        }
        if let name {
            let known = ModelConfig.presets.map(\.name).joined(separator: ", ")
            throw CheckpointError(file: path, reason: "unknown model_name '\(name)' (known: \(known))")
        }
        return nil
    }
}
