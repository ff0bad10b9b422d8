// Branch-free float exp that compilers vectorize inside the target-specific loops, bfloat16 rounding,
// and the AVX-512 exp2 of the attention kernels.
#ifndef DA3_VMATH_H
#define DA3_VMATH_H

#include <stdint.h>
#include <string.h>

// exp(x), Cephes-style: range reduction by ln 2 with a two-part constant, then a degree-6
// polynomial; relative error about 1 ulp. Arguments are clamped to [-87.3, 88.3], so results
// below the smallest normal float are not produced (softmax never needs them).
static inline float da3_expf(float x) {
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    float n = __builtin_rintf(x * log2e);
    float r = x - n * ln2_hi;
    r = r - n * ln2_lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

// float -> bfloat16 bit pattern, round to nearest even (NaN stays NaN).
static inline uint16_t da3_bf16_round_scalar(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

#include "dispatch.h"
#ifdef DA3_X86
#include <immintrin.h>

// 2^x for x <= 0 on 16 lanes: x = n + r exactly (|r| <= 1/2), 2^r by its Taylor polynomial of
// `degree` (7: truncation below 1e-8 relative, under half an ulp; 5: below 3e-6, for values that
// are rounded to bfloat16 next), 2^n by scalef, which also flushes very negative x to 0.
DA3_TARGET_AVX512 static inline __m512 da3_exp2_nonpositive16(__m512 x, int degree) {
    static const float taylor[8] = {1.0f, 6.9314718056e-1f, 2.4022650696e-1f, 5.5504108665e-2f,
                                    9.6181291076e-3f, 1.3333558146e-3f, 1.5403530393e-4f, 1.5252733804e-5f};
    __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_sub_ps(x, n);
    __m512 p = _mm512_set1_ps(taylor[degree]);
    for (int i = degree - 1; i >= 0; i--) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(taylor[i]));
    return _mm512_scalef_ps(p, n);
}
#endif

#endif
