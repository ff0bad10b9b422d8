import DA3TestSupport
import DA3Vulkan
import Foundation
import XCTest

/// Loader, enumeration, errors, and the recorded-once / replayed-many contract.
final class VulkanDeviceTests: XCTestCase {
    func testMissingLoaderIsItsOwnError() {
        XCTAssertThrowsError(try VulkanLibrary(path: "/nonexistent/libvulkan.so.1")) { error in
            guard case VulkanError.loaderNotFound = error else { return XCTFail("got \(error)") }
            XCTAssertTrue("\(error)".hasPrefix("no Vulkan loader"), "\(error)")
        }
    }

    func testEnumerationDescribesTheTestDevice() throws {
        let info = try VulkanTestDevice.open().device.info
        XCTAssertFalse(info.name.isEmpty)
        XCTAssertGreaterThan(info.subgroupSize, 0)
        XCTAssertGreaterThan(info.maxSharedMemory, 0)
        XCTAssertTrue(info.label.hasPrefix("vulkan:\(info.index) "))
        if info.name.hasPrefix("llvmpipe") {
            // Facts gpu.md records for lavapipe (Debian 12).
            XCTAssertEqual(info.type, "cpu")
            XCTAssertTrue(info.shaderFloat16 && info.storageBuffer16BitAccess && info.shaderInt8)
            XCTAssertFalse(info.cooperativeMatrix)
        }
    }

    func testBadDeviceIndexIsItsOwnError() throws {
        let instance = try VulkanTestDevice.open().device.instance
        let n = instance.devices.count
        XCTAssertThrowsError(try VulkanDevice(instance: instance, index: n + 6)) { error in
            XCTAssertEqual(error as? VulkanError, .badDeviceIndex(n + 6, available: n))
            XCTAssertTrue("\(error)".hasPrefix("no Vulkan device \(n + 6): \(n) device"), "\(error)")
        }
    }

    func testNoDriverIsItsOwnError() throws {
        _ = try VulkanTestDevice.open()   // skips without a loader
        // The loader reads these when an instance is created: point both at a missing ICD file.
        let names: [String] = ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"]
        let saved = names.map { name in (name, ProcessInfo.processInfo.environment[name]) }
        defer { for (k, v) in saved { if let v { setenv(k, v, 1) } else { unsetenv(k) } } }
        for (k, _) in saved { setenv(k, "/nonexistent/da3_no_icd.json", 1) }
        XCTAssertThrowsError(try { let i = try VulkanInstance(); return try i.resolve(index: nil) }()) { error in
            XCTAssertEqual(error as? VulkanError, .noDevice)
            XCTAssertTrue("\(error)".hasPrefix("no Vulkan device:"), "\(error)")
        }
    }

    func testMissingFeatureMessageNamesDeviceAndFeature() {
        let e = VulkanError.missingFeature(device: "vulkan:1 SwiftShader Device (Subzero)", feature: "shaderFloat16")
        XCTAssertEqual("\(e)", "Vulkan device vulkan:1 SwiftShader Device (Subzero) lacks shaderFloat16")
    }

    /// Per-image work after the first image: no allocation and no recording, one submit.
    func testReplayAllocatesNothingAndRecordsNothing() throws {
        let opened = try VulkanTestDevice.open()
        let (dev, lib) = (opened.device, opened.library)
        let (m, n, k) = (20, 24, 16)
        let weight = randomValues(n * k, seed: 40), bias = randomValues(n, seed: 41)
        let ones = [Float](repeating: 1, count: n), zeros = [Float](repeating: 0, count: n)
        let bw = try buffer(dev, weight), bb = try buffer(dev, bias), g = try buffer(dev, ones), z = try buffer(dev, zeros)
        let input = try VulkanBuffer(device: dev, size: m * k * 4, location: .host)
        let output = try VulkanBuffer(device: dev, size: m * n * 4, location: .host)
        let x = try VulkanBuffer(device: dev, size: m * k * 4), y = try VulkanBuffer(device: dev, size: m * n * 4)
        let seq = VulkanSequence(device: dev)
        seq.copy(from: input, to: x, bytes: m * k * 4)
        try seq.gemm(lib, m: m, n: n, k: k, a: x, lda: k, b: bw, ldb: k, transB: true, c: y, ldc: n, bias: bb, activation: .gelu)
        try seq.layerNorm(lib, x: y, rows: m, width: n, weight: g, bias: z, eps: 1e-6, y: y)
        seq.copy(from: y, to: output, bytes: m * n * 4)

        func expected(_ a: [Float]) -> [Float] {
            var out: [Float] = []
            for i in 0..<m {
                var row = (0..<n).map { j -> Double in
                    var s = Double(bias[j])
                    for p in 0..<k { s += Double(a[i * k + p]) * Double(weight[j * k + p]) }
                    return 0.5 * s * (1 + erf(s / 2.0.squareRoot()))
                }
                let mean = row.reduce(0, +) / Double(n)
                let v = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
                row = row.map { ($0 - mean) / (v + 1e-6).squareRoot() }
                out += row.map { Float($0) }
            }
            return out
        }
        let first = randomValues(m * k, seed: 42), second = randomValues(m * k, seed: 43)
        try input.write(first)
        try seq.run()
        XCTAssertLessThan(maxRelativeError(try output.read(Float.self, count: m * n), expected(first)), 1e-5)
        let before = dev.counters
        try input.write(second)
        try seq.run()
        let after = dev.counters
        XCTAssertLessThan(maxRelativeError(try output.read(Float.self, count: m * n), expected(second)), 1e-5)
        XCTAssertEqual(after.allocations, before.allocations, "second run allocated")
        XCTAssertEqual(after.bytesAllocated, before.bytesAllocated)
        XCTAssertEqual(after.commandBuffersRecorded, before.commandBuffersRecorded, "second run recorded")
        XCTAssertEqual(after.submits, before.submits + 1, "one submit per run")
    }

    /// The generated SPIR-V is what the GLSL compiles to (when this machine's glslc is the one
    /// that generated it), and every shader is valid SPIR-V that the device accepts.
    func testGeneratedShadersAreCurrentAndValid() throws {
        for shader in VulkanShader.all {
            XCTAssertEqual(shader.spirv.first, 0x0723_0203, "\(shader.name): not SPIR-V")
        }
        let opened = try? VulkanTestDevice.open()
        if let opened {
            for shader in VulkanShader.all where !shader.needsFP16 || opened.device.fp16Enabled {
                XCTAssertNoThrow(try opened.library.kernel(shader), shader.name)
            }
        }
        let script = Fixtures.repoRoot.appendingPathComponent("scripts/gen-shaders.sh").path
        let generated = Fixtures.repoRoot.appendingPathComponent("Sources/DA3Vulkan/ShaderLibrary.generated.swift")
        let header = try String(contentsOf: generated, encoding: .utf8).split(separator: "\n").dropFirst().first ?? ""
        guard let local = try? shell("glslc --version | sed -n 1p"), !local.isEmpty else {
            throw XCTSkip("glslc not installed (Debian package glslc): generated shaders not re-checked")
        }
        guard header == "// glslc: \(local)" else {
            throw XCTSkip("shaders were generated by another glslc (\(header)); this one is \(local)")
        }
        XCTAssertNoThrow(try shell("bash '\(script)' --check"), "Sources/DA3Vulkan/ShaderLibrary.generated.swift is stale: run scripts/gen-shaders.sh")
    }

    /// Runs `command` with bash; returns its trimmed stdout, throws on a non-zero status.
    func shell(_ command: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", command]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw VulkanError.invalidArgument("`\(command)` exited \(p.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
