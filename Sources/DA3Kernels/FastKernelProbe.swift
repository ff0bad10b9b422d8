import Foundation

/// The reduced-precision kernels `Precision.fast` can run on a CPU.
public enum FastKernels: String, Sendable, Codable, CaseIterable {
    /// bfloat16 products with FP32 accumulation (`vdpbf16ps`, AVX512-BF16): `Precision.fast`.
    case bf16
    /// int8 linear layers (`vpdpbusd`, AVX512-VNNI), bfloat16 elsewhere: `Precision.int8`.
    case int8
    /// int8 linear layers, FP32 elsewhere: `Precision.int8FP32`, where bfloat16 does not beat FP32.
    case int8FP32 = "int8-fp32"
    /// No reduced-precision kernel is worth running here: `.fast` runs the exact FP32 kernels.
    case none
}

/// Throughput of the two product kernels on one transformer-sized linear layer, measured on this
/// machine with all engine threads.
public struct FastKernelMeasurement: Sendable, Codable, Equatable {
    /// GFLOP/s of the FP32 product (`GEMMF32`).
    public var f32GFLOPs: Double
    /// GFLOP/s of the bfloat16 product (`GEMMBF16`), its input conversion included (0 without AVX512-BF16).
    public var bf16GFLOPs: Double
    /// GFLOP/s of the int8 product (`GEMMI8`), its input quantization included (nil without AVX512-VNNI).
    public var int8GFLOPs: Double?

    public init(f32GFLOPs: Double, bf16GFLOPs: Double, int8GFLOPs: Double? = nil) {
        self.f32GFLOPs = f32GFLOPs
        self.bf16GFLOPs = bf16GFLOPs
        self.int8GFLOPs = int8GFLOPs
    }

    /// How much faster bfloat16 must be to be chosen. The products are about two thirds of the
    /// forward; below this gain the rest of the fast path (conversions, other kernels) eats it.
    public static let requiredGain = 1.15

    /// Per operator, the fastest kernel that beats the one below it by `requiredGain`. The linear
    /// layers take int8 where it beats FP32 and bfloat16; attention and the convolutions take
    /// bfloat16 only where it does not lose to FP32 (int8 with bfloat16 elsewhere), else FP32 (int8
    /// with FP32 elsewhere). Without an int8 win: bfloat16 where it beats FP32, else none.
    public var choice: FastKernels {
        let gain = Self.requiredGain
        let bf16Holds = bf16GFLOPs >= f32GFLOPs
        if let int8GFLOPs, int8GFLOPs >= f32GFLOPs * gain {
            if !bf16Holds { return .int8FP32 }
            if int8GFLOPs >= bf16GFLOPs * gain { return .int8 }
        }
        return bf16GFLOPs >= f32GFLOPs * gain ? .bf16 : .none
    }
}

/// Measures the FP32, bfloat16 and int8 product kernels against each other (about 50 ms): a short,
/// interleaved run of DA3-Small's MLP input layer (720 tokens, 384 -> 1536), best of five each.
/// On a Zen 4 core bfloat16 is well ahead; on Intel Xeon cores with two FP32 FMA ports it is not
/// (the reason `--precision fast` measures before it picks).
public enum FastKernelProbe {
    /// nil where the CPU has neither a bfloat16 nor an int8 kernel (nothing to compare).
    public static func measure(rows: Int = 720, inFeatures: Int = 384, outFeatures: Int = 1536,
                               repeats: Int = 5) -> FastKernelMeasurement? {
        let hasBF16 = Precision.fastAvailable
        guard hasBF16 || GEMMI8.available, GEMMF32.available else { return nil }
        var generator = SplitMix(seed: 0x0DA3)
        let x = (0..<rows * inFeatures).map { _ in generator.nextUnit() }
        let w = (0..<outFeatures * inFeatures).map { _ in generator.nextUnit() * 0.05 }
        let bias = [Float](repeating: 0.01, count: outFeatures)
        let (packedF32, packedBF16) = w.withUnsafeBufferPointer { wp in
            (PackedF32Weights(weight: wp.baseAddress!, inFeatures: inFeatures, outFeatures: outFeatures),
             PackedBF16Weights(weight: wp.baseAddress!, inFeatures: inFeatures, outFeatures: outFeatures))
        }
        let packedI8 = GEMMI8.supports(inFeatures: inFeatures) ? w.withUnsafeBufferPointer {
            PackedI8Weights(weight: $0.baseAddress!, inFeatures: inFeatures, outFeatures: outFeatures)
        } : nil
        var y = [Float](repeating: 0, count: rows * outFeatures)
        var xb = [UInt16](repeating: 0, count: rows * inFeatures)
        func runF32() {
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer {
                    GEMMF32.linear(xp.baseAddress!, rows: rows, weights: packedF32, bias: bias, into: $0.baseAddress!)
                }
            }
        }
        func runBF16() {
            guard hasBF16 else { return }
            x.withUnsafeBufferPointer { xp in
                xb.withUnsafeMutableBufferPointer { Elementwise.toBF16(xp.baseAddress!, into: $0.baseAddress!, count: rows * inFeatures) }
            }
            xb.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer {
                    GEMMBF16.linear(xp.baseAddress!, rows: rows, weights: packedBF16, bias: bias, into: $0.baseAddress!)
                }
            }
        }
        func runI8() {
            guard let packedI8 else { return }
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer {
                    GEMMI8.linear(xp.baseAddress!, rows: rows, weights: packedI8, bias: bias, into: $0.baseAddress!)
                }
            }
        }
        runF32(); runBF16(); runI8()  // first touches and thread start-up outside the timing
        var best = (f32: Double.infinity, bf16: Double.infinity, int8: Double.infinity)
        for _ in 0..<repeats {  // interleaved, so a burst of load elsewhere hits all
            best.f32 = min(best.f32, seconds(runF32))
            if hasBF16 { best.bf16 = min(best.bf16, seconds(runBF16)) }
            if packedI8 != nil { best.int8 = min(best.int8, seconds(runI8)) }
        }
        let flops = 2.0 * Double(rows * inFeatures * outFeatures)
        return FastKernelMeasurement(f32GFLOPs: flops / best.f32 / 1e9, bf16GFLOPs: hasBF16 ? flops / best.bf16 / 1e9 : 0,
                                     int8GFLOPs: packedI8 == nil ? nil : flops / best.int8 / 1e9)
    }

    private static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// A small deterministic generator for the probe's inputs.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nextUnit() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 24) - 0.5
    }
}
