import CKernels

/// Process-wide allocator settings for the command-line tool.
enum Allocator {
    /// Activation buffers up to 32 MB (glibc's largest mmap threshold) come from the heap, where
    /// freed ones are reused by the next layer instead of being mapped afresh and page-faulted
    /// in: about 0.1-0.2 s less per 896 x 504 image than a 1 MB threshold, for about 7 MB more
    /// peak RSS (266 MB). The engine never materializes maps larger than that in its hot path.
    static func configureForLargeBuffers() {
        da3_fix_mmap_threshold(32 << 20)
    }
}
