import ArgumentParser
import DA3Kernels
import DepthAnything3
import Foundation

/// `da3-bench`: times the engine on DA3-Small with the synthetic weights the peer harness
/// (tools/bench) uses, prints per-stage times, GFLOP/s against a measured GEMM peak, peak RSS, and
/// ratios against the peers' JSON when given.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "da3-bench",
        abstract: "Benchmark the Swift engine (DA3-Small, synthetic weights) and compare with peer runtimes.")

    @Option(help: "Comma-separated H x W sizes (multiples of 14).")
    var sizes: String = "504x280,280x504,896x504"

    @Option(help: "Timed runs per size (after one warm-up); the median is reported.")
    var runs: Int = 5

    @Option(help: "Engine threads (sets DA3_NUM_THREADS before any work).")
    var threads: Int = 2

    @Option(help: "Preset: da3-small or da3-base.")
    var preset: String = "da3-small"

    @Option(help: "Peer results JSON written by tools/bench/bench_peers.py (prints engine/peer ratios).")
    var peers: String?

    @Option(help: "Write the engine's results as JSON to this file.")
    var json: String?

    @Option(name: .customLong("depth-dir"), help: "Write each size's depth map (last run) as depth_HxW.npy into this directory (the harness compares it with PyTorch).")
    var depthDir: String?

    @Option(help: "Engine precision: exact (FP32, default), fast (bfloat16 products; needs AVX512-BF16), int8 (int8 linear layers; needs AVX512-VNNI too) or int8-fp32 (int8 linear layers, FP32 elsewhere; needs AVX512-VNNI).")
    var precision: String = "exact"

    @Flag(help: "Only time the individual kernels (convolutions, attention, linear layers) on DA3-Small shapes.")
    var kernels = false

    @Flag(help: "Only time the work around the network: large-image resizes (the official preprocessing) and synthetic weight generation.")
    var inputs = false

    @Flag(help: "Also print the median time up to each observer mark (every block and head stage).")
    var marks = false

    func run() throws {
        setenv("DA3_NUM_THREADS", String(threads), 1)
        AllocatorTuning.configureForEngine()  // as the da3 tool runs
        guard let config = ModelConfig.preset(named: preset) else { throw ValidationError("unknown preset \(preset)") }
        let parsedSizes = try sizes.split(separator: ",").map { item -> (Int, Int) in
            let parts = item.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] % 14 == 0, parts[1] % 14 == 0, parts[0] > 0, parts[1] > 0 else {
                throw ValidationError("bad size '\(item)': expected HxW, multiples of 14")
            }
            return (parts[0], parts[1])
        }
        if kernels {
            KernelBenchmark.run(repeats: runs)
            return
        }
        if inputs {
            InputBenchmark.run(repeats: runs)
            return
        }
        let peerResults = try peers.map { try PeerResults(path: $0) }
        guard let precisionMode = Precision(rawValue: precision) else {
            throw ValidationError("unknown precision '\(precision)': expected exact, fast, int8 or int8-fp32")
        }

        var clock = Stopwatch()
        let network = try DepthAnything3Network(config: config, weights: SyntheticWeightSource(), precision: precisionMode)
        let loadSeconds = clock.lap()
        var peak = GEMMPeak.measure()
        print("machine: \(MachineInfo.cpuModel), \(ProcessInfo.processInfo.activeProcessorCount) cores; engine threads \(Parallel.threadCount); kernels \(KernelISA.current.name)")
        print(String(format: "engine GEMM peak (2304x1536x384 sgemm, best of 5): %.1f GFLOP/s; weights generated in %.2f s",
                     peak, loadSeconds))
        let cpu = CPUInfo.current
        var report: [String: Any] = ["threads": threads, "gemm_peak_gflops": peak, "preset": config.name,
                                      "precision": precisionMode.rawValue,
                                      "cpu": ["model_name": cpu.modelName, "family": cpu.family ?? -1, "model": cpu.model ?? -1,
                                              "vector_flags": cpu.vectorFlags] as [String: Any],
                                      "kernels": ["gemm_f32_avx512": GEMMF32.available, "bf16": Precision.fastAvailable,
                                                  "int8_vnni": GEMMI8.available, "isa": KernelISA.current.name] as [String: Any]]
        var sizeReports: [String: Any] = [:]
        var rates: [(String, Double)] = []
        for (h, w) in parsedSizes {
            let result = SizeBenchmark(network: network, height: h, width: w, runs: runs).run()
            let flops = FLOPCount(config: config, height: h, width: w)
            let key = "\(h)x\(w)"
            print("")
            print("== \(config.name) \(h) x \(w) (H x W), \(precisionMode) precision, \(runs) runs after warm-up ==")
            result.printStages()
            if marks { result.printMarks() }
            let gflops = Double(flops.total) / result.forwardMedian / 1e9
            print(String(format: "forward median %.3f s (min %.3f s); %.1f GFLOP -> %.1f GFLOP/s",
                         result.forwardMedian, result.forwardMin, Double(flops.total) / 1e9, gflops))
            rates.append((key, gflops))
            if let peer = peerResults?.sizes[key] {
                for (name, median) in peer.sorted(by: { $0.key < $1.key }) {
                    print("  vs " + name.padding(toLength: 12, withPad: " ", startingAt: 0)
                          + String(format: "%.3f s  ratio engine/peer %.2f", median, result.forwardMedian / median))
                }
            }
            if let depthDir {
                try AtomicFile.write(NPY.encode(result.depth, shape: [h, w]),
                                   to: URL(fileURLWithPath: depthDir).appendingPathComponent("depth_\(key).npy"))
            }
            sizeReports[key] = ["forward_median_s": result.forwardMedian, "forward_min_s": result.forwardMin,
                                "forward_runs_s": result.forwardRuns,
                                "flops": flops.total, "stages_median_s": result.stageMedians,
                                "gflops": gflops] as [String: Any]
        }
        // Measured again at the end (best of both) so a busy moment at start-up does not skew the ratio.
        peak = max(peak, GEMMPeak.measure())
        print(String(format: "\nengine GEMM peak, best of start and end: %.1f GFLOP/s", peak))
        // The reference peak: the harness's (numpy/OpenBLAS on the same machine) when given.
        let reference = peerResults?.gemmPeak ?? peak
        if let harness = peerResults?.gemmPeak { print(String(format: "harness GEMM peak: %.1f GFLOP/s", harness)) }
        for (key, gflops) in rates {
            print(String(format: "%@: %.1f GFLOP/s = %.0f%% of the GEMM peak (%.1f)", key, gflops, 100 * gflops / reference, reference))
        }
        report["gemm_peak_gflops"] = peak
        let rss = MachineInfo.peakRSSMegabytes
        print(String(format: "\npeak RSS %.0f MB", rss))
        report["sizes"] = sizeReports
        report["peak_rss_mb"] = rss
        if let json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write(data, to: URL(fileURLWithPath: json))
        }
    }
}
