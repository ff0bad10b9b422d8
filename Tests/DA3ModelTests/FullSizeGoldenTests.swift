import Foundation
import XCTest
import DA3Kernels
import DA3Model
import DA3TestSupport
import SafeTensors

/// Full-size DA3-Small at three sizes and DA3-Base at one (synthetic weights regenerated from the
/// shared seed rule) against the official PyTorch FP32 model. The committed goldens hold every 4th pixel in each
/// direction; when `tools/reference/make_goldens.py --full-dir goldens-full` has been run, the
/// full-resolution maps in `goldens-full/` are compared instead.
final class FullSizeGoldenTests: XCTestCase {
    nonisolated(unsafe) static var networks: [String: DepthAnything3Network] = [:]

    static func network(_ config: ModelConfig, precision: Precision = .exact) throws -> DepthAnything3Network {
        let key = config.name + "/" + precision.rawValue
        if let net = networks[key] { return net }
        let net = try DepthAnything3Network(config: config, weights: SyntheticWeightSource(), precision: precision)
        networks[key] = net
        return net
    }

    func testPortrait896x504() throws { try check(.small, height: 896, width: 504) }
    func testPortrait504x280() throws { try check(.small, height: 504, width: 280) }
    func testLandscape280x504() throws { try check(.small, height: 280, width: 504) }
    func testBasePortrait280x210() throws {
        try check(.base, height: 280, width: 210)
        Self.networks[ModelConfig.base.name + "/exact"] = nil  // 135M parameters: free them
    }

    /// Fast precision (bfloat16 products) must stay within correlation 0.9999 of official FP32.
    func testFastPrecision896x504() throws {
        try XCTSkipUnless(Precision.fastAvailable, "this CPU has no AVX512-BF16")
        try check(.small, height: 896, width: 504, precision: .fast)
        Self.networks[ModelConfig.small.name + "/fast"] = nil
    }

    private func check(_ config: ModelConfig, height: Int, width: Int, precision: Precision = .exact) throws {
        let net = try Self.network(config, precision: precision)
        let preset = String(config.name.dropFirst("da3-".count))
        let input = SyntheticImage.normalized(width: width, height: height)
        let out = net.forward(input, height: height, width: width)

        let fullURL = Fixtures.repoRoot.appendingPathComponent("goldens-full/\(preset)_goldens_\(height)x\(width).safetensors")
        let depthRef: [Float], confRef: [Float], depth: [Float], conf: [Float], label: String
        if FileManager.default.fileExists(atPath: fullURL.path) {
            let full = try SafeTensorsFile(url: fullURL)
            depthRef = try full.floats("depth")
            confRef = try full.floats("depth_conf")
            depth = out.depth
            conf = out.confidence
            label = "full resolution"
        } else {
            let golden = try SafeTensorsFile(url: Fixtures.url("\(preset)/goldens_\(height)x\(width).safetensors"))
            depthRef = try golden.floats("depth_s4")
            confRef = try golden.floats("conf_s4")
            depth = Self.subsample(out.depth, height: height, width: width, stride: 4)
            conf = Self.subsample(out.confidence, height: height, width: width, stride: 4)
            label = "every 4th pixel"
        }
        let golden = try SafeTensorsFile(url: Fixtures.url("\(preset)/goldens_\(height)x\(width).safetensors"))
        let k = try golden.floats("intrinsics")

        let depthCorr = Metrics.pearson(depth, depthRef), confCorr = Metrics.pearson(conf, confRef)
        let depthRel = Metrics.maxRelativeError(depth, reference: depthRef)
        let confRel = Metrics.maxRelativeError(conf, reference: confRef)
        let fxRel = abs(out.intrinsics.fx - Double(k[0])) / Double(k[0])
        let fyRel = abs(out.intrinsics.fy - Double(k[4])) / Double(k[4])
        print("\(config.name) \(height)x\(width) \(precision) (\(label), \(depth.count) px): depth pearson \(depthCorr) maxrel \(depthRel); "
              + "conf pearson \(confCorr) maxrel \(confRel); fx rel \(fxRel), fy rel \(fyRel)")
        if precision == .exact {
            XCTAssertGreaterThanOrEqual(depthCorr, 0.999999)
            XCTAssertLessThanOrEqual(depthRel, 1e-4)
            XCTAssertGreaterThanOrEqual(confCorr, 0.999999)
            XCTAssertLessThanOrEqual(confRel, 1e-4)
            XCTAssertLessThanOrEqual(fxRel, 1e-4)
            XCTAssertLessThanOrEqual(fyRel, 1e-4)
        } else {
            XCTAssertGreaterThanOrEqual(depthCorr, 0.9999)
            XCTAssertGreaterThanOrEqual(confCorr, 0.9999)
            XCTAssertLessThanOrEqual(fxRel, 1e-2)
        }
        // The synthetic weights must give a depth map with real spatial structure.
        let logDepth = depth.map { log(Double($0)) }
        let mean = logDepth.reduce(0, +) / Double(logDepth.count)
        let std = (logDepth.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(logDepth.count)).squareRoot()
        XCTAssertGreaterThan(std, 0.1, "log-depth std \(std)")
    }

    static func subsample(_ map: [Float], height: Int, width: Int, stride: Int) -> [Float] {
        var out: [Float] = []
        for y in Swift.stride(from: 0, to: height, by: stride) {
            for x in Swift.stride(from: 0, to: width, by: stride) { out.append(map[y * width + x]) }
        }
        return out
    }
}
