import XCTest
@testable import DA3Kernels

/// The pieces of `--precision fast`'s kernel choice that do not need a timer.
final class FastKernelChoiceTests: XCTestCase {
    func testChoiceNeedsAClearGain() {
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 200, bf16GFLOPs: 340).choice, .bf16)  // Zen 4-like
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 229, bf16GFLOPs: 150).choice, .none)  // Xeon-like
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 200, bf16GFLOPs: 220).choice, .none)  // within noise
        // int8 must beat bfloat16 clearly to come with bfloat16 attention and convolutions.
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 200, bf16GFLOPs: 340, int8GFLOPs: 600).choice, .int8)
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 200, bf16GFLOPs: 340, int8GFLOPs: 360).choice, .bf16)
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 200, bf16GFLOPs: 210, int8GFLOPs: 400).choice, .int8)
        // Where bfloat16 loses to FP32 (Xeon-like) or is missing (AVX512-VNNI without BF16), int8
        // linear layers that beat FP32 come with FP32 attention and convolutions.
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 229, bf16GFLOPs: 150, int8GFLOPs: 400).choice, .int8FP32)
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 200, bf16GFLOPs: 190, int8GFLOPs: 400).choice, .int8FP32)
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 229, bf16GFLOPs: 0, int8GFLOPs: 400).choice, .int8FP32)
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 229, bf16GFLOPs: 0, int8GFLOPs: 240).choice, .none)
        XCTAssertEqual(FastKernelMeasurement(f32GFLOPs: 229, bf16GFLOPs: 0).choice, .none)
    }

    func testCPUInfoReadsTheFirstProcessor() {
        let text = """
        processor\t: 0
        vendor_id\t: GenuineIntel
        cpu family\t: 6
        model\t\t: 207
        model name\t: INTEL(R) XEON(R) PLATINUM 8581C CPU @ 2.10GHz
        flags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni avx512_bf16 avx512_fp16 amx_tile

        processor\t: 1
        model name\t: something else
        """
        let cpu = CPUInfo(cpuinfo: text)
        XCTAssertEqual(cpu.modelName, "INTEL(R) XEON(R) PLATINUM 8581C CPU @ 2.10GHz")
        XCTAssertEqual(cpu.family, 6)
        XCTAssertEqual(cpu.model, 207)
        XCTAssertEqual(cpu.vectorFlags, ["amx_tile", "avx2", "avx512_bf16", "avx512_fp16", "avx512_vnni", "avx512f", "fma"])
        XCTAssertEqual(cpu.summary, "INTEL(R) XEON(R) PLATINUM 8581C CPU @ 2.10GHz (family 6 model 207)")
        XCTAssertEqual(CPUInfo(cpuinfo: "").modelName, "unknown CPU")
    }

    func testProbeMeasuresBothKernels() throws {
        try XCTSkipUnless(Precision.fastAvailable && GEMMF32.available, "no AVX512-BF16 here")
        let m = try XCTUnwrap(FastKernelProbe.measure(rows: 64, inFeatures: 64, outFeatures: 128, repeats: 1))
        XCTAssertGreaterThan(m.f32GFLOPs, 0)
        XCTAssertGreaterThan(m.bf16GFLOPs, 0)
        XCTAssertEqual(m.int8GFLOPs != nil, GEMMI8.available)
    }

    /// int8 with FP32 elsewhere: the linear layers in int8, attention and the rest as exact.
    func testInt8FP32UsesInt8ProductsOnly() {
        XCTAssertTrue(Precision.int8FP32.usesInt8)
        XCTAssertFalse(Precision.int8FP32.usesBF16)
        XCTAssertTrue(Precision.int8.usesInt8 && Precision.int8.usesBF16)
        XCTAssertFalse(Precision.exact.usesInt8 || Precision.fast.usesInt8)
        XCTAssertEqual(Precision(rawValue: "int8-fp32"), .int8FP32)
    }
}
