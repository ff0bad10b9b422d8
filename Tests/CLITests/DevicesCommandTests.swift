import Foundation
import XCTest

/// `da3 devices`: the listing, its JSON, and one clear line with exit status 1 without a loader
/// or without a driver.
final class DevicesCommandTests: XCTestCase {
    func testListsDevicesOrSaysWhyNot() throws {
        let r = try CLIRunner.run(["devices"])
        if r.status != 0 {
            // No Vulkan on this machine: one clear line naming the cause.
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains("error: no Vulkan"), r.stderr)
            throw XCTSkip("no Vulkan device here: \(r.stderr)")
        }
        let lines = r.stdout.split(separator: "\n")
        XCTAssertTrue(lines.first?.hasPrefix("index  name") ?? false, r.stdout)
        XCTAssertGreaterThanOrEqual(lines.count, 2)
        XCTAssertTrue(lines[0].contains("fp16") && lines[0].contains("int8") && lines[0].contains("coopmat") && lines[0].contains("subgroup"))

        let j = try CLIRunner.run(["devices", "--json"])
        XCTAssertEqual(j.status, 0, j.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        let devices = try XCTUnwrap(object?["devices"] as? [[String: Any]])
        XCTAssertEqual(devices.count, lines.count - 1)
        for (i, d) in devices.enumerated() {
            XCTAssertEqual(d["index"] as? Int, i)
            XCTAssertNotNil(d["name"] as? String)
            XCTAssertNotNil(d["shaderFloat16"] as? Bool)
            XCTAssertNotNil(d["cooperativeMatrix"] as? Bool)
            XCTAssertNotNil(d["subgroupSize"] as? Int)
            XCTAssertNotNil(d["deviceLocalMemory"] as? Int)
        }
    }

    func testNoLoaderAndNoDriverAreDistinctClearErrors() throws {
        let noLoader = try CLIRunner.run(["devices"], environment: ["DA3_VULKAN_LIB": "/nonexistent/libvulkan.so.1"])
        XCTAssertEqual(noLoader.status, 1)
        XCTAssertTrue(noLoader.stderr.hasPrefix("error: no Vulkan loader:"), noLoader.stderr)
        XCTAssertEqual(noLoader.stdout, "")

        let probe = try CLIRunner.run(["devices"])
        guard probe.status == 0 else { throw XCTSkip("no Vulkan loader here for the no-driver case") }
        let noDriver = try CLIRunner.run(["devices", "--json"], environment: [
            "VK_DRIVER_FILES": "/nonexistent/da3_no_icd.json", "VK_ICD_FILENAMES": "/nonexistent/da3_no_icd.json"])
        XCTAssertEqual(noDriver.status, 1)
        XCTAssertTrue(noDriver.stderr.contains("error: no Vulkan device:"), noDriver.stderr)
        XCTAssertEqual(noDriver.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count, 1)
        XCTAssertEqual(noDriver.stdout, "")
    }
}
