import DA3Kernels
import Foundation

/// Facts about the machine printed with every benchmark.
enum MachineInfo {
    static var cpuModel: String { CPUInfo.current.summary }

    /// Peak resident set size of this process.
    static var peakRSSMegabytes: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
    }
}

/// The practical FP32 GEMM rate of the engine's own GEMM path on an MLP-shaped product.
enum GEMMPeak {
    static func measure(m: Int = 2304, n: Int = 1536, k: Int = 384, repeats: Int = 5) -> Double {
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        GEMM.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n,
                                   c: cp.baseAddress!, ldc: n)
                    }
                }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * Double(m * n * k) / best / 1e9
    }
}

/// Medians per size and runtime from tools/bench/bench_peers.py's JSON.
struct PeerResults {
    /// "HxW" → runtime name → median seconds.
    let sizes: [String: [String: Double]]
    /// The harness's practical FP32 GEMM peak on the same machine.
    let gemmPeak: Double?

    init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let sizes = root["sizes"] as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
        }
        var parsed: [String: [String: Double]] = [:]
        for (size, value) in sizes {
            guard let runtimes = value as? [String: Any] else { continue }
            for (name, entry) in runtimes {
                if let entry = entry as? [String: Any], let median = entry["median_s"] as? Double {
                    parsed[size, default: [:]][name] = median
                }
            }
        }
        self.sizes = parsed
        gemmPeak = root["gemm_peak_gflops"] as? Double
    }
}
