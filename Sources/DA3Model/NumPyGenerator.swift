/// NumPy's default generator (`np.random.default_rng(seed)`: `SeedSequence` → PCG64) and the
/// draws the official scene alignment makes from it (`Generator.choice(n, size, replace=False)`),
/// so that the engine's RANSAC alignment of 10 or more known cameras samples exactly what upstream
/// samples (`utils/pose_align.py` seeds it with 42). Checked draw for draw against NumPy.
public struct NumPyGenerator: Sendable {
    private var state: UInt128 = 0
    private let increment: UInt128
    private var spare: UInt32?

    private static let multiplier: UInt128 = 0x2360_ED05_1FC6_5DA4_4385_DF64_9FCC_F645

    /// As `np.random.default_rng(seed)` for a non-negative integer seed.
    public init(seed: UInt64) {
        let words = Self.seedSequenceState(seed, words64: 4)
        let initial = UInt128(words[0]) << 64 | UInt128(words[1])
        let sequence = UInt128(words[2]) << 64 | UInt128(words[3])
        increment = sequence << 1 | 1
        step()
        state &+= initial
        step()
    }

    private mutating func step() { state = state &* Self.multiplier &+ increment }

    /// PCG64's next 64-bit output (XSL-RR of the advanced state).
    public mutating func next64() -> UInt64 {
        step()
        let x = UInt64(truncatingIfNeeded: state >> 64) ^ UInt64(truncatingIfNeeded: state)
        let r = UInt64(truncatingIfNeeded: state >> 122)
        return x >> r | x << ((64 - r) & 63)
    }

    /// The low half of a 64-bit output, then its high half (NumPy's `next_uint32`).
    public mutating func next32() -> UInt32 {
        if let s = spare {
            spare = nil
            return s
        }
        let n = next64()
        spare = UInt32(truncatingIfNeeded: n >> 32)
        return UInt32(truncatingIfNeeded: n)
    }

    /// A uniform integer in 0...bound (Lemire's method as NumPy's `random_bounded_uint64`, bound < 2^32 - 1).
    public mutating func bounded(_ bound: Int) -> Int {
        precondition(bound >= 0 && UInt64(bound) < UInt64(UInt32.max), "bounds below 2^32 - 1")
        if bound == 0 { return 0 }
        let exclusive = UInt64(bound) + 1
        var m = UInt64(next32()) * exclusive
        if UInt64(UInt32(truncatingIfNeeded: m)) < exclusive {
            let threshold = (UInt64(UInt32.max) - UInt64(bound)) % exclusive
            while UInt64(UInt32(truncatingIfNeeded: m)) < threshold { m = UInt64(next32()) * exclusive }
        }
        return Int(m >> 32)
    }

    /// `Generator.choice(n, size, replace=False)` for n up to 10000: Floyd's sampling with NumPy's
    /// open-addressing set, then a shuffle.
    public mutating func choice(_ n: Int, size: Int) -> [Int] {
        precondition(size <= n && n <= 10_000, "choice without replacement of up to 10000")
        var mask = 1
        while mask < Int(1.2 * Double(size)) { mask = mask << 1 | 1 }
        var set = [Int](repeating: -1, count: mask + 1), picked = [Int](repeating: 0, count: size)
        for j in (n - size)..<n {
            let value = bounded(j)
            var slot = value & mask
            while set[slot] != -1 && set[slot] != value { slot = (slot + 1) & mask }
            if set[slot] == -1 {
                set[slot] = value
                picked[j - n + size] = value
            } else {
                slot = j & mask
                while set[slot] != -1 { slot = (slot + 1) & mask }
                set[slot] = j
                picked[j - n + size] = j
            }
        }
        for i in stride(from: size - 1, through: 1, by: -1) { picked.swapAt(i, bounded(i)) }
        return picked
    }

    /// `SeedSequence(seed).generate_state(words64, np.uint64)`.
    static func seedSequenceState(_ seed: UInt64, words64: Int) -> [UInt64] {
        var entropy: [UInt32] = []
        var s = seed
        repeat {
            entropy.append(UInt32(truncatingIfNeeded: s))
            s >>= 32
        } while s != 0
        var hashConstant: UInt32 = 0x43B0_D7E5
        func hashmix(_ v: UInt32) -> UInt32 {
            var v = v ^ hashConstant
            hashConstant = hashConstant &* 0x931E_8875
            v = v &* hashConstant
            return v ^ (v >> 16)
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            let r = 0xCA01_F9DD &* x &- 0x4973_F715 &* y
            return r ^ (r >> 16)
        }
        var pool = (0..<4).map { hashmix($0 < entropy.count ? entropy[$0] : 0) }
        for src in 0..<4 {
            for dst in 0..<4 where src != dst { pool[dst] = mix(pool[dst], hashmix(pool[src])) }
        }
        for src in 4..<max(4, entropy.count) {
            for dst in 0..<4 { pool[dst] = mix(pool[dst], hashmix(entropy[src])) }
        }
        var h: UInt32 = 0x8B51_F9DD
        let words32 = (0..<(2 * words64)).map { i -> UInt32 in
            var v = pool[i % 4] ^ h
            h = h &* 0x58F3_8DED
            v = v &* h
            return v ^ (v >> 16)
        }
        return (0..<words64).map { UInt64(words32[2 * $0]) | UInt64(words32[2 * $0 + 1]) << 32 }
    }
}
