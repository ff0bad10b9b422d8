import Foundation

/// NumPy `.npy` files (format version 1.0, C order), as `numpy.load` reads them.
public enum NPY {
    /// Element types written by this encoder.
    public enum DType: String, Sendable {
        /// Little-endian float32 (`<f4`).
        case float32 = "<f4"
        /// Unsigned byte (`|u1`).
        case uint8 = "|u1"
        /// Little-endian int64 (`<i8`).
        case int64 = "<i8"
    }

    /// The 10-byte preamble plus header dictionary, padded so the data starts on a 64-byte boundary.
    static func header(dtype: DType, shape: [Int]) -> Data {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var w = ByteWriter()
        w.bytes([0x93] + Array("NUMPY".utf8) + [1, 0])
        w.u16(UInt16(dict.utf8.count))
        w.text(dict)
        return w.data
    }

    /// A float32 array of `shape` (the product of `shape` must equal `values.count`).
    public static func encode(_ values: [Float], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "shape does not match the value count")
        var w = ByteWriter(data: header(dtype: .float32, shape: shape))
        w.floats(values)
        return w.data
    }

    /// A uint8 array of `shape` (e.g. an H x W x 3 RGB image).
    public static func encode(_ values: [UInt8], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "shape does not match the value count")
        var data = header(dtype: .uint8, shape: shape)
        data.append(contentsOf: values)
        return data
    }

    /// An int64 array of `shape`.
    public static func encode(_ values: [Int64], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "shape does not match the value count")
        var data = header(dtype: .int64, shape: shape)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }
}
