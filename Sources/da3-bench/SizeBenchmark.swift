import DepthAnything3
import Foundation

/// Times preprocessing, the network stages and postprocessing for one input size.
struct SizeBenchmark {
    let network: DepthAnything3Network
    let height: Int, width: Int, runs: Int

    struct Result {
        var forwardMedian: Double, forwardMin: Double
        /// Every timed run's forward seconds.
        var forwardRuns: [Double]
        /// Depth of the last run (H x W), on the harness's synthetic input.
        var depth: [Float]
        /// Stage name → median seconds, in pipeline order.
        var stageMedians: [String: Double]
        var stageOrder: [String]
        /// Observer mark → median seconds since the previous mark, in the order the network reaches them.
        var markMedians: [(mark: String, seconds: Double)]

        func printStages() {
            for name in stageOrder {
                print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "%8.1f ms", 1000 * (stageMedians[name] ?? 0)))
            }
        }

        func printMarks() {
            for (mark, seconds) in markMedians {
                print("    " + mark.padding(toLength: 20, withPad: " ", startingAt: 0) + String(format: "%8.2f ms", 1000 * seconds))
            }
        }
    }

    /// Network stages: each observer mark closes the time since the previous mark.
    static func stage(of mark: String) -> String {
        // "depth" closes the head's fused output stage (upsampling, output_conv2, activations).
        if mark.hasPrefix("head.") || mark == "depth" || mark == "depth_conf" { return "head" }
        if mark == "pose_enc" { return "camera" }
        return "backbone"
    }

    func run() -> Result {
        // A photo-sized synthetic picture, so preprocessing does real resizing work.
        let source = RGBImage(width: width * 2 + 6, height: height * 2 + 6,
                              pixels: SyntheticImage.rgb(width: width * 2 + 6, height: height * 2 + 6))
        let input = SyntheticImage.normalized(width: width, height: height)
        let processRes = max(height, width)
        var forward: [Double] = [], stages: [String: [Double]] = [:], depth: [Float] = []
        var markOrder: [String] = [], marks: [String: [Double]] = [:]
        for iteration in 0...runs {
            var times: [String: Double] = [:], markTimes: [(String, Double)] = []
            var clock = Stopwatch()
            if let prepared = try? Preprocessor(processRes: processRes).prepare(source) { _ = prepared.tensor.count }
            times["preprocess"] = clock.lap()
            let out = network.forward(input, height: height, width: width, observer: { mark, _ in
                let seconds = clock.lap()
                times[Self.stage(of: mark), default: 0] += seconds
                markTimes.append((mark, seconds))
            }, captureFullResolution: false)
            let forwardTime = ["backbone", "head", "camera"].reduce(0) { $0 + (times[$1] ?? 0) }
            _ = clock.lap()
            _ = OutputWriters.npy(out.depth, shape: [height, width])
            depth = out.depth
            times["postprocess"] = clock.lap()
            guard iteration > 0 else { continue }  // warm-up
            forward.append(forwardTime)
            for (k, v) in times { stages[k, default: []].append(v) }
            for (mark, seconds) in markTimes {
                if marks[mark] == nil { markOrder.append(mark) }
                marks[mark, default: []].append(seconds)
            }
        }
        let order = ["preprocess", "backbone", "head", "camera", "postprocess"]
        return Result(forwardMedian: median(forward), forwardMin: forward.min() ?? 0, forwardRuns: forward, depth: depth,
                      stageMedians: stages.mapValues(median), stageOrder: order,
                      markMedians: markOrder.map { ($0, median(marks[$0] ?? [])) })
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Wall-clock laps.
struct Stopwatch {
    private var last = DispatchTime.now().uptimeNanoseconds

    /// Seconds since the previous lap (or creation).
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
