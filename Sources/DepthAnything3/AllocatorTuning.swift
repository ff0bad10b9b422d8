import CKernels
import DA3Kernels
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide settings that suit the engine: the memory allocator (glibc only) and BLAS threads.
///
/// Call once at start-up in a process that runs the engine (`da3` and `da3-bench` do). Activation
/// buffers up to 32 MB (glibc's largest mmap threshold) then come from the heap and freed ones
/// stay there for the next layer, instead of being mapped afresh and page-faulted in each time
/// (glibc's defaults return them to the system): at 896 x 504 about 0.1-0.2 s less per image,
/// for a few MB more peak resident memory. The engine never materializes larger maps in its hot path.
/// BLAS (OpenBLAS, single-threaded: the engine owns the threads) starts loading on a thread of its
/// own, overlapping the argument checks and the model load instead of the process start.
public enum AllocatorTuning {
    public static func configureForEngine() {
        da3_fix_mmap_threshold(32 << 20)
        GEMM.preload()
    }

    /// Maps up to `bytes` of fresh heap memory now, in whole MB, while `keepGoing()` says there is
    /// time (it is asked before every MB), and leaves it free at the heap top: the next allocations
    /// of this thread (a first forward's activations) then use memory that is already mapped instead
    /// of page-faulting it in as they write it. Meant for time a thread would otherwise wait (the
    /// pipeline waits for its model load). Does nothing unless ``configureForEngine()`` made the heap
    /// keep freed memory (glibc). Returns the bytes mapped.
    @discardableResult
    public static func prefaultHeap(upTo bytes: Int, while keepGoing: () -> Bool) -> Int {
        guard da3_heap_keeps_freed() != 0, bytes > 0 else { return 0 }
        let block = 1 << 20
        var blocks: [UnsafeMutableRawPointer] = []
        blocks.reserveCapacity(bytes / block + 1)
        while (blocks.count + 1) * block <= bytes, keepGoing(), let memory = malloc(block) {
            da3_touch_pages(memory, block)
            blocks.append(memory)
        }
        for memory in blocks { free(memory) }
        return blocks.count * block
    }
}
