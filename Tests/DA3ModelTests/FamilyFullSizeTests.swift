import XCTest
import DA3Kernels
import DA3Model
import DA3TestSupport
import Foundation
import SafeTensors

/// Acceptance 1 of issue 16: full-size DA3METRIC-LARGE and DA3MONO-LARGE (synthetic F32 weights)
/// at a resize-free 280x336 image against the official FP32 forward. Needs the checkpoints and
/// goldens of `tools/reference/make_family_goldens.py --full-dir goldens-full/family` (1.3 GB
/// each, not committed) and `DA3_FAMILY_FULL=1` (about 6 minutes per model in a debug build);
/// skipped otherwise (CI).
final class FamilyFullSizeTests: XCTestCase {
    func testMetricLargeMatchesOfficial() throws { try check("metric-large", preset: "da3metric-large") }
    func testMonoLargeMatchesOfficial() throws { try check("mono-large", preset: "da3mono-large") }

    private func check(_ short: String, preset: String) throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["DA3_FAMILY_FULL"] == "1", "set DA3_FAMILY_FULL=1 (slow in debug builds)")
        let dir = Fixtures.repoRoot.appendingPathComponent("goldens-full/family")
        let weights = dir.appendingPathComponent("\(short)/model.safetensors")
        let goldenURL = dir.appendingPathComponent("\(short)_goldens_280x336.safetensors")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: weights.path) && FileManager.default.fileExists(atPath: goldenURL.path),
                          "run tools/reference/make_family_goldens.py --full-dir goldens-full/family")
        let file = try SafeTensorsFile(url: weights)
        // The tensors alone name the topology (Metric and Mono have the same tensors).
        XCTAssertEqual(try ModelDetection.preset(shapes: file.tensors.mapValues(\.shape)).name, ModelConfig.metricOrMonoLargeName)
        let net = try DepthAnything3Network(checkpoint: file, config: ModelConfig.preset(named: preset)!)
        let golden = try SafeTensorsFile(url: goldenURL)
        let start = Date()
        let out = net.forward(SyntheticImage.normalized(width: 336, height: 280), height: 280, width: 336)
        let seconds = Date().timeIntervalSince(start)
        let depthRef = try golden.floats("depth"), skyRef = try golden.floats("sky"), rawRef = try golden.floats("depth_raw")
        let pearson = Metrics.pearson(out.depth, depthRef)
        let maxRel = Metrics.maxRelativeError(out.depth, reference: depthRef)
        let skyAbs = Metrics.maxAbsoluteError(out.sky!, reference: skyRef)
        let skyPixels = skyRef.filter { $0 >= 0.3 }.count
        print("\(preset) 280x336: depth pearson \(pearson) maxrel \(maxRel); sky max abs \(skyAbs); "
              + "sky pixels \(skyPixels) of \(skyRef.count); raw depth changed at \(zip(rawRef, depthRef).filter { $0 != $1 }.count); "
              + String(format: "forward %.1f s (debug build)", seconds))
        XCTAssertGreaterThanOrEqual(pearson, 0.999999)
        XCTAssertLessThanOrEqual(maxRel, 1e-4)
        XCTAssertLessThanOrEqual(skyAbs, 1e-4)
        XCTAssertGreaterThan(skyPixels, 10, "the sky handling is exercised")
    }
}
