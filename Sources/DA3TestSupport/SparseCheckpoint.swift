import Foundation

/// A published checkpoint's layout (`Tests/Fixtures/family/keysets/<model_name>.json`, written by
/// tools/reference/make_family_keysets.py) as a sparse F32 safetensors file: the real header, and
/// zero pages the file system does not store, so detection and strict loading run on the exact
/// layouts of 1-7 GB checkpoints in a few kilobytes of disk.
public enum SparseCheckpoint {
    /// The key set of `modelName` (full keys -> shapes).
    public static func keySet(_ modelName: String) throws -> [String: [Int]] {
        let data = try Data(contentsOf: Fixtures.url("family/keysets/\(modelName).json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (json["tensors"] as! [String: [Int]])
    }

    /// Writes `tensors` as F32 safetensors at `url` (data all zeros, sparse).
    public static func write(_ tensors: [String: [Int]], to url: URL) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for key in tensors.keys.sorted() {
            let bytes = tensors[key]!.reduce(4, *)
            header[key] = ["dtype": "F32", "shape": tensors[key]!, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var text = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while text.count % 8 != 0 { text.append(0x20) }
        var blob = Data()
        withUnsafeBytes(of: UInt64(text.count).littleEndian) { blob.append(contentsOf: $0) }
        blob.append(text)
        guard FileManager.default.createFile(atPath: url.path, contents: blob) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(blob.count + offset))
        try handle.close()
    }

    /// A directory `dir` holding the sparse checkpoint and, when `configName` is given, a config.json naming it.
    public static func writeDirectory(_ tensors: [String: [Int]], at dir: URL, configName: String?) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try write(tensors, to: dir.appendingPathComponent("model.safetensors"))
        if let configName {
            try Data("{\"model_name\": \"\(configName)\"}\n".utf8).write(to: dir.appendingPathComponent("config.json"))
        }
    }
}
