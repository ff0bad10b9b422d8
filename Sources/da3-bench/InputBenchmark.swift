import DA3Weights
import DepthAnything3
import Foundation

/// Times the work around the network (`--inputs`): OpenCV-exact resizes of large photos (the
/// official preprocessing) and the generation of synthetic weights the benchmarks and tests use.
/// These were timing assertions in the unit tests; timings belong here.
enum InputBenchmark {
    static func run(repeats: Int) {
        print("input timings (best of \(repeats)):")
        let big = photo(4032, 3024), mid = photo(640, 425)
        let cases: [(String, RGBImage, Int, Int, Interpolation)] = [
            ("INTER_AREA 4032x3024 -> 504x378 (integer factor)", big, 504, 378, .area),
            ("INTER_AREA 4032x3024 -> 504x377 (fractional)", big, 504, 377, .area),
            ("INTER_CUBIC 640x425 -> 896x595", mid, 896, 595, .cubic),
            ("INTER_AREA enlarge 640x425 -> 896x595", mid, 896, 595, .area),
        ]
        for (label, image, w, h, interpolation) in cases {
            let seconds = KernelBenchmark.best(repeats) { _ = OpenCVResize.resize(image, width: w, height: h, interpolation: interpolation) }
            report(label, seconds)
        }
        let seconds = KernelBenchmark.best(repeats) {
            for i in 0..<8 {
                _ = SyntheticWeights.values(key: "model.backbone.pretrained.blocks.\(i).mlp.fc1.weight", shape: [1536, 768])
            }
        }
        report("synthetic weights, 8 x 1536 x 768 values", seconds)
    }

    private static func report(_ label: String, _ seconds: Double) {
        print("  " + label.padding(toLength: 52, withPad: " ", startingAt: 0) + String(format: " %8.1f ms", seconds * 1e3))
    }

    /// A deterministic photo-like test image.
    private static func photo(_ w: Int, _ h: Int) -> RGBImage {
        var px = [UInt8](repeating: 0, count: w * h * 3)
        var s: UInt32 = 12345
        for i in 0..<px.count {
            s = s &* 1_664_525 &+ 1_013_904_223
            px[i] = UInt8(truncatingIfNeeded: (i % (w * 3)) / 12 + Int(s >> 29))
        }
        return RGBImage(width: w, height: h, pixels: px)
    }
}
