import Foundation
import SafeTensors

/// A checkpoint on disk: a directory holding `model.safetensors` (and usually `config.json`, as
/// published on the Hugging Face Hub), or a `.safetensors` file; possibly resolved from a Hub id.
public struct ModelLocation: Sendable {
    /// The safetensors file.
    public let weightsURL: URL
    /// `config.json` beside it, when present.
    public let configURL: URL?
    /// The Hub repository and revision it was resolved from (nil for a local path).
    public private(set) var hubReference: HubModelReference?
    /// The Hub commit of the snapshot (nil for a local path).
    public private(set) var hubCommit: String?
    /// How the Hub files were obtained (nil for a local path).
    public private(set) var hubSource: HubFileSource?

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

    /// Resolves a model reference: an existing local file or directory, else a Hub id
    /// `ORG/NAME[@REVISION]` fetched through the Hugging Face cache (see ``HubClient``).
    /// - Throws: ``CheckpointError`` for a local path that is missing or unusable, ``HubError`` for Hub failures.
    public init(reference: String, hub: HubClient = HubClient(), progress: HubProgress? = nil) throws {
        let expanded = (reference as NSString).expandingTildeInPath
        if FileManager.default.fileExists(atPath: expanded) || reference.hasPrefix("/") || reference.hasPrefix(".")
            || reference.hasSuffix(".safetensors") {
            try self.init(path: reference)
            return
        }
        guard let ref = HubModelReference(parsing: reference) else {
            throw CheckpointError(file: reference, reason: "no such file or directory, and not a Hub id like depth-anything/DA3-SMALL[@revision]")
        }
        let resolved = try ref.resolve(client: hub, progress: progress)
        try self.init(path: resolved.directory.path)
        hubReference = ref
        hubCommit = resolved.commit
        hubSource = resolved.source
    }

    /// Human-readable origin: the path, plus the Hub id, commit and source when it came from the Hub.
    public var origin: String {
        guard let hubReference, let hubCommit else { return weightsURL.path }
        return "\(hubReference.repo)@\(hubReference.revision) (commit \(hubCommit), \(hubSource?.rawValue ?? "cache")) at \(weightsURL.path)"
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
        if let explicit = ModelConfig(json: json, name: name ?? "custom") { return explicit }
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
