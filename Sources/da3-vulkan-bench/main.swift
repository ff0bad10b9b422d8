import DA3Vulkan
import Foundation

// da3-vulkan-bench: each shader at DA3-Small's shapes on a Vulkan device (default: the backend's
// choice; DA3_BENCH_VULKAN_DEVICE=N picks one), median of a few replays of a recorded sequence;
// `--model [H W] [rounds]`: the whole DA3-Small pass, exact against fast (ModelBenchmark.swift);
// `--gemm-pairs [H W] [reps]`: the products in each operand form, interleaved (GEMMPairs.swift).
// A functional timing for software devices such as lavapipe, not a speed claim.

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

do {
    if CommandLine.arguments.dropFirst().first == "--model" {
        try modelBenchmark(Array(CommandLine.arguments.dropFirst(2)))
        exit(0)
    }
    if CommandLine.arguments.dropFirst().first == "--gemm-pairs" {
        try gemmPairs(Array(CommandLine.arguments.dropFirst(2)))
        exit(0)
    }
    let index = ProcessInfo.processInfo.environment["DA3_BENCH_VULKAN_DEVICE"].flatMap(Int.init)
    let device = try VulkanDevice(index: index)
    let lib = try VulkanKernelLibrary(device: device)
    print("device: \(device.info.label)")
    let device16 = device.info.supportsFP16 ? try VulkanDevice(index: index, fp16: true) : nil
    let lib16 = try device16.map { try VulkanKernelLibrary(device: $0) }
    let args = CommandLine.arguments.dropFirst()
    let (gh, gw) = args.count >= 2 ? (Int(args[args.startIndex])! / 14, Int(args[args.startIndex + 1])! / 14) : (36, 20)
    let t = 1 + gh * gw, d = 384, heads = 6, hd = 64
    print("shapes: DA3-Small at \(gh * 14)x\(gw * 14) (\(t) tokens)")
    func buf(_ n: Int) throws -> VulkanBuffer {
        let b = try VulkanBuffer(device: device, size: n * 4)
        try b.write([Float](repeating: 0.01, count: n))
        return b
    }
    func time(_ name: String, flops: Double, runs: Int = 3, _ encode: (VulkanSequence) throws -> Void) throws {
        let seq = VulkanSequence(device: device)
        try encode(seq)
        try seq.run()
        var times: [Double] = []
        for _ in 0..<runs {
            let s = Date()
            try seq.run()
            times.append(Date().timeIntervalSince(s))
        }
        let m = median(times)
        print(String(format: "%-44@ %9.2f ms  %7.2f GFLOP/s", name as NSString, m * 1000, flops / m / 1e9))
    }
    let x = try buf(t * d), w = try buf(4 * d * d), bias = try buf(4 * d), y = try buf(t * 4 * d), qkv = try buf(t * 3 * d)
    try time("gemm_f32 qkv (\(t)x\(3 * d)x\(d))", flops: 2.0 * Double(t * 3 * d * d)) {
        try $0.gemm(lib, m: t, n: 3 * d, k: d, a: x, lda: d, b: w, ldb: d, transB: true, c: y, ldc: 3 * d, bias: bias)
    }
    try time("gemm_f32 fc1 + GELU (\(t)x\(4 * d)x\(d))", flops: 2.0 * Double(t * 4 * d * d)) {
        try $0.gemm(lib, m: t, n: 4 * d, k: d, a: x, lda: d, b: w, ldb: d, transB: true, c: y, ldc: 4 * d, bias: bias, activation: .gelu)
    }
    try time("gemm_rows qkv (\(t)x\(3 * d)x\(d))", flops: 2.0 * Double(t * 3 * d * d)) {
        try $0.gemmRows(lib, m: t, n: 3 * d, k: d, a: x, lda: d, b: w, ldb: 3 * d, c: y, ldc: 3 * d, bias: bias)
    }
    try time("gemm_rows fc1 + GELU (\(t)x\(4 * d)x\(d))", flops: 2.0 * Double(t * 4 * d * d)) {
        try $0.gemmRows(lib, m: t, n: 4 * d, k: d, a: x, lda: d, b: w, ldb: 4 * d, c: y, ldc: 4 * d, bias: bias, activation: .gelu)
    }
    if let device16, let lib16 {
        // The fast mode's products: FP16 operands, FP32 accumulation (a device opened with FP16).
        func half(_ n: Int) throws -> VulkanBuffer {
            let b = try VulkanBuffer(device: device16, size: n * 2)
            try b.write([Float16](repeating: 0.01, count: n))
            return b
        }
        let x16 = try half(t * d), w16 = try half(4 * d * d), h16 = try half(t * 4 * d)
        let bias16 = try VulkanBuffer(device: device16, size: 4 * d * 4), y16 = try VulkanBuffer(device: device16, size: t * 4 * d * 4)
        func time16(_ name: String, flops: Double, _ encode: (VulkanSequence) throws -> Void) throws {
            let seq = VulkanSequence(device: device16)
            try encode(seq)
            try seq.run()
            var times: [Double] = []
            for _ in 0..<3 {
                let s = Date()
                try seq.run()
                times.append(Date().timeIntervalSince(s))
            }
            let m = median(times)
            print(String(format: "%-44@ %9.2f ms  %7.2f GFLOP/s", name as NSString, m * 1000, flops / m / 1e9))
        }
        try time16("gemm_f16 qkv (\(t)x\(3 * d)x\(d))", flops: 2.0 * Double(t * 3 * d * d)) {
            try $0.gemm(lib16, m: t, n: 3 * d, k: d, a: x16, lda: d, b: w16, ldb: d, transB: true, c: y16, ldc: 3 * d, bias: bias16,
                        fp16: true)
        }
        try time16("gemm_rows_f16 qkv (\(t)x\(3 * d)x\(d))", flops: 2.0 * Double(t * 3 * d * d)) {
            try $0.gemmRows(lib16, m: t, n: 3 * d, k: d, a: x16, lda: d, b: w16, ldb: 3 * d, c: y16, ldc: 3 * d, bias: bias16, fp16: true)
        }
        try time16("gemm_rows_f16 fc1 + GELU, FP16 out (\(t)x\(4 * d)x\(d))", flops: 2.0 * Double(t * 4 * d * d)) {
            try $0.gemmRows(lib16, m: t, n: 4 * d, k: d, a: x16, lda: d, b: w16, ldb: 4 * d, c: h16, ldc: 4 * d, bias: bias16,
                            activation: .gelu, fp16: true, halfOutput: true)
        }
        try time16("layernorm_f16 (\(t)x\(d))", flops: 8.0 * Double(t * d)) {
            try $0.layerNormToFP16(lib16, x: y16, rows: t, width: d, weight: bias16, bias: bias16, eps: 1e-6, y: x16)
        }
    }
    try time("layernorm (\(t)x\(d))", flops: 8.0 * Double(t * d)) {
        try $0.layerNorm(lib, x: x, rows: t, width: d, weight: bias, bias: bias, eps: 1e-6, y: y)
    }
    try time("attention (\(heads) heads, \(t) tokens)", flops: 4.0 * Double(t * t * d)) {
        try $0.attention(lib, qkv: qkv, tokens: t, heads: heads, headDim: hd, ldIn: 3 * d, qOffset: 0, kOffset: d, vOffset: 2 * d,
                         scale: 0.125, output: x, ldOut: d)
    }
    // The head's largest 3x3 convolution: 64 -> 64 at 4x the patch grid.
    let (h4, w4, f) = (4 * gh, 4 * gw, 64)
    let m1 = try buf(f * h4 * w4), m2 = try buf(f * h4 * w4), cw = try buf(f * f * 9), cols = try buf(f * 9 * h4 * w4)
    try time("conv2d 3x3 direct (\(f)->\(f), \(h4)x\(w4))", flops: 2.0 * Double(f * f * 9 * h4 * w4)) {
        try $0.conv2d(lib, x: m1, channels: f, height: h4, width: w4, weight: cw, bias: bias, outChannels: f, kernel: 3, stride: 1,
                      padding: 1, y: m2)
    }
    try time("conv2d 3x3 im2col+GEMM (\(f)->\(f), \(h4)x\(w4))", flops: 2.0 * Double(f * f * 9 * h4 * w4)) {
        try $0.conv2dGEMM(lib, x: m1, channels: f, height: h4, width: w4, weight: cw, bias: bias, outChannels: f, kernel: 3,
                          stride: 1, padding: 1, columns: cols, y: m2)
    }
    let (H, W) = (gh * 14, gw * 14)
    let up = try buf(32 * H * W), mid = try buf(32 * H * W), ow = try buf(32 * 32 * 9)
    try time("bilinear (32, \(h4 * 2)x\(w4 * 2) -> \(H)x\(W))", flops: 0) {
        try $0.bilinearAlignCorners(lib, x: m1, channels: 32, height: h4 * 2 / 2, width: w4, outHeight: H, outWidth: W, y: up)
    }
    try time("conv2d 3x3 direct (32->32, \(H)x\(W))", flops: 2.0 * Double(32 * 32 * 9 * H * W)) {
        try $0.conv2d(lib, x: up, channels: 32, height: H, width: W, weight: ow, bias: bias, outChannels: 32, kernel: 3, stride: 1,
                      padding: 1, reluOutput: true, y: mid)
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
