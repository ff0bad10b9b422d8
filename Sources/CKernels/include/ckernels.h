// Hand-written SIMD kernels for the hot pointwise/row operations. Each function picks an
// AVX-512, AVX2+FMA or portable implementation at run time, so no compiler flags are needed
// and the package stays usable as an ordinary dependency.
#ifndef DA3_CKERNELS_H
#define DA3_CKERNELS_H

#include <stddef.h>

/// Row-wise softmax in place: rows x width, row stride ld (elements).
void da3_softmax_rows(float *x, size_t rows, size_t width, size_t ld);

/// Exact-erf GELU in place: 0.5 x (1 + erf(x / sqrt 2)).
void da3_gelu(float *x, size_t count);

/// glibc raises its mmap threshold after large blocks are freed, after which multi-megabyte
/// activation buffers stay on the heap and count towards resident memory; fixing the threshold
/// returns them to the system when freed. No-op on other C libraries.
void da3_fix_mmap_threshold(size_t bytes);

#endif
