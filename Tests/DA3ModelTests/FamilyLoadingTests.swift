import XCTest
import DA3Kernels
import DA3Model
import DA3TestSupport
import Foundation
import SafeTensors

/// Detection and strict loading on the exact layouts of the published checkpoints (sparse files of
/// the official key sets, `SparseCheckpoint`): acceptance 4 and 5 of issue 16.
final class FamilyLoadingTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("da3-family-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testEveryPublishedLayoutIsDetected() throws {
        let expected = ["da3-small": "da3-small", "da3-base": "da3-base", "da3-large": "da3-large", "da3-giant": "da3-giant",
                        "da3metric-large": ModelConfig.metricOrMonoLargeName, "da3mono-large": ModelConfig.metricOrMonoLargeName,
                        "da3nested-giant-large": "da3nested-giant-large"]
        for (layout, name) in expected.sorted(by: { $0.key < $1.key }) {
            let config = try ModelDetection.preset(shapes: try SparseCheckpoint.keySet(layout))
            XCTAssertEqual(config.name, name, layout)
            if let preset = ModelConfig.preset(named: layout) {
                var same = config
                same.name = preset.name
                same.metricPerFocal = preset.metricPerFocal
                XCTAssertEqual(same, preset, "\(layout): the detected topology is the preset's")
            }
        }
    }

    /// An unknown width names what is known.
    func testUnknownSetNamesTheKnownPresets() throws {
        var shapes = try SparseCheckpoint.keySet("da3-small")
        shapes["model.backbone.pretrained.patch_embed.proj.weight"] = [1280, 3, 14, 14]
        XCTAssertThrowsError(try ModelDetection.preset(shapes: shapes)) { error in
            XCTAssertTrue("\(error)".contains("backbone width 1280"), "\(error)")
            XCTAssertTrue("\(error)".contains("da3-giant (width 1536, 40 blocks)"), "\(error)")
        }
    }

    private func load(_ shapes: [String: [Int]], config: ModelConfig? = nil) throws {
        let url = dir.appendingPathComponent("model.safetensors")
        try SparseCheckpoint.write(shapes, to: url)
        let file = try SafeTensorsFile(url: url, populate: false)
        if file.tensors["model.da3_metric.backbone.pretrained.patch_embed.proj.weight"] != nil {
            _ = try NestedDepthAnything3Net(checkpoint: file, config: config, backend: CPUBackend())
        } else {
            _ = try DepthAnything3Network(checkpoint: file, config: config)
        }
    }

    private func assertNames(_ key: String, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains("'\(key)'"), "\(error)", file: file, line: line)
        }
    }

    /// Acceptance 5: one tensor missing or mis-shaped in a known family's checkpoint is named
    /// (tensors early in the load order, so the test packs little).
    func testMissingOrMisshapenTensorIsNamed() throws {
        var metric = try SparseCheckpoint.keySet("da3metric-large")
        let fc1 = "model.backbone.pretrained.blocks.1.mlp.fc1.weight"
        metric[fc1] = nil
        assertNames(fc1) { try load(metric) }
        assertNames(fc1) { try load(metric, config: .metricLarge) }

        var giant = try SparseCheckpoint.keySet("da3-giant")
        let w12 = "model.backbone.pretrained.blocks.0.mlp.w12.weight"
        XCTAssertEqual(giant[w12], [8192, 1536])
        giant[w12] = [8192, 1535]
        assertNames(w12) { try load(giant) }

        var nested = try SparseCheckpoint.keySet("da3nested-giant-large")
        let proj = "model.da3.backbone.pretrained.blocks.0.attn.proj.bias"
        nested[proj] = nil
        assertNames(proj) { try load(nested) }

        var mono = try SparseCheckpoint.keySet("da3mono-large")
        let camera = "model.backbone.pretrained.camera_token"
        mono[camera] = [1, 2, 1024]  // an any-view tensor in a mono checkpoint: no preset has this set
        XCTAssertThrowsError(try ModelDetection.preset(shapes: mono))
    }
}
