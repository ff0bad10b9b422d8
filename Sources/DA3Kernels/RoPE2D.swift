import Foundation

/// 2-D rotary position embedding (DINOv2/VGGT style, `layers/rope.py`): the first half of each
/// head rotates with the token's y position, the second half with its x position.
public struct RoPE2D: Sendable {
    /// Rotated features per axis (half of the head dimension).
    public let axisDim: Int
    /// cos/sin tables: [position][axisDim/2] (other backends upload them as they are).
    public let cosTable: [Float]
    public let sinTable: [Float]
    /// Positions 0 ..< maxPosition have table rows.
    public let maxPosition: Int
    /// The frequency base.
    public let frequency: Float

    /// Tables for positions 0..<maxPosition and head dimension `headDim`, base `frequency` (100 in DA3).
    public init(headDim: Int, maxPosition: Int, frequency: Float = 100) {
        axisDim = headDim / 2
        self.maxPosition = maxPosition
        self.frequency = frequency
        let half = axisDim / 2
        var c = [Float](repeating: 0, count: maxPosition * half)
        var s = c
        for i in 0..<half {
            let invFreq = 1 / powf(frequency, Float(2 * i) / Float(axisDim))
            for p in 0..<maxPosition {
                let angle = Float(p) * invFreq
                c[p * half + i] = cosf(angle)
                s[p * half + i] = sinf(angle)
            }
        }
        cosTable = c
        sinTable = s
    }

    /// Rotates `rows` head vectors in place; row r lives at `x + r * stride` and has position
    /// (posY[r], posX[r]) — positions index the tables, so they must be < maxPosition.
    public func apply(_ x: UnsafeMutablePointer<Float>, posY: Int, posX: Int) {
        rotate(x, pos: posY)
        rotate(x + axisDim, pos: posX)
    }

    @inline(__always)
    func rotate(_ v: UnsafeMutablePointer<Float>, pos: Int) {
        let half = axisDim / 2
        cosTable.withUnsafeBufferPointer { cp in
            sinTable.withUnsafeBufferPointer { sp in
                let c = cp.baseAddress! + pos * half, s = sp.baseAddress! + pos * half
                for i in 0..<half {
                    let a = v[i], b = v[i + half]
                    v[i] = a * c[i] - b * s[i]
                    v[i + half] = b * c[i] + a * s[i]
                }
            }
        }
    }
}
