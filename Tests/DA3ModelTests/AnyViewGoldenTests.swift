import XCTest
import DA3Kernels
import DA3Model
import DA3TestSupport
import SafeTensors

/// Any-view scenes (3 views of 70x56, tiny model) against the official forward for every
/// reference-view strategy and with known cameras: goldens from tools/reference/make_anyview_goldens.py.
final class AnyViewGoldenTests: XCTestCase {
    static func golden(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(url: Fixtures.url("anyview/tiny_\(name).safetensors"))
    }

    static func views(_ golden: SafeTensorsFile) throws -> [[Float]] {
        let input = try golden.floats("input"), s = golden.tensors["input"]!.shape[0], n = input.count / s
        return (0..<s).map { Array(input[($0 * n)..<(($0 + 1) * n)]) }
    }

    func testEveryStrategyMatchesOfficial() throws {
        let net = try TinyGoldenTests.loadTiny()
        var picked: Set<Int> = []
        for strategy in ReferenceViewStrategy.allCases {
            let golden = try Self.golden(strategy.rawValue)
            let out = try net.forward(views: try Self.views(golden), height: 70, width: 56, strategy: strategy)
            XCTAssertEqual(out.referenceView, Int(try golden.floats("ref_view")[0]), strategy.rawValue)
            picked.insert(out.referenceView)
            try Self.check(out, golden, label: strategy.rawValue)
        }
        XCTAssertEqual(picked.count, 3, "the fixture's views make the strategies pick each view")
    }

    /// Every block's output (views stacked in processing order) for the default strategy.
    func testBlocksMatchOfficial() throws {
        let net = try TinyGoldenTests.loadTiny()
        let golden = try Self.golden("saddle_balanced")
        var stages: [String: Tensor] = [:]
        _ = try net.forward(views: try Self.views(golden), height: 70, width: 56) { name, t in stages[name] = t }
        for i in 0..<12 {
            let err = StageError(try XCTUnwrap(stages["block.\(i)"]).data, try golden.floats("block.\(i)"))
            XCTAssertLessThan(err.normalizedMax, 2e-5, "block.\(i): \(err)")
        }
    }

    func testKnownCamerasMatchOfficial() throws {
        let net = try TinyGoldenTests.loadTiny()
        XCTAssertTrue(net.acceptsCameras)
        let golden = try Self.golden("posed")
        let ext = try golden.floats("norm_extrinsics"), k = try golden.floats("in_intrinsics")
        let cameras = NetworkCameras(extrinsics: (0..<3).map { Array(ext[($0 * 16)..<($0 * 16 + 16)]) },
                                     intrinsics: (0..<3).map { Array(k[($0 * 9)..<($0 * 9 + 9)]) })
        let out = try net.forward(views: try Self.views(golden), height: 70, width: 56, cameras: cameras)
        XCTAssertEqual(out.referenceView, 0)
        try Self.check(out, golden, label: "posed")
    }

    /// One view through the scene path equals the single-image path bit for bit.
    func testOneViewEqualsSingleImagePath() throws {
        let net = try TinyGoldenTests.loadTiny()
        let image = try Self.views(try Self.golden("first"))[0]
        let scene = try net.forward(views: [image], height: 70, width: 56)
        let single = net.forward(image, height: 70, width: 56)
        XCTAssertEqual(scene.views[0].depth, single.depth)
        XCTAssertEqual(scene.views[0].confidence, single.confidence)
        XCTAssertEqual(scene.views[0].poseEncoding, single.poseEncoding)
    }

    static func check(_ out: SceneNetworkOutput, _ golden: SafeTensorsFile, label: String) throws {
        let depth = out.views.flatMap(\.depth), conf = out.views.flatMap(\.confidence)
        for (name, mine) in [("depth", depth), ("depth_conf", conf)] {
            let err = StageError(mine, try golden.floats(name))
            XCTAssertLessThan(err.normalizedMax, 2e-5, "\(label) \(name): \(err)")
            XCTAssertGreaterThan(err.pearson, 0.999999, "\(label) \(name): \(err)")
            XCTAssertLessThan(Metrics.maxRelativeError(mine, reference: try golden.floats(name)), 1e-4, "\(label) \(name)")
        }
        let ext = out.extrinsics.flatMap { $0 }, refExt = try golden.floats("extrinsics")
        let k = out.views.flatMap { $0.intrinsics.matrix }, refK = try golden.floats("intrinsics")
        for (name, mine, ref) in [("extrinsics", ext, refExt), ("intrinsics", k, refK)] {
            XCTAssertEqual(mine.count, ref.count, name)
            for (a, b) in zip(mine, ref) {
                XCTAssertLessThan(abs(Double(a) - Double(b)) / max(1, abs(Double(b))), 1e-4, "\(label) \(name): \(mine) vs \(ref)")
            }
        }
    }
}

extension AnyViewGoldenTests {
    /// Two views: no reference-view selection (below 3 views), view 0 takes the reference camera token.
    func testTwoViewsMatchOfficial() throws {
        let net = try TinyGoldenTests.loadTiny()
        let golden = try Self.golden("two_views")
        XCTAssertEqual(try golden.floats("ref_view")[0], -1, "the official code selects no reference for 2 views")
        let out = try net.forward(views: try Self.views(golden), height: 70, width: 56, strategy: .saddleSimRange)
        XCTAssertEqual(out.referenceView, 0)
        try Self.check(out, golden, label: "two views")
    }
}
