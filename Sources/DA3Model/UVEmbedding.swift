import Foundation
import DA3Kernels

/// The DualDPT head's UV sin-cos position embedding (`_add_pos_embed`, `create_uv_grid`,
/// `position_grid_to_embed` in `model/utils/head_utils.py`), added with ratio 0.1.
/// It is separable: channels [0, C/2) depend only on the column, [C/2, C) only on the row,
/// so two small tables replace a C x h x w constant (added by the backend, `addPositionTables`).
enum UVEmbedding {
    /// The two separable tables for a (channels, height, width) map, already scaled by 0.1:
    /// `col` is (channels/2) x width (channels [0, C/2)), `row` is (channels/2) x height (channels [C/2, C)).
    static func tables(channels c: Int, width w: Int, height h: Int, imageWidth: Int, imageHeight: Int) -> (col: [Float], row: [Float]) {
        let aspect = Double(imageWidth) / Double(imageHeight)
        let diag = (aspect * aspect + 1).squareRoot()
        let spanX = aspect / diag, spanY = 1 / diag
        let u = linspace(-spanX * Double(w - 1) / Double(w), spanX * Double(w - 1) / Double(w), w)
        let v = linspace(-spanY * Double(h - 1) / Double(h), spanY * Double(h - 1) / Double(h), h)
        return (sinCos(u, channels: c / 2), sinCos(v, channels: c / 2))
    }

    /// `torch.linspace` in float32: the first half counts up from start, the second down from end.
    static func linspace(_ start: Double, _ end: Double, _ steps: Int) -> [Float] {
        if steps == 1 { return [Float(start)] }
        let s = Float(start), e = Float(end)
        let step = (e - s) / Float(steps - 1)
        let halfway = steps / 2
        return (0..<steps).map { i in i < halfway ? s + step * Float(i) : e - step * Float(steps - i - 1) }
    }

    /// `make_sincos_pos_embed(channels, pos, omega_0=100)` * 0.1, channel-major: (channels) x positions.
    static func sinCos(_ pos: [Float], channels: Int) -> [Float] {
        let quarter = channels / 2
        var table = [Float](repeating: 0, count: channels * pos.count)
        for k in 0..<quarter {
            let omega = 1 / powf(100, Float(k) / Float(quarter))
            for (i, p) in pos.enumerated() {
                let angle = p * omega
                table[k * pos.count + i] = sinf(angle) * 0.1
                table[(quarter + k) * pos.count + i] = cosf(angle) * 0.1
            }
        }
        return table
    }
}
