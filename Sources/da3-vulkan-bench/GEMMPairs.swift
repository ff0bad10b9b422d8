import DA3Vulkan
import Foundation

/// `da3-vulkan-bench --gemm-pairs [H W] [reps]`: the transformer's products at DA3-Small's shapes with
/// FP32 and FP16 operands, on the lane GEMM (gemm_rows) and the tiled GEMM, replayed in interleaved
/// order so each ratio is measured under the same load: what decides which shader the fast mode uses.
func gemmPairs(_ args: [String]) throws {
    let index = ProcessInfo.processInfo.environment["DA3_BENCH_VULKAN_DEVICE"].flatMap(Int.init)
    let device = try VulkanDevice(index: index, fp16: true)
    let lib = try VulkanKernelLibrary(device: device)
    let (gh, gw) = args.count >= 2 ? ((Int(args[0]) ?? 504) / 14, (Int(args[1]) ?? 280) / 14) : (36, 20)
    let reps = args.count >= 3 ? Int(args[2]) ?? 7 : 7
    let t = 1 + gh * gw, d = 384
    say("device: \(device.info.label); DA3-Small products at \(gh * 14)x\(gw * 14) (\(t) tokens), \(reps) interleaved replays")
    func buffer(_ count: Int, half: Bool) throws -> VulkanBuffer {
        let b = try VulkanBuffer(device: device, size: count * (half ? 2 : 4))
        if half { try b.write([Float16](repeating: 0.01, count: count)) } else { try b.write([Float](repeating: 0.01, count: count)) }
        return b
    }
    let x32 = try buffer(t * 4 * d, half: false), x16 = try buffer(t * 4 * d, half: true)
    let w32 = try buffer(4 * d * d, half: false), w16 = try buffer(4 * d * d, half: true)
    let bias = try buffer(4 * d, half: false), y = try buffer(t * 4 * d, half: false)
    for (name, n, k) in [("qkv", 3 * d, d), ("fc1", 4 * d, d), ("fc2", d, 4 * d)] {
        var forms: [(String, VulkanSequence)] = []
        func add(_ label: String, _ encode: (VulkanSequence) throws -> Void) throws {
            let seq = VulkanSequence(device: device)
            try encode(seq)
            try seq.run()
            forms.append((label, seq))
        }
        try add("rows fp32") { try $0.gemmRows(lib, m: t, n: n, k: k, a: x32, lda: k, b: w32, ldb: n, c: y, ldc: n, bias: bias) }
        try add("rows fp16 A+B") {
            try $0.gemmRows(lib, m: t, n: n, k: k, a: x16, lda: k, b: w16, ldb: n, c: y, ldc: n, bias: bias, fp16: true)
        }
        try add("tiled fp32") {
            try $0.gemm(lib, m: t, n: n, k: k, a: x32, lda: k, b: w32, ldb: k, transB: true, c: y, ldc: n, bias: bias)
        }
        try add("tiled fp16 A+B") {
            try $0.gemm(lib, m: t, n: n, k: k, a: x16, lda: k, b: w16, ldb: k, transB: true, c: y, ldc: n, bias: bias, fp16: true)
        }
        var times = [[Double]](repeating: [], count: forms.count)
        for rep in 0..<reps {
            for i in (rep % 2 == 0 ? Array(forms.indices) : forms.indices.reversed()) {
                let start = Date()
                try forms[i].1.run()
                times[i].append(Date().timeIntervalSince(start))
            }
        }
        let flops = 2.0 * Double(t * n * k)
        for (i, form) in forms.enumerated() {
            let m = middle(times[i])
            let base = i >= 2 ? 2 : 0   // the FP32 form of the same shader family
            let ratio = middle(zip(times[i], times[base]).map { $0 / $1 })
            let vsRows = middle(zip(times[i], times[0]).map { $0 / $1 })
            say(String(format: "%@ %-20@ %9.2f ms %6.2f GFLOP/s; time ratio (median of pairs) vs its fp32 %.3f, vs rows fp32 %.3f",
                       name as NSString, form.0 as NSString, m * 1000, flops / m / 1e9, ratio, vsRows))
        }
    }
}
