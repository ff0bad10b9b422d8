import Foundation
import DA3Kernels
import DA3Weights

/// The camera encoder (`model/cam_enc.py`): per-view pose encodings → camera tokens that replace the
/// views' camera tokens at the first alternating block when the caller gives cameras. Its trunk
/// (`model/utils/block.py` blocks, LayerScale, 16 heads) attends across the views' tokens. One token
/// per view, so it runs on the host whatever the backend.
struct CameraEncoder {
    struct Block {
        let norm1: HostLayerNorm, norm2: HostLayerNorm
        let qkv: CPULinear, proj: CPULinear, fc1: CPULinear, fc2: CPULinear
        let ls1: [Float], ls2: [Float]
    }

    let fc1: CPULinear, fc2: CPULinear
    let tokenNorm: HostLayerNorm, trunkNorm: HostLayerNorm
    let trunk: [Block]
    let dim: Int, heads: Int

    /// nil when the checkpoint has no camera encoder (monocular and metric models).
    init?(_ loader: WeightLoader, config: ModelConfig, heads: Int = 16) throws {
        typealias K = CheckpointKeys.CameraEncoder
        let keys = loader.source.unusedKeys(used: []).filter { $0.hasPrefix(loader.prefix + K.root) }
        guard !keys.isEmpty else { return nil }
        let trunkPrefix = loader.prefix + K.root + "trunk."
        let depth = Set(keys.compactMap { key -> Int? in
            guard key.hasPrefix(trunkPrefix) else { return nil }
            return Int(key.dropFirst(trunkPrefix.count).prefix { $0 != "." })
        }).count
        let d = config.embedDim
        dim = d
        self.heads = heads
        fc1 = try CPULinear(loader, LinearParameters(K.fc1, in: 9, out: d / 2))
        fc2 = try CPULinear(loader, LinearParameters(K.fc2, in: d / 2, out: d))
        tokenNorm = try HostLayerNorm(loader, K.tokenNorm, width: d)
        trunkNorm = try HostLayerNorm(loader, K.trunkNorm, width: d)
        trunk = try (0..<depth).map { i in
            let p = K.block(i)
            return Block(norm1: try HostLayerNorm(loader, p + "norm1", width: d),
                         norm2: try HostLayerNorm(loader, p + "norm2", width: d),
                         qkv: try CPULinear(loader, LinearParameters(p + "attn.qkv", in: d, out: 3 * d)),
                         proj: try CPULinear(loader, LinearParameters(p + "attn.proj", in: d, out: d)),
                         fc1: try CPULinear(loader, LinearParameters(p + "mlp.fc1", in: d, out: 4 * d)),
                         fc2: try CPULinear(loader, LinearParameters(p + "mlp.fc2", in: 4 * d, out: d)),
                         ls1: try loader.tensor(p + "ls1.gamma", [d]), ls2: try loader.tensor(p + "ls2.gamma", [d]))
        }
    }

    /// Camera tokens (one D-vector per view) for the views' pose encodings (9 values each).
    func tokens(poseEncodings: [[Float]]) -> [[Float]] {
        let n = poseEncodings.count, d = dim
        var x = fc2(gelu(fc1(poseEncodings.flatMap { $0 })))
        x = tokenNorm(x)
        for block in trunk {
            let a = proj(attention(block.qkv(block.norm1(x)), tokens: n), block)
            for i in x.indices { x[i] += a[i] * block.ls1[i % d] }
            let m = block.fc2(gelu(block.fc1(block.norm2(x))))
            for i in x.indices { x[i] += m[i] * block.ls2[i % d] }
        }
        x = trunkNorm(x)
        return (0..<n).map { Array(x[($0 * d)..<(($0 + 1) * d)]) }
    }

    private func proj(_ x: [Float], _ block: Block) -> [Float] { block.proj(x) }

    /// Scaled dot-product attention over the n tokens, per head, from the fused (n, 3, heads, hd) qkv.
    private func attention(_ qkv: [Float], tokens n: Int) -> [Float] {
        let d = dim, hd = d / heads, scale = 1 / Float(hd).squareRoot()
        var out = [Float](repeating: 0, count: n * d)
        for h in 0..<heads {
            for i in 0..<n {
                var s = (0..<n).map { j -> Float in
                    var dot: Float = 0
                    for c in 0..<hd { dot += qkv[i * 3 * d + h * hd + c] * qkv[j * 3 * d + d + h * hd + c] }
                    return dot * scale
                }
                let m = s.max()!
                s = s.map { expf($0 - m) }
                let sum = s.reduce(0, +)
                for j in 0..<n {
                    let w = s[j] / sum
                    for c in 0..<hd { out[i * d + h * hd + c] += w * qkv[j * 3 * d + 2 * d + h * hd + c] }
                }
            }
        }
        return out
    }

    private func gelu(_ x: [Float]) -> [Float] {
        x.map { 0.5 * $0 * (1 + Float(erf(Double($0) / 2.0.squareRoot()))) }
    }
}

/// LayerNorm over the last dimension on host arrays (the camera encoder's few tokens).
struct HostLayerNorm {
    let weight: [Float], bias: [Float], eps: Float

    init(_ loader: WeightLoader, _ key: String, width: Int, eps: Float = 1e-5) throws {
        weight = try loader.tensor(key + ".weight", [width])
        bias = try loader.tensor(key + ".bias", [width])
        self.eps = eps
    }

    func callAsFunction(_ x: [Float]) -> [Float] {
        let w = weight.count
        var out = x
        for r in 0..<(x.count / w) {
            let row = x[(r * w)..<((r + 1) * w)]
            let mean = row.reduce(0.0) { $0 + Double($1) } / Double(w)
            let variance = row.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(w)
            let inv = 1 / (variance + Double(eps)).squareRoot()
            for c in 0..<w { out[r * w + c] = Float((Double(x[r * w + c]) - mean) * inv) * weight[c] + bias[c] }
        }
        return out
    }
}
