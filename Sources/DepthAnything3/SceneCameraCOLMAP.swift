import Foundation

extension SceneCamera {
    /// Reads the cameras of `imageNames` (matched by file name) from a COLMAP text model
    /// (`cameras.txt`, `images.txt` in `directory`, as `da3 images --formats colmap` writes or
    /// `colmap model_converter --output_type TXT` converts). PINHOLE, SIMPLE_PINHOLE, SIMPLE_RADIAL and
    /// RADIAL cameras are taken as pinholes (distortion ignored; SIMPLE_* share one focal length); a
    /// camera's intrinsics are scaled to `imageSizes` (width, height per image) where given and different.
    public static func load(colmapModelAt directory: URL, imageNames: [String],
                            imageSizes: [(width: Int, height: Int)]? = nil) throws -> [SceneCamera] {
        func lines(_ name: String) throws -> [String] {
            let url = directory.appendingPathComponent(name)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                let binary = directory.appendingPathComponent(name.replacingOccurrences(of: ".txt", with: ".bin"))
                let hint = FileManager.default.fileExists(atPath: binary.path)
                    ? " (a binary model: convert it with colmap model_converter --output_type TXT)" : ""
                throw SceneError(file: url.path, reason: "cannot read the COLMAP text model\(hint)")
            }
            return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                .filter { !$0.hasPrefix("#") }
        }
        let camerasFile = directory.appendingPathComponent("cameras.txt").path
        var cameras: [Int: (width: Double, height: Double, k: [Float])] = [:]
        for line in try lines("cameras.txt") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let p = line.split(separator: " ").map(String.init)
            guard p.count >= 5, let id = Int(p[0]), let w = Double(p[2]), let h = Double(p[3]) else {
                throw SceneError(file: camerasFile, reason: "malformed line '\(line)'")
            }
            let params = p[4...].compactMap(Double.init)
            let k: [Double]
            switch p[1] {
            case "PINHOLE" where params.count == 4: k = [params[0], params[1], params[2], params[3]]
            case "SIMPLE_PINHOLE" where params.count == 3, "SIMPLE_RADIAL" where params.count == 4, "RADIAL" where params.count == 5:
                k = [params[0], params[0], params[1], params[2]]
            default:
                throw SceneError(file: camerasFile, reason: "camera \(id): model \(p[1]) with \(params.count) parameters is not a pinhole camera this reader takes")
            }
            cameras[id] = (w, h, [Float(k[0]), 0, Float(k[2]), 0, Float(k[1]), Float(k[3]), 0, 0, 1])
        }
        let imagesFile = directory.appendingPathComponent("images.txt").path
        var poses: [String: (extrinsics: [Float], camera: Int)] = [:]
        let imageLines = try lines("images.txt")
        var i = 0
        while i < imageLines.count {
            let p = imageLines[i].split(separator: " ").map(String.init)
            i += 2  // the pose line, then the 2D points line
            if p.isEmpty { i -= 1; continue }
            let numbers = p.count >= 10 ? p[1..<9].compactMap(Double.init) : []
            guard numbers.count == 8, let camera = Int(p[8]) else {
                throw SceneError(file: imagesFile, reason: "malformed image line '\(p.joined(separator: " "))'")
            }
            let (w, x, y, z) = (numbers[0], numbers[1], numbers[2], numbers[3])
            let n = (w * w + x * x + y * y + z * z).squareRoot()
            let (qw, qx, qy, qz) = (w / n, x / n, y / n, z / n)
            let r = [1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw),
                     2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw),
                     2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy)]
            let t = Array(numbers[4...])
            let e = [r[0], r[1], r[2], t[0], r[3], r[4], r[5], t[1], r[6], r[7], r[8], t[2], 0, 0, 0, 1]
            poses[p[9...].joined(separator: " ")] = (e.map(Float.init), camera)
        }
        return try imageNames.enumerated().map { index, name in
            let file = URL(fileURLWithPath: name).lastPathComponent
            guard let pose = poses[file] ?? poses[name] else {
                throw SceneError(file: imagesFile, reason: "no image named \(file) in the COLMAP model")
            }
            guard let camera = cameras[pose.camera] else {
                throw SceneError(file: camerasFile, reason: "image \(file) uses camera \(pose.camera), which is not listed")
            }
            var k = camera.k
            if let size = imageSizes?[index] {
                let sx = Float(Double(size.width) / camera.width), sy = Float(Double(size.height) / camera.height)
                k[0] *= sx; k[2] *= sx; k[4] *= sy; k[5] *= sy
            }
            return SceneCamera(extrinsics: pose.extrinsics, intrinsics: k)
        }
    }
}
