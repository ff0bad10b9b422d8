import DA3Kernels
import DA3Model
import DA3Vulkan
import DA3Weights
import Foundation

/// `da3-vulkan-bench --model [H W] [rounds]`: DA3-Small (synthetic weights) exact and fast on one
/// Vulkan device, in interleaved rounds of the same process (the first pass of each records and is
/// not counted), so the fast/exact ratio is measured under the same load.
func modelBenchmark(_ args: [String]) throws {
    let index = ProcessInfo.processInfo.environment["DA3_BENCH_VULKAN_DEVICE"].flatMap(Int.init)
    let height = args.count >= 2 ? Int(args[0]) ?? 504 : 504, width = args.count >= 2 ? Int(args[1]) ?? 280 : 280
    let rounds = args.count >= 3 ? Int(args[2]) ?? 2 : 2
    var nets: [(String, DepthAnything3Net<VulkanBackend>)] = []
    for precision in [Precision.exact, .fast] {
        let backend = try VulkanBackend(deviceIndex: index, precision: precision)
        nets.append((precision.rawValue, try DepthAnything3Net(config: .small, backend: backend, weights: SyntheticWeightSource())))
    }
    say("device: \(nets[0].1.backend.label); DA3-Small \(height)x\(width), \(rounds) rounds after a recording pass each")
    let image = (0..<(3 * height * width)).map { Float(($0 * 7919) % 1000) / 500 - 1 }
    var times: [String: [Double]] = [:], ratios: [Double] = []
    for round in 0...rounds {
        // Alternate which precision goes first, so a load change hits both alike.
        for (name, net) in round % 2 == 0 ? nets : nets.reversed() {
            let start = Date()
            _ = net.forward(image, height: height, width: width)
            let seconds = Date().timeIntervalSince(start)
            if let failure = net.backend.takeFailure() { throw failure }
            say(String(format: "round %d %@: %.2f s%@", round, name as NSString, seconds, round == 0 ? " (records)" : ""))
            if round > 0 { times[name, default: []].append(seconds) }
        }
        if round > 0, let e = times["exact"]?.last, let f = times["fast"]?.last { ratios.append(f / e) }
    }
    let exact = middle(times["exact"] ?? [0]), fast = middle(times["fast"] ?? [0])
    say(String(format: "median per image: exact %.2f s, fast %.2f s; median of the rounds' fast/exact %.3f (%@)", exact, fast,
                 middle(ratios), ratios.map { String(format: "%.3f", $0) }.joined(separator: " ") as NSString))
}

/// The median (the mean of the two middle values for an even count).
func middle(_ xs: [Double]) -> Double {
    let s = xs.sorted(), n = s.count
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

/// Writes a line at once (passes take minutes on lavapipe; print's buffer would hold them when
/// stdout is a file).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
