import XCTest
@testable import DA3LiteRT
@testable import DepthAnything3
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
        XCTAssertEqual(m.inputs, [LiteRTTensorInfo(shape: [1, 3, 70, 56], elementType: 1, name: "args_0")])
        XCTAssertEqual(m.outputs, [LiteRTTensorInfo(shape: [1, 1, 70, 56], elementType: 1, name: "output_0")])
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

    /// The GPU accelerator either runs and matches the CPU, or is reported as absent (in-process,
    /// with whatever Vulkan driver the test process has; `LiteRTGPUCLITests` chooses one).
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
            guard case .noGPUAdapter = error else { return XCTFail("\(error)") }
        }
    }

    /// Files exported from the official module as is (`tools/litert/export_official.py`): the
    /// (1, 1, 3, H, W) input and, behind a permute, NHWC (1, H, W, 3) with (1, H, W, 1) outputs.
    /// Depth is chosen by shape (the first of the two maps), the confidence is not named; both
    /// match the native engine on the same checkpoint.
    func testOfficialExportsIn5DAndNHWCLayoutsMatchTheNativeEngine() throws {
        _ = try requireRuntime()
        let native = try DepthEstimator(modelPath: Self.tinyCheckpoint)
        let image = RGBImage(width: 56, height: 70, pixels: SyntheticImage.rgb(width: 56, height: 70))
        let reference = try native.estimate(Preprocessor(processRes: 70).prepare(image))
        for (file, layout, shape) in [("litert/tiny32_official_5d_70x56.tflite", LiteRTInputLayout.viewsNCHW, [1, 1, 70, 56]),
                                      ("litert/tiny32_official_nhwc_70x56.tflite", .nhwc, [1, 70, 56, 1])] {
            let litert = try LiteRTDepthEstimator(modelPath: Fixtures.url(file).path)
            XCTAssertEqual(litert.inputLayout, layout)
            XCTAssertEqual(litert.depthOutput.shape, shape)
            XCTAssertEqual(litert.depthOutput.index, 0)
            XCTAssertFalse(litert.depthOutput.byName)
            let r = try litert.estimate(image)
            let corr = Metrics.pearson(r.depth, reference.depth)
            print("\(file) (\(layout.rawValue), depth \(litert.depthOutput)) vs native engine: corr \(corr)")
            XCTAssertGreaterThanOrEqual(corr, 0.99999)
        }
    }

    /// Inputs and outputs are found from shapes and names, and anything else is refused naming
    /// the shapes found.
    func testModelIOIsFoundFromShapesAndNames() throws {
        func info(_ shape: [Int], _ name: String = "") -> LiteRTTensorInfo { LiteRTTensorInfo(shape: shape, name: name) }
        var io = try LiteRTModelIO(inputs: [info([1, 3, 28, 14])], outputs: [info([1, 28, 14])])
        XCTAssertEqual(io.layout, .nchw)
        XCTAssertEqual(io.width, 14)
        XCTAssertEqual(io.height, 28)
        io = try LiteRTModelIO(inputs: [info([1, 28, 14, 3])], outputs: [info([1, 28, 14, 1])])
        XCTAssertEqual(io.layout, .nhwc)
        io = try LiteRTModelIO(inputs: [info([1, 1, 3, 28, 14])],
                               outputs: [info([1, 6, 28, 14], "rays"), info([1, 1, 28, 14], "conf"), info([1, 1, 1, 28, 14], "depth")])
        XCTAssertEqual(io.layout, .viewsNCHW)
        XCTAssertEqual(io.depth.index, 2)
        XCTAssertTrue(io.depth.byName)
        XCTAssertEqual(io.confidence, 1)
        XCTAssertThrowsError(try LiteRTModelIO(inputs: [info([1, 4, 28, 14])], outputs: [info([1, 28, 14])])) { error in
            XCTAssertTrue("\(error)".contains("(1, 4, 28, 14)"), "\(error)")
        }
        XCTAssertThrowsError(try LiteRTModelIO(inputs: [info([1, 3, 28, 14])], outputs: [info([1, 2, 28, 14]), info([1, 784])])) { error in
            XCTAssertTrue("\(error)".contains("(1, 2, 28, 14), (1, 784)"), "\(error)")
        }
        // NHWC arrangement of a CHW tensor
        XCTAssertEqual(LiteRTInputLayout.nhwc.arrange(chw: [1, 2, 10, 20, 100, 200], width: 2, height: 1), [1, 10, 100, 2, 20, 200])
    }

    /// A run that gives one value everywhere (all zeros, all ones) or non-finite depth is an error,
    /// not a depth file.
    func testUnusableDepthIsRefused() throws {
        XCTAssertNoThrow(try LiteRTDepthEstimator.checkUsable([0, 1.5, 2], accelerator: .cpu, gpuPrecision: nil))
        XCTAssertThrowsError(try LiteRTDepthEstimator.checkUsable([0, 0, 0], accelerator: .gpu, gpuPrecision: .fp16)) { error in
            XCTAssertTrue("\(error)".contains("all zeros (gpu at GPU precision fp16)"), "\(error)")
        }
        XCTAssertThrowsError(try LiteRTDepthEstimator.checkUsable([1, 1, 1], accelerator: .gpu, gpuPrecision: .fp16)) { error in
            XCTAssertTrue("\(error)".contains("1.0 everywhere"), "\(error)")
        }
        XCTAssertThrowsError(try LiteRTDepthEstimator.checkUsable([1, .nan], accelerator: .cpu, gpuPrecision: nil)) { error in
            XCTAssertTrue("\(error)".contains("nan"), "\(error)")
        }
    }

    func testMissingModelFileIsReported() throws {
        XCTAssertThrowsError(try LiteRTCompiledModel(path: "/nonexistent/model.tflite")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/model.tflite"), "\(error)")
        }
    }
}
