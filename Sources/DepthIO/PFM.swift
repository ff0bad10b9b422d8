import Foundation

/// Portable Float Map (`Pf`, one channel): ASCII header `Pf\nW H\n-1.0\n` (negative scale =
/// little-endian), then float32 rows from the bottom of the image to the top.
public enum PFM {
    /// Encodes a `width x height` row-major (top row first) float map.
    public static func encode(_ values: [Float], width: Int, height: Int) -> Data {
        precondition(values.count == width * height, "value count does not match the size")
        var w = ByteWriter()
        w.text("Pf\n\(width) \(height)\n-1.0\n")
        var flipped = [Float]()
        flipped.reserveCapacity(values.count)
        for row in stride(from: height - 1, through: 0, by: -1) {
            flipped.append(contentsOf: values[(row * width)..<((row + 1) * width)])
        }
        w.floats(flipped)
        return w.data
    }
}
