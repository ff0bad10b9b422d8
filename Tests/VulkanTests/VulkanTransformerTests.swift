import DA3Kernels
import DA3Vulkan
import Foundation
import XCTest

/// A whole ViT block (attention branch with q/k norm and 2-D RoPE, then the MLP branch) on the
/// device against a naive double-precision twin written from block.py / attention.py / mlp.py.
final class VulkanTransformerTests: XCTestCase {
    struct Linear { let w: [Float], b: [Float], inF: Int, outF: Int, gamma: [Float]? }

    func naiveLinear(_ x: [Double], rows: Int, _ l: Linear) -> [Double] {
        var y = [Double](repeating: 0, count: rows * l.outF)
        for r in 0..<rows { for o in 0..<l.outF {
            var s = Double(l.b[o])
            for i in 0..<l.inF { s += x[r * l.inF + i] * Double(l.w[o * l.inF + i]) }
            y[r * l.outF + o] = s
        } }
        return y
    }

    func naiveNorm(_ x: [Double], rows: Int, width: Int, w: [Float], b: [Float], eps: Double) -> [Double] {
        var y = x
        for r in 0..<rows {
            let row = x[(r * width)..<((r + 1) * width)]
            let mean = row.reduce(0, +) / Double(width)
            let v = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
            for i in 0..<width { y[r * width + i] = (x[r * width + i] - mean) / (v + eps).squareRoot() * Double(w[i]) + Double(b[i]) }
        }
        return y
    }

    func testBlockWithQKNormAndRoPEMatchesNaiveTwin() throws {
        let opened = try VulkanTestDevice.open()
        let (dev, lib) = (opened.device, opened.library)
        let (gh, gw, heads, hd) = (3, 4, 2, 64)
        let tokens = 1 + gh * gw, d = heads * hd, hidden = 4 * d
        var seed: UInt64 = 100
        func r(_ n: Int, _ scale: Float = 0.1) -> [Float] { seed += 1; return randomValues(n, seed: seed, scale: scale) }
        let n1w = r(d, 1).map { 1 + $0 * 0.2 }, n1b = r(d), n2w = r(d, 1).map { 1 + $0 * 0.2 }, n2b = r(d)
        let qnw = r(hd, 1).map { 1 + $0 * 0.2 }, qnb = r(hd), knw = r(hd, 1).map { 1 + $0 * 0.2 }, knb = r(hd)
        let qkvL = Linear(w: r(3 * d * d), b: r(3 * d), inF: d, outF: 3 * d, gamma: nil)
        let projL = Linear(w: r(d * d), b: r(d), inF: d, outF: d, gamma: r(d, 1))
        let fc1L = Linear(w: r(hidden * d), b: r(hidden), inF: d, outF: hidden, gamma: nil)
        let fc2L = Linear(w: r(d * hidden), b: r(d), inF: hidden, outF: d, gamma: r(d, 1))
        let x0 = r(tokens * d, 1)
        let positions: [(Int, Int)] = [(0, 0)] + (0..<(gh * gw)).map { ($0 / gw + 1, $0 % gw + 1) }

        // Device.
        func lin(_ l: Linear) throws -> VulkanLinear {
            try VulkanLinear(device: dev, weight: l.w, bias: l.b, inFeatures: l.inF, outFeatures: l.outF, outputScale: l.gamma)
        }
        let attn = try VulkanAttentionBranch(
            norm: VulkanLayerNorm(device: dev, weight: n1w, bias: n1b, eps: 1e-6), qkv: lin(qkvL),
            qNorm: VulkanLayerNorm(device: dev, weight: qnw, bias: qnb, eps: 1e-5),
            kNorm: VulkanLayerNorm(device: dev, weight: knw, bias: knb, eps: 1e-5),
            proj: lin(projL), heads: heads, headDim: hd)
        let mlp = VulkanMLPBranch(norm: try VulkanLayerNorm(device: dev, weight: n2w, bias: n2b, eps: 1e-6), fc1: try lin(fc1L), fc2: try lin(fc2L))
        let scratch = try VulkanBlockScratch(device: dev, tokens: tokens, dim: d, hidden: hidden, heads: heads)
        let rope = try VulkanRoPE(device: dev, positions: positions, headDim: hd)
        let x = try VulkanBuffer(device: dev, values: x0)
        let seq = VulkanSequence(device: dev)
        try attn.encode(seq, lib, x: x, scratch: scratch, rope: rope)
        try mlp.encode(seq, lib, x: x, scratch: scratch)
        try seq.run()
        let got = try x.read(Float.self, count: tokens * d)

        // Naive twin.
        var xs = x0.map(Double.init)
        var qkv = naiveLinear(naiveNorm(xs, rows: tokens, width: d, w: n1w, b: n1b, eps: 1e-6), rows: tokens, qkvL)
        let ropeCPU = RoPE2D(headDim: hd, maxPosition: gh + 2)
        for t in 0..<tokens {
            for part in 0..<2 {
                for h in 0..<heads {
                    let base = t * 3 * d + part * d + h * hd
                    let w = part == 0 ? (qnw, qnb) : (knw, knb)
                    let normed = naiveNorm(Array(qkv[base..<(base + hd)]), rows: 1, width: hd, w: w.0, b: w.1, eps: 1e-5)
                    // RoPE in Float with the CPU kernel's tables (cos/sin of Float angles, as the model).
                    var f = normed.map { Float($0) }
                    f.withUnsafeMutableBufferPointer { ropeCPU.apply($0.baseAddress!, posY: positions[t].0, posX: positions[t].1) }
                    qkv.replaceSubrange(base..<(base + hd), with: f.map(Double.init))
                }
            }
        }
        var attended = [Double](repeating: 0, count: tokens * d)
        for h in 0..<heads { for i in 0..<tokens {
            var s = (0..<tokens).map { j in (0..<hd).reduce(0.0) { $0 + qkv[i * 3 * d + h * hd + $1] * qkv[j * 3 * d + d + h * hd + $1] } / 8 }
            let mx = s.max()!
            s = s.map { Foundation.exp($0 - mx) }
            let total = s.reduce(0, +)
            for c in 0..<hd { attended[i * d + h * hd + c] = (0..<tokens).reduce(0.0) { $0 + s[$1] * qkv[$1 * 3 * d + 2 * d + h * hd + c] } / total }
        } }
        let projected = naiveLinear(attended, rows: tokens, projL)
        for i in xs.indices { xs[i] += projected[i] * Double(projL.gamma![i % d]) }
        let h1 = naiveLinear(naiveNorm(xs, rows: tokens, width: d, w: n2w, b: n2b, eps: 1e-6), rows: tokens, fc1L)
            .map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
        let h2 = naiveLinear(h1, rows: tokens, fc2L)
        for i in xs.indices { xs[i] += h2[i] * Double(fc2L.gamma![i % d]) }

        let err = maxRelativeError(got, xs.map { Float($0) })
        print("ViT block (q/k norm + RoPE) on \(dev.info.label): max rel err \(err) vs naive twin")
        XCTAssertLessThan(err, 5e-6)
    }
}
