// Allocator tuning for processes that run the engine (see da3_fix_mmap_threshold in ckernels.h).
#include "ckernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void da3_fix_mmap_threshold(size_t bytes) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, (int)bytes);
#else
    (void)bytes;
#endif
}
