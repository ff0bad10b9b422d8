import Foundation
import XCTest
import DA3TestSupport
import DepthAnything3

/// Runs the built `da3` executable and captures its exit status and output.
struct CLIRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var executable: URL {
        Bundle.main.executableURL!.deletingLastPathComponent().appendingPathComponent("da3")
    }

    /// Runs `da3` with `environment` added to (and overriding) the test process's environment.
    /// The weight cache is off unless `environment` or the arguments choose one (tests leave no
    /// files in the user's cache directory).
    static func run(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["DA3_WEIGHT_CACHE": "off"]) { $1 }
            .merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A fresh temporary directory per test, removed afterwards.
class TemporaryDirectoryTestCase: XCTestCase {
    var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory.appendingPathComponent("da3-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tempDir)
    }

    func path(_ name: String) -> String { tempDir.appendingPathComponent(name).path }

    /// The synthetic test image at 56 x 70 (the LiteRT fixtures' size) as `synthetic.png` in the directory.
    func writeImage() throws -> URL {
        let image = RGBImage(width: 56, height: 70, pixels: SyntheticImage.rgb(width: 56, height: 70))
        let url = tempDir.appendingPathComponent("synthetic.png")
        try PNGEncoder.encode(image).write(to: url)
        return url
    }

    /// Names in the temporary directory (to prove no output or temporary file was left).
    func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: tempDir.path).sorted()
    }
}
