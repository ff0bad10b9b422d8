import Foundation
import XCTest
import DA3TestSupport
@testable import SafeTensors

/// The safetensors header parser against its naive twin, Foundation's JSONSerialization: the same
/// values for real headers and for JSON that exercises every rule, and the same refusals.
final class HeaderJSONTests: XCTestCase {
    private func parse(_ text: String) throws -> HeaderJSON {
        try Array(text.utf8).withUnsafeBytes { try HeaderJSON.parse($0) }
    }

    /// JSONSerialization's reading of `data` as a HeaderJSON, objects sorted by name (it does not
    /// keep their order); nil when it refuses the text.
    private func foundation(_ data: Data) -> HeaderJSON? {
        guard let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
        return convert(value)
    }

    private func convert(_ value: Any) -> HeaderJSON {
        switch value {
        case let object as [String: Any]:
            return .object(object.map { HeaderJSON.Member(name: $0.key, value: convert($0.value)) }.sorted { $0.name < $1.name })
        case let array as [Any]: return .array(array.map(convert))
        case let string as String: return .string(string)
        case is NSNull: return .null
        case let number as NSNumber: return .number(number.doubleValue)
        default: XCTFail("unexpected \(type(of: value))"); return .null
        }
    }

    /// `value` with every object's members sorted by name (as `foundation` gives them).
    private func sorted(_ value: HeaderJSON) -> HeaderJSON {
        switch value {
        case .object(let members):
            return .object(members.map { HeaderJSON.Member(name: $0.name, value: sorted($0.value)) }.sorted { $0.name < $1.name })
        case .array(let elements): return .array(elements.map(sorted))
        default: return value
        }
    }

    /// The header text of a safetensors file.
    private func header(of url: URL) throws -> Data {
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        let length = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        return data.subdata(in: 8..<8 + length)
    }

    func testRealHeadersReadAsFoundationReadsThem() throws {
        var files = ["tiny/model.safetensors", "tiny/goldens_70x56.safetensors", "small/goldens_504x280.safetensors",
                     "anyview/tiny_posed.safetensors"].map(Fixtures.url)
        let full = Fixtures.repoRoot.appendingPathComponent("goldens-full/small/model.safetensors")
        if FileManager.default.fileExists(atPath: full.path) { files.append(full) }
        for url in files {
            let text = try header(of: url)
            let ours = try text.withUnsafeBytes { try HeaderJSON.parse($0) }
            XCTAssertEqual(sorted(ours), foundation(text), url.lastPathComponent)
        }
    }

    func testEveryRuleReadsAsFoundationReadsIt() throws {
        let texts = [
            #"{}"#, #"[]"#, #"  {"a" : [ ] , "b":{} }   "#, "\t\r\n{\"padded\": 1}\n     ",
            #"{"n": [0, -0, 7, -12, 1.5, -0.25, 1e3, 2E-2, 6.02e+23, 9007199254740992, 123456789012]}"#,
            #"{"s": ["", "plain", "q\"uote", "back\\slash", "sl\/ash", "\b\f\n\r\t", "\u00e9\u4e2d\uD83D\uDE00", "é中😀"]}"#,
            #"{"nested": [[[1, [2]], {"x": {"y": null}}], "z"], "dup": 1, "__metadata__": {"format": "pt"}}"#,
        ]
        for text in texts {
            XCTAssertEqual(sorted(try parse(text)), foundation(Data(text.utf8)), text)
        }
        XCTAssertEqual(try parse("[true, false, null]"), .array([.bool(true), .bool(false), .null]))
        XCTAssertEqual(try parse(#"{"k": 1, "k": 2}"#), .object([.init(name: "k", value: .number(1)), .init(name: "k", value: .number(2))]))
    }

    func testInvalidJSONIsRefusedAsFoundationRefusesIt() {
        var texts = [
            "", " ", "{", "}", "[1, 2", "{,}", #"{"a" 1}"#, #"{a: 1}"#, "[01]", "[1.]", "[.5]",
            "[-]", "[1e]", "[+1]", "tru", "nul", "[True]", #"["open"#, "[\"tab\tinside\"]", #"["\x"]"#, #"["\u12"]"#,
            #"["\uD83D"]"#, #"["\uD83Dx"]"#, "{} {}", "[1] x", "\u{1}\u{2}\u{3}\u{4}",
        ]
        texts.append(String(repeating: "[", count: HeaderJSON.maxDepth + 1) + String(repeating: "]", count: HeaderJSON.maxDepth + 1))
        for text in texts {
            XCTAssertThrowsError(try parse(text), "accepted \(text.debugDescription)")
            if !text.hasPrefix("[[[") {
                XCTAssertNil(foundation(Data(text.utf8)), "Foundation accepts \(text.debugDescription)")
            }
        }
        // Trailing commas: Foundation lets them pass; RFC 8259 and the format's own reader (serde_json) do not.
        for text in ["[1,]", #"{"a": 1,}"#] {
            XCTAssertThrowsError(try parse(text), "accepted \(text.debugDescription)")
        }
        let invalidUTF8: [UInt8] = Array(#"{"a": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        XCTAssertThrowsError(try invalidUTF8.withUnsafeBytes { try HeaderJSON.parse($0) })
        XCTAssertNil(foundation(Data(invalidUTF8)))
    }
}
