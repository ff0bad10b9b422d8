import XCTest
import DA3Model
import DA3TestSupport
import DepthAnything3
import SafeTensors

/// The library's scene layer against the official code: the multi-image input processor (mixed
/// sizes, intrinsics adjustment) and the pose alignment around a pass with known cameras.
final class SceneEstimationTests: XCTestCase {
    func testMixedSizesFollowOfficialInputProcessor() throws {
        for method in ResizeMethod.allCases {
            let golden = try SafeTensorsFile(url: Fixtures.url("anyview/preprocess_\(method.rawValue).safetensors"))
            let sizes = try golden.floats("sizes"), given = try golden.floats("in_intrinsics")
            let images = stride(from: 0, to: sizes.count, by: 2).map { i in
                RGBImage(width: Int(sizes[i]), height: Int(sizes[i + 1]),
                         pixels: SyntheticImage.rgb(width: Int(sizes[i]), height: Int(sizes[i + 1])))
            }
            let cameras = images.indices.map { i in
                SceneCamera(extrinsics: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], intrinsics: Array(given[(9 * i)..<(9 * i + 9)]))
            }
            let scene = try ScenePreparation.official(images, names: ["a", "b", "c"], cameras: cameras,
                                                     options: SceneOptions(processRes: 70, method: method))
            let views = scene.views, ks = scene.intrinsics
            let shape = golden.tensors["tensor"]!.shape
            XCTAssertEqual(views.map { [$0.height, $0.width] }, Array(repeating: [shape[2], shape[3]], count: 3), method.rawValue)
            let mine = views.flatMap(\.tensor), reference = try golden.floats("tensor")
            // One uint8 step of the normalized tensor is 1 / (255 * 0.224) ~ 0.0175.
            let maxDiff = zip(mine, reference).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(maxDiff, 1e-6, "\(method.rawValue): tensors differ by \(maxDiff)")
            for (a, b) in zip(ks!.flatMap { $0 }, try golden.floats("intrinsics")) {
                XCTAssertEqual(Double(a), Double(b), accuracy: 1e-4 * max(1, abs(Double(b))), method.rawValue)
            }
        }
    }

    func testKnownCameraAlignmentMatchesOfficial() throws {
        let golden = try AnyViewGoldenTests.golden("posed")
        let given = try golden.floats("in_extrinsics"), predicted = try golden.floats("extrinsics")
        let input = (0..<3).map { Array(given[(16 * $0)..<(16 * $0 + 16)]) }
        let normalized = SceneCameraAlignment.normalize(input).flatMap { $0 }
        for (a, b) in zip(normalized, try golden.floats("norm_extrinsics")) {
            XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)))
        }
        let scale = try SceneCameraAlignment.umeyamaScale(source: input, target: (0..<3).map { Array(predicted[(12 * $0)..<(12 * $0 + 12)]) })
        let reference = Double(try golden.floats("align_scale")[0])
        XCTAssertEqual(scale, reference, accuracy: 1e-5 * reference)
        let aligned = try golden.floats("depth").map { Float(Double($0) / scale) }
        XCTAssertLessThan(Metrics.maxRelativeError(aligned, reference: try golden.floats("aligned_depth")), 1e-5)
        // Two cameras cannot fix a similarity: refused like evo refuses.
        XCTAssertThrowsError(try SceneCameraAlignment.umeyamaScale(source: Array(input.prefix(2)),
                                                                   target: (0..<2).map { Array(predicted[(12 * $0)..<(12 * $0 + 12)]) }))
    }

    /// From 10 known cameras on, upstream aligns with RANSAC on draws of np.random.default_rng(42):
    /// the scales of tools/reference/make_alignment_goldens.py (outlier centres, so RANSAC and the
    /// plain alignment differ there).
    func testRANSACAlignmentMatchesOfficial() throws {
        let golden = try SafeTensorsFile(url: Fixtures.url("anyview/alignment.safetensors"))
        for n in [4, 9, 10, 12, 16, 25] {
            let given = try golden.floats("given_\(n)"), predicted = try golden.floats("predicted_\(n)")
            let source = (0..<n).map { Array(given[(16 * $0)..<(16 * $0 + 16)]) }
            let target = (0..<n).map { Array(predicted[(12 * $0)..<(12 * $0 + 12)]) }
            let scale = try SceneCameraAlignment.inputScale(source: source, target: target)
            let reference = Double(try golden.floats("scale_\(n)")[0]), plain = Double(try golden.floats("plain_scale_\(n)")[0])
            XCTAssertEqual(scale, reference, accuracy: 1e-6 * reference, "\(n) views")
            if n >= SceneCameraAlignment.ransacViews { XCTAssertGreaterThan(abs(plain - reference), 1e-3 * reference, "\(n) views") }
        }
    }

    /// NumPyGenerator draws what np.random.default_rng(42).choice(n, size, replace=False) draws.
    func testNumPyGeneratorEqualsNumPy() throws {
        let golden = try SafeTensorsFile(url: Fixtures.url("anyview/alignment.safetensors"))
        for n in [10, 11, 16, 25, 100] {
            let size = max(3, (n + 1) / 2)
            let reference = try golden.floats("choice_\(n)_\(size)")
            var generator = NumPyGenerator(seed: 42)
            for draw in 0..<10 {
                XCTAssertEqual(generator.choice(n, size: size).map(Float.init), Array(reference[(draw * size)..<((draw + 1) * size)]),
                               "n \(n) draw \(draw)")
            }
        }
    }

    /// `--poses FOLDER`: a COLMAP model written by pycolmap (tools/scene/make_colmap_fixture.py) as
    /// binary and as text gives the same cameras, as written.
    func testCOLMAPBinaryAndTextModelsGiveTheCamerasWritten() throws {
        let names = ["photos/view0.png", "view1.png", "view2.png"]
        let binary = try SceneCamera.load(colmapModelAt: Fixtures.url("colmap/bin"), imageNames: names)
        let text = try SceneCamera.load(colmapModelAt: Fixtures.url("colmap/txt"), imageNames: names)
        XCTAssertEqual(binary, text)
        XCTAssertEqual(binary[0].intrinsics, [61, 0, 41, 0, 62.5, 36, 0, 0, 1])             // PINHOLE
        XCTAssertEqual(binary[1].intrinsics, [70, 0, 42, 0, 70, 35.5, 0, 0, 1])             // SIMPLE_RADIAL
        XCTAssertEqual(binary[2].intrinsics, [80, 0, 49, 0, 81, 42, 0, 0, 1])               // OPENCV, distortion ignored
        for (i, camera) in binary.enumerated() {
            let a = 0.2 * Float(i)
            let expected: [Float] = [cos(a), 0, sin(a), 0.3 * Float(i), 0, 1, 0, -0.1, -sin(a), 0, cos(a), 0.2 * Float(i), 0, 0, 0, 1]
            for (x, y) in zip(camera.extrinsics, expected) { XCTAssertEqual(x, y, accuracy: 1e-6, "image \(i)") }
            XCTAssertNil(camera.problem)
        }
        // Scaled to the images' sizes where they differ from the cameras'.
        let scaled = try SceneCamera.load(colmapModelAt: Fixtures.url("colmap/bin"), imageNames: names,
                                          imageSizes: [(168, 140), (84, 70), (98, 84)])
        XCTAssertEqual(scaled[0].intrinsics, [122, 0, 82, 0, 125, 72, 0, 0, 1])
    }

    /// A truncated or unknown binary model is refused naming the file.
    func testBadCOLMAPBinaryModelIsNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("colmap-bad-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cameras = try Data(contentsOf: Fixtures.url("colmap/bin/cameras.bin"))
        let images = try Data(contentsOf: Fixtures.url("colmap/bin/images.bin"))
        try cameras.write(to: dir.appendingPathComponent("cameras.bin"))
        try images.prefix(images.count - 30).write(to: dir.appendingPathComponent("images.bin"))
        XCTAssertThrowsError(try SceneCamera.load(colmapModelAt: dir, imageNames: ["view0.png"])) { error in
            XCTAssertTrue("\(error)".contains("images.bin") && "\(error)".contains("truncated"), "\(error)")
        }
        var unknown = cameras
        unknown[12] = 99  // camera 1's model id
        try unknown.write(to: dir.appendingPathComponent("cameras.bin"))
        try images.write(to: dir.appendingPathComponent("images.bin"))
        XCTAssertThrowsError(try SceneCamera.load(colmapModelAt: dir, imageNames: ["view0.png"])) { error in
            XCTAssertTrue("\(error)".contains("cameras.bin") && "\(error)".contains("unknown camera model id 99"), "\(error)")
        }
    }
}
