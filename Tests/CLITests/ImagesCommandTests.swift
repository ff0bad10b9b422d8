import Foundation
import XCTest
import DA3TestSupport
import DepthAnything3

/// `da3 images`: one scene from several images (tiny model), every export read back by the
/// independent reader tools/scene/check_scene.py, known cameras, and the bad-input contract.
final class ImagesCommandTests: TemporaryDirectoryTestCase {
    let tiny = Fixtures.url("tiny").path

    /// Synthetic PNGs of different sizes (the scene is centre-cropped to one size).
    func writeImages(_ sizes: [(Int, Int)] = [(84, 70), (70, 84), (98, 98)]) throws -> [String] {
        try sizes.enumerated().map { i, s in
            let image = RGBImage(width: s.0, height: s.1, pixels: SyntheticImage.rgb(width: s.0, height: s.1))
            let url = tempDir.appendingPathComponent("view\(i).png")
            try PNGEncoder.encode(image).write(to: url)
            return url.path
        }
    }

    func checkScene(_ dir: String, stems: [String]) throws -> [String: Any] {
        let checker = Fixtures.repoRoot.appendingPathComponent("tools/scene/check_scene.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", checker, dir, "--npy"] + stems
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw XCTSkip("python3 is not available") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus == 127 { throw XCTSkip("python3 is not available") }
        XCTAssertEqual(p.terminationStatus, 0, message)
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    func testSceneExportsReadBackIndependently() throws {
        let images = try writeImages()
        let out = path("scene")
        let r = try CLIRunner.run(["images"] + images + ["--model", tiny, "--output-dir", out, "--process-res", "98",
                                                         "--formats", "npz,glb,colmap,ply,npy", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((summary["views"] as? [Any])?.count, 3)
        XCTAssertNotNil(summary["reference_view"] as? Int)
        let check = try checkScene(out, stems: ["view0", "view1", "view2"])
        XCTAssertEqual(check["views"] as? Int, 3)
        XCTAssertEqual(check["glb_cameras"] as? Int, 3)
        let colmap = try XCTUnwrap(check["colmap"] as? [String: Any])
        XCTAssertEqual(colmap["round_trip"] as? Bool, true)
        XCTAssertEqual(colmap["binary"] as? Bool, true, "COLMAP's binary form, as the official exporter writes")
        XCTAssertGreaterThan(colmap["points3D"] as? Int ?? 0, 0)
        print("da3 images read back:", check)
        // --colmap-text: the same model as text.
        let text = path("scene-text")
        let t = try CLIRunner.run(["images"] + images + ["--model", tiny, "--output-dir", text, "--process-res", "98",
                                                         "--formats", "npz,colmap", "--colmap-text"])
        XCTAssertEqual(t.status, 0, t.stderr)
        let textColmap = try XCTUnwrap(try checkScene(text, stems: [])["colmap"] as? [String: Any])
        XCTAssertEqual(textColmap["binary"] as? Bool, false)
        XCTAssertEqual(textColmap["points3D"] as? Int, colmap["points3D"] as? Int)
        XCTAssertEqual(textColmap["round_trip"] as? Bool, true)
    }

    /// --use-ray-pose: cameras from the ray head's rays and the RANSAC solve, drawn from the seed;
    /// the library call gives the same scene.
    func testRayPoseCameras() throws {
        let images = try writeImages()
        let out = path("ray")
        let r = try CLIRunner.run(["images"] + images + ["--model", tiny, "--output-dir", out, "--process-res", "98",
                                                         "--use-ray-pose", "--ray-pose-seed", "3", "--formats", "npz,glb", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(summary["cameras_from"] as? String, "ray_pose")
        XCTAssertEqual(summary["ray_pose_seed"] as? Int, 3)
        let scene = try SceneFile(npz: URL(fileURLWithPath: out).appendingPathComponent("scene.npz"))
        let estimator = try DepthEstimator(modelPath: tiny + "/model.safetensors")
        let library = try estimator.estimateScene(imagesAt: images.map { URL(fileURLWithPath: $0) },
                                                  options: SceneOptions(processRes: 98, rayPose: RayPose.Options(seed: 3)))
        XCTAssertEqual(scene.extrinsics, library.extrinsics.flatMap { $0 })
        XCTAssertEqual(scene.intrinsics, library.views.flatMap(\.intrinsics.matrix))
        let decoder = try estimator.estimateScene(imagesAt: images.map { URL(fileURLWithPath: $0) },
                                                  options: SceneOptions(processRes: 98))
        XCTAssertNotEqual(scene.extrinsics, decoder.extrinsics.flatMap { $0 }, "the cameras come from the rays")
        XCTAssertEqual(library.views.map(\.depth), decoder.views.map(\.depth), "depth does not depend on where cameras come from")
    }

    /// `--poses` on a binary COLMAP model (what COLMAP and the official exporter write).
    func testBinaryCOLMAPModelAsPoses() throws {
        let images = try writeImages()
        let out = path("colmap-bin")
        let r = try CLIRunner.run(["images"] + images + ["--model", tiny, "--output-dir", out, "--process-res", "98",
                                                         "--poses", Fixtures.url("colmap/bin").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let scene = try SceneFile(npz: URL(fileURLWithPath: out).appendingPathComponent("scene.npz"))
        let given = try SceneCamera.load(colmapModelAt: Fixtures.url("colmap/bin"), imageNames: images)
        for i in 0..<3 { XCTAssertEqual(Array(scene.extrinsics[(12 * i)..<(12 * i + 12)]), Array(given[i].extrinsics.prefix(12))) }
    }

    func testKnownCamerasComeBackAsGiven() throws {
        let images = try writeImages()
        var cameras: [[String: Any]] = []
        for i in 0..<3 {
            let a = 0.3 * Double(i), c = cos(a), s = sin(a)
            let ext = [[c, 0, -s, 0.5 * Double(i)], [0, 1, 0, 0.1], [s, 0, c, 2.0 + 0.2 * Double(i)], [0, 0, 0, 1]]
            cameras.append(["extrinsics": ext, "intrinsics": [[60.0 + Double(i), 0, 40], [0, 61.0, 35], [0, 0, 1]]])
        }
        let poses = path("cameras.json")
        try JSONSerialization.data(withJSONObject: cameras).write(to: URL(fileURLWithPath: poses))
        let out = path("posed")
        let r = try CLIRunner.run(["images"] + images + ["--model", tiny, "--output-dir", out, "--process-res", "98",
                                                         "--poses", poses, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let scene = try SceneFile(npz: URL(fileURLWithPath: out).appendingPathComponent("scene.npz"))
        for i in 0..<3 {
            let given = (cameras[i]["extrinsics"] as! [[Double]]).prefix(3).flatMap { $0 }.map(Float.init)
            XCTAssertEqual(Array(scene.extrinsics[(12 * i)..<(12 * i + 12)]), given)
        }
        // View 0 (84x70): resized to 98x82, rounded to 98x84 (x 98/84), centre-cropped to the common
        // 84x84 (7 px from the left): fx = 60 * 98/84 = 70, cx = 40 * 98/84 - 7.
        XCTAssertEqual(scene.intrinsics[0], 70, accuracy: 1e-4)
        XCTAssertEqual(scene.intrinsics[2], 40 * 98 / 84 - 7, accuracy: 1e-4)
    }

    /// A COLMAP model written by `--formats colmap` is read back as `--poses`: the second pass is
    /// conditioned on the first pass's cameras and returns them (rotations and translations).
    func testCOLMAPModelRoundTripsAsPoses() throws {
        // Three different 84x84 views (one size: no crop, so the intrinsics come back unchanged).
        let images = try (0..<3).map { i -> String in
            let w = 84 + 14 * i, h = 84 + 7 * i
            let image = RGBImage(width: w, height: h, pixels: SyntheticImage.rgb(width: w, height: h)).cropped(x: 0, y: 0, width: 84, height: 84)
            let url = tempDir.appendingPathComponent("same\(i).png")
            try PNGEncoder.encode(image).write(to: url)
            return url.path
        }
        let first = path("first"), second = path("second")
        var r = try CLIRunner.run(["images"] + images + ["--model", tiny, "--output-dir", first, "--process-res", "84",
                                                         "--formats", "npz,colmap"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLIRunner.run(["images"] + images + ["--model", tiny, "--output-dir", second, "--process-res", "84",
                                                     "--poses", first + "/colmap"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try SceneFile(npz: URL(fileURLWithPath: first + "/scene.npz"))
        let b = try SceneFile(npz: URL(fileURLWithPath: second + "/scene.npz"))
        for (x, y) in zip(a.extrinsics, b.extrinsics) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(x))) }
        for (x, y) in zip(a.intrinsics, b.intrinsics) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(x))) }
    }

    // MARK: bad input: one line naming the file, exit 1, nothing written

    func expectFailure(_ arguments: [String], mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try leftovers()
        let r = try CLIRunner.run(["images"] + arguments + ["--model", tiny, "--output-dir", path("out"), "--process-res", "98"])
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertEqual(lines.count, 1, "stderr should be one line: \(r.stderr)", file: file, line: line)
        for m in mentions { XCTAssertTrue(r.stderr.contains(m), "'\(r.stderr)' lacks '\(m)'", file: file, line: line) }
        XCTAssertEqual(try leftovers(), before, "output left behind", file: file, line: line)
    }

    /// Reduced-precision kernels keep attention within each view in the local blocks, as exact does.
    func testFastKernelsMatchExactPerView() throws {
        let images = try writeImages()
        var depths: [String: [[Float]]] = [:]
        for (mode, kernels) in [("exact", "auto"), ("bf16", "bf16"), ("int8", "int8")] {
            let out = path(mode)
            let r = try CLIRunner.run(["images"] + images + ["--model", tiny, "--output-dir", out, "--process-res", "98",
                                                             "--formats", "npy", "--precision", mode == "exact" ? "exact" : "fast"],
                                      environment: ["DA3_FAST_KERNELS": kernels])
            XCTAssertEqual(r.status, 0, r.stderr)
            depths[mode] = try (0..<3).map { try NPYReader.read(URL(fileURLWithPath: "\(out)/view\($0).depth.npy")).values }
        }
        for mode in ["bf16", "int8"] where mode == "bf16" ? Precision.fastAvailable : Precision.int8Available {
            for v in 0..<3 {
                let r = Metrics.pearson(depths[mode]![v], depths["exact"]![v])
                print("da3 images \(mode) view \(v): depth correlation with exact \(r)")
                XCTAssertGreaterThan(r, 0.9995, "\(mode) view \(v): depth correlation with exact \(r)")
            }
        }
    }

    func testRayPoseSeedWithoutRayPose() throws {
        let images = try writeImages()
        try expectFailure(images + ["--ray-pose-seed", "1"], mentions: ["--ray-pose-seed", "--use-ray-pose"])
    }

    func testOneImageWithReferenceViewStrategy() throws {
        let images = try writeImages()
        try expectFailure([images[0], "--ref-view-strategy", "first"], mentions: ["view0.png", "--ref-view-strategy"])
    }

    /// Metric/Mono-Large predict no camera: a scene is refused naming the checkpoint, nothing written.
    func testModelWithoutCameraHeadIsRefused() throws {
        let images = try writeImages()
        let model = Fixtures.url("family/tiny-dpt").path
        let before = try leftovers()
        let r = try CLIRunner.run(["images"] + images + ["--model", model, "--output-dir", path("out"), "--process-res", "98"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("tiny-dpt") && r.stderr.contains("does not run any-view scenes"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertEqual(try leftovers(), before)
    }

    func testPosesWithWrongCount() throws {
        let images = try writeImages()
        let poses = path("two.json")
        let cam: [String: Any] = ["extrinsics": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], "intrinsics": [[50, 0, 20], [0, 50, 20], [0, 0, 1]]]
        try JSONSerialization.data(withJSONObject: [cam, cam]).write(to: URL(fileURLWithPath: poses))
        try expectFailure(images + ["--poses", poses], mentions: ["two.json", "2 cameras for 3 images"])
    }

    func testPosesWithMalformedMatrices() throws {
        let images = try writeImages()
        let good: [String: Any] = ["extrinsics": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], "intrinsics": [[50, 0, 20], [0, 50, 20], [0, 0, 1]]]
        let cases: [(String, Any, String)] = [
            ("shape.json", [good, good, ["extrinsics": [[1, 0, 0], [0, 1, 0]], "intrinsics": [[50, 0, 20], [0, 50, 20], [0, 0, 1]]]], "entry 2"),
            ("rotation.json", [good, ["extrinsics": [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], "intrinsics": [[50, 0, 20], [0, 50, 20], [0, 0, 1]]], good], "orthonormal"),
            ("text.json", "not a list", "JSON list"),
        ]
        for (name, content, mention) in cases {
            let url = URL(fileURLWithPath: path(name))
            if let text = content as? String { try Data(text.utf8).write(to: url) } else {
                try JSONSerialization.data(withJSONObject: content).write(to: url)
            }
            try expectFailure(images + ["--poses", url.path], mentions: [name, mention])
        }
    }

    func testUnreadableImageAmongSeveral() throws {
        let images = try writeImages()
        let bad = path("broken.png")
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: bad))
        try expectFailure([images[0], bad, images[1]], mentions: ["broken.png"])
    }

    /// An extreme strip that crops to nothing cannot be brought to the scene's size.
    func testViewThatCannotBeBroughtToOneSize() throws {
        let images = try writeImages([(84, 70), (1400, 20)])
        try expectFailure(images + ["--process-res-method", "upper_bound_crop"], mentions: ["view1.png", "smaller than one 14x14 patch"])
    }
}

/// scene.npz read with the library's own arrays (the independent reader is check_scene.py).
struct SceneFile {
    let extrinsics: [Float], intrinsics: [Float]

    init(npz url: URL) throws {
        let data = try Data(contentsOf: url)
        func member(_ name: String) throws -> [Float] {
            let marker = Data((name + ".npy").utf8)
            guard let r = data.range(of: marker) else { throw XCTSkip("no \(name) in scene.npz") }
            let npy = data[r.upperBound...]
            let headerLength = Int(npy[npy.startIndex + 8]) | Int(npy[npy.startIndex + 9]) << 8
            let header = String(decoding: npy[(npy.startIndex + 10)..<(npy.startIndex + 10 + headerLength)], as: UTF8.self)
            let dims = header.components(separatedBy: "(")[1].components(separatedBy: ")")[0]
                .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let count = dims.reduce(1, *), start = npy.startIndex + 10 + headerLength
            return npy[start..<(start + 4 * count)].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        extrinsics = try member("extrinsics")
        intrinsics = try member("intrinsics")
    }
}
