import Foundation
import XCTest
import DepthAnything3
import DA3TestSupport

/// Loading real checkpoint files written by Python's `safetensors.torch.save_model`, as the Hub
/// files are (the auxiliary head's shared LayerNorm keeps one name; camera encoder present).
final class CheckpointFileTests: XCTestCase {
    func testTinyCheckpointDirectoryWithCustomConfig() throws {
        let estimator = try DepthEstimator(modelPath: Fixtures.url("tiny").path)
        XCTAssertEqual(estimator.network.config.embedDim, 64)
        XCTAssertEqual(estimator.network.config.headOutChannels, [8, 16, 32, 64])
    }

    func testTinyCheckpointFileWithSiblingConfig() throws {
        let estimator = try DepthEstimator(modelPath: Fixtures.url("tiny/model.safetensors").path)
        XCTAssertEqual(estimator.network.config.name, "da3-tiny-test")
    }

    /// The full-size files exist only after `make_goldens.py --full-dir goldens-full` (not committed).
    func testFullSizeHubLayoutCheckpoints() throws {
        for preset in ["small", "base"] {
            let dir = Fixtures.repoRoot.appendingPathComponent("goldens-full/\(preset)")
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) else {
                throw XCTSkip("goldens-full/\(preset) absent: run tools/reference/make_goldens.py --full-dir goldens-full")
            }
            let estimator = try DepthEstimator(modelPath: dir.path)
            XCTAssertEqual(estimator.network.config.name, "da3-\(preset)")
            // Same weights as the generator: same result as the synthetic source at a small size.
            let x = SyntheticImage.normalized(width: 56, height: 70)
            let fromFile = try estimator.network.forward(x, height: 70, width: 56)
            let fromSeed = try DepthAnything3Network(config: estimator.network.config, weights: SyntheticWeightSource())
                .forward(x, height: 70, width: 56)
            XCTAssertEqual(fromFile.depth, fromSeed.depth, preset)
        }
    }
}
