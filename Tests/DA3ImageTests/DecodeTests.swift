import DA3TestSupport
import Foundation
import XCTest

@testable import DA3Image

/// ImageDecoder against PIL `Image.open(path).convert("RGB")`.
final class DecodeTests: XCTestCase {
    /// Every PNG colour type / bit depth written by tools/reference/make_png_fixtures.py.
    func testPNGColourTypesMatchPIL() throws {
        let data = try Data(contentsOf: Fixtures.url("png/expected.json"))
        let expected = try JSONDecoder().decode([String: PNGCase].self, from: data)
        XCTAssertGreaterThanOrEqual(expected.count, 14)
        for (name, e) in expected.sorted(by: { $0.key < $1.key }) {
            let img = try ImageDecoder.decode(fileAt: Fixtures.url("png/\(name).png"))
            XCTAssertEqual(img.width, e.width, name)
            XCTAssertEqual(img.height, e.height, name)
            XCTAssertEqual(img.pixels, e.bytes, "\(name) (PIL mode \(e.pil_mode)) differs from PIL")
        }
    }

    struct PNGCase: Decodable {
        let pil_mode: String
        let width: Int
        let height: Int
        let rgb: String
        var bytes: [UInt8] {
            var out: [UInt8] = []
            var it = rgb.makeIterator()
            while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
            return out
        }
    }

    /// The shared photos decode bit-exactly like PIL (CRC-32 of the RGB bytes).
    func testSharedImagesMatchPIL() throws {
        let dir = try sharedImagesOrSkip()
        let goldens = try PreprocessGoldens.load()
        XCTAssertFalse(goldens.decoded.isEmpty)
        for d in goldens.decoded {
            let img = try ImageDecoder.decode(fileAt: dir.appendingPathComponent(d.source))
            XCTAssertEqual(img.width, d.width, d.source)
            XCTAssertEqual(img.height, d.height, d.source)
            let crc = CRC32.hex(img.pixels)
            print("[decode] \(d.source) \(img.width)x\(img.height): \(crc == d.crc32 ? "bit-exact with PIL" : "DIFFERS from PIL")")
            XCTAssertEqual(crc, d.crc32, "\(d.source) decodes differently from PIL")
        }
    }

    /// Magic bytes, not the extension, pick the decoder.
    func testSniffsByContentNotExtension() throws {
        let png = try Data(contentsOf: Fixtures.url("png/rgb8.png"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("da3img-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fake = dir.appendingPathComponent("actually_png.jpg")
        try png.write(to: fake)
        XCTAssertEqual(try ImageDecoder.decode(fileAt: fake), try ImageDecoder.decode(data: png, name: "<memory>"))
    }
}

/// Greyscale and colour JPEGs against PIL; CMYK is rejected with a clear error.
final class JPEGKindTests: XCTestCase {
    func testGreyAndColourJPEGMatchPIL() throws {
        let data = try Data(contentsOf: Fixtures.url("jpeg/expected.json"))
        let expected = try JSONDecoder().decode([String: DecodeTests.PNGCase].self, from: data)
        for name in ["grey", "ycc420"] {
            let e = try XCTUnwrap(expected[name])
            let img = try ImageDecoder.decode(fileAt: Fixtures.url("jpeg/\(name).jpg"))
            XCTAssertEqual(img.width, e.width)
            XCTAssertEqual(img.height, e.height)
            XCTAssertEqual(img.pixels, e.bytes, "\(name).jpg differs from PIL")
        }
    }

    func testCMYKJPEGIsRejected() {
        let url = Fixtures.url("jpeg/cmyk.jpg")
        XCTAssertThrowsError(try ImageDecoder.decode(fileAt: url)) { e in
            XCTAssertTrue("\(e)".contains("cmyk.jpg") && "\(e)".contains("CMYK"), "\(e)")
        }
    }
}
