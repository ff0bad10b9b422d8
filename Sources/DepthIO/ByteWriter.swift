import Foundation

/// Little-endian binary serialization helpers shared by the format writers.
struct ByteWriter {
    var data = Data()

    mutating func u8(_ v: UInt8) { data.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func bytes<C: Collection>(_ b: C) where C.Element == UInt8 { data.append(contentsOf: b) }
    mutating func text(_ s: String) { data.append(contentsOf: Array(s.utf8)) }

    /// Appends `values` as little-endian float32 (fast path for large arrays).
    mutating func floats(_ values: [Float]) {
        var le = values.map { $0.bitPattern.littleEndian }
        le.withUnsafeMutableBytes { data.append(contentsOf: $0) }
    }
}
