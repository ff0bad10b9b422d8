import Foundation
import XCTest

@testable import DA3Image

/// Prints how long large resizes take (meaningful in release builds: `swift test -c release`).
final class ResizeTimingTests: XCTestCase {
    static func photo(_ w: Int, _ h: Int) -> RGBImage {
        var px = [UInt8](repeating: 0, count: w * h * 3)
        var s: UInt32 = 12345
        for i in 0..<px.count {
            s = s &* 1_664_525 &+ 1_013_904_223
            px[i] = UInt8(truncatingIfNeeded: (i % (w * 3)) / 12 + Int(s >> 29))
        }
        return RGBImage(width: w, height: h, pixels: px)
    }

    func time(_ label: String, _ body: () -> RGBImage) -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let out = body()
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            XCTAssertGreaterThan(out.width, 0)
            best = min(best, ms)
        }
        print(String(format: "[timing] %@: %.1f ms (best of 3)", label, best))
        return best
    }

    func testLargeResizeTiming() {
        let big = Self.photo(4032, 3024)
        let fast = time("INTER_AREA 4032x3024 -> 504x378 (integer factor)") {
            OpenCVResize.resize(big, width: 504, height: 378, interpolation: .area)
        }
        let general = time("INTER_AREA 4032x3024 -> 504x377 (fractional)") {
            OpenCVResize.resize(big, width: 504, height: 377, interpolation: .area)
        }
        let mid = Self.photo(640, 425)
        _ = time("INTER_CUBIC 640x425 -> 896x595") {
            OpenCVResize.resize(mid, width: 896, height: 595, interpolation: .cubic)
        }
        _ = time("INTER_AREA enlarge 640x425 -> 896x595") {
            OpenCVResize.resize(mid, width: 896, height: 595, interpolation: .area)
        }
        // Generous bound so that debug builds pass too; release numbers are far lower.
        XCTAssertLessThan(fast, 2000)
        XCTAssertLessThan(general, 2000)
    }
}
