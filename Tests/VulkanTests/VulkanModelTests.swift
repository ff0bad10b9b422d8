import DA3Kernels
import DA3Model
import DA3TestSupport
import DA3Vulkan
import Foundation
import SafeTensors
import XCTest

/// The unchanged model description on the Vulkan backend: every stage of the tiny model against
/// the official PyTorch FP32 goldens (tools/reference/make_goldens.py), the pass without observers,
/// and the replay contract (a second image of a size allocates nothing, records nothing, submits once).
final class VulkanModelTests: XCTestCase {
    static let tinyConfig = ModelConfig(
        name: "da3-tiny-test", embedDim: 64, heads: 2, depth: 12, outLayers: [5, 7, 9, 11],
        altStart: 4, qkNormStart: 4, ropeStart: 4, headFeatures: 16, headOutChannels: [8, 16, 32, 64])

    func loadTiny() throws -> DepthAnything3Net<VulkanBackend> {
        let device = try VulkanTestDevice.open().device
        let file = try SafeTensorsFile(url: Fixtures.url("tiny/model.safetensors"))
        return try DepthAnything3Net(checkpoint: file, config: Self.tinyConfig, backend: VulkanBackend(device: device))
    }

    /// `use_ray_pose` is a CPU feature: the ray head is refused on first use with the backend's
    /// message, and nothing of it is prepared.
    func testRayHeadIsRefused() throws {
        let net = try loadTiny()
        XCTAssertThrowsError(try net.prepareRayHead()) { error in
            XCTAssertTrue("\(error)".contains("Vulkan") && "\(error)".contains("ray head") && "\(error)".contains("--device cpu"),
                          "\(error)")
        }
    }

    func testAllStagesMatchGoldens() throws {
        let net = try loadTiny()
        for (height, width) in [(70, 56), (84, 84)] {
            let golden = try SafeTensorsFile(url: Fixtures.url("tiny/goldens_\(height)x\(width).safetensors"))
            var stages: [String: DA3Kernels.Tensor] = [:]
            let out = net.forward(try golden.floats("input"), height: height, width: width) { name, t in stages[name] = t }
            XCTAssertNil(net.backend.takeFailure())
            var checked = 0, worst = ("", 0.0)
            for name in golden.tensors.keys.sorted() where name != "input" && name != "intrinsics" {
                guard let mine = stages[name] else { XCTFail("stage \(name) not produced"); continue }
                XCTAssertEqual(mine.shape, golden.tensors[name]!.shape, name)
                let err = StageError(mine.data, try golden.floats(name))
                XCTAssertLessThan(err.normalizedMax, 2e-5, "\(name) \(height)x\(width): \(err)")
                XCTAssertGreaterThan(err.pearson, 0.999999, "\(name) \(height)x\(width): \(err)")
                checked += 1
                if err.normalizedMax > worst.1 { worst = (name, err.normalizedMax) }
            }
            XCTAssertGreaterThan(checked, 40)
            print("tiny on \(net.backend.label) \(height)x\(width): \(checked) stages; worst \(worst.0) max|diff|/max|ref| = \(worst.1)")
            let k = try golden.floats("intrinsics")
            XCTAssertEqual(out.intrinsics.fx, Double(k[0]), accuracy: abs(Double(k[0])) * 1e-5)
            XCTAssertEqual(out.intrinsics.fy, Double(k[4]), accuracy: abs(Double(k[4])) * 1e-5)
        }
    }

    func testPassWithoutObserverMatchesGoldensAndReplaysWithoutAllocating() throws {
        let net = try loadTiny()
        let device = net.backend.device
        for (height, width) in [(70, 56), (84, 84)] {
            let golden = try SafeTensorsFile(url: Fixtures.url("tiny/goldens_\(height)x\(width).safetensors"))
            let input = try golden.floats("input")
            let first = net.forward(input, height: height, width: width)
            XCTAssertNil(net.backend.takeFailure())
            for (name, mine) in [("depth", first.depth), ("depth_conf", first.confidence)] {
                let err = StageError(mine, try golden.floats(name))
                print("tiny on \(net.backend.label) \(height)x\(width) \(name): \(err)")
                XCTAssertLessThan(err.normalizedMax, 2e-5, "\(name) \(height)x\(width): \(err)")
                XCTAssertGreaterThan(err.pearson, 0.999999, "\(name) \(height)x\(width): \(err)")
            }
            // A second image of the same size: no allocation, no recording, one submit.
            let other = input.map { $0 * 0.5 + 0.1 }
            let before = device.counters
            let second = net.forward(other, height: height, width: width)
            let after = device.counters
            XCTAssertNil(net.backend.takeFailure())
            XCTAssertEqual(after.allocations, before.allocations, "second image allocated")
            XCTAssertEqual(after.bytesAllocated, before.bytesAllocated)
            XCTAssertEqual(after.commandBuffersRecorded, before.commandBuffersRecorded, "second image recorded")
            XCTAssertEqual(after.submits, before.submits + 1, "one submit per image")
            // The replayed pass computes the new image: same as a fresh CPU-free check, the first input again.
            XCTAssertNotEqual(second.depth, first.depth)
            let again = net.forward(input, height: height, width: width)
            XCTAssertEqual(again.depth, first.depth)
            XCTAssertEqual(again.confidence, first.confidence)
            XCTAssertEqual(again.poseEncoding, first.poseEncoding)
        }
    }
}

extension VulkanModelTests {
    /// Recordings are kept for the few most recent input sizes only: after more sizes than that,
    /// the first size records again (its buffers were released), and a kept size still replays.
    func testOnlyRecentSizesKeepTheirRecordings() throws {
        let net = try loadTiny()
        let device = net.backend.device
        let sizes = [(56, 56), (70, 56), (56, 70), (84, 56), (56, 84)]   // one more than VulkanBackend.keptSizes
        func pass(_ size: (Int, Int)) -> Int {
            let before = device.counters.commandBuffersRecorded
            _ = net.forward(SyntheticImage.normalized(width: size.1, height: size.0), height: size.0, width: size.1)
            return device.counters.commandBuffersRecorded - before
        }
        for size in sizes { XCTAssertGreaterThan(pass(size), 0, "first pass of \(size) records") }
        XCTAssertEqual(pass(sizes[4]), 0, "a recent size replays")
        XCTAssertGreaterThan(pass(sizes[0]), 0, "the oldest size was evicted and records again")
        XCTAssertNil(net.backend.takeFailure())
    }
}
