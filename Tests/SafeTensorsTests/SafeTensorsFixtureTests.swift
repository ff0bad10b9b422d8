import DA3TestSupport
import Foundation
import XCTest
@testable import SafeTensors

/// `Tests/Fixtures/tiny/model.safetensors` was written by Python's safetensors (F16/BF16/F32 mix).
final class SafeTensorsFixtureTests: XCTestCase {
    private let url = Fixtures.url("tiny/model.safetensors")

    func testShapesDtypesAndKnownValues() throws {
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.tensors.count, 395)
        XCTAssertEqual(file.metadata["format"], "pt")
        XCTAssertEqual(file.metadata["model.head.scratch.output_conv2_aux.1.2.bias"], "model.head.scratch.output_conv2_aux.0.2.bias")

        let expected: [(String, DType, [Int])] = [
            ("model.backbone.pretrained.pos_embed", .f32, [1, 37, 64]),
            ("model.backbone.pretrained.cls_token", .f32, [1, 1, 64]),
            ("model.backbone.pretrained.camera_token", .f32, [1, 2, 64]),
            ("model.backbone.pretrained.blocks.0.ls1.gamma", .f32, [64]),
            ("model.backbone.pretrained.patch_embed.proj.weight", .f16, [64, 3, 14, 14]),
            ("model.backbone.pretrained.blocks.0.attn.qkv.weight", .f16, [192, 64]),
            ("model.backbone.pretrained.blocks.0.attn.proj.bias", .f16, [64]),
            ("model.cam_dec.backbone.0.weight", .bf16, [128, 128]),
            ("model.cam_dec.fc_t.bias", .bf16, [3]),
            ("model.head.scratch.output_conv2.0.weight", .bf16, [32, 8, 3, 3]),
        ]
        for (name, dtype, shape) in expected {
            let info = try XCTUnwrap(file.tensors[name], name)
            XCTAssertEqual(info.dtype, dtype, name)
            XCTAssertEqual(info.shape, shape, name)
            XCTAssertEqual(info.byteRange.count, shape.reduce(1, *) * dtype.size, name)
        }
        XCTAssertEqual(file.tensors["model.backbone.pretrained.blocks.0.ls1.gamma"]?.byteRange, 0..<256)

        // First elements and sums as numpy reads them.
        let cls = try file.floats("model.backbone.pretrained.cls_token")
        XCTAssertEqual(Array(cls.prefix(3)), [0x1.8f61d0p-2, -0x1.29f3ccp-2, 0x1.261bf8p-2])
        XCTAssertEqual(cls.reduce(0.0) { $0 + Double($1) }, -1.5110874772071838, accuracy: 1e-12)
        let t = try file.floats("model.cam_dec.fc_t.bias")
        XCTAssertEqual(t, [0x1.0ap-6, -0x1.6ep-7, -0x1.e6p-8])
        let patch = try file.floats("model.backbone.pretrained.patch_embed.proj.weight")
        XCTAssertEqual(Array(patch.prefix(3)), [-0x1.cdp-5, -0x1.718p-7, -0x1.474p-5])
        XCTAssertEqual(patch.reduce(0.0) { $0 + Double($1) }, 8.46684843301773, accuracy: 1e-9)
    }

    /// config.json's "dtypes" lists which keys are F32 and BF16 (the first matching rule wins); the rest are F16.
    func testDtypesFollowConfigAndAllTensorsConvert() throws {
        let file = try SafeTensorsFile(url: url)
        let configData = try Data(contentsOf: Fixtures.url("tiny/config.json"))
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: configData) as? [String: Any])
        let rules = try XCTUnwrap(config["dtypes"] as? [String: String])
        func matches(_ key: String, _ pattern: String) -> Bool {
            if pattern.hasPrefix("*") { return key.hasSuffix(pattern.dropFirst()) }
            if pattern.hasSuffix("*") { return key.hasPrefix(pattern.dropLast()) }
            return key.split(separator: ".").last.map(String.init) == pattern
        }
        func expectedDType(_ key: String) -> DType {
            for dtype in [DType.f32, .bf16] {
                let patterns = (rules[dtype.rawValue] ?? "").components(separatedBy: ", ")
                if patterns.contains(where: { matches(key, $0) }) { return dtype }
            }
            return .f16
        }
        XCTAssertEqual(rules["F16"], "everything else")

        var counts: [DType: Int] = [:]
        var elements = 0
        for (name, info) in file.tensors.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(info.dtype, expectedDType(name), name)
            counts[info.dtype, default: 0] += 1
            let values = try file.floats(name)
            XCTAssertEqual(values.count, info.count, name)
            XCTAssertFalse(values.contains { !$0.isFinite }, "\(name) has a non-finite value")
            elements += values.count
        }
        XCTAssertEqual(counts, [.f16: 332, .bf16: 34, .f32: 29])
        XCTAssertEqual(elements, 906_047)

        // Python's writer packs tensors back to back from offset 0.
        let ranges = file.tensors.values.map(\.byteRange).sorted { $0.lowerBound < $1.lowerBound }
        XCTAssertEqual(ranges.first?.lowerBound, 0)
        for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
    }
}
