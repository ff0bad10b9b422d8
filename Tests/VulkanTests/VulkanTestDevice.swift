import DA3Vulkan
import Foundation
import XCTest

/// The device the Vulkan tests run on, opened once per test process. Picked by name, never by
/// index: `DA3_TEST_VULKAN_DEVICE` (a name substring) if set, else lavapipe (`llvmpipe`) if
/// present, else the backend's default choice. Honours VK_DRIVER_FILES / VK_ICD_FILENAMES.
/// Without a Vulkan loader or device, tests skip with the reason printed.
enum VulkanTestDevice {
    struct Opened: @unchecked Sendable {
        let device: VulkanDevice
        let library: VulkanKernelLibrary
    }

    nonisolated(unsafe) private static var cached: Result<Opened, Error>?
    private static let lock = NSLock()

    static func open() throws -> Opened {
        let result = lock.withLock { () -> Result<Opened, Error> in
            if let cached { return cached }
            let r = Result { () throws -> Opened in
                let instance = try VulkanInstance()
                let wanted = ProcessInfo.processInfo.environment["DA3_TEST_VULKAN_DEVICE"] ?? "llvmpipe"
                let index = try instance.device(named: wanted)?.index ?? instance.resolve(index: nil)
                let info = instance.devices[index]
                let device = try VulkanDevice(instance: instance, index: index, fp16: info.supportsFP16)
                print("Vulkan tests run on \(info.label) (fp16 \(info.supportsFP16), subgroup \(info.subgroupSize))")
                return Opened(device: device, library: try VulkanKernelLibrary(device: device))
            }
            cached = r
            return r
        }
        switch result {
        case .success(let opened): return opened
        case .failure(let error):
            print("Vulkan tests skipped: \(error)")
            throw XCTSkip("no usable Vulkan device: \(error)")
        }
    }
}

/// A buffer holding `values`.
func buffer(_ device: VulkanDevice, _ values: [Float]) throws -> VulkanBuffer {
    let b = try VulkanBuffer(device: device, size: values.count * 4)
    try b.write(values)
    return b
}

/// Deterministic values in [-scale, scale].
func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
}

/// max |a - b| / max(max |b|, floor): error relative to the reference's magnitude.
func maxRelativeError(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> Float {
    precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
    let scale = max(b.map { abs($0) }.max() ?? 0, floor)
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
    return worst / scale
}
