import DA3TestSupport
import Foundation
import XCTest

@testable import DA3Image

/// OpenCVResize against cv2.resize outputs written by tools/reference/make_resize_cases.py.
final class ResizeTests: XCTestCase {
    struct Case { let src: RGBImage; let dw: Int; let dh: Int; let cubic: Bool; let expected: [UInt8] }

    static func loadCases(_ url: URL) throws -> [Case] {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        guard bytes.count >= 12, Array(bytes[0..<8]) == Array("DA3RSZ01".utf8) else {
            throw ImageError(file: url.path, reason: "not a resize case file")
        }
        var pos = 8
        func u32() -> Int {
            defer { pos += 4 }
            return Int(Int32(bitPattern: UInt32(bytes[pos]) | UInt32(bytes[pos + 1]) << 8 | UInt32(bytes[pos + 2]) << 16 | UInt32(bytes[pos + 3]) << 24))
        }
        let count = u32()
        var cases: [Case] = []
        for _ in 0..<count {
            let sw = u32(), sh = u32(), dw = u32(), dh = u32(), interp = u32()
            let src = Array(bytes[pos..<(pos + sw * sh * 3)]); pos += sw * sh * 3
            let dst = Array(bytes[pos..<(pos + dw * dh * 3)]); pos += dw * dh * 3
            cases.append(Case(src: RGBImage(width: sw, height: sh, pixels: src), dw: dw, dh: dh, cubic: interp == 1, expected: dst))
        }
        return cases
    }

    /// Which OpenCV code path a case exercises.
    static func category(_ c: Case) -> String {
        let sw = c.src.width, sh = c.src.height
        if c.cubic { return sw >= 4 && sh >= 4 ? "cubic/ipp" : "cubic/opencv" }
        let sx = 1.0 / (Double(c.dw) / Double(sw)), sy = 1.0 / (Double(c.dh) / Double(sh))
        if sx >= 1 && sy >= 1 {
            let fast = abs(sx - sx.rounded()) < Double.ulpOfOne && abs(sy - sy.rounded()) < Double.ulpOfOne
            return fast ? "area/fast" : "area/general"
        }
        return "area/enlarge"
    }

    /// Runs all cases; returns per-category (exact, total, maxDiff).
    static func run(_ cases: [Case]) -> [String: (exact: Int, total: Int, maxDiff: Int)] {
        var stats: [String: (exact: Int, total: Int, maxDiff: Int)] = [:]
        for c in cases {
            let out = OpenCVResize.resize(c.src, width: c.dw, height: c.dh, interpolation: c.cubic ? .cubic : .area)
            precondition(out.width == c.dw && out.height == c.dh)
            var exact = 0, maxDiff = 0
            for i in 0..<c.expected.count {
                let d = abs(Int(out.pixels[i]) - Int(c.expected[i]))
                if d == 0 { exact += 1 }
                maxDiff = max(maxDiff, d)
            }
            let k = category(c)
            let s = stats[k] ?? (0, 0, 0)
            stats[k] = (s.exact + exact, s.total + c.expected.count, max(s.maxDiff, maxDiff))
        }
        return stats
    }

    func check(_ stats: [String: (exact: Int, total: Int, maxDiff: Int)], label: String) {
        for (k, s) in stats.sorted(by: { $0.key < $1.key }) {
            let frac = Double(s.exact) / Double(max(1, s.total))
            print(String(format: "[resize %@] %@: exact %.6f of %d elements, max diff %d", label, k, frac, s.total, s.maxDiff))
            XCTAssertLessThanOrEqual(s.maxDiff, 1, "\(k): more than one grey level off")
            XCTAssertGreaterThanOrEqual(frac, 0.999, "\(k): fewer than 99.9% exact")
            if k.hasPrefix("area") { XCTAssertEqual(s.exact, s.total, "\(k): INTER_AREA should be bit-exact") }
        }
    }

    func testCommittedCV2Cases() throws {
        let cases = try Self.loadCases(Fixtures.url("resize/cv2_small.bin"))
        XCTAssertGreaterThan(cases.count, 50)
        check(Self.run(cases), label: "committed")
    }

    /// Large fuzz corpus from `make_resize_cases.py`; set DA3_RESIZE_FUZZ_FILE to run it.
    func testFuzzCorpusFromEnvironment() throws {
        guard let path = ProcessInfo.processInfo.environment["DA3_RESIZE_FUZZ_FILE"] else {
            throw XCTSkip("DA3_RESIZE_FUZZ_FILE not set (generate with tools/reference/make_resize_cases.py)")
        }
        check(Self.run(try Self.loadCases(URL(fileURLWithPath: path))), label: "fuzz")
    }

    func testSameSizeIsIdentity() {
        let img = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0 * 13) })
        XCTAssertEqual(OpenCVResize.resize(img, width: 3, height: 2, interpolation: .cubic), img)
        XCTAssertEqual(OpenCVResize.resize(img, width: 3, height: 2, interpolation: .area), img)
    }

    /// Integer-factor INTER_AREA against a plainly written box average.
    func testAreaIntegerFactorMatchesNaiveBoxAverage() {
        let sw = 12, sh = 9, fx = 3, fy = 3
        var px = [UInt8](repeating: 0, count: sw * sh * 3)
        for i in 0..<px.count { px[i] = UInt8((i * 37 + i / 7) % 256) }
        let img = RGBImage(width: sw, height: sh, pixels: px)
        let out = OpenCVResize.resize(img, width: sw / fx, height: sh / fy, interpolation: .area)
        for y in 0..<(sh / fy) {
            for x in 0..<(sw / fx) {
                for c in 0..<3 {
                    var sum = 0
                    for yy in 0..<fy { for xx in 0..<fx { sum += Int(px[((y * fy + yy) * sw + x * fx + xx) * 3 + c]) } }
                    let expected = (Double(sum) / 9).rounded(.toNearestOrEven)
                    XCTAssertEqual(Double(out.pixels[(y * (sw / fx) + x) * 3 + c]), expected, accuracy: 1)
                }
            }
        }
        // 2x2 rounds half up: (sum + 2) >> 2.
        let two = RGBImage(width: 2, height: 2, pixels: [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1])
        XCTAssertEqual(OpenCVResize.resize(two, width: 1, height: 1, interpolation: .area).pixels, [1, 1, 1])
    }

    /// Bicubic of a constant image is that constant; of a horizontal ramp stays monotone.
    func testCubicOnSimpleImages() {
        let flat = RGBImage(width: 5, height: 4, pixels: [UInt8](repeating: 77, count: 60))
        XCTAssertEqual(Set(OpenCVResize.resize(flat, width: 13, height: 9, interpolation: .cubic).pixels), [77])
        var ramp = [UInt8]()
        for _ in 0..<6 { for x in 0..<8 { ramp += [UInt8(x * 30), UInt8(x * 30), UInt8(x * 30)] } }
        let up = OpenCVResize.resize(RGBImage(width: 8, height: 6, pixels: ramp), width: 20, height: 6, interpolation: .cubic)
        XCTAssertEqual(up.pixels[0], 0)
        for y in 1..<6 { XCTAssertEqual(Array(up.pixels[(y * 60)..<(y * 60 + 60)]), Array(up.pixels[0..<60])) }
    }
}
