import Foundation

extension SceneCamera {
    /// Reads a cameras file: a JSON list with one `{"extrinsics": 4x4 or 3x4, "intrinsics": 3x3}`
    /// object per image (nested row-major number arrays; extrinsics world-to-camera, intrinsics in
    /// pixels of the input image). Errors name `url` and the entry at fault.
    public static func load(jsonAt url: URL) throws -> [SceneCamera] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SceneError(file: url.path, reason: "cannot read (\((error as NSError).localizedDescription))")
        }
        return try parse(data, file: url.path)
    }

    /// Parses the JSON of a cameras file (see ``load(jsonAt:)``); `file` names it in errors.
    public static func parse(_ data: Data, file: String) throws -> [SceneCamera] {
        guard let list = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
            throw SceneError(file: file, reason: "not a JSON list of {\"extrinsics\", \"intrinsics\"} objects")
        }
        return try list.enumerated().map { i, item in
            guard let entry = item as? [String: Any] else {
                throw SceneError(file: file, reason: "entry \(i) is not an object with \"extrinsics\" and \"intrinsics\"")
            }
            func matrix(_ key: String, rows: Set<Int>) throws -> [Float] {
                guard let value = entry[key] else { throw SceneError(file: file, reason: "entry \(i) has no \"\(key)\"") }
                guard let r = value as? [[Any]], rows.contains(r.count), r.allSatisfy({ $0.count == r[0].count }),
                      let values = Optional(r.flatMap { $0 }.compactMap { ($0 as? NSNumber)?.floatValue }),
                      values.count == r.count * r[0].count else {
                    let shape = rows.sorted().map { "\($0)x\(key == "intrinsics" ? 3 : 4)" }.joined(separator: " or ")
                    throw SceneError(file: file, reason: "entry \(i): \"\(key)\" must be a \(shape) matrix of numbers")
                }
                return values
            }
            let ext = try matrix("extrinsics", rows: [3, 4]), k = try matrix("intrinsics", rows: [3])
            guard ext.count == 12 || ext.count == 16, k.count == 9 else {
                throw SceneError(file: file, reason: "entry \(i): extrinsics must be 4x4 or 3x4 and intrinsics 3x3")
            }
            let camera = SceneCamera(extrinsics: ext, intrinsics: k)
            if let problem = camera.problem { throw SceneError(file: file, reason: "entry \(i): \(problem)") }
            return camera
        }
    }
}
