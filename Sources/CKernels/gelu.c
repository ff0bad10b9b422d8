// Exact (erf) GELU, 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.GELU(). On x86-64 glibc >= 2.35 the
// erf comes from glibc's vector math library (libmvec, same accuracy class as erff); elsewhere
// from scalar erff.
#include <math.h>
#include "ckernels.h"
#include "dispatch.h"

#define DA3_SQRT1_2 0.70710678118654752440f

static void gelu_scalar(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * DA3_SQRT1_2));
}

#if defined(DA3_X86) && defined(__GLIBC__) && __GLIBC_PREREQ(2, 35)
#define DA3_HAVE_MVEC 1
#include <immintrin.h>
DA3_TARGET_AVX512 __m512 _ZGVeN16v_erff(__m512);
DA3_TARGET_AVX2 __m256 _ZGVdN8v_erff(__m256);

DA3_TARGET_AVX512 static void gelu_avx512(float *x, size_t count) {
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), s = _mm512_set1_ps(DA3_SQRT1_2);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __m512 e = _ZGVeN16v_erff(_mm512_mul_ps(v, s));
        _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e)));
    }
    gelu_scalar(x + i, count - i);
}

DA3_TARGET_AVX2 static void gelu_avx2(float *x, size_t count) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), s = _mm256_set1_ps(DA3_SQRT1_2);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = _ZGVdN8v_erff(_mm256_mul_ps(v, s));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
    }
    gelu_scalar(x + i, count - i);
}
#endif

void da3_gelu(float *x, size_t count) {
#ifdef DA3_HAVE_MVEC
    switch (da3_detect_isa()) {
    case DA3_ISA_AVX512: gelu_avx512(x, count); return;
    case DA3_ISA_AVX2: gelu_avx2(x, count); return;
    default: break;
    }
#endif
    gelu_scalar(x, count);
}
