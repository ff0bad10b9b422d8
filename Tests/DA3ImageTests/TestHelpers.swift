import DA3TestSupport
import Foundation
import XCTest

@testable import DA3Image

/// zlib-compatible CRC-32 (matches Python's `zlib.crc32`).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func hex(_ bytes: [UInt8]) -> String {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return String(format: "%08x", c ^ 0xFFFF_FFFF)
    }
}

/// Shared-image folder or an XCTSkip explaining why it is missing.
func sharedImagesOrSkip() throws -> URL {
    let dir = Fixtures.sharedImages
    guard FileManager.default.fileExists(atPath: dir.path) else {
        print("skipping: shared images folder \(dir.path) is absent")
        throw XCTSkip("shared images folder \(dir.path) is absent")
    }
    return dir
}

/// `Tests/Fixtures/preprocess/goldens.json`.
struct PreprocessGoldens: Decodable {
    struct Decoded: Decodable { let source: String; let width: Int; let height: Int; let crc32: String }
    struct Case: Decodable {
        let source: String
        let process_res: Int
        let method: String
        let golden: String?
        let original_width: Int
        let original_height: Int
        let width: Int
        let height: Int
        let crc32: String
    }
    let mean: [Double]
    let std: [Double]
    let decoded: [Decoded]
    let cases: [Case]

    static func load() throws -> PreprocessGoldens {
        let data = try Data(contentsOf: Fixtures.url("preprocess/goldens.json"))
        return try JSONDecoder().decode(PreprocessGoldens.self, from: data)
    }
}
