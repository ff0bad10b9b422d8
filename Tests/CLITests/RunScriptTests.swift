import Foundation
import XCTest
import DA3TestSupport

/// `scripts/run.sh` with no model: the CLI's default `depth-anything/DA3-SMALL` from the Hub, and
/// the tiny test checkpoint, said in one line, when the Hub cannot be reached. `DA3_BIN` points
/// the script at the built `da3` so that it does not build a release binary.
final class RunScriptTests: TemporaryDirectoryTestCase {
    private func runScript(environment: [String: String]) throws -> (status: Int32, output: String) {
        let demo = Fixtures.sharedImages.appendingPathComponent("demo01.jpg")
        guard FileManager.default.fileExists(atPath: demo.path) else { throw XCTSkip("../shared/images is absent") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Fixtures.repoRoot.appendingPathComponent("scripts/run.sh").path, demo.path, "", path("out")]
        p.environment = ProcessInfo.processInfo.environment
            .merging(["DA3_BIN": CLIRunner.executable.path, "HF_HUB_CACHE": path("cache"), "HF_HUB_OFFLINE": "",
                      "DA3_WEIGHT_CACHE": "off"]) { $1 }
            .merging(environment) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testWithoutTheHubFallsBackToTheTinyCheckpointInOneLine() throws {
        let r = try runScript(environment: ["HF_ENDPOINT": "http://127.0.0.1:9"])  // discard port: refused
        XCTAssertEqual(r.status, 0, r.output)
        let notes = r.output.split(separator: "\n").filter { $0.hasPrefix("note:") }
        XCTAssertEqual(notes.count, 1, r.output)
        XCTAssertTrue(notes[0].contains("not meaningful"), r.output)
        XCTAssertTrue(r.output.contains("(model: Tests/Fixtures/tiny)"), r.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("out/demo01.depth.npy")))
    }

    func testWithTheHubUsesTheDefaultModelId() throws {
        guard let server = HubTestServer() else { throw XCTSkip("python3 is unavailable") }
        defer { server.stop() }
        let r = try runScript(environment: ["HF_ENDPOINT": server.endpoint])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(r.output.contains("note:"), r.output)
        XCTAssertTrue(r.output.contains("(model: depth-anything/DA3-SMALL)"), r.output)
        XCTAssertTrue(server.requests.contains { $0.contains("/depth-anything/DA3-SMALL/resolve/main/model.safetensors") },
                      "\(server.requests)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("out/demo01.depth.npy")))
    }
}
