import DA3Image
import DA3TestSupport
import Foundation
import XCTest
@testable import DepthIO

/// Every format written, read back by the independent readers in `Readers`, and compared with the
/// input within the format's documented precision.
final class FormatRoundTripTests: XCTestCase {
    /// A 37 x 23 frame: smooth depth in 0.5...12.4, confidence ramp, a colour pattern, some invalid depth.
    static func frame() -> DepthFrame {
        let w = 37, h = 23
        var depth = [Float](), conf = [Float](), pixels = [UInt8]()
        for y in 0..<h {
            for x in 0..<w {
                depth.append(0.5 + Float(x) * 0.3 + Float(y) * 0.04 + 0.1 * sinf(Float(x * y)))
                conf.append(1 + Float((x * 7 + y * 13) % 50) / 10)
                pixels += [UInt8(x * 6), UInt8(y * 11), UInt8((x + y) * 3)]
            }
        }
        depth[5] = 0; depth[40] = .nan
        return DepthFrame(width: w, height: h, depth: depth, confidence: conf,
                          intrinsics: Intrinsics(fx: 40.5, fy: 41.25, cx: 18.2, cy: 11.1, width: w, height: h),
                          image: RGBImage(width: w, height: h, pixels: pixels), processedWidth: 42, processedHeight: 28)
    }

    func bytes(_ format: OutputFormat, _ options: ExportOptions = .init()) throws -> [UInt8] {
        [UInt8](try DepthExporter.encode(Self.frame(), as: format, options: options))
    }

    func testNPY() throws {
        let a = try Readers.npy(try bytes(.npy))
        XCTAssertEqual(a.descr, "<f4"); XCTAssertEqual(a.shape, [23, 37])
        XCTAssertEqual(a.floats.map(\.bitPattern), Self.frame().depth.map(\.bitPattern))
    }

    func testNPZ() throws {
        let members = try Readers.zip(try bytes(.npz))
        XCTAssertEqual(Set(members.keys), ["depth.npy", "conf.npy", "intrinsics.npy", "image.npy", "processed_size.npy", "is_metric.npy"])
        let f = Self.frame()
        XCTAssertEqual(try Readers.npy(members["depth.npy"]!).floats.map(\.bitPattern), f.depth.map(\.bitPattern))
        XCTAssertEqual(try Readers.npy(members["conf.npy"]!).floats, f.confidence)
        let k = try Readers.npy(members["intrinsics.npy"]!)
        XCTAssertEqual(k.shape, [3, 3]); XCTAssertEqual(k.floats, [40.5, 0, Float(18.2), 0, 41.25, Float(11.1), 0, 0, 1])
        let img = try Readers.npy(members["image.npy"]!)
        XCTAssertEqual(img.descr, "|u1"); XCTAssertEqual(img.shape, [23, 37, 3]); XCTAssertEqual(img.data, f.image.pixels)
        XCTAssertEqual(try Readers.npy(members["processed_size.npy"]!).int64s, [28, 42])
        try numpyCheck(members: members)
    }

    /// When numpy is installed, `numpy.load` reads the archive too (skipped otherwise).
    func numpyCheck(members: [String: [UInt8]]) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rt-\(UUID().uuidString).npz")
        try Data(try bytes(.npz)).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import sys, numpy as np
            z = np.load(sys.argv[1])
            assert z['depth'].shape == (23, 37) and z['depth'].dtype == np.float32
            assert z['image'].shape == (23, 37, 3) and z['image'].dtype == np.uint8
            assert list(z['processed_size']) == [28, 42]
            print('%.6f' % float(np.nansum(z['depth'])))
            """, url.path]
        let out = Pipe(); p.standardOutput = out; p.standardError = Pipe()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return print("numpy check skipped (numpy not importable)") }
        let expected = Self.frame().depth.filter { !$0.isNaN }.reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(Double(text.trimmingCharacters(in: .whitespacesAndNewlines))!, expected, accuracy: 1e-3)
    }

    func testPNG16WithinHalfAStep() throws {
        let png = try Readers.png16(try bytes(.png16))
        XCTAssertEqual(png.width, 37); XCTAssertEqual(png.height, 23)
        let scale = Float(png.text["depth_scale"]!)!
        let f = Self.frame()
        let maxDepth = f.depth.filter(\.isFinite).max()!
        XCTAssertEqual(scale, maxDepth / 65535)
        for (i, d) in f.depth.enumerated() {
            let back = Float(png.samples[i]) * scale
            if !d.isFinite || d <= 0 { XCTAssertEqual(png.samples[i], 0); continue }
            // Half a quantization step, plus float32 rounding of the product.
            XCTAssertLessThanOrEqual(abs(back - d), scale / 2 + 2 * d.ulp, "pixel \(i)")
        }
        XCTAssertEqual(png.samples.max(), 65535)
    }

    func testPFMExact() throws {
        let pfm = try Readers.pfm(try bytes(.pfm))
        XCTAssertEqual(pfm.width, 37); XCTAssertEqual(pfm.height, 23)
        XCTAssertEqual(pfm.values.map(\.bitPattern), Self.frame().depth.map(\.bitPattern))
    }

    func testVisPNGAndSideBySide() throws {
        let vis = try ImageDecoder.decode(data: Data(try bytes(.vis)), name: "vis")
        XCTAssertEqual(vis.width, 37); XCTAssertEqual(vis.height, 23)
        // Nearest pixel (largest inverse depth) is the start of spectral (dark red), farthest the end.
        XCTAssertGreaterThan(Int(vis[0, 0].r), Int(vis[0, 0].b))
        XCTAssertGreaterThan(Int(vis[36, 22].b), Int(vis[36, 22].r))
        let sbs = try ImageDecoder.decode(data: Data(try bytes(.vis, ExportOptions(colorMap: .gray, sideBySide: true))), name: "sbs")
        XCTAssertEqual(sbs.width, 74)
        XCTAssertEqual(sbs.cropped(x: 0, y: 0, width: 37, height: 23), Self.frame().image)
        let right = sbs.cropped(x: 37, y: 0, width: 37, height: 23)
        let px = right.pixels
        let grey = (0..<(37 * 23)).allSatisfy { (i: Int) -> Bool in px[3 * i] == px[3 * i + 1] }
        XCTAssertTrue(grey, "gray map is grey")
    }

    /// Independent unprojection in Double for the points kept at percentile `p`.
    func expectedPoints(percentile p: Double) -> [(Double, Double, Double, Int)] {
        let f = Self.frame()
        let sorted = f.confidence.sorted()
        let pos = p / 100 * Double(sorted.count - 1)
        let lo = Int(pos), frac = pos - Double(lo)
        let a = Double(sorted[lo]), b = Double(sorted[min(lo + 1, sorted.count - 1)])
        let thr: Double = a + (b - a) * frac
        var out: [(Double, Double, Double, Int)] = []
        for i in 0..<(f.width * f.height) {
            let d = Double(f.depth[i])
            guard d.isFinite, d > 0, Double(f.confidence[i]) >= Float(thr).doubleValue else { continue }
            let u = Double(i % f.width), v = Double(i / f.width)
            let x: Double = (u - 18.2) / 40.5 * d
            let y: Double = (v - 11.1) / 41.25 * d
            out.append((x, y, d, i))
        }
        return out
    }

    func testPLYUnprojectsWithIntrinsicsAndDropsLowConfidence() throws {
        let ply = try Readers.ply(try bytes(.ply, ExportOptions(confThreshPercentile: 30)))
        let expected = expectedPoints(percentile: 30)
        XCTAssertEqual(ply.positions.count, expected.count * 3)
        XCTAssertLessThan(expected.count, 37 * 23 - 2)
        let img = Self.frame().image.pixels
        for (j, e) in expected.enumerated() {
            XCTAssertEqual(Double(ply.positions[3 * j]), e.0, accuracy: 1e-5)
            XCTAssertEqual(Double(ply.positions[3 * j + 1]), e.1, accuracy: 1e-5)
            XCTAssertEqual(Double(ply.positions[3 * j + 2]), e.2, accuracy: 1e-6)
            XCTAssertEqual(Array(ply.colors[(3 * j)..<(3 * j + 3)]), Array(img[(3 * e.3)..<(3 * e.3 + 3)]))
        }
        let all = try Readers.ply(try bytes(.ply, ExportOptions(confThreshPercentile: 0)))
        XCTAssertEqual(all.positions.count / 3, 37 * 23 - 2)
        let capped = try Readers.ply(try bytes(.ply, ExportOptions(confThreshPercentile: 0, maxPoints: 100)))
        XCTAssertEqual(capped.positions.count / 3, 100)
    }

    func testGLBPointsInGLTFAxes() throws {
        let glb = try Readers.glb(try bytes(.glb, ExportOptions(confThreshPercentile: 30)))
        let expected = expectedPoints(percentile: 30)
        XCTAssertEqual(glb.positions.count, expected.count * 3)
        for (j, e) in expected.enumerated() {
            XCTAssertEqual(Double(glb.positions[3 * j]), e.0, accuracy: 1e-5)
            XCTAssertEqual(Double(glb.positions[3 * j + 1]), -e.1, accuracy: 1e-5)
            XCTAssertEqual(Double(glb.positions[3 * j + 2]), -e.2, accuracy: 1e-6)
        }
        let capped = try Readers.glb(try bytes(.glb, ExportOptions(maxPoints: 7)))
        XCTAssertEqual(capped.positions.count, 21)
    }

    func testFormatListParsing() throws {
        XCTAssertEqual(try OutputFormat.parseList("npy, VIS,npy,glb"), [.npy, .vis, .glb])
        XCTAssertThrowsError(try OutputFormat.parseList("npy,jpg")) { XCTAssertTrue("\($0)".contains("jpg")) }
    }
}

extension Float { var doubleValue: Double { Double(self) } }
