import XCTest
import Foundation
@testable import DA3Kernels

/// The engine's thread pool and the row partition its products use.
final class ParallelTests: XCTestCase {
    /// Every index runs exactly once, for region sizes around the worker count and far above it,
    /// back to back (regions reuse the pool's state) and with bodies of uneven length.
    func testEveryIndexRunsOnce() {
        for count in [1, 2, 3, 7, 64, 1000] {
            for _ in 0..<50 {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
                hits.initialize(repeating: 0, count: count)
                defer { hits.deallocate() }
                let box = UncheckedBox(hits)
                Parallel.forEachIndex(count) { i in
                    if i % 5 == 0 { usleep(10) }
                    box.value[i] += 1
                }
                XCTAssertEqual(Array(UnsafeBufferPointer(start: hits, count: count)), [Int](repeating: 1, count: count),
                               "region of \(count)")
            }
        }
    }

    /// A region started inside a body (nested) runs on the caller, and regions started from several
    /// threads at once (one runs on the pool, the others serially) all complete correctly.
    func testNestedAndConcurrentRegions() {
        let total = Counter()
        Parallel.forEachIndex(4) { _ in
            Parallel.forEachIndex(8) { _ in total.add() }
        }
        XCTAssertEqual(total.value, 32)
        let concurrent = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<20 {
                Parallel.forEachItem(16) { _, _ in concurrent.add() }
            }
        }
        XCTAssertEqual(concurrent.value, 4 * 20 * 16)
    }

    /// Parts cover the rows in order without gaps, start on 8-row blocks, number a multiple of the
    /// workers when there are enough rows, and differ by at most one block.
    func testRowPartsAreBalancedWholeBlocks() {
        for rows in [1, 7, 8, 9, 63, 64, 65, 721, 1000, 2305] {
            for workers in [1, 2, 3] {
                let parts = RowParts(rows: rows, target: 64, workers: workers)
                var next = 0
                var sizes: [Int] = []
                for i in 0..<parts.count {
                    let (start, count) = parts.range(i)
                    XCTAssertEqual(start, next, "\(rows) rows, \(workers) workers, part \(i)")
                    XCTAssertEqual(start % 8, 0)
                    XCTAssertLessThanOrEqual(count, parts.maxRows)
                    sizes.append(count - (i == parts.count - 1 ? rows % 8 : 0))
                    next = start + count
                }
                XCTAssertEqual(next, rows, "\(rows) rows, \(workers) workers")
                if rows >= 8 { XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 8, "\(rows) rows: \(sizes)") }
                if (rows + 63) / 64 >= workers && rows / 8 >= workers {
                    XCTAssertEqual(parts.count % workers, 0, "\(rows) rows, \(workers) workers: \(parts.count) parts")
                }
            }
        }
        XCTAssertEqual(RowParts(rows: 721, target: 64, workers: 2).maxRows, 65)  // 8 blocks + the lone row
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
