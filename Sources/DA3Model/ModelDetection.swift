import SafeTensors

/// Which preset a checkpoint holds, read from its tensor names and shapes alone (no config.json).
/// The reading looks up fixed keys, never iterates the tensor table, so it gives the same answer
/// on every run.
public enum ModelDetection {
    /// Root of a nested model's any-view branch and metric branch (full keys).
    static let nestedAnyview = CheckpointKeys.prefix + "da3."
    static let nestedMetric = CheckpointKeys.prefix + "da3_metric."

    /// `config`, or else the preset read from `file`'s tensors (errors name the file).
    static func resolve(_ config: ModelConfig?, in file: SafeTensorsFile) throws -> ModelConfig {
        if let config { return config }
        do {
            return try preset(shapes: file.tensors.mapValues(\.shape))
        } catch {
            throw CheckpointError(file: file.url.path, reason: error.reason)
        }
    }

    /// The preset for the tensors `shapes` (full key -> shape). Metric-Large and Mono-Large have the
    /// same tensors: such a set gives `metricLarge` renamed `metricOrMonoLargeName`. Throws a reason
    /// naming what was expected when the set matches no preset.
    public static func preset(shapes: [String: [Int]]) throws(DetectionError) -> ModelConfig {
        if shapes[nestedAnyview + CheckpointKeys.Backbone.patchWeight] != nil
            || shapes[nestedMetric + CheckpointKeys.Backbone.patchWeight] != nil {
            let anyview = try branch(shapes, prefix: nestedAnyview)
            let metric = try branch(shapes, prefix: nestedMetric)
            guard anyview.hasCamera, metric.head == .dpt else {
                throw DetectionError("nested checkpoint: expected an any-view model under '\(nestedAnyview)' and a metric model under '\(nestedMetric)', found \(anyview.name) and \(metric.name)")
            }
            guard anyview.name == ModelConfig.giant.name else {
                return anyview.nested(with: .metricLarge, name: "da3nested-\(anyview.name.dropFirst(4))-large")
            }
            return .nestedGiantLarge
        }
        return try branch(shapes, prefix: CheckpointKeys.prefix)
    }

    /// The single-network preset under `prefix`.
    static func branch(_ shapes: [String: [Int]], prefix: String) throws(DetectionError) -> ModelConfig {
        let patchKey = prefix + CheckpointKeys.Backbone.patchWeight
        guard let patch = shapes[patchKey], let width = patch.first else {
            throw DetectionError("missing tensor '\(patchKey)' (not a Depth Anything 3 checkpoint?)")
        }
        var blocks = 0
        while shapes[prefix + CheckpointKeys.Backbone.block(blocks) + CheckpointKeys.Block.norm1 + ".weight"] != nil { blocks += 1 }
        let hasCameraToken = shapes[prefix + CheckpointKeys.Backbone.cameraToken] != nil
        let hasSky = shapes[prefix + CheckpointKeys.Head.skyOutputConv2a + ".weight"] != nil
        let swiGLU = shapes[prefix + CheckpointKeys.Backbone.block(0) + CheckpointKeys.Block.w12 + ".weight"] != nil
        let candidates = ModelConfig.presets.filter {
            $0.metricBranch == nil && $0.embedDim == width && $0.depth == blocks && $0.hasCamera == hasCameraToken
                && ($0.head == .dpt) == hasSky && ($0.mlp == .swiGLU) == swiGLU
        }
        guard let first = candidates.first else {
            let kind = "\(hasCameraToken ? "camera token" : "no camera token"), \(hasSky ? "sky head" : "no sky head"), \(swiGLU ? "SwiGLU" : "GELU") MLP"
            let known = ModelConfig.presets.filter { $0.metricBranch == nil }
                .map { "\($0.name) (width \($0.embedDim), \($0.depth) blocks)" }.joined(separator: ", ")
            throw DetectionError("backbone width \(width), \(blocks) blocks, \(kind) matches no known preset (known: \(known), and da3nested-giant-large)")
        }
        if candidates.count > 1 {
            var c = first
            c.name = candidates.map(\.name) == [ModelConfig.metricLarge.name, ModelConfig.monoLarge.name]
                ? ModelConfig.metricOrMonoLargeName : candidates.map(\.name).joined(separator: "|")
            return c
        }
        return first
    }
}

/// Why a tensor set matches no preset.
public struct DetectionError: Error, CustomStringConvertible {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
