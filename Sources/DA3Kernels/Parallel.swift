import CKernels
import Foundation

/// Splits work over the engine's threads (a persistent pool, `CKernels/thread_pool.c`): in static
/// chunks (one per worker) or as items taken one at a time.
public enum Parallel {
    /// Number of worker threads used by `forEachChunk` (defaults to the active processor count,
    /// overridden by `DA3_NUM_THREADS`).
    public static let threadCount: Int = {
        if let s = ProcessInfo.processInfo.environment["DA3_NUM_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// The engine's persistent workers (`CKernels/thread_pool.c`), started on first use.
    private static let pool: Void = da3_pool_start(threadCount)

    /// Calls `body(i)` for i in 0..<count on the engine's threads (one region, no size threshold).
    /// Indices are taken by whichever thread is free; a region started inside a body runs serially.
    public static func forEachIndex(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 { if count == 1 { body(0) }; return }
        _ = pool
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { context in
                da3_pool_run(count, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, context)
            }
        }
    }

    /// Calls `body` on disjoint sub-ranges covering `0..<count`, in parallel when the work is
    /// large enough (`count * costPerItem` above ~100k units).
    public static func forEachChunk(_ count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(threadCount, count)
        if workers <= 1 || count * costPerItem < 100_000 {
            body(0..<count)
            return
        }
        let chunk = (count + workers - 1) / workers
        withoutActuallyEscaping(body) { body in
            forEachIndex(workers) { w in
                let start = w * chunk
                let end = min(count, start + chunk)
                if start < end { body(start..<end) }
            }
        }
    }
}

extension Parallel {
    /// Calls `body(worker, item)` for every item in 0..<count on up to `threadCount` workers that
    /// take items one at a time, so a worker slowed by another process (shared machines) takes
    /// fewer instead of holding everyone at the end of the region. `worker` (0..<workers) indexes
    /// per-worker scratch.
    public static func forEachItem(_ count: Int, maxWorkers: Int = threadCount, _ body: (_ worker: Int, _ item: Int) -> Void) {
        let workers = max(1, min(maxWorkers, count))
        let queue = WorkQueue(count: count)
        forEachIndex(workers) { w in
            while let item = queue.next() { body(w, item) }
        }
    }
}

/// Hands out 0 ..< count to concurrent workers, one index per call.
public final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private let count: Int

    public init(count: Int) { self.count = count }

    public func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard nextIndex < count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }
}

/// Carries a non-Sendable value (a pointer, a closure) into a concurrent region whose
/// iterations touch disjoint data.
public struct UncheckedBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
