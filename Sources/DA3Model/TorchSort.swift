/// `torch.argsort(x, descending=True)` on the CPU, order of ties included: torch sorts (value,
/// index) pairs with `std::sort` and its `KeyValueCompDesc` comparator (NaN first, then larger
/// first), and libstdc++'s `std::sort` is an introsort (median-of-three pivot, unguarded
/// partition, heap sort below depth 2 log2 n, insertion sort of runs of 16) whose order of equal
/// keys is a function of the input alone. The ray pose's RANSAC picks its samples by position in
/// this order, so ties must come out as upstream's. Checked against torch (`RayPoseTests`).
enum TorchSort {
    /// Indices of `values` by descending value, as torch orders them.
    static func argsortDescending(_ values: [Float]) -> [Int] {
        var a = values.enumerated().map { (value: $0.element, index: $0.offset) }
        a.withUnsafeMutableBufferPointer { buffer in
            var sorter = Introsort(a: buffer)
            sorter.sort()
        }
        return a.map(\.index)
    }

    private struct Introsort {
        typealias Item = (value: Float, index: Int)
        let a: UnsafeMutableBufferPointer<Item>

        @inline(__always)
        func comp(_ x: Item, _ y: Item) -> Bool { (x.value.isNaN && !y.value.isNaN) || x.value > y.value }

        mutating func sort() {
            let n = a.count
            guard n > 0 else { return }
            introsortLoop(0, n, depth: 2 * (Int.bitWidth - 1 - n.leadingZeroBitCount))
            if n > 16 {
                insertionSort(0, 16)
                for i in 16..<n { unguardedLinearInsert(i) }
            } else {
                insertionSort(0, n)
            }
        }

        func introsortLoop(_ first: Int, _ last: Int, depth: Int) {
            var (last, depth) = (last, depth)
            while last - first > 16 {
                if depth == 0 {
                    heapSort(first, last)
                    return
                }
                depth -= 1
                moveMedianToFirst(first, first + 1, first + (last - first) / 2, last - 1)
                let cut = unguardedPartition(first + 1, last, pivot: first)
                introsortLoop(cut, last, depth: depth)
                last = cut
            }
        }

        func moveMedianToFirst(_ result: Int, _ x: Int, _ y: Int, _ z: Int) {
            if comp(a[x], a[y]) {
                if comp(a[y], a[z]) { a.swapAt(result, y) } else if comp(a[x], a[z]) { a.swapAt(result, z) } else { a.swapAt(result, x) }
            } else if comp(a[x], a[z]) {
                a.swapAt(result, x)
            } else if comp(a[y], a[z]) {
                a.swapAt(result, z)
            } else {
                a.swapAt(result, y)
            }
        }

        func unguardedPartition(_ first: Int, _ last: Int, pivot: Int) -> Int {
            var (first, last) = (first, last)
            while true {
                while comp(a[first], a[pivot]) { first += 1 }
                last -= 1
                while comp(a[pivot], a[last]) { last -= 1 }
                if !(first < last) { return first }
                a.swapAt(first, last)
                first += 1
            }
        }

        /// `__adjust_heap` with its `__push_heap` (on a[first...], a max-heap under `comp`).
        func adjustHeap(_ first: Int, _ hole: Int, _ length: Int, _ value: Item) {
            var (hole, child) = (hole, hole)
            let top = hole
            while child < (length - 1) / 2 {
                child = 2 * (child + 1)
                if comp(a[first + child], a[first + child - 1]) { child -= 1 }
                a[first + hole] = a[first + child]
                hole = child
            }
            if length & 1 == 0 && child == (length - 2) / 2 {
                child = 2 * (child + 1)
                a[first + hole] = a[first + child - 1]
                hole = child - 1
            }
            var parent = (hole - 1) / 2
            while hole > top && comp(a[first + parent], value) {
                a[first + hole] = a[first + parent]
                hole = parent
                parent = (hole - 1) / 2
            }
            a[first + hole] = value
        }

        /// `__partial_sort(first, last, last)`: make the heap, then pop it.
        func heapSort(_ first: Int, _ last: Int) {
            let length = last - first
            if length >= 2 {
                var parent = (length - 2) / 2
                while true {
                    adjustHeap(first, parent, length, a[first + parent])
                    if parent == 0 { break }
                    parent -= 1
                }
            }
            var end = last
            while end - first > 1 {
                end -= 1
                let value = a[end]
                a[end] = a[first]
                adjustHeap(first, 0, end - first, value)
            }
        }

        func unguardedLinearInsert(_ i: Int) {
            let value = a[i]
            var (last, next) = (i, i - 1)
            while comp(value, a[next]) {
                a[last] = a[next]
                last = next
                next -= 1
            }
            a[last] = value
        }

        func insertionSort(_ first: Int, _ last: Int) {
            guard first != last else { return }
            for i in (first + 1)..<last {
                if comp(a[i], a[first]) {
                    let value = a[i]
                    var j = i
                    while j > first { a[j] = a[j - 1]; j -= 1 }
                    a[first] = value
                } else {
                    unguardedLinearInsert(i)
                }
            }
        }
    }
}
