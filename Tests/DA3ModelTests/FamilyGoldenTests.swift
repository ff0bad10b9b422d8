import XCTest
import DA3Kernels
import DA3Model
import DA3TestSupport
import SafeTensors

/// The family's new topologies (tiny) against the official PyTorch FP32 goldens written by
/// tools/reference/make_family_goldens.py: the DPT head with sky (Metric/Mono-Large), SwiGLU with
/// the Giant's DualDPT and GS head present in the file, and the nested alignment.
final class FamilyGoldenTests: XCTestCase {
    static func tiny(outLayers: [Int], alt: Int) -> ModelConfig {
        ModelConfig(name: "tiny", embedDim: 32, heads: 2, depth: 6, outLayers: outLayers, altStart: alt,
                    qkNormStart: alt, ropeStart: alt, headFeatures: 16, headOutChannels: [8, 16, 32, 64])
    }

    static let dptConfig: ModelConfig = {
        var c = tiny(outLayers: [1, 3, 4, 5], alt: -1)
        c.name = "da3-tiny-dpt-test"
        c.catToken = false
        c.head = .dpt
        return c
    }()

    static let giantConfig: ModelConfig = {
        var c = tiny(outLayers: [2, 3, 4, 5], alt: 2)
        c.name = "da3-tiny-giant-test"
        c.mlp = .swiGLU
        return c
    }()

    static let nestedConfig = giantConfig.nested(with: dptConfig, name: "da3-tiny-nested-test")

    /// Stages named in the golden file that this network emits, compared; returns how many.
    @discardableResult
    static func compareStages(_ golden: SafeTensorsFile, _ stages: [String: Tensor], skipping: Set<String> = [],
                              file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        var checked = 0
        for name in golden.tensors.keys.sorted() where !skipping.contains(name) {
            guard let mine = stages[name] else { continue }
            let err = StageError(mine.data, try golden.floats(name))
            XCTAssertEqual(mine.data.count, golden.tensors[name]!.count, name, file: file, line: line)
            XCTAssertLessThan(err.normalizedMax, 2e-5, "\(name): \(err)", file: file, line: line)
            XCTAssertGreaterThan(err.pearson, 0.999999, "\(name): \(err)", file: file, line: line)
            checked += 1
        }
        return checked
    }

    func testDPTStagesDepthAndSkyMatch() throws {
        let net = try DepthAnything3Network(checkpoint: SafeTensorsFile(url: Fixtures.url("family/tiny-dpt/model.safetensors")),
                                            config: Self.dptConfig)
        let golden = try SafeTensorsFile(url: Fixtures.url("family/tiny-dpt/goldens_70x56.safetensors"))
        var stages: [String: Tensor] = [:]
        let out = net.forward(try golden.floats("input"), height: 70, width: 56) { stages[$0] = $1 }
        let checked = try Self.compareStages(golden, stages)
        XCTAssertGreaterThan(checked, 25)
        // The final depth (after the sky handling) and sky, as the official Prediction.
        XCTAssertLessThan(Metrics.maxRelativeError(out.depth, reference: try golden.floats("depth")), 1e-4)
        XCTAssertLessThan(Metrics.maxAbsoluteError(out.sky!, reference: try golden.floats("sky")), 1e-4)
        XCTAssertTrue(out.poseEncoding.isEmpty)
        XCTAssertEqual(out.intrinsics.fx, 0)
        // The sky handling changed something: sky pixels hold one far depth.
        let raw = try golden.floats("depth_raw"), final = try golden.floats("depth")
        XCTAssertGreaterThan(zip(raw, final).filter { $0 != $1 }.count, 10)
    }

    func testGiantSwiGLUStagesMatchWithTheGSHeadIgnored() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("family/tiny-giant/model.safetensors"))
        XCTAssertTrue(file.tensors.keys.contains { $0.hasPrefix("model.gs_head.") }, "the fixture carries a GS head")
        let net = try DepthAnything3Network(checkpoint: file, config: Self.giantConfig)
        let golden = try SafeTensorsFile(url: Fixtures.url("family/tiny-giant/goldens_70x56.safetensors"))
        var stages: [String: Tensor] = [:]
        _ = net.forward(try golden.floats("input"), height: 70, width: 56) { stages[$0] = $1 }
        XCTAssertGreaterThan(try Self.compareStages(golden, stages, skipping: ["input", "intrinsics"]), 30)
    }

    func testNestedAlignmentMatchesOfficial() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("family/tiny-nested/model.safetensors"))
        let net = try NestedDepthAnything3Net(checkpoint: file, config: Self.nestedConfig, backend: CPUBackend())
        let golden = try SafeTensorsFile(url: Fixtures.url("family/tiny-nested/goldens_70x56.safetensors"))
        var stages: [String: Tensor] = [:]
        let out = try net.forward(try golden.floats("input"), height: 70, width: 56) { stages[$0] = $1 }
        XCTAssertGreaterThan(try Self.compareStages(golden, stages, skipping: ["input", "intrinsics", "nested.scale_factor"]), 55)
        let scale = try golden.floats("nested.scale_factor")[0]
        XCTAssertEqual(out.scaleFactor!, scale, accuracy: abs(scale) * 1e-5)
        XCTAssertLessThan(Metrics.maxRelativeError(out.depth, reference: try golden.floats("nested.depth")), 1e-4)
        XCTAssertLessThan(Metrics.maxRelativeError(out.confidence, reference: try golden.floats("nested.depth_conf")), 1e-4)
        XCTAssertTrue(out.isMetric)
    }

    /// Detected from the tensors alone: the nested tiny checkpoint is recognised as nested with
    /// the tiny branches' widths (it matches no published preset, so detection names what it found).
    func testTinyTensorSetsAreRefusedNamingWhatWasFound() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("family/tiny-dpt/model.safetensors"))
        XCTAssertThrowsError(try ModelDetection.preset(shapes: file.tensors.mapValues(\.shape))) { error in
            XCTAssertTrue("\(error)".contains("backbone width 32, 6 blocks"), "\(error)")
            XCTAssertTrue("\(error)".contains("da3metric-large (width 1024, 24 blocks)"), "\(error)")
        }
    }
}

/// The family's topologies behind a second backend (the tracing one of `BackendProtocolTests`):
/// the new operators are asked for (`require`, `swiGLU`, `rows`) and the output is bit-identical.
final class FamilyBackendTests: XCTestCase {
    func testDPTAndSwiGLUGoThroughTheProtocol() throws {
        for (path, config) in [("family/tiny-dpt", FamilyGoldenTests.dptConfig), ("family/tiny-giant", FamilyGoldenTests.giantConfig)] {
            let file = try SafeTensorsFile(url: Fixtures.url("\(path)/model.safetensors"))
            let backend = try BackendProtocolTests.TracingBackend(precision: .exact)
            let traced = try DepthAnything3Net(checkpoint: file, config: config, backend: backend)
            let reference = try DepthAnything3Network(checkpoint: file, config: config)
            if config.head == .dpt {
                XCTAssertTrue(backend.log.contains("require tokenRows"), path)
            } else {
                XCTAssertTrue(backend.log.contains("require swiGLU"), path)
                XCTAssertEqual(backend.log.filter { $0.hasPrefix("prepare swiGLU") }.count, 6, path)
            }
            let image = SyntheticImage.normalized(width: 56, height: 70)
            backend.log = []
            let out = traced.forward(image, height: 70, width: 56)
            let expected = reference.forward(image, height: 70, width: 56)
            XCTAssertEqual(out.depth, expected.depth, path)
            XCTAssertEqual(out.sky, expected.sky, path)
            if config.head == .dpt { XCTAssertEqual(backend.log.filter { $0.hasPrefix("rows") }.count, 4, path) }
        }
    }
}
