import DA3Vulkan
import Foundation
import XCTest

/// The fast mode's FP16 shaders against CPU twins that round the operands to FP16 the same way
/// (products exact, sums in Double): gemm_rows_f16, gemm_f16's FP16 output, layernorm_f16.
extension VulkanShaderTests {
    func fp16Device() throws -> (VulkanDevice, VulkanKernelLibrary) {
        let o = try VulkanTestDevice.open()
        guard o.device.fp16Enabled else { throw XCTSkip("\(o.device.info.label) has no FP16") }
        return (o.device, o.library)
    }

    /// A buffer holding `values` rounded to FP16.
    func halfBuffer(_ device: VulkanDevice, _ values: [Float]) throws -> VulkanBuffer {
        let b = try VulkanBuffer(device: device, size: values.count * 2)
        try b.write(values.map { Float16($0) })
        return b
    }

    func roundedToHalf(_ v: [Float]) -> [Float] { v.map { Float(Float16($0)) } }

    func testGEMMRowsFP16WithEpilogueResidualAndHalfOutput() throws {
        let (dev, lib) = try fp16Device()
        let (m, n, k) = (21, 70, 33)   // a partial 8-row group and a partial 64-column group
        let a = randomValues(m * k, seed: 70), w = randomValues(n * k, seed: 71), bias = randomValues(n, seed: 72)
        let gamma = randomValues(n, seed: 73), res = randomValues(m * n, seed: 74)
        var wt = [Float](repeating: 0, count: n * k)   // K x N
        for j in 0..<n { for p in 0..<k { wt[p * n + j] = w[j * k + p] } }
        let ba = try halfBuffer(dev, a), bw = try halfBuffer(dev, wt), bb = try buffer(dev, bias), bg = try buffer(dev, gamma)
        let bc = try buffer(dev, res)
        let got = try run(m * n, from: bc) {
            try $0.gemmRows(lib, m: m, n: n, k: k, a: ba, lda: k, b: bw, ldb: n, c: bc, ldc: n,
                            bias: bb, activation: .gelu, gamma: bg, residual: bc, fp16: true)
        }
        let prod = naiveGEMM(roundedToHalf(a), roundedToHalf(w), m: m, n: n, k: k, transB: true)
        var want = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { want[i * n + j] = res[i * n + j] + gamma[j] * naiveGELU(prod[i * n + j] + bias[j]) } }
        XCTAssertLessThan(maxRelativeError(got, want), 2e-6)

        // FP16 output (the MLP's hidden layer): the FP32 epilogue rounded once to FP16.
        let bh = try VulkanBuffer(device: dev, size: m * n * 2)
        let seq = VulkanSequence(device: dev)
        try seq.gemmRows(lib, m: m, n: n, k: k, a: ba, lda: k, b: bw, ldb: n, c: bh, ldc: n, bias: bb, activation: .gelu,
                         fp16: true, halfOutput: true)
        try seq.run()
        let half = try bh.read(Float16.self, count: m * n).map { Float($0) }
        let wantHalf = (0..<(m * n)).map { Float(Float16(naiveGELU(prod[$0] + bias[$0 % n]))) }
        let mismatches = zip(half, wantHalf).filter { $0 != $1 }.count
        // The FP32 sum may differ from the Double sum in its last bit, which can flip a rounding.
        XCTAssertLessThan(maxRelativeError(half, wantHalf), 1e-3)
        XCTAssertLessThan(mismatches, m * n / 50, "FP16 outputs differing from the twin: \(mismatches)")
        XCTAssertThrowsError(try seq.gemmRows(lib, m: m, n: n, k: k, a: ba, lda: k, b: bw, ldb: n, c: bh, ldc: n,
                                              residual: bc, fp16: true, halfOutput: true))
    }

    func testGEMMFP16HalfOutput() throws {
        let (dev, lib) = try fp16Device()
        let (m, n, k) = (33, 66, 80)
        let a = randomValues(m * k, seed: 75), w = randomValues(n * k, seed: 76), bias = randomValues(n, seed: 77)
        let ba = try halfBuffer(dev, a), bw = try halfBuffer(dev, w), bb = try buffer(dev, bias)
        let bh = try VulkanBuffer(device: dev, size: m * n * 2)
        let seq = VulkanSequence(device: dev)
        try seq.gemm(lib, m: m, n: n, k: k, a: ba, lda: k, b: bw, ldb: k, transB: true, c: bh, ldc: n, bias: bb,
                     activation: .gelu, fp16: true, halfOutput: true)
        try seq.run()
        let got = try bh.read(Float16.self, count: m * n).map { Float($0) }
        let prod = naiveGEMM(roundedToHalf(a), roundedToHalf(w), m: m, n: n, k: k, transB: true)
        let want = (0..<(m * n)).map { Float(Float16(naiveGELU(prod[$0] + bias[$0 % n]))) }
        XCTAssertLessThan(maxRelativeError(got, want), 1e-3)
        XCTAssertLessThan(zip(got, want).filter { $0 != $1 }.count, m * n / 50)
    }

    func testLayerNormToFP16() throws {
        let (dev, lib) = try fp16Device()
        let (rows, width) = (5, 300)
        let x = randomValues(rows * width + 7, seed: 78, scale: 3).map { $0 + 0.5 }
        let w = randomValues(width, seed: 79), b = randomValues(width, seed: 80)
        let bx = try buffer(dev, x), bw = try buffer(dev, w), bb = try buffer(dev, b)
        let by = try VulkanBuffer(device: dev, size: (rows * width + 3) * 2)
        let seq = VulkanSequence(device: dev)
        try seq.layerNormToFP16(lib, x: bx, inOffset: 7, rows: rows, width: width, weight: bw, bias: bb, eps: 1e-6, y: by, outOffset: 3)
        try seq.run()
        let got = try by.read(Float16.self, count: rows * width + 3).dropFirst(3).map { Float($0) }
        var want: [Float] = []
        for r in 0..<rows {
            let v = x[(7 + r * width)..<(7 + (r + 1) * width)].map(Double.init)
            let mean = v.reduce(0, +) / Double(width)
            let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
            want += v.indices.map { i in
                Float(Float16(Float((v[i] - mean) / (variance + 1e-6).squareRoot() * Double(w[i - v.startIndex]) + Double(b[i - v.startIndex]))))
            }
        }
        XCTAssertLessThan(maxRelativeError(Array(got), want), 1e-3)
        XCTAssertLessThan(zip(got, want).filter { $0 != $1 }.count, rows * width / 50)
    }
}
