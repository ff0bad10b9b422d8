import Foundation
import XCTest
import DA3TestSupport
import DepthAnything3

/// `--precision fast` picks its kernels by what the CPU offers and a short measurement, and falls
/// back to the exact kernels, saying so, where none is usable (issue 17, point 4).
final class FastKernelChoiceCLITests: TemporaryDirectoryTestCase {
    let tinyModel = Fixtures.url("tiny").path

    private func run(_ precision: String, _ extra: [String] = [], environment: [String: String] = [:],
                     output: String) throws -> (CLIRunner.Result, [String: Any]?) {
        let image = try writeImage()
        let r = try CLIRunner.run(["depth", image.path, "--model", tinyModel, "--precision", precision,
                                   "--output", path(output), "--json"] + extra, environment: environment)
        let summary = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return (r, summary?["precision"] as? [String: Any])
    }

    /// A CPU without a usable fast kernel (simulated): fast runs, bit for bit as exact, and says so.
    func testFastFallsBackToExactAndSaysSo() throws {
        let (exact, exactChoice) = try run("exact", output: "exact.npy")
        XCTAssertEqual(exact.status, 0, exact.stderr)
        XCTAssertEqual(exactChoice?["used"] as? String, "exact")
        let (fast, choice) = try run("fast", environment: ["DA3_FAST_KERNELS": "none"], output: "fast.npy")
        XCTAssertEqual(fast.status, 0, fast.stderr)
        XCTAssertTrue(fast.stderr.contains("note: precision fast: DA3_FAST_KERNELS=none"), fast.stderr)
        XCTAssertEqual(choice?["requested"] as? String, "fast")
        XCTAssertEqual(choice?["used"] as? String, "exact")
        XCTAssertEqual(choice?["kernels"] as? String, "none")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("fast.npy"))),
                       try Data(contentsOf: URL(fileURLWithPath: path("exact.npy"))))
        // Asking for a missing kernel by name is refused, without output.
        for named in ["bf16", "int8", "int8-fp32"] {
            let (r, _) = try run(named, environment: ["DA3_FAST_KERNELS": "none"], output: "\(named).npy")
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains("--precision \(named) needs a CPU with"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("\(named).npy")))
        }
    }

    /// `DA3_ISA` lowers the kernels' instruction-set level: whole runs on the AVX2 and the portable
    /// kernels give the best level's depth to FP32 rounding and report their level, and `fast`
    /// falls back to exact below AVX-512, saying so.
    func testLowerInstructionSetLevelsAgree() throws {
        let best = KernelISA.current
        var depths: [KernelISA: [Float]] = [:]
        for level in KernelISA.allCases where level <= best {
            let (r, choice) = try run("exact", environment: ["DA3_ISA": level.name], output: "\(level.name).npy")
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(choice?["kernel_isa"] as? String, level.name, r.stdout)
            depths[level] = try NPYReader.read(URL(fileURLWithPath: path("\(level.name).npy"))).values
        }
        let reference = try XCTUnwrap(depths[best])
        let scale = reference.map(abs).max() ?? 1
        for (level, depth) in depths where level != best {
            let worst = zip(depth, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(worst / scale, 1e-5, "depth at \(level.name) against \(best.name)")
        }
        guard best == .avx512 else { return }
        let (fast, choice) = try run("fast", environment: ["DA3_ISA": "avx2"], output: "fast-avx2.npy")
        XCTAssertEqual(fast.status, 0, fast.stderr)
        XCTAssertEqual(choice?["used"] as? String, "exact", fast.stdout)
        XCTAssertTrue(fast.stderr.contains("note: precision fast:"), fast.stderr)
    }

    /// The measured choice is reported with its rates and kept next to the weight cache.
    func testMeasuredChoiceIsReportedAndCached() throws {
        try XCTSkipUnless(Precision.fastAvailable, "this CPU has no AVX512-BF16: nothing to measure")
        let cache = tempDir.appendingPathComponent("cache")
        var measured: [[String: Double]] = []
        for index in 0..<2 {
            let (r, choice) = try run("fast", ["--weight-cache", cache.path], output: "d\(index).npy")
            XCTAssertEqual(r.status, 0, r.stderr)
            let rates = try XCTUnwrap(choice?["measured_gflops"] as? [String: Double], r.stdout)
            XCTAssertGreaterThan(rates["f32"] ?? 0, 0)
            XCTAssertGreaterThan(rates["bf16"] ?? 0, 0)
            let kernels = FastKernelMeasurement(f32GFLOPs: rates["f32"] ?? 0, bf16GFLOPs: rates["bf16"] ?? 0,
                                                int8GFLOPs: rates["int8"]).choice
            XCTAssertEqual(choice?["kernels"] as? String, kernels.rawValue, r.stdout)
            XCTAssertEqual(choice?["used"] as? String, ["bf16": "fast", "int8": "int8", "none": "exact"][kernels.rawValue], r.stdout)
            measured.append(rates)
        }
        XCTAssertEqual(measured[0], measured[1], "the second run reads the first run's measurement")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache.appendingPathComponent("fast-kernels.json").path))
    }

    /// `--precision int8` runs, close to exact, and its packed int8 weights come back from the
    /// weight cache bit for bit.
    /// Both int8 modes (bfloat16 or FP32 attention and convolutions) run, are cached, and stay close to exact.
    func testInt8ModesRunAndAreCached() throws {
        let (exact, _) = try run("exact", output: "exact.npy")
        XCTAssertEqual(exact.status, 0, exact.stderr)
        let reference = try NPYReader.read(URL(fileURLWithPath: path("exact.npy"))).values
        var modes: [[Float]] = []
        for (mode, available) in [("int8", Precision.int8Available), ("int8-fp32", Precision.int8FP32Available)] where available {
            let cache = tempDir.appendingPathComponent("cache-\(mode)")
            var outputs: [[Float]] = []
            for (index, expectedCache) in ["written", "loaded"].enumerated() {
                let (r, choice) = try run(mode, ["--weight-cache", cache.path], output: "\(mode)-\(index).npy")
                XCTAssertEqual(r.status, 0, r.stderr)
                XCTAssertEqual(choice?["used"] as? String, mode)
                let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                XCTAssertEqual(summary?["weight_cache"] as? String, expectedCache)
                outputs.append(try NPYReader.read(URL(fileURLWithPath: path("\(mode)-\(index).npy"))).values)
            }
            XCTAssertEqual(outputs[0], outputs[1], mode)
            XCTAssertNotEqual(outputs[0], reference, mode)
            XCTAssertGreaterThan(Metrics.pearson(outputs[0], reference), 0.999, mode)
            modes.append(outputs[0])
        }
        if modes.count == 2 { XCTAssertNotEqual(modes[0], modes[1], "int8-fp32 runs attention and convolutions in FP32") }
        // Forcing int8-fp32 under `fast` reports it.
        guard Precision.int8FP32Available else { return }
        let (forced, choice) = try run("fast", environment: ["DA3_FAST_KERNELS": "int8-fp32"], output: "forced.npy")
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(choice?["kernels"] as? String, "int8-fp32")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("forced.npy"))),
                       try Data(contentsOf: URL(fileURLWithPath: path("int8-fp32-0.npy"))))
    }

    func testBadOverrideAndBF16OnVulkanAreRefused() throws {
        let (bad, _) = try run("fast", environment: ["DA3_FAST_KERNELS": "int4"], output: "d.npy")
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("DA3_FAST_KERNELS='int4'"), bad.stderr)
        for named in ["bf16", "int8", "int8-fp32"] {
            let (vulkan, _) = try run(named, ["--device", "vulkan"], output: "v.npy")
            XCTAssertEqual(vulkan.status, 1)
            XCTAssertTrue(vulkan.stderr.contains("--precision \(named) is a CPU mode"), vulkan.stderr)
        }
        XCTAssertEqual(try leftovers(), ["synthetic.png"])
    }
}
