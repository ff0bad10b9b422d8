import Foundation
import XCTest
import DepthAnything3
import DA3TestSupport

/// Heap prefaulting: it maps what it is asked for while it is told there is time, and a pipeline
/// that prefaults while its model loads returns exactly what an already loaded one does.
final class AllocatorTuningTests: XCTestCase {
    func testPrefaultHeapMapsWholeMegabytesWhileAsked() {
        AllocatorTuning.configureForEngine()
        XCTAssertEqual(AllocatorTuning.prefaultHeap(upTo: 3 << 20 | 1) { true }, 3 << 20)
        var asked = 0
        let mapped = AllocatorTuning.prefaultHeap(upTo: 64 << 20) {
            asked += 1
            return asked <= 2
        }
        XCTAssertEqual(mapped, 2 << 20)
        XCTAssertEqual(asked, 3)
        XCTAssertEqual(AllocatorTuning.prefaultHeap(upTo: (1 << 20) - 1) { true }, 0)
    }

    func testPipelineThatPrefaultsDuringASlowLoadGivesIdenticalResults() throws {
        AllocatorTuning.configureForEngine()
        let estimator = try DepthEstimator(modelPath: Fixtures.url("tiny").path)
        let image = Fixtures.url("png/rgb8.png")
        let options = EstimationOptions(processRes: 280)  // 280 x 196: ~10 MB to prefault
        let loaded = try DepthPipeline(estimator: estimator, options: options).estimate(imageAt: image)
        let slow = DepthPipeline(options: options, preparation: .official) {
            Thread.sleep(forTimeInterval: 0.1)
            return estimator
        }
        let prefaulted = try slow.estimate(imageAt: image)
        XCTAssertEqual(prefaulted.processedWidth, loaded.processedWidth)
        XCTAssertEqual(prefaulted.depth, loaded.depth)
        XCTAssertEqual(prefaulted.confidence, loaded.confidence)
    }
}
