// Allocator tuning for processes that run the engine (see da3_fix_mmap_threshold in ckernels.h).
#include "ckernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void da3_fix_mmap_threshold(size_t bytes) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, (int)bytes);
    // As glibc's own adaptive rule does: keep up to twice that free at the heap top instead of
    // returning it (and faulting it back in for the next buffer).
    mallopt(M_TRIM_THRESHOLD, (int)(2 * bytes));
#else
    (void)bytes;
#endif
}
