import DA3Kernels
import DA3Model
import DA3TestSupport
import DA3Vulkan
import Foundation
import SafeTensors
import XCTest

/// The fast precision on Vulkan (FP16 weights and operands in the transformer's products, FP32
/// accumulation) on the tiny model against the official FP32 goldens, its replay contract, and its
/// refusal on a device opened without FP16.
final class VulkanFastModelTests: XCTestCase {
    func loadTinyFast() throws -> DepthAnything3Net<VulkanBackend> {
        let device = try VulkanTestDevice.open().device
        guard device.fp16Enabled else { throw XCTSkip("\(device.info.label) has no FP16") }
        let file = try SafeTensorsFile(url: Fixtures.url("tiny/model.safetensors"))
        return try DepthAnything3Net(checkpoint: file, config: VulkanModelTests.tinyConfig,
                                     backend: VulkanBackend(device: device, precision: .fast))
    }

    func testFastDepthAndConfidenceCloseToGoldensAndReplayWithoutAllocating() throws {
        let net = try loadTinyFast()
        let device = net.backend.device
        for (height, width) in [(70, 56), (84, 84)] {
            let golden = try SafeTensorsFile(url: Fixtures.url("tiny/goldens_\(height)x\(width).safetensors"))
            let input = try golden.floats("input")
            let out = net.forward(input, height: height, width: width)
            XCTAssertNil(net.backend.takeFailure())
            for (name, mine) in [("depth", out.depth), ("depth_conf", out.confidence)] {
                let err = StageError(mine, try golden.floats(name))
                print("tiny fast on \(net.backend.label) \(height)x\(width) \(name): \(err)")
                // FP16 operands (11-bit significands) through 12 blocks measured 0.99999998 and
                // 1e-4..2e-4 on lavapipe; the bounds leave 10x room (the issue asks 0.9999 of DA3-Small).
                XCTAssertGreaterThan(err.pearson, 0.9999998, "\(name) \(height)x\(width): \(err)")
                XCTAssertLessThan(err.normalizedMax, 2e-3, "\(name) \(height)x\(width): \(err)")
                // Not the exact path by accident: FP16 rounding shows.
                XCTAssertGreaterThan(err.normalizedMax, 1e-5, "\(name) \(height)x\(width): fast equals exact")
            }
            let k = try golden.floats("intrinsics")
            XCTAssertEqual(out.intrinsics.fx, Double(k[0]), accuracy: abs(Double(k[0])) * 1e-2)
            XCTAssertEqual(out.intrinsics.fy, Double(k[4]), accuracy: abs(Double(k[4])) * 1e-2)
            let before = device.counters
            let again = net.forward(input, height: height, width: width)
            let after = device.counters
            XCTAssertEqual(after.allocations, before.allocations, "second image allocated")
            XCTAssertEqual(after.commandBuffersRecorded, before.commandBuffersRecorded, "second image recorded")
            XCTAssertEqual(after.submits, before.submits + 1, "one submit per image")
            XCTAssertEqual(again.depth, out.depth)
        }
    }

    func testFastNeedsADeviceOpenedWithFP16() throws {
        let opened = try VulkanTestDevice.open()
        let plain = try VulkanDevice(instance: opened.device.instance, index: opened.device.info.index, fp16: false)
        XCTAssertThrowsError(try VulkanBackend(device: plain, precision: .fast)) { error in
            XCTAssertTrue("\(error)".contains("fp16") || "\(error)".contains("FP16") || "\(error)".contains("shaderFloat16"), "\(error)")
        }
    }
}
