// Allocator tuning for processes that run the engine (see da3_fix_mmap_threshold in ckernels.h).
#include "ckernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static int heap_keeps_freed = 0;

void da3_fix_mmap_threshold(size_t bytes) {
#if defined(__GLIBC__)
    heap_keeps_freed = 1;
    mallopt(M_MMAP_THRESHOLD, (int)bytes);
    // Keep up to 16 times that free at the heap top instead of returning it: one image's
    // activations (about 150 MB at 896 x 504 for DA3-Small) stay mapped for the next image
    // instead of being faulted in again (glibc's adaptive rule would keep only twice the threshold).
    mallopt(M_TRIM_THRESHOLD, (int)(16 * bytes));
#else
    (void)bytes;
#endif
}

int da3_heap_keeps_freed(void) { return heap_keeps_freed; }

void da3_touch_pages(void *memory, size_t bytes) {
    // volatile: the stores are the point, although nothing reads them.
    volatile char *bytes_out = (volatile char *)memory;
    for (size_t offset = 0; offset < bytes; offset += 4096) bytes_out[offset] = 0;
}
