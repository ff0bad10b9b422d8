import XCTest
import DepthAnything3
import DA3TestSupport

/// `da3 depth --device cpu|vulkan|vulkan:N`: the Vulkan run matches the CPU engine, the JSON
/// summary names the device, and every way Vulkan can be unavailable is one clear error line,
/// exit status 1 and no output file.
final class DeviceOptionCLITests: TemporaryDirectoryTestCase {
    let model = Fixtures.url("tiny").path

    private var vulkanAvailable: Bool { (try? CLIRunner.run(["devices"]).status) == 0 }

    func testVulkanMatchesCPUAndSummaryNamesTheDevice() throws {
        try XCTSkipUnless(vulkanAvailable, "no Vulkan device here")
        let image = try writeImage()
        let a = tempDir.appendingPathComponent("vulkan.npy"), b = tempDir.appendingPathComponent("cpu.npy")
        let r1 = try CLIRunner.run(["depth", image.path, "--model", model, "--process-res", "70", "--device", "vulkan",
                                    "--output", a.path, "--json"])
        XCTAssertEqual(r1.status, 0, r1.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(r1.stdout.utf8)) as? [String: Any]
        let device = try XCTUnwrap(summary?["device"] as? String)
        XCTAssertTrue(device.hasPrefix("vulkan:"), device)
        let r2 = try CLIRunner.run(["depth", image.path, "--model", model, "--process-res", "70", "--output", b.path, "--json"])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        let cpuSummary = try JSONSerialization.jsonObject(with: Data(r2.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(cpuSummary?["device"] as? String, "cpu")
        let x = try NPYReader.read(a), y = try NPYReader.read(b)
        XCTAssertEqual(x.shape, y.shape)
        XCTAssertGreaterThanOrEqual(Metrics.pearson(x.values, y.values), 0.999999)
        XCTAssertLessThanOrEqual(Metrics.maxRelativeError(x.values, reference: y.values), 1e-4)
    }

    private func assertRefused(_ arguments: [String], environment: [String: String] = [:], says message: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try writeImage()
        let out = tempDir.appendingPathComponent("refused.npy")
        let r = try CLIRunner.run(["depth", image.path, "--model", model, "--output", out.path] + arguments, environment: environment)
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        XCTAssertEqual(errors.count, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(message), r.stderr, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "output written", file: file, line: line)
    }

    func testUnavailableVulkanIsOneClearError() throws {
        try assertRefused(["--device", "gpu"], says: "--device: unknown device 'gpu'")
        try assertRefused(["--device", "vulkan"], environment: ["DA3_VULKAN_LIB": "/nonexistent/libvulkan.so.1"],
                          says: "error: no Vulkan loader:")
        try XCTSkipUnless(vulkanAvailable, "no Vulkan loader and device here for the remaining cases")
        try assertRefused(["--device", "vulkan"], environment: [
            "VK_DRIVER_FILES": "/nonexistent/da3_no_icd.json", "VK_ICD_FILENAMES": "/nonexistent/da3_no_icd.json"],
                          says: "error: no Vulkan device:")
        try assertRefused(["--device", "vulkan:7"], says: "error: no Vulkan device 7:")
    }

    /// `--precision fast` on a device without FP16 (SwiftShader, from .deps/swiftshader) is refused
    /// with the missing feature named.
    func testFastOnADeviceWithoutFP16IsOneClearError() throws {
        try XCTSkipUnless(vulkanAvailable, "no Vulkan loader here")
        let icd = Fixtures.repoRoot.appendingPathComponent(".deps/swiftshader/vk_swiftshader_icd.json").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: icd), "no SwiftShader in .deps/swiftshader (scripts/install-deps.sh)")
        try assertRefused(["--device", "vulkan", "--precision", "fast"], environment: ["VK_DRIVER_FILES": icd, "VK_ICD_FILENAMES": icd],
                          says: "lacks shaderFloat16 (FP16 arithmetic), which --precision fast needs")
    }

    /// `--precision fast` on a device with FP16 (lavapipe) runs FP16 products and stays close to
    /// the CPU's exact depth.
    func testFastOnVulkanRunsCloseToExact() throws {
        let listing = try CLIRunner.run(["devices", "--json"])
        try XCTSkipUnless(listing.status == 0, "no Vulkan device here")
        let devices = (try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [String: Any])?["devices"] as? [[String: Any]]
        try XCTSkipUnless(devices?.first?["shaderFloat16"] as? Bool == true, "the first Vulkan device has no FP16")
        let image = try writeImage()
        let fast = tempDir.appendingPathComponent("fast.npy"), exact = tempDir.appendingPathComponent("exact.npy")
        let r1 = try CLIRunner.run(["depth", image.path, "--model", model, "--process-res", "70", "--device", "vulkan:0",
                                    "--precision", "fast", "--output", fast.path, "--json"])
        XCTAssertEqual(r1.status, 0, r1.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(r1.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(summary?["device"] as? String, "vulkan:0 \(devices?.first?["name"] as? String ?? "")")
        let r2 = try CLIRunner.run(["depth", image.path, "--model", model, "--process-res", "70", "--output", exact.path])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        let x = try NPYReader.read(fast), y = try NPYReader.read(exact)
        XCTAssertEqual(x.shape, y.shape)
        XCTAssertGreaterThanOrEqual(Metrics.pearson(x.values, y.values), 0.9999)
        XCTAssertNotEqual(x.values, y.values)
    }
}
