import XCTest
@testable import DA3LiteRT
import DepthAnything3
import DA3TestSupport

/// The LiteRT backend on `Tests/Fixtures/litert/tiny32_exact_fp32_70x56.tflite`, made from the
/// half-width tiny test checkpoint (`litert/tiny32`) by `tools/litert/convert.py --mode exact --dtype fp32 --size 70x56` (see
/// Tests/Fixtures/litert/README.md). Tests that need `libLiteRt.so` (PyPI `ai-edge-litert`)
/// skip with the reason when it is absent.
final class LiteRTBackendTests: XCTestCase {
    static let tinyModel = Fixtures.url("litert/tiny32_exact_fp32_70x56.tflite").path
    static let tinyCheckpoint = Fixtures.url("litert/tiny32").path

    private func requireRuntime() throws -> String {
        switch LiteRTRuntime.locate() {
        case .success(let path): return path
        case .failure(let error):
            print("LiteRT runtime absent: \(error)")
            throw XCTSkip("libLiteRt.so not found (pip install ai-edge-litert): \(error)")
        }
    }

    /// Found or not, the runtime lookup answers without crashing; absence names the fix.
    func testRuntimeLookupReportsPathOrHowToInstall() {
        switch LiteRTRuntime.locate() {
        case .success(let path):
            XCTAssertTrue(path.hasSuffix("libLiteRt.so"), path)
            print("LiteRT runtime: \(path)")
        case .failure(let error):
            XCTAssertTrue(error.description.contains("pip install ai-edge-litert"), error.description)
            XCTAssertTrue(error.description.contains("DA3_LITERT_LIB"), error.description)
        }
        XCTAssertFalse(LiteRTLibrary.candidates().isEmpty)
    }

    func testShapesAreReadFromTheModel() throws {
        _ = try requireRuntime()
        let m = try LiteRTCompiledModel(path: Self.tinyModel)
        XCTAssertEqual(m.inputs, [LiteRTTensorInfo(shape: [1, 3, 70, 56], elementType: 1)])
        XCTAssertEqual(m.outputs, [LiteRTTensorInfo(shape: [1, 1, 70, 56], elementType: 1)])
        let e = try LiteRTDepthEstimator(modelPath: Self.tinyModel)
        XCTAssertEqual(e.width, 56)
        XCTAssertEqual(e.height, 70)
    }

    /// Acceptance 1: the exact-mode FP32 .tflite run by the Swift LiteRT backend matches the
    /// native engine on the same prepared image (corr >= 0.99999).
    func testExactTinyModelMatchesNativeEngine() throws {
        _ = try requireRuntime()
        let litert = try LiteRTDepthEstimator(modelPath: Self.tinyModel)
        let native = try DepthEstimator(modelPath: Self.tinyCheckpoint)
        // an image of the model's aspect, larger than it: official upper_bound_resize to 70 (INTER_AREA)
        let image = RGBImage(width: 112, height: 140, pixels: SyntheticImage.rgb(width: 112, height: 140))
        let prepared = try litert.prepare(image)
        XCTAssertEqual(prepared.width, 56)
        XCTAssertEqual(prepared.height, 70)
        let nativePrepared = try Preprocessor(processRes: 70).prepare(image)
        XCTAssertEqual(prepared.tensor, nativePrepared.tensor, "same preprocessing as the native engine")
        let a = try litert.estimate(prepared)
        let b = try native.estimate(nativePrepared)
        XCTAssertEqual(a.depth.count, b.depth.count)
        let corr = Metrics.pearson(a.depth, b.depth)
        let rel = Metrics.maxRelativeError(a.depth, reference: b.depth)
        print(String(format: "LiteRT (CPU) vs native engine, tiny32 exact FP32 70x56: corr %.9f, max rel err %.3g", corr, rel))
        XCTAssertGreaterThanOrEqual(corr, 0.99999)
        XCTAssertLessThan(rel, 1e-3)
        // a second run on the same compiled model gives the same values
        XCTAssertEqual(try litert.estimate(prepared).depth, a.depth)
    }

    /// Another aspect is resized straight to the model's size; `.original` maps back.
    func testOtherAspectIsResizedToTheModelShape() throws {
        _ = try requireRuntime()
        let litert = try LiteRTDepthEstimator(modelPath: Self.tinyModel)
        let image = RGBImage(width: 90, height: 60, pixels: SyntheticImage.rgb(width: 90, height: 60))
        let r = try litert.estimate(image, outputSize: .original)
        XCTAssertEqual(r.width, 90)
        XCTAssertEqual(r.height, 60)
        XCTAssertEqual(r.processedWidth, 56)
        XCTAssertEqual(r.processedHeight, 70)
        XCTAssertTrue(r.depth.allSatisfy { $0.isFinite && $0 > 0 })
        XCTAssertThrowsError(try litert.estimate(try Preprocessor(processRes: 84).prepare(image)))
    }

    /// The GPU accelerator either runs and matches the CPU, or is reported as unavailable.
    func testGPUAcceleratorRunsOrReportsAbsence() throws {
        _ = try requireRuntime()
        let image = RGBImage(width: 56, height: 70, pixels: SyntheticImage.rgb(width: 56, height: 70))
        do {
            let gpu = try LiteRTDepthEstimator(modelPath: Self.tinyModel, accelerator: .gpu)
            let cpu = try LiteRTDepthEstimator(modelPath: Self.tinyModel)
            let a = try gpu.estimate(image), b = try cpu.estimate(image)
            let corr = Metrics.pearson(a.depth, b.depth)
            print("LiteRT GPU vs CPU: corr \(corr)")
            XCTAssertGreaterThan(corr, 0.999)
        } catch let error as LiteRTError {
            print("LiteRT GPU: \(error)")
            guard case .acceleratorUnavailable = error else { return XCTFail("\(error)") }
        }
    }

    func testMissingModelFileIsReported() throws {
        XCTAssertThrowsError(try LiteRTCompiledModel(path: "/nonexistent/model.tflite")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/model.tflite"), "\(error)")
        }
    }
}
