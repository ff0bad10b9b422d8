// float -> bfloat16 conversion of whole arrays (AVX512-BF16 when present).
#include "ckernels.h"
#include "dispatch.h"
#include "vmath.h"

#ifdef DA3_X86
#include <immintrin.h>
DA3_TARGET_AVX512BF16 static void convert_bf16(const float *x, uint16_t *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = da3_bf16_round_scalar(x[i]);
}
#endif

void da3_f32_to_bf16(const float *x, uint16_t *y, size_t n) {
#ifdef DA3_X86
    static int native = -1;
    if (native < 0) native = da3_has_avx512bf16();
    if (native) { convert_bf16(x, y, n); return; }
#endif
    for (size_t i = 0; i < n; i++) y[i] = da3_bf16_round_scalar(x[i]);
}

int da3_bf16_available(void) {
#ifdef DA3_X86
    return da3_has_avx512bf16();
#else
    return 0;
#endif
}
