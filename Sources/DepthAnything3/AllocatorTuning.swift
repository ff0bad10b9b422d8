import CKernels
import DA3Kernels

/// Process-wide settings that suit the engine: the memory allocator (glibc only) and BLAS threads.
///
/// Call once at start-up in a process that runs the engine (`da3` and `da3-bench` do). Activation
/// buffers up to 32 MB (glibc's largest mmap threshold) then come from the heap and freed ones
/// stay there for the next layer, instead of being mapped afresh and page-faulted in each time
/// (glibc's defaults return them to the system): at 896 x 504 about 0.1-0.2 s less per image,
/// for a few MB more peak resident memory. The engine never materializes larger maps in its hot path.
/// BLAS is made single-threaded (the engine owns the threads) and OpenBLAS's worker threads, which
/// it starts when loaded and which busy-wait for about 0.15 s, are ended: on 2 cores they would take
/// one from model loading and decoding.
public enum AllocatorTuning {
    public static func configureForEngine() {
        da3_fix_mmap_threshold(32 << 20)
        GEMM.makeSerial()
        da3_stop_blas_threads()
    }
}
