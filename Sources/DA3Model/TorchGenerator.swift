/// PyTorch's CPU random generator (`torch.manual_seed`, `torch.randperm` on the CPU): MT19937 seeded
/// with the seed's low 32 bits, and randperm's swap loop (`z = random() % (n - i)`). Seeded alike,
/// it draws exactly what the official code draws, so the ray pose's RANSAC samples can equal
/// upstream's (`tools/reference/make_anyview_goldens.py` records torch's draws for the test).
public struct TorchGenerator: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    /// As after `torch.manual_seed(seed)`.
    public init(seed: UInt64) {
        state[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    /// The next 32-bit output (`CPUGeneratorImpl::random`).
    public mutating func next() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// `torch.randperm(n)` (n below 2^32 / 20, where upstream keeps this loop).
    public mutating func permutation(_ n: Int) -> [Int] {
        precondition(n < Int(UInt32.max / 20), "randperm's swap loop covers n < 2^32 / 20")
        var r = Array(0..<n)
        if n < 2 { return r }
        for i in 0..<(n - 1) {
            let z = Int(next() % UInt32(n - i))
            r.swapAt(i, z + i)
        }
        return r
    }

    private mutating func twist() {
        for k in 0..<624 {
            let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7FFF_FFFF)
            state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
        }
        index = 0
    }
}
