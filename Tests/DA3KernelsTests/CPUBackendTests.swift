import DA3Kernels
import Foundation
import XCTest

/// Naive twins of the CPU backend's fused operators (`CPUBackend`, `CPUExecution`), each written
/// straight from the PyTorch modules in Double: the attention and MLP branches of a ViT block, the
/// head projection, patch embedding, convolutions with fused ReLU / residual, transposed convolution,
/// the banded upsample-plus-convolution and the output stage.
final class CPUBackendTests: XCTestCase {
    /// Serves random tensors by key (and prepares `derived` forms in place), as the model's loader does.
    final class RandomLoader: ParameterLoader {
        var tensors: [String: [Float]] = [:]
        var rng = SeededRNG(seed: 7)
        let origin = "<test>"

        func tensor(_ key: String, _ shape: [Int]) throws -> [Float] {
            if let t = tensors[key] { return t }
            let count = shape.reduce(1, *)
            // LayerNorm weights and LayerScale gammas near 1, the rest small.
            let t = key.hasSuffix("norm.weight") || key.hasSuffix("gamma") ? rng.floats(count, 0.5, 1.5)
                : rng.floats(count, -1, 1).map { $0 / Float(max(1, shape.dropFirst().reduce(1, *))).squareRoot() }
            tensors[key] = t
            return t
        }

        func memory(_ key: String, _ shape: [Int]) throws -> WeightMemory<Float> {
            let t = try tensor(key, shape)
            return WeightMemory(count: t.count) { out in for i in 0..<t.count { out[i] = t[i] } }
        }

        func derived<Element: BitwiseCopyable>(
            from key: String, _ shape: [Int], name: String, count: Int,
            make: (UnsafeBufferPointer<Float>) -> WeightMemory<Element>
        ) throws -> WeightMemory<Element> {
            try tensor(key, shape).withUnsafeBufferPointer { make($0) }
        }
    }

    // MARK: Naive references (Double)

    private func layerNorm(_ x: [Double], _ w: [Float], _ b: [Float], eps: Double) -> [Double] {
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
        return x.indices.map { (x[$0] - mean) / (variance + eps).squareRoot() * Double(w[$0]) + Double(b[$0]) }
    }

    /// rows x out = x W^T + b.
    private func linear(_ x: [[Double]], _ w: [Float], _ b: [Float]?, out: Int) -> [[Double]] {
        x.map { row in
            (0..<out).map { o in
                var s = b.map { Double($0[o]) } ?? 0
                for i in row.indices { s += row[i] * Double(w[o * row.count + i]) }
                return s
            }
        }
    }

    private func rope(_ t: [Double], posY: Int, posX: Int, base: Double = 100) -> [Double] {
        let d = t.count / 2
        func axis(_ t: [Double], _ p: Int) -> [Double] {
            let invFreq = (0..<(d / 2)).map { 1 / pow(base, Double(2 * $0) / Double(d)) }
            let angles = invFreq.map { Double(p) * $0 } + invFreq.map { Double(p) * $0 }
            let rotated = t[(d / 2)...].map { -$0 } + t[..<(d / 2)]
            return (0..<d).map { t[$0] * cos(angles[$0]) + rotated[$0] * sin(angles[$0]) }
        }
        return axis(Array(t[..<d]), posY) + axis(Array(t[d...]), posX)
    }

    private func rows(_ x: [Float], width: Int) -> [[Double]] {
        stride(from: 0, to: x.count, by: width).map { x[$0..<($0 + width)].map(Double.init) }
    }

    /// Conv2d on a planar map (groups 1), optional ReLU on the input and residual on the output.
    private func conv(_ x: [Double], c: Int, h: Int, w: Int, weight: [Float], bias: [Float]?, out: Int, k: Int,
                      stride: Int = 1, pad: Int = 0) -> (y: [Double], oh: Int, ow: Int) {
        let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
        var y = [Double](repeating: 0, count: out * oh * ow)
        for o in 0..<out {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var s = bias.map { Double($0[o]) } ?? 0
                    for ci in 0..<c {
                        for ky in 0..<k {
                            let iy = oy * stride - pad + ky
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<k {
                                let ix = ox * stride - pad + kx
                                if ix < 0 || ix >= w { continue }
                                s += x[(ci * h + iy) * w + ix] * Double(weight[((o * c + ci) * k + ky) * k + kx])
                            }
                        }
                    }
                    y[(o * oh + oy) * ow + ox] = s
                }
            }
        }
        return (y, oh, ow)
    }

    private func bilinear(_ x: [Double], c: Int, h: Int, w: Int, oh: Int, ow: Int) -> [Double] {
        func taps(_ input: Int, _ output: Int) -> [(Int, Int, Double)] {
            let scale = output > 1 ? Double(input - 1) / Double(output - 1) : 0
            return (0..<output).map { o in
                let src = scale * Double(o)
                let i0 = min(Int(src.rounded(.down)), input - 1)
                return (i0, min(i0 + 1, input - 1), src - Double(i0))
            }
        }
        let ty = taps(h, oh), tx = taps(w, ow)
        var y = [Double](repeating: 0, count: c * oh * ow)
        for ch in 0..<c {
            func at(_ iy: Int, _ ix: Int) -> Double { x[(ch * h + iy) * w + ix] }
            for oy in 0..<oh {
                let (y0, y1, ly) = ty[oy]
                for ox in 0..<ow {
                    let (x0, x1, lx) = tx[ox]
                    let top = (1 - lx) * at(y0, x0) + lx * at(y0, x1), bottom = (1 - lx) * at(y1, x0) + lx * at(y1, x1)
                    y[(ch * oh + oy) * ow + ox] = (1 - ly) * top + ly * bottom
                }
            }
        }
        return y
    }

    private func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

    // MARK: Transformer branches

    /// x + proj(sdpa(rope(qnorm(q)), rope(knorm(k)), v)) * gamma with q, k, v = qkv(norm1(x)).
    func testAttentionBranchMatchesNaiveModule() throws {
        let (tokens, heads, headDim) = (23, 2, 64)
        let dim = heads * headDim
        for (qkNorm, usesRoPE) in [(true, true), (false, false), (false, true)] {
            let loader = RandomLoader()
            let p = AttentionParameters(
                norm: LayerNormParameters("norm1", width: dim, eps: 1e-6),
                qkv: LinearParameters("attn.qkv", in: dim, out: 3 * dim),
                qNorm: qkNorm ? LayerNormParameters("attn.q_norm", width: headDim, eps: 1e-5) : nil,
                kNorm: qkNorm ? LayerNormParameters("attn.k_norm", width: headDim, eps: 1e-5) : nil,
                proj: LinearParameters("attn.proj", in: dim, out: dim, outputScale: "ls1.gamma"),
                heads: heads, headDim: headDim, usesRoPE: usesRoPE)
            let backend = try CPUBackend()
            let op = try backend.attention(p, from: loader)
            let x0 = loader.rng.floats(tokens * dim)
            let positions = (0..<tokens).map { ($0 % 5, $0 / 5) }
            var x = Tensor(shape: [tokens, dim], data: x0)
            backend.makeExecution().attention(op, &x, positions: positions, rope: RoPE2D(headDim: headDim, maxPosition: 8))

            let t = loader.tensors
            let normed = rows(x0, width: dim).map { layerNorm($0, t["norm1.weight"]!, t["norm1.bias"]!, eps: 1e-6) }
            var qkv = linear(normed, t["attn.qkv.weight"]!, t["attn.qkv.bias"]!, out: 3 * dim)
            for r in 0..<tokens {
                for part in 0..<2 {
                    for h in 0..<heads {
                        let start = part * dim + h * headDim
                        var v = Array(qkv[r][start..<(start + headDim)])
                        if qkNorm {
                            let name = part == 0 ? "attn.q_norm" : "attn.k_norm"
                            v = layerNorm(v, t[name + ".weight"]!, t[name + ".bias"]!, eps: 1e-5)
                        }
                        if usesRoPE { v = rope(v, posY: positions[r].0, posX: positions[r].1) }
                        qkv[r].replaceSubrange(start..<(start + headDim), with: v)
                    }
                }
            }
            var attended = [[Double]](repeating: [Double](repeating: 0, count: dim), count: tokens)
            for h in 0..<heads {
                for i in 0..<tokens {
                    let (q0, k0, v0) = (h * headDim, dim + h * headDim, 2 * dim + h * headDim)
                    var scores = [Double](repeating: 0, count: tokens)
                    for j in 0..<tokens {
                        var s = 0.0
                        for c in 0..<headDim { s += qkv[i][q0 + c] * qkv[j][k0 + c] }
                        scores[j] = s / Double(headDim).squareRoot()
                    }
                    let m = scores.max()!
                    let e = scores.map { exp($0 - m) }
                    let sum = e.reduce(0, +)
                    for c in 0..<headDim {
                        var s = 0.0
                        for j in 0..<tokens { s += e[j] * qkv[j][v0 + c] }
                        attended[i][h * headDim + c] = s / sum
                    }
                }
            }
            let gamma = t["ls1.gamma"]!
            let projected = linear(attended, t["attn.proj.weight"]!, t["attn.proj.bias"]!, out: dim)
            let reference = (0..<(tokens * dim)).map { Double(x0[$0]) + projected[$0 / dim][$0 % dim] * Double(gamma[$0 % dim]) }
            assertClose(x.data, reference, tolerance: 2e-6, "attention branch qkNorm=\(qkNorm) rope=\(usesRoPE)")

            guard Precision.fastAvailable else { continue }
            let fast = try CPUBackend(precision: .fast)
            var y = Tensor(shape: [tokens, dim], data: x0)
            fast.makeExecution().attention(try fast.attention(p, from: loader), &y, positions: positions,
                                           rope: RoPE2D(headDim: headDim, maxPosition: 8))
            assertClose(y.data, reference, tolerance: 3e-2, "fast attention branch qkNorm=\(qkNorm) rope=\(usesRoPE)")
        }
    }

    /// x + fc2(gelu(fc1(norm2(x)))) * gamma.
    func testMLPBranchMatchesNaiveModule() throws {
        let (tokens, dim, hidden) = (37, 64, 256)
        let loader = RandomLoader()
        let p = MLPParameters(norm: LayerNormParameters("norm2", width: dim, eps: 1e-6),
                              fc1: LinearParameters("mlp.fc1", in: dim, out: hidden),
                              fc2: LinearParameters("mlp.fc2", in: hidden, out: dim, outputScale: "ls2.gamma"))
        let backend = try CPUBackend()
        let op = try backend.mlp(p, from: loader)
        let x0 = loader.rng.floats(tokens * dim)
        var x = Tensor(shape: [tokens, dim], data: x0)
        backend.makeExecution().mlp(op, &x)
        let t = loader.tensors
        let normed = rows(x0, width: dim).map { layerNorm($0, t["norm2.weight"]!, t["norm2.bias"]!, eps: 1e-6) }
        let h = linear(normed, t["mlp.fc1.weight"]!, t["mlp.fc1.bias"]!, out: hidden).map { $0.map(gelu) }
        let y = linear(h, t["mlp.fc2.weight"]!, t["mlp.fc2.bias"]!, out: dim)
        let gamma = t["ls2.gamma"]!
        let reference = (0..<(tokens * dim)).map { Double(x0[$0]) + y[$0 / dim][$0 % dim] * Double(gamma[$0 % dim]) }
        assertClose(x.data, reference, tolerance: 2e-6, "MLP branch")
        if Precision.fastAvailable {
            let fast = try CPUBackend(precision: .fast)
            var z = Tensor(shape: [tokens, dim], data: x0)
            fast.makeExecution().mlp(try fast.mlp(p, from: loader), &z)
            assertClose(z.data, reference, tolerance: 3e-2, "fast MLP branch")
        }
    }

    /// cat(a, norm(b)) over rows, as the backbone's outputs.
    func testConcatenateWithNormMatchesNaive() throws {
        let (tokens, dim) = (9, 16)
        let loader = RandomLoader()
        let backend = try CPUBackend()
        let norm = try backend.layerNorm(LayerNormParameters("norm", width: dim, eps: 1e-5), from: loader)
        let a = loader.rng.floats(tokens * dim), b = loader.rng.floats(tokens * dim)
        let run = backend.makeExecution()
        let out = run.concatenate(Tensor(shape: [tokens, dim], data: a), Tensor(shape: [tokens, dim], data: b), rows: 1..<tokens,
                                  normalizingSecond: norm)
        let t = loader.tensors
        let reference = (1..<tokens).flatMap { r -> [Double] in
            a[(r * dim)..<((r + 1) * dim)].map(Double.init)
                + layerNorm(b[(r * dim)..<((r + 1) * dim)].map(Double.init), t["norm.weight"]!, t["norm.bias"]!, eps: 1e-5)
        }
        XCTAssertEqual(out.shape, [tokens - 1, 2 * dim])
        assertClose(out.data, reference, tolerance: 1e-6, "concatenate + norm")
        let plain = run.concatenate(Tensor(shape: [tokens, dim], data: a), Tensor(shape: [tokens, dim], data: b), rows: 0..<1,
                                    normalizingSecond: nil)
        XCTAssertEqual(plain.data, Array(a[0..<dim]) + Array(b[0..<dim]))
    }

    /// LayerNorm of every pixel's channels of a planar map (the ray head's Permute → LayerNorm → Permute).
    func testNormalizeChannelsMatchesNaive() throws {
        let (c, h, w) = (32, 7, 300)  // 2100 pixels: several parallel chunks
        let loader = RandomLoader()
        let backend = try CPUBackend()
        let norm = try backend.layerNorm(LayerNormParameters("norm", width: c, eps: 1e-5), from: loader)
        let x = loader.rng.floats(c * h * w)
        var y = Tensor(shape: [c, h, w], data: x)
        backend.makeExecution().normalizeChannels(&y, norm)
        let t = loader.tensors, plane = h * w
        var reference = [Double](repeating: 0, count: c * plane)
        for p in 0..<plane {
            let normed = layerNorm((0..<c).map { Double(x[$0 * plane + p]) }, t["norm.weight"]!, t["norm.bias"]!, eps: 1e-5)
            for ch in 0..<c { reference[ch * plane + p] = normed[ch] }
        }
        XCTAssertEqual(y.shape, [c, h, w])
        assertClose(y.data, reference, tolerance: 1e-5, "normalizeChannels")
    }

    // MARK: Backbone input and head

    /// Conv2d(3, D, p, stride p) on the image, tokens after an empty row 0; then class token and positions.
    func testPatchEmbeddingMatchesStridedConvolution() throws {
        let (p, d, gh, gw) = (14, 24, 3, 5)
        let loader = RandomLoader()
        let backend = try CPUBackend()
        let op = try backend.patchEmbedding(LinearParameters("patch_embed.proj", in: 3 * p * p, out: d, weightShape: [d, 3, p, p]),
                                            from: loader)
        let image = loader.rng.floats(3 * gh * p * gw * p)
        let run = backend.makeExecution()
        var x = run.embedPatches(op, image: image, height: gh * p, width: gw * p)
        let t = loader.tensors
        let (y, _, _) = conv(image.map(Double.init), c: 3, h: gh * p, w: gw * p, weight: t["patch_embed.proj.weight"]!,
                             bias: t["patch_embed.proj.bias"]!, out: d, k: p, stride: p)
        let n = gh * gw
        let tokens = [Double](repeating: 0, count: d) + (0..<(n * d)).map { y[($0 % d) * n + $0 / d] }
        XCTAssertEqual(x.shape, [1 + n, d])
        assertClose(x.data, tokens, tolerance: 2e-6, "patch embedding")
        let cls = loader.rng.floats(d), pos = loader.rng.floats((1 + n) * d)
        run.startTokens(&x, classToken: cls, positionEmbedding: pos)
        let started = (0..<((1 + n) * d)).map { ($0 < d ? Double(cls[$0]) : tokens[$0]) + Double(pos[$0]) }
        assertClose(x.data, started, tolerance: 2e-6, "class token and position embedding")
    }

    /// The projection of norm(tokens) to a planar map, both precisions.
    func testProjectionMatchesNormThenConv1x1() throws {
        let (gh, gw, dimIn, out) = (6, 7, 32, 12)
        let loader = RandomLoader()
        let p = LinearParameters("projects.0", in: dimIn, out: out, weightShape: [out, dimIn, 1, 1])
        let normParameters = LayerNormParameters("norm", width: dimIn, eps: 1e-5)
        let tokens = loader.rng.floats(gh * gw * dimIn)
        var reference: [Double] = []
        for precision in Precision.fastAvailable ? [Precision.exact, .fast] : [.exact] {
            let backend = try CPUBackend(precision: precision)
            let op = try backend.projection(p, from: loader), norm = try backend.layerNorm(normParameters, from: loader)
            var feature = Tensor(shape: [gh * gw, dimIn], data: tokens)
            let map = backend.makeExecution().project(&feature, norm: norm, op, height: gh, width: gw)
            XCTAssertEqual(map.shape, [out, gh, gw])
            XCTAssertEqual(feature.count, 0, "the tokens are consumed")
            if reference.isEmpty {
                let t = loader.tensors
                let normed = rows(tokens, width: dimIn).map { layerNorm($0, t["norm.weight"]!, t["norm.bias"]!, eps: 1e-5) }
                let y = linear(normed, t["projects.0.weight"]!, t["projects.0.bias"]!, out: out)
                reference = (0..<(out * gh * gw)).map { y[$0 % (gh * gw)][$0 / (gh * gw)] }
            }
            assertClose(map.data, reference, tolerance: precision == .exact ? 2e-6 : 2e-2, "projection \(precision)")
        }
    }

    /// conv(relu(x)) + residual for the head's kinds: Winograd 3x3, small-map 3x3 (im2col), strided, 1x1.
    func testConvolutionWithFusedReLUAndResidual() throws {
        for precision in Precision.fastAvailable ? [Precision.exact, .fast] : [.exact] {
            let backend = try CPUBackend(precision: precision)
            for (c, out, k, stride, pad, h, w) in [(16, 16, 3, 1, 1, 13, 10), (16, 8, 3, 1, 1, 4, 5), (12, 12, 3, 2, 1, 9, 7),
                                                   (16, 16, 1, 1, 0, 6, 9)] {
                let loader = RandomLoader()
                let op = try backend.conv(ConvParameters("conv", in: c, out: out, kernel: k, stride: stride, padding: pad), from: loader)
                let x = loader.rng.floats(c * h * w)
                let t = loader.tensors
                let (plain, oh, ow) = conv(x.map(Double.init), c: c, h: h, w: w, weight: t["conv.weight"]!, bias: t["conv.bias"]!,
                                           out: out, k: k, stride: stride, pad: pad)
                let (relu, _, _) = conv(x.map { max(Double($0), 0) }, c: c, h: h, w: w, weight: t["conv.weight"]!,
                                        bias: t["conv.bias"]!, out: out, k: k, stride: stride, pad: pad)
                let residual = loader.rng.floats(out * oh * ow)
                let run = backend.makeExecution()
                let tolerance = precision == .exact ? 2e-6 : 2e-2
                let label = "conv \(c)->\(out) k\(k) s\(stride) \(h)x\(w) \(precision)"
                assertClose(run.conv(op, Tensor(shape: [c, h, w], data: x)).data, plain, tolerance: tolerance, label)
                let fused = run.conv(op, Tensor(shape: [c, h, w], data: x), reluInput: true,
                                     residual: Tensor(shape: [out, oh, ow], data: residual))
                assertClose(fused.data, relu.indices.map { relu[$0] + Double(residual[$0]) }, tolerance: tolerance, label + " relu+res")
            }
        }
    }

    func testConvTransposeMatchesScatter() throws {
        let (c, h, w) = (6, 3, 4)
        for s in [2, 4] {
            let loader = RandomLoader()
            let backend = try CPUBackend()
            let op = try backend.convTranspose(ConvTransposeParameters("up", channels: c, stride: s), from: loader)
            let x = loader.rng.floats(c * h * w)
            let y = backend.makeExecution().convTranspose(op, Tensor(shape: [c, h, w], data: x))
            let (wt, b) = (loader.tensors["up.weight"]!, loader.tensors["up.bias"]!)
            var reference = [Double](repeating: 0, count: c * h * s * w * s)
            for o in 0..<c {
                for oy in 0..<(h * s) {
                    for ox in 0..<(w * s) {
                        var sum = Double(b[o])
                        for i in 0..<c {
                            sum += Double(x[(i * h + oy / s) * w + ox / s]) * Double(wt[((i * c + o) * s + oy % s) * s + ox % s])
                        }
                        reference[(o * h * s + oy) * w * s + ox] = sum
                    }
                }
            }
            XCTAssertEqual(y.shape, [c, h * s, w * s])
            assertClose(y.data, reference, tolerance: 2e-6, "conv transpose stride \(s)")
        }
    }

    /// The banded upsample-plus-convolution equals a bilinear (align_corners) resize then a 3x3
    /// convolution, over more than one band, and the plain resize matches too.
    func testUpsampledConvolutionMatchesResizeThenConvolution() throws {
        for precision in Precision.fastAvailable ? [Precision.exact, .fast] : [.exact] {
            let backend = try CPUBackend(precision: precision)
            for (c, out, h, w, oh, ow) in [(16, 8, 20, 9, 150, 18), (8, 16, 5, 6, 10, 12), (16, 8, 3, 3, 3, 3)] {
                let loader = RandomLoader()
                let op = try backend.conv(ConvParameters("conv", in: c, out: out, kernel: 3, padding: 1), from: loader)
                let x = loader.rng.floats(c * h * w)
                let run = backend.makeExecution()
                let y = run.upsampledConvolution(op, Tensor(shape: [c, h, w], data: x), height: oh, width: ow)
                let up = bilinear(x.map(Double.init), c: c, h: h, w: w, oh: oh, ow: ow)
                let t = loader.tensors
                let (reference, _, _) = conv(up, c: c, h: oh, w: ow, weight: t["conv.weight"]!, bias: t["conv.bias"]!, out: out, k: 3,
                                             pad: 1)
                XCTAssertEqual(y.shape, [out, oh, ow])
                let label = "upsampled conv \(c)->\(out) \(h)x\(w)->\(oh)x\(ow) \(precision)"
                assertClose(y.data, reference, tolerance: precision == .exact ? 2e-6 : 2e-2, label)
                assertClose(run.resizeBilinear(Tensor(shape: [c, h, w], data: x), height: oh, width: ow).data, up,
                            tolerance: 1e-5, "bilinear \(h)x\(w)->\(oh)x\(ow)")
            }
        }
    }

    /// The output stage equals resize + tables, 3x3 conv, ReLU, 1x1 conv to two logits, exp and exp + 1;
    /// its intermediates are the upsampled map and the logits.
    func testOutputStageMatchesNaiveOutputConv2() throws {
        let (c, h, w, oh, ow) = (8, 9, 11, 140, 77)
        for precision in Precision.fastAvailable ? [Precision.exact, .fast] : [.exact] {
            let loader = RandomLoader()
            let backend = try CPUBackend(precision: precision)
            let op = try backend.outputStage(OutputStageParameters(
                conv3x3: ConvParameters("out.0", in: c, out: 32, kernel: 3, padding: 1),
                conv1x1: ConvParameters("out.2", in: 32, out: 2, kernel: 1)), from: loader)
            let x = loader.rng.floats(c * h * w)
            let columns = loader.rng.floats(c / 2 * ow, -0.1, 0.1), rowTable = loader.rng.floats(c / 2 * oh, -0.1, 0.1)
            let run = backend.makeExecution()
            let result = run.outputStage(op, Tensor(shape: [c, h, w], data: x), height: oh, width: ow, columns: columns,
                                         rows: rowTable, intermediates: true)
            var up = bilinear(x.map(Double.init), c: c, h: h, w: w, oh: oh, ow: ow)
            for ch in 0..<c {
                for y in 0..<oh {
                    for xx in 0..<ow {
                        up[(ch * oh + y) * ow + xx] += ch < c / 2 ? Double(columns[ch * ow + xx]) : Double(rowTable[(ch - c / 2) * oh + y])
                    }
                }
            }
            let t = loader.tensors
            let (hidden, _, _) = conv(up, c: c, h: oh, w: ow, weight: t["out.0.weight"]!, bias: t["out.0.bias"]!, out: 32, k: 3, pad: 1)
            let (logits, _, _) = conv(hidden.map { max($0, 0) }, c: 32, h: oh, w: ow, weight: t["out.2.weight"]!,
                                      bias: t["out.2.bias"]!, out: 2, k: 1)
            let plane = oh * ow
            let tolerance = precision == .exact ? 2e-6 : 3e-2
            assertClose(result.upsampled!.data, up, tolerance: 1e-5, "output stage upsampled \(precision)")
            assertClose(result.logits!.data, logits, tolerance: tolerance, "output stage logits \(precision)")
            assertClose(result.depth.data, (0..<plane).map { exp(logits[$0]) }, tolerance: tolerance, "depth \(precision)")
            assertClose(result.confidence.data, (0..<plane).map { exp(logits[plane + $0]) + 1 }, tolerance: tolerance,
                        "confidence \(precision)")
            // Without intermediates: the same maps, nothing else.
            let plain = run.outputStage(op, Tensor(shape: [c, h, w], data: x), height: oh, width: ow, columns: columns,
                                        rows: rowTable, intermediates: false)
            XCTAssertEqual(plain.depth.data, result.depth.data)
            XCTAssertEqual(plain.confidence.data, result.confidence.data)
            XCTAssertNil(plain.upsampled)
            XCTAssertNil(plain.logits)
        }
    }

    func testPositionTablesAreSeparable() throws {
        let (c, h, w) = (4, 3, 5)
        var rng = SeededRNG(seed: 3)
        let x = rng.floats(c * h * w), columns = rng.floats(c / 2 * w), rowTable = rng.floats(c / 2 * h)
        var t = Tensor(shape: [c, h, w], data: x)
        try CPUBackend().makeExecution().addPositionTables(&t, columns: columns, rows: rowTable)
        for ch in 0..<c {
            for y in 0..<h {
                for xx in 0..<w {
                    let i = (ch * h + y) * w + xx
                    let e = ch < c / 2 ? columns[ch * w + xx] : rowTable[(ch - c / 2) * h + y]
                    XCTAssertEqual(t.data[i], x[i] + e)
                }
            }
        }
    }
}
