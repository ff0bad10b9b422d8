import Foundation
import XCTest
import DA3TestSupport
import DepthAnything3

/// `da3 depth` end to end on the tiny test checkpoint (same topology as DA3-Small).
final class DepthCommandTests: TemporaryDirectoryTestCase {
    let tinyModel = Fixtures.url("tiny").path

    /// A real photo from ../shared/images.
    func inputImage() throws -> String {
        let demo = Fixtures.sharedImages.appendingPathComponent("demo01.jpg")
        guard FileManager.default.fileExists(atPath: demo.path) else { throw XCTSkip("../shared/images is absent") }
        return demo.path
    }

    func testWritesDepthConfidenceAndIntrinsics() throws {
        let image = try inputImage()
        let r = try CLIRunner.run(["depth", image, "--model", tinyModel, "--process-res", "140",
                                   "--output", path("d.npy"), "--confidence", path("c.npy"), "--intrinsics", path("k.json")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try leftovers(), ["c.npy", "d.npy", "k.json"])

        let decoded = try ImageDecoder.decode(fileAt: URL(fileURLWithPath: image))
        let size = try Preprocessor(processRes: 140).outputSize(width: decoded.width, height: decoded.height)
        for name in ["d.npy", "c.npy"] {
            let (shape, values) = try NPYReader.read(URL(fileURLWithPath: path(name)))
            XCTAssertEqual(shape, [size.height, size.width], name)
            XCTAssertTrue(values.allSatisfy { $0.isFinite && $0 > 0 }, name)
        }
        // The CLI's depth equals the library's.
        let estimator = try DepthEstimator(modelPath: tinyModel)
        let result = try estimator.estimate(decoded, options: EstimationOptions(processRes: 140))
        XCTAssertEqual(try NPYReader.read(URL(fileURLWithPath: path("d.npy"))).values, result.depth)

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("k.json")))) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["fx", "fy", "cx", "cy", "width", "height"])
        XCTAssertEqual(json["width"] as? Int, size.width)
        XCTAssertEqual(json["height"] as? Int, size.height)
        XCTAssertEqual((json["fx"] as? Double) ?? 0, result.intrinsics.fx, accuracy: 1e-9)
    }

    func testFastPrecisionIsCloseToExact() throws {
        try XCTSkipUnless(Precision.fastAvailable, "this CPU has no AVX512-BF16")
        let image = try inputImage()
        for precision in ["exact", "bf16"] {  // bf16: the fast kernels without the measured choice
            let r = try CLIRunner.run(["depth", image, "--model", tinyModel, "--process-res", "140",
                                       "--precision", precision, "--output", path("\(precision).npy")])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let exact = try NPYReader.read(URL(fileURLWithPath: path("exact.npy"))).values
        let fast = try NPYReader.read(URL(fileURLWithPath: path("bf16.npy"))).values
        XCTAssertNotEqual(exact, fast)
        let correlation = Metrics.pearson(fast, exact)
        print("tiny model, fast vs exact depth correlation \(correlation)")
        XCTAssertGreaterThan(correlation, 0.9999)
    }

    func testWeightCacheOptionAndEnvironment() throws {
        let image = try inputImage()
        let cacheDir = tempDir.appendingPathComponent("cache")
        let options = ["depth", image, "--model", tinyModel, "--process-res", "140", "--json"]
        var outputs: [[Float]] = []
        for (index, (extra, environment)) in [
            (["--weight-cache", cacheDir.path], [:]),                    // writes the file
            (["--weight-cache", cacheDir.path], [:]),                    // maps it
            ([], ["DA3_WEIGHT_CACHE": cacheDir.path]),                  // same directory from the environment
            (["--weight-cache", "off"], ["DA3_WEIGHT_CACHE": cacheDir.path]),  // the option wins
        ].enumerated() {
            let r = try CLIRunner.run(options + extra + ["--output", path("d\(index).npy")], environment: environment)
            XCTAssertEqual(r.status, 0, r.stderr)
            outputs.append(try NPYReader.read(URL(fileURLWithPath: path("d\(index).npy"))).values)
            let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            XCTAssertEqual(summary?["weight_cache"] as? String, ["written", "loaded", "loaded", "off"][index], r.stdout)
        }
        XCTAssertTrue(outputs.allSatisfy { $0 == outputs[0] })
        let files = try FileManager.default.contentsOfDirectory(atPath: cacheDir.path)
        XCTAssertEqual(files.filter { $0.hasSuffix(".da3pack") }.count, 1, "\(files)")
    }

    func testPrecisionOptionChecks() throws {
        let image = try inputImage()
        let bad = try CLIRunner.run(["depth", image, "--model", tinyModel, "--precision", "half", "--output", path("d.npy")])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("--precision: unknown precision 'half'"), bad.stderr)
        let litert = try CLIRunner.run(["depth", image, "--backend", "litert", "--model", "m.tflite", "--precision", "fast",
                                        "--output", path("d.npy")])
        XCTAssertEqual(litert.status, 1)
        XCTAssertTrue(litert.stderr.contains("--precision fast"), litert.stderr)
        XCTAssertEqual(try leftovers(), [])
    }

    func testHelpDescribesEveryOption() throws {
        let r = try CLIRunner.run(["depth", "--help"])
        XCTAssertEqual(r.status, 0)
        for option in ["--model", "--process-res", "--process-res-method", "--output", "--confidence", "--intrinsics",
                       "--precision"] {
            XCTAssertTrue(r.stdout.contains(option), option)
        }
    }
}

/// Minimal strict reader of float32 little-endian C-order .npy files (format 1.0), independent of the writer.
enum NPYReader {
    struct Failure: Error {}

    static func read(_ url: URL) throws -> (shape: [Int], values: [Float]) {
        let data = try Data(contentsOf: url)
        guard data.count >= 10, data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)), data[6] == 1, data[7] == 0 else { throw Failure() }
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        guard (10 + headerLength) % 64 == 0 else { throw Failure() }
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        guard header.contains("'descr': '<f4'"), header.contains("'fortran_order': False"), header.hasSuffix("\n"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")")
        else { throw Failure() }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let body = data[(10 + headerLength)...]
        guard body.count == shape.reduce(1, *) * 4 else { throw Failure() }
        let values = body.withUnsafeBytes { raw in
            (0..<(body.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        return (shape, values)
    }
}
