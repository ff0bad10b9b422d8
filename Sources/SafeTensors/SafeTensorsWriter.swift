import Foundation

/// Writes safetensors files (used by conversion tools and by tests that build checkpoints).
public enum SafeTensorsWriter {
    /// One tensor to write: raw little-endian bytes of `dtype` with `shape`.
    public struct Entry: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let bytes: [UInt8]

        public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// An entry from Float32 values, stored as `dtype` (F32, F16 or BF16; BF16 rounds to nearest even).
        public init(name: String, shape: [Int], values: [Float], dtype: DType = .f32) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(values.count * dtype.size)
            for v in values {
                switch dtype {
                case .f16:
                    let b = Float16(v).bitPattern
                    bytes += [UInt8(b & 0xff), UInt8(b >> 8)]
                case .bf16:
                    let u = v.bitPattern
                    let rounded = v.isNaN ? (u >> 16) | 0x40 : (u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16
                    bytes += [UInt8(rounded & 0xff), UInt8((rounded >> 8) & 0xff)]
                default:
                    let b = v.bitPattern
                    bytes += [UInt8(b & 0xff), UInt8((b >> 8) & 0xff), UInt8((b >> 16) & 0xff), UInt8(b >> 24)]
                }
            }
            self.init(name: name, dtype: dtype, shape: shape, bytes: bytes)
        }
    }

    /// The serialized file: header (padded with spaces to a multiple of 8) followed by the data.
    public static func serialize(_ entries: [Entry], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for entry in entries {
            header[entry.name] = ["dtype": entry.dtype.rawValue, "shape": entry.shape, "data_offsets": [offset, offset + entry.bytes.count]] as [String: Any]
            offset += entry.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for entry in entries { out.append(contentsOf: entry.bytes) }
        return out
    }

    /// Writes atomically: to a temporary name beside `url`, then renamed.
    public static func write(_ entries: [Entry], metadata: [String: String] = [:], to url: URL) throws {
        try serialize(entries, metadata: metadata).write(to: url, options: .atomic)
    }
}
