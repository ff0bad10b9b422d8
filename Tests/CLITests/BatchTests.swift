import Foundation
import XCTest
import DA3TestSupport
import DepthAnything3

/// `da3 depth` over folders and globs: soft failures, collision-free names, every format, JSON.
final class BatchTests: TemporaryDirectoryTestCase {
    let tinyModel = Fixtures.url("tiny").path

    /// 18 PNGs of mixed sizes, one truncated PNG and one text file in `dir`.
    func makeFolder(_ dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for i in 0..<18 {
            let w = 60 + 7 * i, h = 50 + 5 * ((i * 5) % 13)
            var px = [UInt8](repeating: 0, count: w * h * 3)
            for y in 0..<h { for x in 0..<w { let o = 3 * (y * w + x); px[o] = UInt8((x * 5 + i) & 255); px[o + 1] = UInt8((y * 3) & 255); px[o + 2] = UInt8((x ^ y) & 255) } }
            try PNGEncoder.encode(RGBImage(width: w, height: h, pixels: px)).write(to: dir.appendingPathComponent(String(format: "img%02d.png", i)))
        }
        let good = try Data(contentsOf: dir.appendingPathComponent("img00.png"))
        try good.prefix(good.count / 2).write(to: dir.appendingPathComponent("corrupt.png"))
        try Data("not an image\n".utf8).write(to: dir.appendingPathComponent("notes.txt"))
    }

    func testFolderWithBadFilesFailsSoftly() throws {
        let input = tempDir.appendingPathComponent("in"), out = tempDir.appendingPathComponent("out")
        try makeFolder(input)
        let r = try CLIRunner.run(["depth", input.path, "--model", tinyModel, "--process-res", "56",
                                   "--output-dir", out.path, "--formats", "npy,png16", "--json"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let produced = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(produced.filter { $0.hasSuffix(".depth.npy") }.count, 18)
        XCTAssertEqual(produced.count, 36, "\(produced)")
        XCTAssertFalse(produced.contains { $0.hasPrefix(".") || $0.contains("tmp") }, "stray temporary files: \(produced)")
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        XCTAssertEqual(errors.count, 2, r.stderr)
        XCTAssertTrue(errors.contains { $0.contains("corrupt.png") && $0.contains("truncated") }, r.stderr)
        XCTAssertTrue(errors.contains { $0.contains("notes.txt") && $0.contains("not a JPEG or PNG") }, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["succeeded"] as? Int, 18)
        XCTAssertEqual(json["failed"] as? Int, 2)
        let images = json["images"] as! [[String: Any]]
        XCTAssertEqual(images.count, 20)
        for image in images where image["ok"] as? Bool == true {
            let outputs = image["outputs"] as! [String]
            XCTAssertEqual(outputs.count, 2)
            XCTAssertNotNil((image["timings_ms"] as? [String: Double])?["inference"])
            // Each depth map has the processed size of its own input.
            let (shape, _) = try NPYReader.read(URL(fileURLWithPath: outputs[0]))
            XCTAssertEqual(shape, [image["height"] as! Int, image["width"] as! Int])
        }
        // Without --json: plain progress lines on stdout and a summary naming the failures on stderr.
        let plain = try CLIRunner.run(["depth", input.path, "--model", tinyModel, "--process-res", "56", "--output-dir", out.path])
        XCTAssertEqual(plain.status, 1)
        XCTAssertEqual(plain.stdout.split(separator: "\n").filter { $0.hasPrefix("[") }.count, 20, plain.stdout)
        XCTAssertTrue(plain.stderr.contains("18 of 20 images processed"), plain.stderr)
        XCTAssertTrue(plain.stderr.contains("2 failed"), plain.stderr)
        // --quiet: errors only.
        let quiet = try CLIRunner.run(["depth", input.path, "--model", tinyModel, "--process-res", "56", "--output-dir", out.path, "--quiet"])
        XCTAssertEqual(quiet.stdout, "")
        XCTAssertEqual(quiet.stderr.split(separator: "\n").count, 2, quiet.stderr)
    }

    func testNamesNeverCollideAndGlobsExpand() throws {
        let a = tempDir.appendingPathComponent("a"), b = tempDir.appendingPathComponent("b")
        try makeFolder(a)
        try FileManager.default.createDirectory(at: b, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: a.appendingPathComponent("img01.png"), to: b.appendingPathComponent("img01.png"))
        let jpeg = Fixtures.sharedImages.appendingPathComponent("demo01.jpg")
        var inputs = [a.path + "/img01.png", b.path + "/img0[1].png", a.path + "/img02.*"]
        if FileManager.default.fileExists(atPath: jpeg.path) {
            try FileManager.default.copyItem(at: jpeg, to: a.appendingPathComponent("img01.jpg"))
            inputs.append(a.path + "/img01.jpg")
        }
        let out = tempDir.appendingPathComponent("out")
        let r = try CLIRunner.run(["depth"] + inputs + ["--model", tinyModel, "--process-res", "56", "--output-dir", out.path, "--formats", "npy"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var expected = ["img01_png.depth.npy", "img01_png-2.depth.npy", "img02.depth.npy"]
        if inputs.count == 4 { expected.append("img01_jpg.depth.npy") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(), expected.sorted())
        let none = try CLIRunner.run(["depth", tempDir.path + "/nothing*.png", "--model", tinyModel, "--output-dir", out.path])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("no file matches"), none.stderr)
    }

    func testAllFormatsAndOriginalSize() throws {
        let input = tempDir.appendingPathComponent("in")
        try makeFolder(input)
        let image = input.appendingPathComponent("img05.png")
        let out = tempDir.appendingPathComponent("out")
        let r = try CLIRunner.run(["depth", image.path, "--model", tinyModel, "--process-res", "70", "--output-dir", out.path,
                                   "--formats", "npy,npz,png16,pfm,vis,ply,glb", "--size", "original", "--colormap", "turbo",
                                   "--vis-side-by-side", "--conf-thresh-percentile", "0", "--num-max-points", "500"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(),
                       ["img05.depth.npy", "img05.depth.pfm", "img05.depth.png", "img05.glb", "img05.npz", "img05.ply", "img05.vis.png"])
        let decoded = try ImageDecoder.decode(fileAt: image)
        let (shape, depth) = try NPYReader.read(out.appendingPathComponent("img05.depth.npy"))
        XCTAssertEqual(shape, [decoded.height, decoded.width])
        // Same as the library at original size.
        let estimator = try DepthEstimator(modelPath: tinyModel)
        let lib = try estimator.estimate(decoded, options: EstimationOptions(processRes: 70, outputSize: .original))
        XCTAssertEqual(depth, lib.depth)
        let processed = try estimator.estimate(decoded, options: EstimationOptions(processRes: 70))
        XCTAssertEqual(lib.intrinsics.fx, processed.intrinsics.fx * Double(decoded.width) / Double(processed.width), accuracy: 1e-9)
        XCTAssertEqual(lib.intrinsics.cy, processed.intrinsics.cy * Double(decoded.height) / Double(processed.height), accuracy: 1e-9)
        let vis = try ImageDecoder.decode(fileAt: out.appendingPathComponent("img05.vis.png"))
        XCTAssertEqual(vis.width, 2 * decoded.width)
        let ply = try Data(contentsOf: out.appendingPathComponent("img05.ply"))
        XCTAssertTrue(String(decoding: ply.prefix(200), as: UTF8.self).contains("element vertex 500"))
        let crop = try CLIRunner.run(["depth", image.path, "--model", tinyModel, "--output-dir", out.path, "--size", "original",
                                      "--process-res-method", "upper_bound_crop"])
        XCTAssertEqual(crop.status, 1)
        XCTAssertTrue(crop.stderr.contains("--size original"), crop.stderr)
    }

    func testHelpIsComplete() throws {
        let top = try CLIRunner.run(["--help"])
        XCTAssertEqual(top.status, 0)
        for word in ["depth", "info", "convert", "HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE"] {
            XCTAssertTrue(top.stdout.contains(word), word)
        }
        let depth = try CLIRunner.run(["depth", "--help"])
        for option in ["--model", "--process-res", "--process-res-method", "--output", "--confidence", "--intrinsics", "--output-dir",
                       "--formats", "--size", "--colormap", "--vis-side-by-side", "--conf-thresh-percentile", "--num-max-points",
                       "--quiet", "--json", "--timings", "depth-anything/DA3-SMALL", "(default: 504)", "(default: 40.0)",
                       "npz", "png16", "pfm", "glb", "depth_scale"] {
            XCTAssertTrue(depth.stdout.contains(option), option)
        }
        let info = try CLIRunner.run(["info", "--help"]), convert = try CLIRunner.run(["convert", "--help"])
        XCTAssertTrue(info.stdout.contains("--json"))
        for option in ["--dtype", "--output", "(default: f16)"] { XCTAssertTrue(convert.stdout.contains(option), option) }
    }
}
