import Foundation
import XCTest
@testable import SafeTensors

final class SafeTensorsRoundTripTests: XCTestCase {
    func testRoundTripF32F16BF16AndMetadata() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("round.safetensors")
        var state: UInt64 = 12345
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 250_000
        }
        let a = (0..<(3 * 5 * 7)).map { _ in next() }
        let b = (0..<17).map { _ in next() }
        let c = (0..<(2 * 9)).map { _ in next() }
        let metadata = ["format": "pt", "note": "ümlaut, \"quotes\" and spaces"]
        try SafeTensorsWriter.write([
            .init(name: "a.f32", shape: [3, 5, 7], values: a),
            .init(name: "b.f16", shape: [17], values: b, dtype: .f16),
            .init(name: "c.bf16", shape: [2, 9], values: c, dtype: .bf16),
            .init(name: "scalar", shape: [], values: [2.5]),
            .init(name: "empty", shape: [4, 0], values: []),
        ], metadata: metadata, to: url)

        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.tensors.count, 5)
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(file.fileSize, try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)

        XCTAssertEqual(file.tensors["a.f32"]?.dtype, .f32)
        XCTAssertEqual(file.tensors["a.f32"]?.shape, [3, 5, 7])
        XCTAssertEqual(try file.floats("a.f32"), a)

        XCTAssertEqual(file.tensors["b.f16"]?.dtype, .f16)
        XCTAssertEqual(file.tensors["b.f16"]?.byteRange.count, 34)
        XCTAssertEqual(try file.floats("b.f16"), b.map { Float(Float16($0)) })

        XCTAssertEqual(file.tensors["c.bf16"]?.dtype, .bf16)
        XCTAssertEqual(file.tensors["c.bf16"]?.shape, [2, 9])
        let cBack = try file.floats("c.bf16")
        for (orig, back) in zip(c, cBack) {
            // BF16 keeps 8 significant bits: the error is at most half an ulp, 2^-8 relative.
            XCTAssertLessThanOrEqual(abs(orig - back), abs(orig) * 0x1p-8)
            XCTAssertEqual(back.bitPattern & 0xffff, 0)
        }

        XCTAssertEqual(file.tensors["scalar"]?.shape, [])
        XCTAssertEqual(file.tensors["scalar"]?.count, 1)
        XCTAssertEqual(try file.floats("scalar"), [2.5])
        XCTAssertEqual(try file.floats("empty"), [])

        // The header is padded to 8 bytes, so the data section is aligned.
        let bytes = try Data(contentsOf: url)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0)
    }

    func testBF16RoundsToNearestEvenAndKeepsSpecials() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("bf16.safetensors")
        let cases: [(Float, UInt16)] = [
            (1.0, 0x3F80),
            (1.00390625, 0x3F80),                      // 1 + 2^-8: tie between 0x3F80 and 0x3F81, even wins
            (Float(bitPattern: 0x3F80_8001), 0x3F81),  // just above the tie rounds up
            (Float(bitPattern: 0x3F80_7FFF), 0x3F80),  // just below the tie rounds down
            (1.01171875, 0x3F82),                      // 1 + 3*2^-8: tie between 0x3F81 and 0x3F82, even wins
            (-1.00390625, 0xBF80),
            (0.0, 0x0000),
            (-0.0, 0x8000),
            (.infinity, 0x7F80),
            (-.infinity, 0xFF80),
            (.greatestFiniteMagnitude, 0x7F80),        // rounds past the largest BF16 to infinity, as torch does
            (Float(bitPattern: 0x0000_0001), 0x0000),  // smallest subnormal rounds to zero
            (3.140625, 0x4049),
        ]
        let nans: [Float] = [.nan, -.nan, Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFF80_0001), Float(bitPattern: 0x7FFF_FFFF)]
        let values = cases.map(\.0) + nans
        try SafeTensorsWriter.write([.init(name: "x", shape: [values.count], values: values, dtype: .bf16)], to: url)
        let file = try SafeTensorsFile(url: url)
        let words = try storedWords16(file, "x")
        for (i, (value, expected)) in cases.enumerated() {
            XCTAssertEqual(words[i], expected, "BF16 of \(value) (0x\(String(value.bitPattern, radix: 16)))")
        }
        let back = try file.floats("x")
        for (i, (value, _)) in cases.enumerated() where value.isNormal && abs(value) < 1e30 {
            XCTAssertLessThanOrEqual(abs(back[i] - value), abs(value) * 0x1p-8)
        }
        XCTAssertEqual(back[0], 1.0)
        XCTAssertEqual(back[1], 1.0)
        XCTAssertEqual(back[4], 1.015625)
        XCTAssertEqual(back[8], .infinity)
        for (j, nan) in nans.enumerated() {
            let i = cases.count + j
            XCTAssertTrue(back[i].isNaN, "NaN 0x\(String(nan.bitPattern, radix: 16)) stored as 0x\(String(words[i], radix: 16))")
            XCTAssertEqual(words[i] >> 15, UInt16(nan.bitPattern >> 31), "NaN keeps its sign")
        }
    }

    func testF16RoundTripAndSpecialValues() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("f16.safetensors")
        let values: [Float] = [0, -0.0, 1, -2, 0.5, 65504, 70000, -.infinity, 1e-8, 6.0e-8, 0.1, 1.0009765625, 1.00048828125]
        try SafeTensorsWriter.write([.init(name: "h", shape: [values.count], values: values, dtype: .f16),
                                     .init(name: "n", shape: [1], values: [.nan], dtype: .f16)], to: url)
        let file = try SafeTensorsFile(url: url)
        let back = try file.floats("h")
        XCTAssertEqual(back, values.map { Float(Float16($0)) })
        XCTAssertEqual(back[5], 65504)
        XCTAssertEqual(back[6], .infinity)
        XCTAssertEqual(back[8], 0)
        XCTAssertEqual(back[11], 1.0009765625)
        XCTAssertEqual(back[12], 1, "1 + 2^-11 is a tie, rounds to even")
        XCTAssertEqual(try storedWords16(file, "h")[2], 0x3C00)
        XCTAssertTrue(try file.floats("n")[0].isNaN)
    }

    func testF64AndRawEntries() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("raw.safetensors")
        let doubles: [Double] = [1.5, -2.25, 1e-3, 3.0e38, 1e300]
        let f64Bytes = doubles.flatMap { d -> [UInt8] in (0..<8).map { UInt8((d.bitPattern >> (8 * UInt64($0))) & 0xff) } }
        let ints: [Int32] = [1, -2, 3]
        let i32Bytes = ints.flatMap { v -> [UInt8] in (0..<4).map { UInt8((UInt32(bitPattern: v) >> (8 * UInt32($0))) & 0xff) } }
        try SafeTensorsWriter.write([
            .init(name: "d", dtype: .f64, shape: [5], bytes: f64Bytes),
            .init(name: "i", dtype: .i32, shape: [3], bytes: i32Bytes),
            .init(name: "u", dtype: .u8, shape: [2, 2], bytes: [1, 2, 3, 4]),
        ], to: url)
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(try file.floats("d"), doubles.map { Float($0) })
        XCTAssertEqual(try file.floats("d")[4], .infinity)
        XCTAssertEqual(file.tensors["i"]?.dtype, .i32)
        XCTAssertEqual(file.tensors["u"]?.shape, [2, 2])
        let rawInts = file.rawBytes(file.tensors["i"]!) { raw in (0..<3).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) } }
        XCTAssertEqual(rawInts, ints)
        XCTAssertTrue(DType.f64.isFloatConvertible)
        XCTAssertFalse(DType.i32.isFloatConvertible)
        XCTAssertEqual(DType.allCases.map(\.size).reduce(0, +), 8 * 3 + 4 * 3 + 2 * 4 + 1 * 5)
    }

    func testSerializeIsDeterministic() throws {
        let entries: [SafeTensorsWriter.Entry] = [.init(name: "z", shape: [2], values: [1, 2]), .init(name: "a", shape: [1], values: [3])]
        XCTAssertEqual(try SafeTensorsWriter.serialize(entries, metadata: ["k": "v"]), try SafeTensorsWriter.serialize(entries, metadata: ["k": "v"]))
    }
}
