import Foundation
import XCTest
import DA3TestSupport
import DepthAnything3
import SafeTensors

/// `--model` with Hub ids against the local Hub server, `da3 info`, and `da3 convert`.
final class HubAndModelCommandTests: TemporaryDirectoryTestCase {
    let tinyModel = Fixtures.url("tiny").path

    func image() throws -> String {
        let demo = Fixtures.sharedImages.appendingPathComponent("demo01.jpg")
        guard FileManager.default.fileExists(atPath: demo.path) else { throw XCTSkip("../shared/images is absent") }
        return demo.path
    }

    func testDepthWithHubModelThenOffline() throws {
        guard let server = HubTestServer() else { throw XCTSkip("python3 is unavailable") }
        defer { server.stop() }
        let env = ["HF_ENDPOINT": server.endpoint, "HF_HUB_CACHE": path("cache"), "HF_HUB_OFFLINE": ""]
        let r = try CLIRunner.run(["depth", try image(), "--model", "test-org/tiny", "--process-res", "70", "--output", path("d.npy")], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("downloading model.safetensors"), r.stderr)
        let reference = try CLIRunner.run(["depth", try image(), "--model", tinyModel, "--process-res", "70", "--output", path("ref.npy")])
        XCTAssertEqual(reference.status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("d.npy"))), try Data(contentsOf: URL(fileURLWithPath: path("ref.npy"))))
        // Offline with the cached copy: works, without any request.
        let count = server.requests.count
        var offline = env; offline["HF_HUB_OFFLINE"] = "1"
        let info = try CLIRunner.run(["info", "test-org/tiny", "--json"], environment: offline)
        XCTAssertEqual(info.status, 0, info.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as! [String: Any]
        XCTAssertTrue((json["origin"] as! String).contains("test-org/tiny@main (commit 1111111111111111111111111111111111111111, cache (offline))"), "\(json)")
        XCTAssertEqual(server.requests.count, count)
        // Offline without a cached copy: one clear line.
        offline["HF_HUB_CACHE"] = path("empty-cache")
        let fail = try CLIRunner.run(["depth", try image(), "--model", "test-org/tiny", "--output", path("x.npy")], environment: offline)
        XCTAssertEqual(fail.status, 1)
        XCTAssertEqual(fail.stderr.split(separator: "\n").count, 1, fail.stderr)
        XCTAssertTrue(fail.stderr.contains("HF_HUB_OFFLINE"), fail.stderr)
        // Unauthorised: says to set HF_TOKEN.
        let denied = try CLIRunner.run(["info", "test-org/private"], environment: env)
        XCTAssertEqual(denied.status, 1)
        XCTAssertTrue(denied.stderr.contains("HF_TOKEN"), denied.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x.npy")))
    }

    func testInfo() throws {
        let r = try CLIRunner.run(["info", tinyModel])
        XCTAssertEqual(r.status, 0, r.stderr)
        for field in ["preset:", "parameters:", "dtypes:", "F32", "file size:", "loaded from:", tinyModel] {
            XCTAssertTrue(r.stdout.contains(field), "\(field) in \(r.stdout)")
        }
    }

    /// A copy of the tiny checkpoint whose F32 values are all exactly representable in F16.
    func f16RepresentableCopy() throws -> String {
        let file = try SafeTensorsFile(url: Fixtures.url("tiny/model.safetensors"))
        let entries = try file.tensors.keys.sorted().map { name -> SafeTensorsWriter.Entry in
            let info = file.tensors[name]!
            let values = try file.floats(info, name: name).map { Float(Float16($0)) }
            return SafeTensorsWriter.Entry(name: name, shape: info.shape, values: values)
        }
        let dir = tempDir.appendingPathComponent("f16able")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try SafeTensorsWriter.write(entries, to: dir.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(at: Fixtures.url("tiny/config.json"), to: dir.appendingPathComponent("config.json"))
        return dir.path
    }

    func testConvertToF16GivesIdenticalDepth() throws {
        let source = try f16RepresentableCopy()
        let r = try CLIRunner.run(["convert", source, "--dtype", "f16", "--output", path("half")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let half = try SafeTensorsFile(url: URL(fileURLWithPath: path("half/model.safetensors")))
        XCTAssertTrue(half.tensors.values.allSatisfy { $0.dtype == .f16 })
        let full = try SafeTensorsFile(url: URL(fileURLWithPath: source + "/model.safetensors"))
        print("tiny checkpoint: F32 \(full.fileSize) bytes -> F16 \(half.fileSize) bytes")
        XCTAssertLessThan(Double(half.fileSize), 0.51 * Double(full.fileSize))
        let img = RGBImage(width: 90, height: 70, pixels: (0..<(90 * 70 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        let a = try DepthEstimator(modelPath: source).estimate(img, options: EstimationOptions(processRes: 84))
        let b = try DepthEstimator(model: path("half")).estimate(img, options: EstimationOptions(processRes: 84))
        XCTAssertEqual(a.depth, b.depth)
        XCTAssertEqual(a.confidence, b.confidence)
        XCTAssertEqual(a.intrinsics, b.intrinsics)
        let info = try CLIRunner.run(["info", path("half")])
        XCTAssertTrue(info.stdout.contains("F16"), info.stdout)
    }

    /// DA3-Small's tensors as the engine loads them, written F32 then converted to F16: the size a
    /// converted DA3-Small checkpoint has (without the camera encoder / auxiliary head tensors that
    /// the engine ignores), and the engine loads it.
    func testDA3SmallF16Size() throws {
        let recorder = ShapeRecorder()
        _ = try DepthAnything3Network(config: .small, weights: recorder)
        let entries = recorder.shapes.map { SafeTensorsWriter.Entry(name: $0.0, shape: $0.1, values: SyntheticWeights.values(key: $0.0, shape: $0.1)) }
        let dir = tempDir.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try SafeTensorsWriter.write(entries, to: dir.appendingPathComponent("model.safetensors"))
        try Data(#"{"model_name": "da3-small"}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        let out = try CheckpointConverter.convert(try ModelLocation(path: dir.path), to: .f16, directory: tempDir.appendingPathComponent("small-f16"))
        let f32Size = try SafeTensorsFile(url: dir.appendingPathComponent("model.safetensors")).fileSize
        let f16 = try SafeTensorsFile(url: out)
        let params = f16.tensors.values.reduce(0) { $0 + $1.count }
        print(String(format: "DA3-Small synthetic: %d parameters, F32 %.1f MB -> F16 %.1f MB", params, Double(f32Size) / 1e6, Double(f16.fileSize) / 1e6))
        XCTAssertGreaterThan(f16.fileSize, 45_000_000)
        XCTAssertLessThan(f16.fileSize, 69_000_000)
        _ = try DepthAnything3Network(checkpoint: f16, config: .small)
    }
}

/// Records the tensors a network asks for (zeros are returned).
final class ShapeRecorder: WeightSource {
    let origin = "<recorder>"
    var shapes: [(String, [Int])] = []
    func load(_ key: String, shape: [Int]) throws -> [Float] {
        shapes.append((key, shape))
        return [Float](repeating: 0, count: shape.reduce(1, *))
    }
    func unusedKeys(used: Set<String>) -> [String] { [] }
}
