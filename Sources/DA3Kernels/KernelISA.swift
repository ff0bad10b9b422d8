import CKernels

/// The instruction-set level the CPU kernels run at: the CPU's best (AVX-512 with F/VL/DQ/BW, else
/// AVX2 with FMA, else portable C), or lower where the environment variable `DA3_ISA` (`avx2`,
/// `generic`) asks for it, so that the lower levels can be run and timed on any machine. Below
/// AVX-512 the linear layers and attention products run on BLAS and there is no bfloat16 or int8
/// path (`--precision fast` then falls back to exact).
public enum KernelISA: Int, Sendable, Comparable, CaseIterable {
    case generic = 1
    case avx2 = 2
    case avx512 = 3

    /// The level the kernels dispatch on now.
    public static var current: KernelISA { KernelISA(rawValue: Int(da3_kernel_isa())) ?? .generic }

    /// The name `DA3_ISA` takes and reports give: "avx512", "avx2" or "generic".
    public var name: String {
        switch self {
        case .generic: "generic"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    /// Runs `body` with the kernels capped at `level` (for tests of the lower levels' kernel bodies),
    /// then restores the cap. Answers cached before (`GEMMF32.available`) do not change.
    public static func withLimit<R>(_ level: KernelISA, _ body: () throws -> R) rethrows -> R {
        let previous = da3_limit_isa(Int32(level.rawValue))
        defer { da3_limit_isa(previous) }
        return try body()
    }

    public static func < (a: KernelISA, b: KernelISA) -> Bool { a.rawValue < b.rawValue }
}
