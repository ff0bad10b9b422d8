// Row softmax (the attention probabilities): max, exp(x - max) with the vectorizable da3_expf,
// sum, scale. The same body is compiled for AVX-512, AVX2+FMA and baseline x86-64/other CPUs.
#include "ckernels.h"
#include "dispatch.h"
#include "vmath.h"

#define SOFTMAX_BODY                                                        \
    _Pragma("clang fp reassociate(on)")                                     \
    for (size_t r = 0; r < rows; r++) {                                     \
        float *row = x + r * ld;                                            \
        float m = row[0];                                                   \
        for (size_t i = 1; i < width; i++) m = row[i] > m ? row[i] : m;     \
        float sum = 0.0f;                                                   \
        for (size_t i = 0; i < width; i++) {                                \
            float e = da3_expf(row[i] - m);                                 \
            row[i] = e;                                                     \
            sum += e;                                                       \
        }                                                                   \
        float inv = 1.0f / sum;                                             \
        for (size_t i = 0; i < width; i++) row[i] *= inv;                   \
    }

static void softmax_generic(float *x, size_t rows, size_t width, size_t ld) { SOFTMAX_BODY }

#ifdef DA3_X86
DA3_TARGET_AVX512 static void softmax_avx512(float *x, size_t rows, size_t width, size_t ld) { SOFTMAX_BODY }
DA3_TARGET_AVX2 static void softmax_avx2(float *x, size_t rows, size_t width, size_t ld) { SOFTMAX_BODY }
#endif

void da3_softmax_rows(float *x, size_t rows, size_t width, size_t ld) {
    if (width == 0) return;
#ifdef DA3_X86
    switch (da3_detect_isa()) {
    case DA3_ISA_AVX512: softmax_avx512(x, rows, width, ld); return;
    case DA3_ISA_AVX2: softmax_avx2(x, rows, width, ld); return;
    default: break;
    }
#endif
    softmax_generic(x, rows, width, ld);
}
