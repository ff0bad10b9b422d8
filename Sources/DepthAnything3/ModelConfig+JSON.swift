import DA3Model

extension ModelConfig {
    /// Explicit dimensions of a family topology in config.json (the test fixtures' form):
    /// `backbone` with `ffn_layer` ("mlp" / "swiglu") and `cat_token`, `head` with `type`
    /// ("dualdpt" / "dpt"); or a nested model as `anyview` and `metric` objects of that form.
    /// Nil when `json` has none of the family keys (the older explicit form is read elsewhere).
    init?(json: [String: Any], name: String) {
        if let anyview = json["anyview"] as? [String: Any], let metric = json["metric"] as? [String: Any],
           let a = ModelConfig(json: anyview, name: name, requireFamilyKeys: false),
           let m = ModelConfig(json: metric, name: name + "-metric", requireFamilyKeys: false) {
            self = a.nested(with: m, name: name)
            return
        }
        guard var c = ModelConfig(json: json, name: name, requireFamilyKeys: true) else { return nil }
        // A DPT model trained like DA3METRIC-LARGE (metres = focal_px * depth / 300).
        c.metricPerFocal = json["metric_depth"] as? Bool ?? false
        self = c
    }

    private init?(json: [String: Any], name: String, requireFamilyKeys: Bool) {
        guard let backbone = json["backbone"] as? [String: Any], let headJSON = json["head"] as? [String: Any],
              let dim = backbone["embed_dim"] as? Int, let heads = backbone["num_heads"] as? Int,
              let depth = backbone["depth"] as? Int, let outLayers = backbone["out_layers"] as? [Int],
              let features = headJSON["features"] as? Int, let outChannels = headJSON["out_channels"] as? [Int],
              outLayers.count == 4, outChannels.count == 4, heads > 0, dim % heads == 0 else { return nil }
        let ffn = (backbone["ffn_layer"] as? String)?.lowercased()
        let type = (headJSON["type"] as? String)?.lowercased()
        if requireFamilyKeys && ffn == nil && type == nil && backbone["cat_token"] == nil { return nil }
        let alt = backbone["alt_start"] as? Int ?? -1
        self.init(name: name, embedDim: dim, heads: heads, depth: depth, outLayers: outLayers, altStart: alt,
                  qkNormStart: backbone["qknorm_start"] as? Int ?? alt, ropeStart: backbone["rope_start"] as? Int ?? alt,
                  headFeatures: features, headOutChannels: outChannels)
        if let ratio = backbone["mlp_ratio"] as? Int { mlpRatio = ratio }
        mlp = ffn?.hasPrefix("swiglu") == true ? .swiGLU : .gelu
        catToken = backbone["cat_token"] as? Bool ?? true
        self.head = type == "dpt" ? .dpt : .dualDPT
    }
}
