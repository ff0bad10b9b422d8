import Foundation
import XCTest
@testable import SafeTensors

/// Corrupt or unexpected files: each must throw a SafeTensorsError naming the file and the cause.
final class SafeTensorsErrorTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory(self)
    }

    private func write(_ name: String, _ data: Data) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// Opening `url` throws a SafeTensorsError whose description names the file and contains every `causes` fragment.
    private func assertOpenFails(_ url: URL, _ causes: String..., file: StaticString = #filePath, line: UInt = #line) {
        do {
            let opened = try SafeTensorsFile(url: url)
            XCTFail("\(url.lastPathComponent) opened with \(opened.tensors.count) tensors", file: file, line: line)
        } catch let error as SafeTensorsError {
            check(error, url: url, causes, file: file, line: line)
        } catch {
            XCTFail("not a SafeTensorsError: \(error)", file: file, line: line)
        }
    }

    private func check(_ error: SafeTensorsError, url: URL, _ causes: [String], file: StaticString, line: UInt) {
        XCTAssertEqual(error.file, url.path, file: file, line: line)
        XCTAssertTrue(error.description.hasPrefix(url.path + ": "), error.description, file: file, line: line)
        for cause in causes {
            XCTAssertTrue(error.description.contains(cause), "'\(error.description)' lacks '\(cause)'", file: file, line: line)
        }
    }

    /// One F32 tensor entry: `"name": {"dtype": ..., "shape": ..., "data_offsets": ...}`.
    private func entry(_ name: String, dtype: String = "F32", shape: String, offsets: String) -> String {
        "\"\(name)\": {\"dtype\": \"\(dtype)\", \"shape\": \(shape), \"data_offsets\": \(offsets)}"
    }

    func testMissingFile() {
        assertOpenFails(dir.appendingPathComponent("absent.safetensors"), "no such file")
    }

    func testEmptyFile() throws {
        assertOpenFails(try write("empty.safetensors", Data()), "0 bytes", "too short")
    }

    func testSevenByteFile() throws {
        assertOpenFails(try write("seven.safetensors", Data([2, 0, 0, 0, 0, 0, 0])), "7 bytes", "too short")
    }

    func testHeaderLengthLargerThanFile() throws {
        assertOpenFails(try write("long.safetensors", rawSafeTensors(header: "{}", declaredLength: 3)), "declared header length 3", "10-byte file")
        assertOpenFails(try write("huge.safetensors", rawSafeTensors(header: "{}", declaredLength: UInt64.max)), "declared header length")
        assertOpenFails(try write("zero.safetensors", rawSafeTensors(header: "", declaredLength: 0)), "declared header length 0")
    }

    func testHeaderNotJSON() throws {
        assertOpenFails(try write("notjson.safetensors", rawSafeTensors(header: "{\"a\": [1, 2")), "not valid JSON")
        assertOpenFails(try write("binary.safetensors", rawSafeTensors(header: "\u{1}\u{2}\u{3}\u{4}")), "not valid JSON")
    }

    func testHeaderJSONNotAnObject() throws {
        assertOpenFails(try write("array.safetensors", rawSafeTensors(header: "[1, 2, 3]")), "JSON is not an object")
    }

    func testEntryMissingFields() throws {
        let noDtype = "{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}"
        assertOpenFails(try write("nodtype.safetensors", rawSafeTensors(header: noDtype, data: f32Bytes([1]))), "'w'", "lacks dtype")
        let noOffsets = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}"
        assertOpenFails(try write("nooffsets.safetensors", rawSafeTensors(header: noOffsets, data: f32Bytes([1]))), "'w'", "data_offsets")
        let notEntry = "{\"w\": 3}"
        assertOpenFails(try write("notentry.safetensors", rawSafeTensors(header: notEntry)), "'w'")
        let badMetadata = "{\"__metadata__\": {\"k\": 1}}"
        assertOpenFails(try write("meta.safetensors", rawSafeTensors(header: badMetadata)), "metadata", "'k'")
    }

    func testUnknownDtype() throws {
        let header = "{" + entry("w", dtype: "F17", shape: "[1]", offsets: "[0, 4]") + "}"
        assertOpenFails(try write("dtype.safetensors", rawSafeTensors(header: header, data: f32Bytes([1]))), "'w'", "unknown dtype F17")
    }

    func testNegativeOrFractionalShape() throws {
        for (i, shape) in ["[-1]", "[1.5]", "[2, -4]", "[\"3\"]"].enumerated() {
            let header = "{" + entry("w", shape: shape, offsets: "[0, 4]") + "}"
            assertOpenFails(try write("shape\(i).safetensors", rawSafeTensors(header: header, data: f32Bytes([1]))), "'w'", "invalid shape")
        }
        let huge = "{" + entry("w", shape: "[4294967296, 4294967296, 4294967296]", offsets: "[0, 4]") + "}"
        assertOpenFails(try write("hugeshape.safetensors", rawSafeTensors(header: huge, data: f32Bytes([1]))), "'w'", "shape")
    }

    func testDataOffsetsBeyondData() throws {
        for (i, offsets) in ["[0, 12]", "[8, 12]", "[-4, 4]", "[4, 0]", "[0.5, 4]", "[0]"].enumerated() {
            let header = "{" + entry("w", shape: "[1]", offsets: offsets) + "}"
            let url = try write("offsets\(i).safetensors", rawSafeTensors(header: header, data: f32Bytes([1, 2])))
            assertOpenFails(url, "'w'", "data_offsets")
        }
        let header = "{" + entry("w", shape: "[3]", offsets: "[0, 12]") + "}"
        assertOpenFails(try write("beyond.safetensors", rawSafeTensors(header: header, data: f32Bytes([1, 2]))), "outside the 8-byte data section")
    }

    func testByteCountNotMatchingShape() throws {
        let header = "{" + entry("w", shape: "[3]", offsets: "[0, 8]") + "}"
        assertOpenFails(try write("count.safetensors", rawSafeTensors(header: header, data: f32Bytes([1, 2, 3]))),
                        "'w'", "has 8 bytes", "needs 12")
        let bf16 = "{" + entry("h", dtype: "BF16", shape: "[2, 2]", offsets: "[0, 16]") + "}"
        assertOpenFails(try write("count16.safetensors", rawSafeTensors(header: bf16, data: f32Bytes([1, 2, 3, 4]))),
                        "'h'", "has 16 bytes", "needs 8")
    }

    func testOverlappingTensors() throws {
        let header = "{" + entry("a", shape: "[2]", offsets: "[0, 8]") + ", " + entry("b", shape: "[2]", offsets: "[4, 12]") + "}"
        assertOpenFails(try write("overlap.safetensors", rawSafeTensors(header: header, data: f32Bytes([1, 2, 3]))), "overlap", "'a'", "'b'")
        let same = "{" + entry("a", shape: "[1]", offsets: "[0, 4]") + ", " + entry("b", shape: "[1]", offsets: "[0, 4]") + "}"
        assertOpenFails(try write("same.safetensors", rawSafeTensors(header: same, data: f32Bytes([1]))), "overlap")
        // An empty tensor sorted between two overlapping ones must not hide the overlap.
        let hidden = "{" + entry("a", shape: "[2]", offsets: "[0, 8]") + ", " + entry("e", shape: "[0]", offsets: "[5, 5]")
            + ", " + entry("c", shape: "[1]", offsets: "[6, 10]") + "}"
        assertOpenFails(try write("hidden.safetensors", rawSafeTensors(header: hidden, data: f32Bytes([1, 2, 3]))), "overlap", "'a'", "'c'")
    }

    func testEmptyTensorsAndGapsAreAccepted() throws {
        let header = "{" + entry("a", shape: "[1]", offsets: "[0, 4]") + ", " + entry("e", shape: "[0, 3]", offsets: "[4, 4]")
            + ", " + entry("b", shape: "[1]", offsets: "[8, 12]") + "}"
        let file = try SafeTensorsFile(url: try write("gaps.safetensors", rawSafeTensors(header: header, data: f32Bytes([1, 2, 3]))))
        XCTAssertEqual(try file.floats("a"), [1])
        XCTAssertEqual(try file.floats("b"), [3])
        XCTAssertEqual(try file.floats("e"), [])
    }

    func testMissingTensorName() throws {
        let url = dir.appendingPathComponent("ok.safetensors")
        try SafeTensorsWriter.write([.init(name: "present", shape: [1], values: [1])], to: url)
        let file = try SafeTensorsFile(url: url)
        XCTAssertThrowsError(try file.floats("absent")) { error in
            guard let error = error as? SafeTensorsError else { return XCTFail("not a SafeTensorsError: \(error)") }
            check(error, url: url, ["no tensor named 'absent'"], file: #filePath, line: #line)
        }
    }

    func testFloatsOfIntegerTensor() throws {
        let url = dir.appendingPathComponent("ints.safetensors")
        try SafeTensorsWriter.write([
            .init(name: "ids", dtype: .i64, shape: [2], bytes: [UInt8](repeating: 1, count: 16)),
            .init(name: "mask", dtype: .bool, shape: [3], bytes: [1, 0, 1]),
        ], to: url)
        let file = try SafeTensorsFile(url: url)
        for (name, dtype) in [("ids", "I64"), ("mask", "BOOL")] {
            XCTAssertThrowsError(try file.floats(name)) { error in
                guard let error = error as? SafeTensorsError else { return XCTFail("not a SafeTensorsError: \(error)") }
                check(error, url: url, ["'\(name)'", "dtype \(dtype)", "not a floating-point type"], file: #filePath, line: #line)
            }
        }
    }

    func testDirectoryIsNotAFile() throws {
        let sub = dir.appendingPathComponent("adir.safetensors")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        assertOpenFails(sub)
    }
}
