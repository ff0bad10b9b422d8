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

    func testInt8Precision896x504() throws {
        try XCTSkipUnless(Precision.int8Available, "this CPU has no AVX512-VNNI with AVX512-BF16")
        try check(.small, height: 896, width: 504, precision: .int8)
        Self.networks[ModelConfig.small.name + "/int8"] = nil
    }

    func testInt8Precision504x280() throws {
        try XCTSkipUnless(Precision.int8Available, "this CPU has no AVX512-VNNI with AVX512-BF16")
        try check(.small, height: 504, width: 280, precision: .int8)
    }

    /// int8 linear layers with FP32 attention and convolutions (what `fast` picks where bfloat16
    /// does not beat FP32).
    func testInt8FP32Precision896x504() throws {
        try XCTSkipUnless(Precision.int8FP32Available, "this CPU has no AVX512-VNNI")
        try check(.small, height: 896, width: 504, precision: .int8FP32)
        Self.networks[ModelConfig.small.name + "/" + Precision.int8FP32.rawValue] = nil
    }

    private func check(_ config: ModelConfig, height: Int, width: Int, precision: Precision = .exact) throws {
        let net = try Self.network(config, precision: precision)
        let preset = String(config.name.dropFirst("da3-".count))
        let input = SyntheticImage.normalized(width: width, height: height)
        let out = net.forward(input, height: height, width: width)

        let c = try FullSizeComparison(preset: preset, height: height, width: width, output: out)
        print("\(config.name) \(height)x\(width) \(precision) (\(c.summary))")
        if precision == .exact {
            XCTAssertEqual(c.exactBoundsMissed, [], c.summary)
        } else {
            XCTAssertGreaterThanOrEqual(c.depthPearson, 0.9999)
            XCTAssertGreaterThanOrEqual(c.confidencePearson, 0.9999)
            XCTAssertLessThanOrEqual(c.fxRel, 1e-2)
        }
        // The synthetic weights must give a depth map with real spatial structure.
        let logDepth = c.depth.map { log(Double($0)) }
        let mean = logDepth.reduce(0, +) / Double(logDepth.count)
        let std = (logDepth.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(logDepth.count)).squareRoot()
        XCTAssertGreaterThan(std, 0.1, "log-depth std \(std)")
    }
}
