import Foundation

/// Row-wise softmax in place, numerically stabilized by the row maximum.
public enum Softmax {
    public static func rows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, ld: Int? = nil) {
        let stride = ld ?? width
        let xs = UncheckedBox(x)
        Parallel.forEachChunk(rows, costPerItem: width * 8) { range in
            for r in range {
                let row = xs.value + r * stride
                var m = -Float.infinity
                for i in 0..<width { m = max(m, row[i]) }
                var sum: Float = 0
                for i in 0..<width { let e = expf(row[i] - m); row[i] = e; sum += e }
                let inv = 1 / sum
                for i in 0..<width { row[i] *= inv }
            }
        }
    }
}
