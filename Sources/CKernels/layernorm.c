// Layer normalization of rows (torch.nn.LayerNorm over the last dimension, biased variance):
// two passes (mean, then centred sum of squares) with vectorized float sums.
#include <math.h>
#include "ckernels.h"
#include "dispatch.h"

#define LAYERNORM_BODY                                                                  \
    _Pragma("clang fp reassociate(on)")                                                 \
    for (size_t r = 0; r < rows; r++) {                                                 \
        const float *row = x + r * in_stride;                                           \
        float *out = y + r * out_stride;                                                \
        float sum = 0.0f;                                                               \
        for (size_t i = 0; i < width; i++) sum += row[i];                               \
        float mean = sum / (float)width;                                                \
        float sq = 0.0f;                                                                \
        for (size_t i = 0; i < width; i++) { float d = row[i] - mean; sq += d * d; }    \
        float rstd = 1.0f / sqrtf(sq / (float)width + eps);                             \
        for (size_t i = 0; i < width; i++) out[i] = (row[i] - mean) * rstd * weight[i] + bias[i]; \
    }

#define LAYERNORM_ARGS const float *x, size_t rows, size_t width, size_t in_stride, const float *weight, \
                       const float *bias, float eps, float *y, size_t out_stride

static void layernorm_generic(LAYERNORM_ARGS) { LAYERNORM_BODY }
#ifdef DA3_X86
DA3_TARGET_AVX512 static void layernorm_avx512(LAYERNORM_ARGS) { LAYERNORM_BODY }
DA3_TARGET_AVX2 static void layernorm_avx2(LAYERNORM_ARGS) { LAYERNORM_BODY }
#endif

void da3_layernorm_rows(LAYERNORM_ARGS) {
#ifdef DA3_X86
    switch (da3_detect_isa()) {
    case DA3_ISA_AVX512: layernorm_avx512(x, rows, width, in_stride, weight, bias, eps, y, out_stride); return;
    case DA3_ISA_AVX2: layernorm_avx2(x, rows, width, in_stride, weight, bias, eps, y, out_stride); return;
    default: break;
    }
#endif
    layernorm_generic(x, rows, width, in_stride, weight, bias, eps, y, out_stride);
}
