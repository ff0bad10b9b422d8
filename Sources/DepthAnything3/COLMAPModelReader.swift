import Foundation

/// The cameras and image poses of a COLMAP sparse model, read from its binary files (`cameras.bin`,
/// `images.bin`: what COLMAP, pycolmap and the official exporter write) or, where those are
/// absent, its text files (`cameras.txt`, `images.txt`). Points are not read.
struct COLMAPModelReader {
    struct Camera {
        var model: String, width: Double, height: Double, params: [Double]
    }

    struct Image {
        /// World-to-camera rotation as (qw, qx, qy, qz) and translation.
        var quaternion: [Double], translation: [Double], camera: Int
    }

    var cameras: [Int: Camera] = [:]
    var images: [String: Image] = [:]
    /// The files read (for errors).
    var camerasFile: String, imagesFile: String

    /// COLMAP's camera models by id, with their parameter counts.
    static let models: [(name: String, parameters: Int)] = [
        ("SIMPLE_PINHOLE", 3), ("PINHOLE", 4), ("SIMPLE_RADIAL", 4), ("RADIAL", 5), ("OPENCV", 8),
        ("OPENCV_FISHEYE", 8), ("FULL_OPENCV", 12), ("FOV", 5), ("SIMPLE_RADIAL_FISHEYE", 4),
        ("RADIAL_FISHEYE", 5), ("THIN_PRISM_FISHEYE", 12), ("RAD_TAN_THIN_PRISM_FISHEYE", 16),
    ]

    init(directory: URL) throws {
        let bin = (directory.appendingPathComponent("cameras.bin"), directory.appendingPathComponent("images.bin"))
        let fm = FileManager.default
        if fm.fileExists(atPath: bin.0.path) && fm.fileExists(atPath: bin.1.path) {
            (camerasFile, imagesFile) = (bin.0.path, bin.1.path)
            try readBinaryCameras(bin.0)
            try readBinaryImages(bin.1)
        } else {
            (camerasFile, imagesFile) = (directory.appendingPathComponent("cameras.txt").path,
                                         directory.appendingPathComponent("images.txt").path)
            try readTextCameras()
            try readTextImages()
        }
    }

    // MARK: Text

    private func lines(_ path: String) throws -> [String] {
        guard let text = try? String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8) else {
            throw SceneError(file: path, reason: "cannot read the COLMAP model (cameras and images as .bin or .txt)")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.hasPrefix("#") }
    }

    private mutating func readTextCameras() throws {
        for line in try lines(camerasFile) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let p = line.split(separator: " ").map(String.init)
            guard p.count >= 5, let id = Int(p[0]), let w = Double(p[2]), let h = Double(p[3]) else {
                throw SceneError(file: camerasFile, reason: "malformed line '\(line)'")
            }
            cameras[id] = Camera(model: p[1], width: w, height: h, params: p[4...].compactMap(Double.init))
        }
    }

    private mutating func readTextImages() throws {
        let imageLines = try lines(imagesFile)
        var i = 0
        while i < imageLines.count {
            let p = imageLines[i].split(separator: " ").map(String.init)
            i += 2  // the pose line, then the 2D points line
            if p.isEmpty { i -= 1; continue }
            let numbers = p.count >= 10 ? p[1..<9].compactMap(Double.init) : []
            guard numbers.count == 8, let camera = Int(p[8]) else {
                throw SceneError(file: imagesFile, reason: "malformed image line '\(p.joined(separator: " "))'")
            }
            images[p[9...].joined(separator: " ")] = Image(quaternion: Array(numbers[0..<4]), translation: Array(numbers[4...]),
                                                          camera: camera)
        }
    }

    // MARK: Binary (little-endian, as COLMAP writes it)

    private struct Bytes {
        let data: Data, file: String
        var offset = 0

        mutating func take(_ count: Int) throws -> Data {
            guard count >= 0, offset + count <= data.count else {
                throw SceneError(file: file, reason: "truncated COLMAP binary file (needs \(count) bytes at offset \(offset))")
            }
            defer { offset += count }
            return data.subdata(in: (data.startIndex + offset)..<(data.startIndex + offset + count))
        }

        mutating func u32() throws -> UInt32 { try take(4).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) } }
        mutating func u64() throws -> UInt64 { try take(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) } }
        mutating func f64() throws -> Double { Double(bitPattern: try u64()) }

        mutating func count(_ what: String, each: Int) throws -> Int {
            let n = try u64()
            guard n <= UInt64(data.count - offset) / UInt64(max(each, 1)) else {
                throw SceneError(file: file, reason: "truncated COLMAP binary file (\(n) \(what) do not fit in it)")
            }
            return Int(n)
        }

        mutating func cString() throws -> String {
            guard let end = data[(data.startIndex + offset)...].firstIndex(of: 0) else {
                throw SceneError(file: file, reason: "unterminated image name at offset \(offset)")
            }
            let bytes = data[(data.startIndex + offset)..<end]
            offset = end - data.startIndex + 1
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func bytes(_ url: URL) throws -> Bytes {
        guard let data = try? Data(contentsOf: url) else {
            throw SceneError(file: url.path, reason: "cannot read the COLMAP binary file")
        }
        return Bytes(data: data, file: url.path)
    }

    private mutating func readBinaryCameras(_ url: URL) throws {
        var b = try Self.bytes(url)
        for _ in 0..<(try b.count("cameras", each: 24)) {
            let id = Int(try b.u32()), modelID = Int(try b.u32())
            let width = Double(try b.u64()), height = Double(try b.u64())
            guard modelID < Self.models.count else {
                throw SceneError(file: url.path, reason: "camera \(id): unknown camera model id \(modelID)")
            }
            let model = Self.models[modelID]
            cameras[id] = Camera(model: model.name, width: width, height: height,
                                 params: try (0..<model.parameters).map { _ in try b.f64() })
        }
    }

    private mutating func readBinaryImages(_ url: URL) throws {
        var b = try Self.bytes(url)
        for _ in 0..<(try b.count("images", each: 64)) {
            _ = try b.u32()  // image id
            let q = try (0..<4).map { _ in try b.f64() }, t = try (0..<3).map { _ in try b.f64() }
            let camera = Int(try b.u32())
            let name = try b.cString()
            _ = try b.take(24 * (try b.count("2D points", each: 24)))  // (x, y, point3D id) each
            images[name] = Image(quaternion: q, translation: t, camera: camera)
        }
    }
}
