import DA3TestSupport
import Foundation
import XCTest

@testable import DA3Image

/// Broken inputs produce an ImageError naming the file, never a crash.
final class ErrorTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("da3img-err-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func expectError(_ url: URL, contains words: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try ImageDecoder.decode(fileAt: url)
            XCTFail("decoding \(url.lastPathComponent) should fail", file: file, line: line)
        } catch let e as ImageError {
            let text = e.description
            print("[error] \(text)")
            XCTAssertTrue(text.contains(url.lastPathComponent), "'\(text)' does not name the file", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), file: file, line: line)
            for w in words {
                XCTAssertTrue(text.localizedCaseInsensitiveContains(w), "'\(text)' lacks '\(w)'", file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
    }

    func write(_ name: String, _ data: Data) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// A small valid JPEG made in memory-free way: take the first shared JPEG, else skip.
    func sampleJPEG() throws -> Data {
        let dir = try sharedImagesOrSkip()
        return try Data(contentsOf: dir.appendingPathComponent("demo08.jpg"))
    }

    func testMissingFile() {
        expectError(dir.appendingPathComponent("does_not_exist.jpg"), contains: ["no such file"])
    }

    func testEmptyFile() throws {
        expectError(try write("empty.png", Data()), contains: ["empty"])
    }

    func testTextFile() throws {
        expectError(try write("notes.jpg", Data("hello, this is not an image\n".utf8)), contains: ["cannot identify"])
    }

    func testDirectory() {
        expectError(dir, contains: ["directory"])
    }

    func testTruncatedPNG() throws {
        let png = try Data(contentsOf: Fixtures.url("png/rgb8.png"))
        expectError(try write("cut.png", png.prefix(png.count - 20)), contains: ["PNG"])
        expectError(try write("header_only.png", png.prefix(20)), contains: ["PNG"])
    }

    func testCorruptPNGChecksum() throws {
        var png = [UInt8](try Data(contentsOf: Fixtures.url("png/rgb8.png")))
        png[40] ^= 0xFF  // inside IDAT: CRC mismatch
        expectError(try write("corrupt.png", Data(png)), contains: ["PNG"])
    }

    func testZeroSizePNG() throws {
        var png = [UInt8](try Data(contentsOf: Fixtures.url("png/rgb8.png")))
        for i in 16..<20 { png[i] = 0 }  // IHDR width = 0 (CRC now wrong too)
        expectError(try write("zero.png", Data(png)), contains: ["PNG"])
    }

    func testTruncatedJPEG() throws {
        let jpg = try sampleJPEG()
        expectError(try write("cut.jpg", jpg.prefix(jpg.count / 2)), contains: ["truncated"])
        expectError(try write("tiny.jpg", jpg.prefix(4)), contains: ["JPEG"])
    }

    func testZeroSizeJPEG() throws {
        var jpg = [UInt8](try sampleJPEG())
        // Zero the width/height of the first SOF marker.
        var i = 2
        while i + 9 < jpg.count {
            guard jpg[i] == 0xFF else { break }
            let marker = jpg[i + 1]
            let len = Int(jpg[i + 2]) << 8 | Int(jpg[i + 3])
            if (0xC0...0xC2).contains(marker) {
                jpg[i + 5] = 0; jpg[i + 6] = 0; jpg[i + 7] = 0; jpg[i + 8] = 0
                break
            }
            i += 2 + len
        }
        expectError(try write("zero.jpg", Data(jpg)), contains: ["JPEG"])
    }

    func testInMemoryNameIsUsed() {
        XCTAssertThrowsError(try ImageDecoder.decode(data: Data([1, 2, 3]), name: "<memory>")) { e in
            XCTAssertTrue("\(e)".contains("<memory>"))
        }
    }

    func testBadProcessRes() {
        for bad in [0, -5, 8193, 100_000] {
            XCTAssertThrowsError(try Preprocessor(processRes: bad)) { e in
                XCTAssertTrue(e is ImageError)
                XCTAssertTrue("\(e)".contains("process_res"), "\(e)")
            }
        }
        XCTAssertNoThrow(try Preprocessor(processRes: 1))
        XCTAssertNoThrow(try Preprocessor(processRes: 8192))
    }

    func testTooSmallResultThrows() throws {
        let tiny = RGBImage(width: 4, height: 4, pixels: [UInt8](repeating: 9, count: 48))
        XCTAssertThrowsError(try Preprocessor(processRes: 5).prepare(tiny)) { e in
            XCTAssertTrue("\(e)".contains("patch"), "\(e)")
        }
        // 1000x10 at 504 -> 504x5 -> 504x0 (nearest multiple of 14 of 5 is 0, max(1, 0) = 1).
        let strip = RGBImage(width: 1000, height: 10, pixels: [UInt8](repeating: 9, count: 30000))
        XCTAssertThrowsError(try Preprocessor().prepare(strip))
    }
}
