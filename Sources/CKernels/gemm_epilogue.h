// The epilogue shared by the 8-row x 32-column GEMM micro-kernels (gemm_f32.c, gemm_bf16.c):
// C = acc + bias or C += acc + bias for `rows` rows, masked to the panel's `cols` valid columns.
#ifndef DA3_GEMM_EPILOGUE_H
#define DA3_GEMM_EPILOGUE_H

#include "dispatch.h"
#ifdef DA3_X86
#include <immintrin.h>

DA3_TARGET_AVX512 static inline void da3_store_panel_rows(const __m512 *acc0, const __m512 *acc1, int rows,
                                                          const float *bias, int accumulate, float *c, size_t ldc,
                                                          size_t cols) {
    __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xFFFF : (cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0);
    __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    __m512 bias1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
    for (int r = 0; r < rows; r++) {
        float *out = c + r * ldc;
        __m512 v0 = _mm512_add_ps(acc0[r], bias0), v1 = _mm512_add_ps(acc1[r], bias1);
        if (accumulate) {
            v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, out), v0);
            v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, out + 16), v1);
        }
        _mm512_mask_storeu_ps(out, m0, v0);
        _mm512_mask_storeu_ps(out + 16, m1, v1);
    }
}
#endif

#endif
