/// Read-only weight elements prepared at load (packed panels, transforms, copies): either in memory
/// of their own, or a region of a mapped weight cache file (see `DA3Weights.PackedWeightCache`), kept
/// alive by `owner`.
public struct WeightMemory<Element: BitwiseCopyable>: @unchecked Sendable {
    /// The first element (64-byte aligned in memory of its own, page-aligned in a cache file).
    public let base: UnsafePointer<Element>
    /// Number of elements.
    public let count: Int
    /// Keeps the allocation or the mapping alive as long as any copy of this value exists.
    private let owner: AnyObject

    /// Memory of its own for `count` elements, written by `fill` once.
    public init(count: Int, fill: (UnsafeMutableBufferPointer<Element>) -> Void) {
        let storage = AlignedStorage(bytes: max(count, 1) * MemoryLayout<Element>.stride)
        let elements = storage.pointer.bindMemory(to: Element.self, capacity: max(count, 1))
        fill(UnsafeMutableBufferPointer(start: elements, count: count))
        self.init(base: elements, count: count, owner: storage)
    }

    /// Elements that live in memory owned by `owner` (e.g. a mapped file), which must outlive every use.
    public init(base: UnsafePointer<Element>, count: Int, owner: AnyObject) {
        self.base = base
        self.count = count
        self.owner = owner
    }

    /// Calls `body` with the elements, keeping their memory alive meanwhile.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }

    /// The elements' bytes (e.g. to store them in a cache file).
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count * MemoryLayout<Element>.stride)
    }
}

extension WeightMemory where Element == Float {
    /// The values rounded to bfloat16 (bit patterns).
    public func bf16() -> WeightMemory<UInt16> {
        WeightMemory<UInt16>(count: count) { out in Elementwise.toBF16(base, into: out.baseAddress!, count: count) }
    }
}

/// A 64-byte aligned heap block freed with its last reference.
private final class AlignedStorage {
    let pointer: UnsafeMutableRawPointer

    init(bytes: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    deinit { pointer.deallocate() }
}
