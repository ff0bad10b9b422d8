import Foundation
import XCTest
@testable import DA3Kernels

final class AttentionRoPETests: XCTestCase {
    func testAttentionMatchesNaiveSoftmaxPerHead() {
        var rng = SeededRNG(seed: 40)
        // 600 tokens: two key chunks of the AVX-512 kernel (512 keys each).
        for (tokens, heads, headDim) in [(1, 1, 1), (1, 3, 5), (7, 1, 8), (23, 3, 5), (65, 2, 32), (37, 6, 64), (1, 1, 64), (33, 1, 64), (137, 3, 64), (600, 1, 64)] {
            let dim = heads * headDim
            // Scale up so the softmax is far from uniform.
            let qkv = rng.floats(tokens * 3 * dim, -3, 3)
            var ref = [Double](repeating: 0, count: tokens * dim)
            let scale = 1 / Double(headDim).squareRoot()
            for h in 0..<heads {
                func q(_ t: Int, _ i: Int) -> Double { Double(qkv[t * 3 * dim + h * headDim + i]) }
                func k(_ t: Int, _ i: Int) -> Double { Double(qkv[t * 3 * dim + dim + h * headDim + i]) }
                func v(_ t: Int, _ i: Int) -> Double { Double(qkv[t * 3 * dim + 2 * dim + h * headDim + i]) }
                for t in 0..<tokens {
                    var s = (0..<tokens).map { u in (0..<headDim).reduce(0.0) { $0 + q(t, $1) * k(u, $1) } * scale }
                    let m = s.max()!
                    s = s.map { exp($0 - m) }
                    let z = s.reduce(0, +)
                    for i in 0..<headDim {
                        ref[t * dim + h * headDim + i] = (0..<tokens).reduce(0.0) { $0 + s[$1] / z * v($1, i) }
                    }
                }
            }
            // The reference once; the kernel at every instruction-set level.
            atEveryISALevel {
                var out = [Float](repeating: .nan, count: tokens * dim)
                var scores = [Float](repeating: .nan, count: Attention.scratchCount(tokens: tokens, heads: heads, headDim: headDim))
                qkv.withUnsafeBufferPointer { qp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        out.withUnsafeMutableBufferPointer { op in
                            Attention.forward(qkv: qp.baseAddress!, tokens: tokens, heads: heads, headDim: headDim,
                                              scratch: sp.baseAddress!, into: op.baseAddress!)
                        }
                    }
                }
                assertClose(out, ref, "attention tokens=\(tokens) heads=\(heads) headDim=\(headDim)")
            }
        }
    }

    /// rope.py, directly: per axis half of width d, inv_freq[i] = 1 / base^(2i/d), angles = cat(p*inv_freq, p*inv_freq),
    /// out = t * cos + rotate_half(t) * sin with rotate_half(t) = cat(-t2, t1). y rotates the first half, x the second.
    private func ropeReference(_ v: [Float], headDim: Int, posY: Int, posX: Int, base: Double) -> [Double] {
        let d = headDim / 2
        func axis(_ t: [Double], _ p: Int) -> [Double] {
            let invFreq = (0..<(d / 2)).map { 1 / pow(base, Double(2 * $0) / Double(d)) }
            let angles = invFreq.map { Double(p) * $0 } + invFreq.map { Double(p) * $0 }
            let rotated = t[(d / 2)...].map { -$0 } + t[..<(d / 2)]
            return (0..<d).map { t[$0] * cos(angles[$0]) + rotated[$0] * sin(angles[$0]) }
        }
        let t = v.map(Double.init)
        return axis(Array(t[..<d]), posY) + axis(Array(t[d...]), posX)
    }

    func testRoPE2DMatchesRotateHalfFormula() {
        var rng = SeededRNG(seed: 41)
        for (headDim, maxPosition, base) in [(4, 3, 100.0), (8, 37, 100.0), (12, 20, 100.0), (32, 64, 100.0), (64, 37, 100.0), (16, 10, 10_000.0)] {
            let rope = RoPE2D(headDim: headDim, maxPosition: maxPosition, frequency: Float(base))
            XCTAssertEqual(rope.axisDim, headDim / 2)
            let positions = [(0, 0), (0, maxPosition - 1), (maxPosition - 1, 0), (maxPosition / 2, maxPosition / 3), (maxPosition - 1, maxPosition - 1)]
            for (py, px) in positions {
                let v = rng.floats(headDim, -2, 2)
                var got = v
                got.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, posY: py, posX: px) }
                let ref = ropeReference(v, headDim: headDim, posY: py, posX: px, base: base)
                assertClose(got, ref, "rope headDim=\(headDim) pos=(\(py), \(px)) base=\(base)")
                if py == 0 && px == 0 { XCTAssertEqual(got, v, "position 0 is the identity") }
            }
        }
    }

    /// Rotating rows of a strided buffer (as the model does for q and k inside a qkv row) leaves other features alone.
    func testRoPE2DInsideStridedRows() {
        var rng = SeededRNG(seed: 42)
        let headDim = 16, heads = 3, tokens = 5, rowStride = 3 * heads * headDim
        let rope = RoPE2D(headDim: headDim, maxPosition: 8)
        let x = rng.floats(tokens * rowStride)
        var got = x
        var ref = x.map(Double.init)
        got.withUnsafeMutableBufferPointer { p in
            for t in 0..<tokens {
                for h in 0..<heads {
                    rope.apply(p.baseAddress! + t * rowStride + h * headDim, posY: t, posX: 7 - t)
                }
            }
        }
        for t in 0..<tokens {
            for h in 0..<heads {
                let start = t * rowStride + h * headDim
                let r = ropeReference(Array(x[start..<(start + headDim)]), headDim: headDim, posY: t, posX: 7 - t, base: 100)
                ref.replaceSubrange(start..<(start + headDim), with: r)
            }
        }
        assertClose(got, ref, "rope strided")
        XCTAssertEqual(Array(got[(heads * headDim)..<rowStride]), Array(x[(heads * headDim)..<rowStride]))
    }
}
