import XCTest
import DA3Image
@testable import DepthIO

/// Sky pixels in the writers: dropped from vis (black), ply and glb unless `keepSky`; a point cloud
/// refused without a focal length; npz records sky, is_metric and focal_px.
final class SkyExportTests: XCTestCase {
    private func frame(fx: Double = 10) -> DepthResult {
        let (w, h) = (4, 3)
        var r = DepthResult(width: w, height: h, depth: (0..<12).map { 1 + Float($0) }, confidence: .init(repeating: 1, count: 12),
                            intrinsics: Intrinsics(fx: fx, fy: fx, cx: 2, cy: 1.5, width: w, height: h),
                            image: RGBImage(width: w, height: h, pixels: .init(repeating: 200, count: 36)))
        r.sky = (0..<12).map { $0 < 4 ? 0.9 : 0.1 }  // the top row is sky
        return r
    }

    func testPointCloudDropsSkyUnlessKept() {
        let f = frame()
        XCTAssertEqual(PointCloud.unproject(f, confThreshPercentile: 0).count, 8)
        XCTAssertEqual(PointCloud.unproject(f, confThreshPercentile: 0, keepSky: true).count, 12)
    }

    func testVisPaintsSkyBlack() {
        let f = frame()
        let vis = DepthVisualizer.render(f.depth, width: 4, height: 3, masked: f.sky!.map { $0 >= DepthResult.skyThreshold })
        XCTAssertEqual(Array(vis.pixels[0..<12]), .init(repeating: 0, count: 12))
        XCTAssertNotEqual(Array(vis.pixels[12..<15]), [0, 0, 0])
    }

    func testPointCloudNeedsAFocalLength() {
        XCTAssertThrowsError(try DepthExporter.encode(frame(fx: 0), as: .ply)) { error in
            XCTAssertTrue("\(error)".contains("focal length"), "\(error)")
        }
    }

    func testSkyFormatRefusedWithoutSkyHead() {
        var f = frame()
        f.sky = nil
        XCTAssertThrowsError(try DepthExporter.encode(f, as: .sky)) { error in
            XCTAssertTrue("\(error)".contains("no sky head"), "\(error)")
        }
    }

    func testNPZRecordsSkyMetricAndFocal() throws {
        var f = frame()
        f.depthKind = .metres
        f.focalPx = 123.5
        let npz = try DepthExporter.encode(f, as: .npz)
        for name in ["sky.npy", "is_metric.npy", "focal_px.npy"] {
            XCTAssertNotNil(npz.range(of: Data(name.utf8)), name)
        }
    }
}
