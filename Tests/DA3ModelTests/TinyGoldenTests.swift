import XCTest
import DA3Kernels
import DA3Model
import DA3TestSupport
import SafeTensors

/// Every stage of the tiny DA3-Small-topology model against the official PyTorch FP32 goldens
/// written by tools/reference/make_goldens.py.
final class TinyGoldenTests: XCTestCase {
    static let tinyConfig = ModelConfig(
        name: "da3-tiny-test", embedDim: 64, heads: 2, depth: 12, outLayers: [5, 7, 9, 11],
        altStart: 4, qkNormStart: 4, ropeStart: 4, headFeatures: 16, headOutChannels: [8, 16, 32, 64])

    static func loadTiny() throws -> DepthAnything3Network {
        let file = try SafeTensorsFile(url: Fixtures.url("tiny/model.safetensors"))
        return try DepthAnything3Network(checkpoint: file, config: tinyConfig)
    }

    func testAllStagesMatchAt70x56() throws { try checkStages(height: 70, width: 56) }

    /// 84x84 is the pos-embed grid itself: the official code skips interpolation there.
    func testAllStagesMatchAt84x84() throws { try checkStages(height: 84, width: 84) }

    /// The engine's own path (refinenet1's upsampling fused into output_conv1, band by band) against
    /// the official depth and confidence: the stage test above runs the unfused path its observer needs.
    func testFusedHeadPathMatchesGoldens() throws {
        let net = try Self.loadTiny()
        for (height, width) in [(70, 56), (84, 84)] {
            let golden = try SafeTensorsFile(url: Fixtures.url("tiny/goldens_\(height)x\(width).safetensors"))
            let out = net.forward(try golden.floats("input"), height: height, width: width)
            for (name, mine) in [("depth", out.depth), ("depth_conf", out.confidence)] {
                let err = StageError(mine, try golden.floats(name))
                XCTAssertLessThan(err.normalizedMax, 2e-5, "\(name) \(height)x\(width): \(err)")
                XCTAssertGreaterThan(err.pearson, 0.999999, "\(name) \(height)x\(width): \(err)")
            }
        }
    }

    private func checkStages(height: Int, width: Int) throws {
        let net = try Self.loadTiny()
        let golden = try SafeTensorsFile(url: Fixtures.url("tiny/goldens_\(height)x\(width).safetensors"))
        let input = try golden.floats("input")
        var stages: [String: Tensor] = [:]
        let out = net.forward(input, height: height, width: width) { name, t in stages[name] = t }

        var checked = 0
        var worst = ("", 0.0)
        for name in golden.tensors.keys.sorted() where name != "input" && name != "intrinsics" {
            let reference = try golden.floats(name)
            guard let mine = stages[name] else { XCTFail("stage \(name) not produced"); continue }
            XCTAssertEqual(mine.shape, golden.tensors[name]!.shape, name)
            let err = StageError(mine.data, reference)
            XCTAssertLessThan(err.normalizedMax, 2e-5, "\(name): \(err)")
            XCTAssertGreaterThan(err.pearson, 0.999999, "\(name): \(err)")
            checked += 1
            if err.normalizedMax > worst.1 { worst = (name, err.normalizedMax) }
        }
        XCTAssertGreaterThan(checked, 40)
        print("tiny \(height)x\(width): \(checked) stages checked; worst \(worst.0) max|diff|/max|ref| = \(worst.1)")

        let k = try golden.floats("intrinsics")  // 3x3
        XCTAssertEqual(out.intrinsics.fx, Double(k[0]), accuracy: abs(Double(k[0])) * 1e-5)
        XCTAssertEqual(out.intrinsics.fy, Double(k[4]), accuracy: abs(Double(k[4])) * 1e-5)
        XCTAssertEqual(out.intrinsics.cx, Double(k[2]))
        XCTAssertEqual(out.intrinsics.cy, Double(k[5]))
    }
}
