import XCTest
import DA3Kernels

/// SplitMix64: a tiny seeded generator so every run sees the same inputs.
struct SeededRNG: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        let u = Double(next() >> 11) / Double(1 << 53)
        return Float(Double(lo) + (Double(hi) - Double(lo)) * u)
    }

    mutating func floats(_ count: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<count).map { _ in uniform(lo, hi) }
    }
}

/// max|a - ref| / max|ref| (ref in Double); 0 when both are all zero.
func normalizedError(_ a: [Float], _ ref: [Double]) -> Double {
    precondition(a.count == ref.count, "count \(a.count) vs reference \(ref.count)")
    var maxDiff = 0.0, maxRef = 0.0
    for i in 0..<a.count {
        let d = abs(Double(a[i]) - ref[i])
        if d.isNaN { return .infinity }
        maxDiff = max(maxDiff, d)
        maxRef = max(maxRef, abs(ref[i]))
    }
    if maxRef == 0 { return maxDiff }
    return maxDiff / maxRef
}

/// Asserts the normalized error is within `tolerance`, naming the case on failure.
func assertClose(
    _ a: [Float], _ ref: [Double], tolerance: Double = 1e-5, _ label: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
) {
    let e = normalizedError(a, ref)
    XCTAssertLessThanOrEqual(e, tolerance, "\(label()): normalized error \(e)", file: file, line: line)
}

extension XCTestCase {
    /// Runs `body` at every kernel instruction-set level this CPU offers, from the best down to the
    /// portable C bodies (`KernelISA.withLimit`), so the AVX2 and portable bodies of a kernel meet the
    /// same naive twin as the AVX-512 one on machines that would otherwise only ever run the latter.
    /// Failures at a lower level are followed by one naming that level.
    func atEveryISALevel(_ body: () throws -> Void) rethrows {
        let best = KernelISA.current
        for level in KernelISA.allCases.reversed() where level <= best {
            let failures = testRun?.totalFailureCount ?? 0
            try KernelISA.withLimit(level) { try body() }
            if (testRun?.totalFailureCount ?? 0) > failures, level != best {
                XCTFail("the failures above are at kernel ISA level \(level.name)")
            }
        }
    }
}
