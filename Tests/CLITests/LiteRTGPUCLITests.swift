import XCTest
import DepthAnything3
import DA3TestSupport

/// `da3 depth --backend litert --accelerator gpu` on LiteRT's GPU accelerator (WebGPU on Vulkan).
/// The Vulkan driver is chosen the standard way: a `VK_ICD_FILENAMES` / `VK_DRIVER_FILES` the
/// caller set is kept; otherwise the machine's own drivers are tried first (a real GPU is never
/// hidden), and only where they give LiteRT no adapter is SwiftShader from `.deps/swiftshader`
/// (scripts/install-deps.sh) selected. Skips, with the reason printed, only when there is neither.
final class LiteRTGPUCLITests: TemporaryDirectoryTestCase {
    let tiny = Fixtures.url("litert/tiny32_exact_fp32_70x56.tflite").path
    let official5D = Fixtures.url("litert/tiny32_official_5d_70x56.tflite").path

    /// The environment that gives LiteRT a GPU adapter, found once per test process.
    private static let gpuEnvironment: Result<[String: String], SkipReason> = findGPU()

    struct SkipReason: Error { let text: String }

    private static func findGPU() -> Result<[String: String], SkipReason> {
        if case .failure(let error) = LiteRTRuntime.locate() {
            return .failure(SkipReason(text: "libLiteRt.so not found (pip install ai-edge-litert): \(error)"))
        }
        let model = Fixtures.url("litert/tiny32_exact_fp32_70x56.tflite").path
        func adapter(_ env: [String: String]) -> String? {
            guard let r = try? CLIRunner.run(["info", model, "--accelerator", "gpu", "--json"], environment: env),
                  r.status == 0, let j = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else { return nil }
            return j["adapter"] as? String ?? "unnamed adapter"
        }
        let process = ProcessInfo.processInfo.environment
        let chosen = process["VK_ICD_FILENAMES"] ?? process["VK_DRIVER_FILES"]
        if let name = adapter([:]) {
            print("LiteRT GPU tests: adapter \(name) (\(chosen.map { "driver chosen by the caller: \($0)" } ?? "the machine's own Vulkan drivers"))")
            return .success([:])
        }
        let swiftShader = Fixtures.repoRoot.appendingPathComponent(".deps/swiftshader/vk_swiftshader_icd.json").path
        if chosen == nil, FileManager.default.fileExists(atPath: swiftShader) {
            let env = ["VK_ICD_FILENAMES": swiftShader]
            if let name = adapter(env) {
                print("LiteRT GPU tests: adapter \(name) (no Vulkan GPU here; SwiftShader from .deps/swiftshader)")
                return .success(env)
            }
        }
        return .failure(SkipReason(text: "no Vulkan device that LiteRT's GPU accelerator accepts, and no SwiftShader in .deps/swiftshader "
                                   + "(scripts/install-deps.sh extracts it from Debian's chromium packages)"))
    }

    private func gpu() throws -> [String: String] {
        switch Self.gpuEnvironment {
        case .success(let env): return env
        case .failure(let reason):
            print("LiteRT GPU test skipped: \(reason.text)")
            throw XCTSkip(reason.text)
        }
    }

    private func json(_ r: CLIRunner.Result) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    /// The whole tiny graph on the GPU at both delegate precisions, against the CPU accelerator;
    /// LiteRT's default precision gives exactly one of the two (FP32 on SwiftShader, which has no
    /// shaderFloat16; printed).
    func testWholeGraphOnTheGPUMatchesTheCPUAccelerator() throws {
        let env = try gpu()
        let image = try writeImage()
        let cpuOut = path("cpu.npy")
        let cpu = try CLIRunner.run(["depth", image.path, "--backend", "litert", "--model", tiny, "--output", cpuOut, "--quiet"])
        XCTAssertEqual(cpu.status, 0, cpu.stderr)
        let reference = try NPYReader.read(URL(fileURLWithPath: cpuOut)).values
        var results: [String: [Float]] = [:]
        for precision in ["fp32", "fp16", "default"] {
            let out = path("gpu-\(precision).npy")
            let r = try CLIRunner.run(["depth", image.path, "--backend", "litert", "--model", tiny, "--accelerator", "gpu",
                                       "--gpu-precision", precision, "--output", out, "--json"], environment: env)
            XCTAssertEqual(r.status, 0, r.stderr)
            let litert = try XCTUnwrap(try json(r)["litert"] as? [String: Any])
            XCTAssertEqual(litert["accelerator"] as? String, "gpu")
            XCTAssertEqual(litert["fully_accelerated"] as? Bool, true)
            let adapter = try XCTUnwrap(litert["adapter"] as? String)
            let depth = try NPYReader.read(URL(fileURLWithPath: out)).values
            let corr = Metrics.pearson(depth, reference)
            print("LiteRT GPU (\(adapter)) --gpu-precision \(precision) vs CPU accelerator, tiny32 70x56: corr \(corr), "
                  + "max rel err \(Metrics.maxRelativeError(depth, reference: reference))")
            XCTAssertGreaterThanOrEqual(corr, precision == "fp32" ? 0.99999999 : 0.9999)
            results[precision] = depth
        }
        XCTAssertNotEqual(results["fp32"], results["fp16"])
        let same = ["fp32", "fp16"].filter { results[$0] == results["default"] }
        XCTAssertEqual(same.count, 1, "LiteRT's default GPU precision equals neither fp32 nor fp16 bit for bit")
        print("LiteRT's default GPU precision on this adapter: \(same.first ?? "neither")")
    }

    /// A graph exported from the official module as is (5-D tensors, BROADCAST_TO, GATHER_ND...)
    /// is refused by `--accelerator gpu` in one line naming the split and the operators, with no
    /// output file; `gpu,cpu` runs it and reports the split.
    func testModelThatIsNotGPUCleanIsRefusedWithTheOperatorsNamed() throws {
        let env = try gpu()
        let image = try writeImage()
        let out = path("d.npy")
        let r = try CLIRunner.run(["depth", image.path, "--backend", "litert", "--model", official5D, "--accelerator", "gpu",
                                   "--output", out], environment: env)
        XCTAssertEqual(r.status, 1)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("not GPU-clean"), r.stderr)
        XCTAssertTrue(r.stderr.contains("operations on the GPU"), r.stderr)
        XCTAssertTrue(r.stderr.contains("RESHAPE"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--accelerator gpu,cpu"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try leftovers(), ["synthetic.png"])

        let mixed = try CLIRunner.run(["depth", image.path, "--backend", "litert", "--model", official5D,
                                       "--accelerator", "gpu,cpu", "--output", out, "--json"], environment: env)
        XCTAssertEqual(mixed.status, 0, mixed.stderr)
        let litert = try XCTUnwrap(try json(mixed)["litert"] as? [String: Any])
        XCTAssertEqual(litert["accelerator"] as? String, "gpu,cpu")
        XCTAssertEqual(litert["fully_accelerated"] as? Bool, false)
        XCTAssertNotNil(litert["adapter"] as? String)
        XCTAssertGreaterThan(try XCTUnwrap(litert["gpu_operations"] as? Int), 0)
        XCTAssertGreaterThan(try XCTUnwrap(litert["cpu_operations"] as? Int), 0)
        print("official tiny32 export on gpu,cpu: \(litert["gpu_operations"]!) operations on the GPU, \(litert["cpu_operations"]!) on the CPU")
    }

    /// No Vulkan device at all: one line saying so (not a model problem), exit 1, no file.
    func testNoVulkanDeviceIsReportedAsSuch() throws {
        if case .failure(let error) = LiteRTRuntime.locate() { throw XCTSkip("libLiteRt.so not found: \(error)") }
        let image = try writeImage()
        let out = path("d.npy")
        let none = tempDir.appendingPathComponent("no-such-icd.json").path
        let r = try CLIRunner.run(["depth", image.path, "--backend", "litert", "--model", tiny, "--accelerator", "gpu", "--output", out],
                                  environment: ["VK_ICD_FILENAMES": none, "VK_DRIVER_FILES": none])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("error: no GPU adapter"), r.stderr)
        XCTAssertFalse(r.stderr.contains("GPU-clean"), r.stderr)
        XCTAssertEqual(try leftovers(), ["synthetic.png"])
    }
}
