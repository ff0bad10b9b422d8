// Two-tap interpolation with gathered taps, the horizontal pass of the separable bilinear resize:
// out[k] = w0[k] * row[i0[k]] + w1[k] * row[i1[k]], both products rounded before the sum (no
// fused multiply-add), so every ISA gives the same floats as the plain expression.
#include "ckernels.h"
#include "dispatch.h"

static void lerp_generic(const float *row, const int32_t *i0, const int32_t *i1, const float *w0, const float *w1,
                         size_t n, float *out) {
#pragma clang fp contract(off)
    for (size_t k = 0; k < n; k++) out[k] = w0[k] * row[i0[k]] + w1[k] * row[i1[k]];
}

#ifdef DA3_X86
#include <immintrin.h>

DA3_TARGET_AVX512 static void lerp_avx512(const float *row, const int32_t *i0, const int32_t *i1, const float *w0,
                                          const float *w1, size_t n, float *out) {
    size_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512i j0 = _mm512_loadu_si512(i0 + k), j1 = _mm512_loadu_si512(i1 + k);
        int32_t base = _mm512_reduce_min_epi32(_mm512_min_epi32(j0, j1));
        int32_t span = _mm512_reduce_max_epi32(_mm512_max_epi32(j0, j1)) - base + 1;
        __m512 a, b;
        if (span <= 32) {
            // Upsampling: the 16 outputs read one window of at most 32 sources, loaded once (masked,
            // so nothing past the window is touched) and picked by permutes instead of gathers.
            __mmask16 mlo = span >= 16 ? 0xFFFF : (__mmask16)((1u << span) - 1);
            __mmask16 mhi = span > 16 ? (__mmask16)((1u << (span - 16)) - 1) : 0;
            __m512 lo = _mm512_maskz_loadu_ps(mlo, row + base), hi = _mm512_maskz_loadu_ps(mhi, row + base + 16);
            __m512i vb = _mm512_set1_epi32(base);
            a = _mm512_permutex2var_ps(lo, _mm512_sub_epi32(j0, vb), hi);
            b = _mm512_permutex2var_ps(lo, _mm512_sub_epi32(j1, vb), hi);
        } else {
            a = _mm512_i32gather_ps(j0, row, 4);
            b = _mm512_i32gather_ps(j1, row, 4);
        }
        __m512 p = _mm512_mul_ps(_mm512_loadu_ps(w0 + k), a), q = _mm512_mul_ps(_mm512_loadu_ps(w1 + k), b);
        _mm512_storeu_ps(out + k, _mm512_add_ps(p, q));
    }
    lerp_generic(row, i0 + k, i1 + k, w0 + k, w1 + k, n - k, out + k);
}
#endif

void da3_lerp_gather(const float *row, const int32_t *i0, const int32_t *i1, const float *w0, const float *w1, size_t n,
                     float *out) {
#ifdef DA3_X86
    if (da3_detect_isa() == DA3_ISA_AVX512) { lerp_avx512(row, i0, i1, w0, w1, n, out); return; }
#endif
    lerp_generic(row, i0, i1, w0, w1, n, out);
}
