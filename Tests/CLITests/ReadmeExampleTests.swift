import DA3TestSupport
import Foundation
import XCTest
import DepthAnything3

// The README's library example, compiled here verbatim (ReadmeExampleTests checks it is the same text).
// BEGIN README EXAMPLE
func example(imageURLs: [URL], jpegBytes: Data, pixels: [UInt8], width: Int, height: Int) throws {
    let estimator = try DepthEstimator(model: "depth-anything/DA3-SMALL")  // Hub id, directory or .safetensors
    for url in imageURLs {
        let r = try estimator.estimate(imageAt: url, options: EstimationOptions(processRes: 504))
        // r.depth, r.confidence: [Float], r.height x r.width, row-major
        // r.intrinsics.fx / fy / cx / cy (pixels of the maps), r.poseEncoding (9 values)
        try r.write(.png16, to: url.deletingPathExtension().appendingPathExtension("depth.png"))
        try r.write(.glb, to: url.deletingPathExtension().appendingPathExtension("glb"),
                    options: ExportOptions(confThreshPercentile: 40, maxPoints: 200_000))
        let cloud = r.pointCloud(confThreshPercentile: 40)    // xyz + rgb in the camera frame
        print(url.lastPathComponent, cloud.count, "points")
    }
    let fromBytes = try estimator.estimate(imageData: jpegBytes, options: EstimationOptions(outputSize: .original))
    let fromPixels = try estimator.estimate(rgb: pixels, width: width, height: height)
    print(fromBytes.width, fromPixels.processedWidth)
}
// END README EXAMPLE

// BEGIN README PIPELINE EXAMPLE
func pipelineExample(photos: [URL], outputDirectory: URL) throws {
    let pipeline = DepthPipeline(options: EstimationOptions(processRes: 504), preparation: .official) {
        try DepthEstimator(model: "depth-anything/DA3-SMALL")    // loads while the first photo decodes
    }
    for url in photos {
        let outputs = OutputSet(directory: outputDirectory, stem: url.deletingPathExtension().lastPathComponent,
                                formats: [.npz, .vis, .intrinsics])
        let (result, files) = try pipeline.process(imageAt: url, outputs: outputs) { event in
            print(event.stage, event.milliseconds)             // decode, preprocess, load model, block.0, ..., write
        }
        print(result.width, result.height, files.map(\.lastPathComponent))
    }
}
// END README PIPELINE EXAMPLE

/// The README's examples: the Swift one is this file's compiled copy; the CLI quick start runs.
final class ReadmeExampleTests: TemporaryDirectoryTestCase {
    func testReadmeSwiftExampleIsCompiledVerbatim() throws {
        let readme = try String(contentsOf: Fixtures.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        for name in ["README EXAMPLE", "README PIPELINE EXAMPLE"] {
            let start = source.range(of: "// BEGIN \(name)\n")!.upperBound, end = source.range(of: "// END \(name)\n")!.lowerBound
            XCTAssertTrue(readme.contains(String(source[start..<end])), "README's \(name) differs from the compiled copy")
        }
    }

    /// The same calls against the local Hub server (as `test-org/tiny`) and a temporary folder.
    func testReadmeExampleRunsAgainstTheLocalHub() throws {
        guard let server = HubTestServer() else { throw XCTSkip("python3 is unavailable") }
        defer { server.stop() }
        let demo = Fixtures.sharedImages.appendingPathComponent("demo01.jpg")
        guard FileManager.default.fileExists(atPath: demo.path) else { throw XCTSkip("../shared/images is absent") }
        let hub = HubClient(environment: HubEnvironment(["HF_ENDPOINT": server.endpoint, "HF_HUB_CACHE": path("cache")]))
        let estimator = try DepthEstimator(model: "test-org/tiny", hub: hub)
        let url = tempDir.appendingPathComponent("photo.jpg")
        try FileManager.default.copyItem(at: demo, to: url)
        let r = try estimator.estimate(imageAt: url, options: EstimationOptions(processRes: 70))
        try r.write(.png16, to: url.deletingPathExtension().appendingPathExtension("depth.png"))
        try r.write(.glb, to: url.deletingPathExtension().appendingPathExtension("glb"), options: ExportOptions(maxPoints: 200_000))
        XCTAssertGreaterThan(r.pointCloud().count, 0)
        let bytes = try estimator.estimate(imageData: try Data(contentsOf: url), options: EstimationOptions(processRes: 70, outputSize: .original))
        XCTAssertEqual(bytes.width, try ImageDecoder.decode(fileAt: url).width)
        let px = try estimator.estimate(rgb: r.image.pixels, width: r.width, height: r.height, options: EstimationOptions(processRes: 70))
        XCTAssertEqual(px.processedWidth, r.width)
        XCTAssertEqual(try leftovers(), ["cache", "photo.depth.png", "photo.glb", "photo.jpg"])
    }

    /// The pipeline example's calls on the tiny checkpoint: every stage reported once per image in
    /// order, the files written, and the result equal to `DepthEstimator.estimate(imageAt:)`.
    func testReadmePipelineExampleRuns() throws {
        let demo = Fixtures.sharedImages.appendingPathComponent("demo01.jpg")
        guard FileManager.default.fileExists(atPath: demo.path) else { throw XCTSkip("../shared/images is absent") }
        let options = EstimationOptions(processRes: 70)
        let pipeline = DepthPipeline(options: options, preparation: .official) {
            try DepthEstimator(modelPath: Fixtures.url("tiny").path)
        }
        var stages: [String] = []
        let (result, files) = try pipeline.process(imageAt: demo, outputs: OutputSet(directory: tempDir, stem: "demo01",
                                                                                    formats: [.npz, .vis, .intrinsics])) {
            stages.append($0.stage)
        }
        XCTAssertEqual(files.map(\.lastPathComponent), ["demo01.npz", "demo01.vis.png", "demo01.intrinsics.json"])
        XCTAssertEqual(Array(stages.prefix(3)), ["decode", "preprocess", "load model"])
        XCTAssertEqual(Array(stages.suffix(3)), ["inference", "encode", "write"])
        XCTAssertTrue(stages.contains("block.0"), "\(stages)")
        let direct = try DepthEstimator(modelPath: Fixtures.url("tiny").path).estimate(imageAt: demo, options: options)
        XCTAssertEqual(result.depth, direct.depth)
        XCTAssertEqual(result.intrinsics, direct.intrinsics)
        // the model loaded once; later images do not report the load again
        stages = []
        _ = try pipeline.estimate(imageAt: demo) { stages.append($0.stage) }
        XCTAssertFalse(stages.contains("load model"))
    }
}
