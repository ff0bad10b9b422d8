import XCTest
import DepthAnything3
import DA3TestSupport

/// `da3 depth --backend litert`: the tiny32 exact .tflite against the native engine on the same
/// PNG, and the option checks. Runs that need libLiteRt.so skip when it is absent.
final class LiteRTBackendCLITests: TemporaryDirectoryTestCase {
    let model = Fixtures.url("litert/tiny32_exact_fp32_70x56.tflite").path

    func testLiteRTBackendMatchesNativeEngine() throws {
        if case .failure(let error) = LiteRTRuntime.locate() {
            throw XCTSkip("libLiteRt.so not found (pip install ai-edge-litert): \(error)")
        }
        let image = try writeImage()
        let a = tempDir.appendingPathComponent("litert.npy"), b = tempDir.appendingPathComponent("native.npy")
        let r1 = try CLIRunner.run(["depth", image.path, "--backend", "litert", "--model", model, "--output", a.path, "--quiet"])
        XCTAssertEqual(r1.status, 0, r1.stderr)
        let r2 = try CLIRunner.run(["depth", image.path, "--model", Fixtures.url("litert/tiny32").path, "--process-res", "70",
                                    "--output", b.path, "--quiet"])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        let x = try NPYReader.read(a), y = try NPYReader.read(b)
        XCTAssertEqual(x.shape, [70, 56])
        XCTAssertEqual(y.shape, [70, 56])
        XCTAssertGreaterThanOrEqual(Metrics.pearson(x.values, y.values), 0.99999)
    }

    func testLiteRTBackendOptionChecks() throws {
        let image = try writeImage()
        let out = tempDir.appendingPathComponent("d.npy").path
        var r = try CLIRunner.run(["depth", image.path, "--backend", "litert", "--model", Fixtures.url("tiny").path, "--output", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("needs --model FILE.tflite"), r.stderr)
        r = try CLIRunner.run(["depth", image.path, "--backend", "litert", "--model", model, "--output-dir", tempDir.path, "--formats", "npy,ply"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("npy, png16, pfm and vis only"), r.stderr)
        r = try CLIRunner.run(["depth", image.path, "--backend", "onnx", "--output", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unknown backend"), r.stderr)
        r = try CLIRunner.run(["depth", image.path, "--backend", "litert", "--model", model, "--accelerator", "tpu", "--output", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--accelerator"), r.stderr)
    }
}
