import XCTest
import DA3TestSupport
import DepthAnything3
import Foundation

/// Issue 16 at the command line: `da3 info` on every published layout, `--sky`, `--metric`.
final class FamilyCLITests: TemporaryDirectoryTestCase {
    static let layouts = ["da3-small", "da3-base", "da3-large", "da3-giant", "da3metric-large", "da3mono-large",
                          "da3nested-giant-large"]

    /// Acceptance 4: the same preset on every run (separate processes: Swift's dictionary order
    /// changes between them), for every published layout, with and without config.json.
    func testInfoIsDeterministicForEveryPublishedLayout() throws {
        for name in Self.layouts {
            let tensors = try SparseCheckpoint.keySet(name)
            for withConfig in [true, false] {
                let dir = tempDir.appendingPathComponent("\(name)-\(withConfig)")
                try SparseCheckpoint.writeDirectory(tensors, at: dir, configName: withConfig ? name : nil)
                let expected = withConfig || !name.hasPrefix("da3m") ? name : ModelConfig.metricOrMonoLargeName
                for _ in 0..<3 {
                    let r = try CLIRunner.run(["info", dir.path, "--json"])
                    XCTAssertEqual(r.status, 0, r.stderr)
                    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
                    XCTAssertEqual(json["preset"] as? String, expected, "\(name), config.json: \(withConfig)")
                }
            }
        }
    }

    /// The -1.1 releases have the same topologies: their model_name selects the same preset.
    func testOnePointOneNamesSelectTheSameTopology() throws {
        let dir = tempDir.appendingPathComponent("nested11")
        try SparseCheckpoint.writeDirectory(try SparseCheckpoint.keySet("da3nested-giant-large"), at: dir,
                                            configName: "da3nested-giant-large-1.1")
        let r = try CLIRunner.run(["info", dir.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\"da3nested-giant-large\""), r.stdout)
    }

    /// Acceptance 5: `--sky` on a model without a sky head is refused with one clear line, and
    /// none of the image's files is written.
    func testSkyOnAModelWithoutSkyHeadIsRefusedWithoutPartialOutput() throws {
        let image = try writeImage()
        let r = try CLIRunner.run(["depth", image.path, "--model", Fixtures.url("tiny").path,
                                   "--output", path("d.npy"), "--sky", path("s.npy"), "--process-res", "140"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no sky head"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("d.npy")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("s.npy")))
    }

    /// A DPT model with a sky head writes the sky map; vis drops sky pixels by default.
    func testSkyMapIsWrittenAndNPZRecordsIt() throws {
        let image = try writeImage()
        let r = try CLIRunner.run(["depth", image.path, "--model", Fixtures.url("family/tiny-dpt").path,
                                   "--output", path("d.npy"), "--sky", path("s.npy"), "--json", "--process-res", "140"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("s.npy")))
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let first = (json["images"] as! [[String: Any]])[0]
        XCTAssertEqual(first["is_metric"] as? Bool, false)
    }

    /// A copy of the tiny DPT fixture declared metric (as DA3METRIC-LARGE: metres = focal * out / 300).
    private func metricModel() throws -> URL {
        let dir = tempDir.appendingPathComponent("tiny-metric")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = Fixtures.url("family/tiny-dpt")
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"),
                                         to: dir.appendingPathComponent("model.safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
        config["model_name"] = "da3-tiny-metric-test"
        config["metric_depth"] = true
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        return dir
    }

    /// Acceptance 3: --metric = focal_px * output / 300 with --focal-px (scaled to the processed
    /// image), EXIF when present, refused without a focal length.
    func testMetricDepthFromFocalPxAndEXIFAndRefusal() throws {
        let model = try metricModel().path
        // A 112 x 140 JPEG with FocalLengthIn35mmFilm = 28 (tools/reference/make_exif_fixture.py).
        let jpeg = Fixtures.url("family/exif_focal35_28mm.jpg").path
        let raw = try CLIRunner.run(["depth", jpeg, "--model", model, "--output", path("raw.npy"), "--process-res", "280"])
        XCTAssertEqual(raw.status, 0, raw.stderr)
        let rawDepth = try NPYReader.read(URL(fileURLWithPath: path("raw.npy"))).values

        // --focal-px in input pixels, scaled to the processed image (here 280 / 140 = 2 per side).
        let given = try CLIRunner.run(["depth", jpeg, "--model", model, "--output", path("m.npy"), "--metric",
                                       "--focal-px", "100", "--no-exif", "--json", "--process-res", "280"])
        XCTAssertEqual(given.status, 0, given.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(given.stdout.utf8)) as! [String: Any]
        let first = (json["images"] as! [[String: Any]])[0]
        let (pw, ph) = (first["processed_width"] as! Int, first["processed_height"] as! Int)
        let fx = 100.0 * Double(pw) / 112, fy = 100.0 * Double(ph) / 140
        let focal = Float((Float(fx) + Float(fy)) / 2)
        XCTAssertEqual(first["is_metric"] as? Bool, true)
        XCTAssertEqual(first["focal_px"] as! Double, (fx + fy) / 2, accuracy: 1e-9)
        let metric = try NPYReader.read(URL(fileURLWithPath: path("m.npy"))).values
        XCTAssertEqual(metric, rawDepth.map { $0 * (focal / 300) })

        // EXIF: f = 28 / 36 * max(112, 140) input pixels.
        let exif = try CLIRunner.run(["depth", jpeg, "--model", model, "--output", path("e.npy"), "--metric", "--json", "--process-res", "280"])
        XCTAssertEqual(exif.status, 0, exif.stderr)
        let e = ((try JSONSerialization.jsonObject(with: Data(exif.stdout.utf8)) as! [String: Any])["images"] as! [[String: Any]])[0]
        let f35 = 28.0 / 36 * 140
        XCTAssertEqual(e["focal_px"] as! Double, (f35 * Double(pw) / 112 + f35 * Double(ph) / 140) / 2, accuracy: 1e-9)

        // No focal length anywhere: refused, nothing written.
        let png = try writeImage()
        let refused = try CLIRunner.run(["depth", png.path, "--model", model, "--output", path("x.npy"), "--metric", "--process-res", "140"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--metric needs the focal length"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x.npy")))

        // A relative-depth model is refused.
        let relative = try CLIRunner.run(["depth", jpeg, "--model", Fixtures.url("family/tiny-dpt").path,
                                          "--output", path("y.npy"), "--metric", "--focal-px", "100", "--process-res", "140"])
        XCTAssertNotEqual(relative.status, 0)
        XCTAssertTrue(relative.stderr.contains("predicts relative depth"), relative.stderr)
    }

    /// The nested model's output is metric as official, and says so.
    func testNestedOutputIsMetric() throws {
        let image = try writeImage()
        let r = try CLIRunner.run(["depth", image.path, "--model", Fixtures.url("family/tiny-nested").path,
                                   "--output-dir", path("out"), "--formats", "npz,sky", "--json", "--process-res", "140"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let first = ((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["images"] as! [[String: Any]])[0]
        XCTAssertEqual(first["is_metric"] as? Bool, true)
        XCTAssertNotNil(first["scale_factor"] as? Double)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("out/synthetic.sky.npy")))
    }
}
