import XCTest
import DA3Kernels
@testable import DA3Model
import DA3TestSupport
import SafeTensors

/// `use_ray_pose` (issue 15): the auxiliary ray head, torch's generator and the ray-to-pose solve
/// against the official code (tools/reference/make_anyview_goldens.py: tiny model, 3 views of 70x56,
/// after torch.manual_seed(0)).
final class RayPoseTests: XCTestCase {
    /// The generator draws what torch.randperm draws after torch.manual_seed.
    func testGeneratorEqualsTorchRandperm() throws {
        let golden = try SafeTensorsFile(url: Fixtures.url("anyview/torch_randperm.safetensors"))
        for seed: UInt64 in [0, 42, 67_280_421_310_721] {
            var generator = TorchGenerator(seed: seed)
            for n in [2, 10, 384, 24883, 100_003] {
                let reference = try golden.floats("randperm_\(seed)_\(n)")
                for draw in 0..<3 {
                    let mine = generator.permutation(n).prefix(16).map(Float.init)
                    XCTAssertEqual(mine, Array(reference[(draw * 16)..<(draw * 16 + mine.count)]), "seed \(seed) n \(n) draw \(draw)")
                }
            }
        }
    }

    /// TorchSort orders as torch.argsort(descending=True) does on the CPU, ties and NaNs included.
    func testArgsortEqualsTorch() throws {
        let golden = try SafeTensorsFile(url: Fixtures.url("anyview/torch_randperm.safetensors"))
        var k = 0
        while golden.tensors["argsort_values_\(k)"] != nil {
            let values = try golden.floats("argsort_values_\(k)"), order = try golden.floats("argsort_order_\(k)")
            XCTAssertEqual(TorchSort.argsortDescending(values).map(Float.init), order, "case \(k) (\(values.count) values)")
            k += 1
        }
        XCTAssertEqual(k, 7)
    }

    /// The tiny model's rays and confidences against the official forward. Its synthetic rays fit
    /// no camera, where upstream's RANSAC is chaotic, so the cameras are checked on
    /// `tiny_ray_consistent` (and the solve alone on these rays below).
    func testTinyRaysMatchOfficial() throws {
        let net = try TinyGoldenTests.loadTiny()
        let golden = try AnyViewGoldenTests.golden("ray")
        let out = try net.forward(views: try AnyViewGoldenTests.views(golden), height: 70, width: 56,
                                  rayPose: RayPose.Options(seed: UInt64(try golden.floats("seed")[0])))
        try Self.checkRays(out, golden)
        XCTAssertTrue(out.views.allSatisfy(\.poseEncoding.isEmpty), "the camera decoder does not run")
        let plain = try net.forward(views: try AnyViewGoldenTests.views(golden), height: 70, width: 56)
        XCTAssertEqual(out.views.flatMap(\.depth), plain.views.flatMap(\.depth), "the ray head leaves depth as it is")
        XCTAssertEqual(out.views.flatMap(\.confidence), plain.views.flatMap(\.confidence))
    }

    /// End to end where the rays fit a camera (the tiny checkpoint with `make_rays_consistent`'s
    /// ray head): rays, depth and the solved cameras against the official forward.
    func testTinyConsistentRayPoseMatchesOfficial() throws {
        let golden = try AnyViewGoldenTests.golden("ray_consistent")
        let file = try SafeTensorsFile(url: Fixtures.url("tiny/model.safetensors"))
        var overrides: [String: [Float]] = [:]
        for key in golden.tensors.keys where key.hasPrefix("weights.") {
            overrides[String(key.dropFirst("weights.".count))] = try golden.floats(key)
        }
        XCTAssertEqual(overrides.count, 8)
        let source = OverlayWeightSource(base: SafeTensorsWeightSource(file: file), overrides: overrides)
        let net = try DepthAnything3Network(config: TinyGoldenTests.tinyConfig, weights: source,
                                            posEmbedTokens: file.tensors["model.backbone.pretrained.pos_embed"]?.shape[1])
        let out = try net.forward(views: try AnyViewGoldenTests.views(golden), height: 70, width: 56,
                                  rayPose: RayPose.Options(seed: UInt64(try golden.floats("seed")[0])))
        try Self.checkRays(out, golden)
        try AnyViewGoldenTests.check(out, golden, label: "ray_consistent")
    }

    static func checkRays(_ out: SceneNetworkOutput, _ golden: SafeTensorsFile) throws {
        let maps = try XCTUnwrap(out.rayMaps)
        XCTAssertEqual(maps.map(\.width), [32, 32, 32])
        XCTAssertEqual(maps.map(\.height), [40, 40, 40])
        for (name, mine) in [("ray", maps.flatMap(\.rays)), ("ray_conf", maps.flatMap(\.confidence))] {
            let err = StageError(mine, try golden.floats(name))
            XCTAssertLessThan(err.normalizedMax, 2e-5, "\(name): \(err)")
            XCTAssertGreaterThan(err.pearson, 0.999999, "\(name): \(err)")
        }
    }

    /// The solve alone on the official rays (the same draws): the same cameras as upstream's.
    func testSolveOnOfficialRaysMatchesOfficial() throws {
        for name in ["ray", "ray_consistent"] {
            let golden = try AnyViewGoldenTests.golden(name)
            let maps = try Self.officialMaps(golden)
            var generator = TorchGenerator(seed: UInt64(try golden.floats("seed")[0]))
            let cameras = try RayPose.cameras(maps, imageWidth: 56, imageHeight: 70, generator: &generator)
            let ext = try golden.floats("extrinsics"), k = try golden.floats("intrinsics")
            let err = Self.cameraError(cameras, extrinsics: ext, intrinsics: k)
            // Float32 arithmetic upstream (its SVDs); the synthetic rays' fit is ill-conditioned.
            XCTAssertLessThan(err, name == "ray" ? 2e-5 : 1e-6, "\(name): max camera error \(err)")
            print("tiny \(name): solve on the official rays, camera error \(err)")
        }
    }

    static func officialMaps(_ golden: SafeTensorsFile) throws -> [RayMap] {
        let shape = try XCTUnwrap(golden.tensors["ray"]).shape  // (S, h, w, 6)
        let rays = try golden.floats("ray"), conf = try golden.floats("ray_conf")
        let (h, w) = (shape[1], shape[2]), plane = h * w
        return (0..<shape[0]).map { v in
            RayMap(width: w, height: h, rays: Array(rays[(v * 6 * plane)..<((v + 1) * 6 * plane)]),
                   confidence: Array(conf[(v * plane)..<((v + 1) * plane)]))
        }
    }

    /// A checkpoint with some tensors replaced.
    final class OverlayWeightSource: WeightSource {
        let base: WeightSource
        let overrides: [String: [Float]]
        var origin: String { base.origin + " (with \(overrides.count) tensors replaced)" }

        init(base: WeightSource, overrides: [String: [Float]]) {
            self.base = base
            self.overrides = overrides
        }

        func load(_ key: String, shape: [Int]) throws -> [Float] {
            guard let t = overrides[key] else { return try base.load(key, shape: shape) }
            try base.check(key, shape: shape)
            return t
        }

        func unusedKeys(used: Set<String>) -> [String] { base.unusedKeys(used: used) }
    }

    /// Max error over extrinsics and intrinsics, absolute below 1 and relative above.
    static func cameraError(_ cameras: [RayPose.Camera], extrinsics: [Float], intrinsics: [Float]) -> Double {
        let mine: [Float] = cameras.flatMap(\.extrinsics) + cameras.flatMap(\.intrinsics.matrix)
        let reference: [Float] = extrinsics + intrinsics
        var worst = 0.0
        for (a, b) in zip(mine, reference) {
            let (x, y) = (Double(a), Double(b))
            worst = max(worst, abs(x - y) / max(1, abs(y)))
        }
        return worst
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    /// The 9x9 eigen solve and the QL decomposition against their definitions.
    func testAlgebraTwins() {
        var rng = SystemRandomNumberGenerator()
        let b = (0..<81).map { _ in Double.random(in: -1...1, using: &rng) }
        var m = [Double](repeating: 0, count: 81)
        func column(_ x: [Double], _ j: Int) -> [Double] { (0..<9).map { x[$0 * 9 + j] } }
        func row(_ x: [Double], _ i: Int) -> [Double] { Array(x[(i * 9)..<(i * 9 + 9)]) }
        for i in 0..<9 { for j in 0..<9 { m[i * 9 + j] = Self.dot(column(b, i), column(b, j)) } }
        let v = SmallLinearAlgebra.smallestEigenvector(m, n: 9)
        let mv = (0..<9).map { Self.dot(row(m, $0), v) }
        let lambda = Self.dot(v, mv)
        XCTAssertEqual(Self.dot(v, v), 1, accuracy: 1e-12)
        for i in 0..<9 { XCTAssertEqual(mv[i], lambda * v[i], accuracy: 1e-9) }
        // Rayleigh quotient of any other unit vector is not smaller.
        for _ in 0..<20 {
            let u = (0..<9).map { _ in Double.random(in: -1...1, using: &rng) }
            let mu = (0..<9).map { Self.dot(row(m, $0), u) }
            XCTAssertGreaterThanOrEqual(Self.dot(u, mu) / Self.dot(u, u), lambda - 1e-9)
        }
        let a = (0..<9).map { _ in Double.random(in: -2...2, using: &rng) }
        let (q, l) = SmallLinearAlgebra.ql(a)
        for i in 0..<3 {
            for j in 0..<3 {
                let qtq = Self.dot((0..<3).map { q[$0 * 3 + i] }, (0..<3).map { q[$0 * 3 + j] })
                XCTAssertEqual(qtq, i == j ? 1 : 0, accuracy: 1e-12)
                let prod = Self.dot((0..<3).map { q[i * 3 + $0] }, (0..<3).map { l[$0 * 3 + j] })
                XCTAssertEqual(prod, a[i * 3 + j], accuracy: 1e-12)
                if j > i { XCTAssertEqual(l[i * 3 + j], 0) }
            }
            XCTAssertGreaterThan(l[i * 4], 0)
        }
    }
}
