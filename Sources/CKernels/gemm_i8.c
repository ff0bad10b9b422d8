// int8 matrix products with int32 accumulation (AVX512-VNNI): C (m x n) (+)= A (m x k) B^T + bias
// for `Precision.int8`. B (n x k, as nn.Linear weights) is quantized once per output channel and
// packed into panels of 32 columns holding 4 consecutive k values per 32-bit word; A is quantized per
// row at run time and stored offset by 128 (vpdpbusd multiplies unsigned by signed bytes), which the
// epilogue removes with a per-column correction 128 * sum(B column). The micro-kernel multiplies 8
// rows by 32 columns: one broadcast of an A quad and two panel loads per 4 values of k.
#include <math.h>
#include <string.h>
#include "ckernels.h"
#include "dispatch.h"
#include "gemm_epilogue.h"

#define PANEL 32
#define ROWS 8
#define ROW_BLOCK 64   // rows whose A slices stay in L1/L2 while every panel passes over them

static size_t padded_columns(size_t n) { return (n + PANEL - 1) / PANEL * PANEL; }

size_t da3_gemm_i8_packed_words(size_t n, size_t k) { return padded_columns(n) * (k / 4) + 2 * padded_columns(n); }

#ifdef DA3_X86
#include <immintrin.h>

int da3_i8_available(void) { return da3_has_avx512vnni(); }

// Scalar: load-time only. Each column's scale is max|w| / 127 (a zero column gets scale 0, q 0).
void da3_gemm_i8_pack(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale, uint32_t *packed) {
    size_t quads = k / 4, cols = padded_columns(n);
    float *scales = (float *)(packed + cols * quads);
    int32_t *corrections = (int32_t *)(scales + cols);
    memset(packed, 0, da3_gemm_i8_packed_words(n, k) * sizeof *packed);
    for (size_t col = 0; col < n; col++) {
        const float *x = w + col * ldw;
        float g = row_scale ? row_scale[col] : 1.0f, max = 0;
        for (size_t i = 0; i < k; i++) max = fmaxf(max, fabsf(x[i] * g));
        float inv = max > 0 ? 127.0f / max : 0;
        int32_t sum = 0;
        uint32_t *panel = packed + (col / PANEL) * PANEL * quads + col % PANEL;
        for (size_t i = 0; i < quads; i++) {
            uint32_t word = 0;
            for (int j = 0; j < 4; j++) {
                int q = (int)nearbyintf(x[4 * i + j] * g * inv);
                q = q > 127 ? 127 : (q < -127 ? -127 : q);
                sum += q;
                word |= (uint32_t)(uint8_t)(int8_t)q << (8 * j);
            }
            panel[i * PANEL] = word;
        }
        scales[col] = max / 127.0f;
        corrections[col] = 128 * sum;
    }
}

DA3_TARGET_AVX512VNNI void da3_quantize_rows_u8(const float *x, size_t m, size_t k, size_t ldx, uint8_t *q,
                                                float *scales) {
    for (size_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;
        uint8_t *out = q + r * k;
        __m512 vmax = _mm512_setzero_ps();
        size_t i = 0;
        for (; i + 16 <= k; i += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(row + i)));
        float max = _mm512_reduce_max_ps(vmax);
        for (; i < k; i++) max = fmaxf(max, fabsf(row[i]));
        float inv = max > 0 ? 127.0f / max : 0;
        scales[r] = max / 127.0f;
        __m512 vinv = _mm512_set1_ps(inv);
        __m512i offset = _mm512_set1_epi32(128);
        for (i = 0; i < k; i += 16) {
            __mmask16 mask = k - i >= 16 ? 0xFFFF : (__mmask16)((1u << (k - i)) - 1);
            // Round to nearest even (the default MXCSR mode), as nearbyintf; |x * inv| <= 127.
            __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(mask, row + i), vinv));
            v = _mm512_add_epi32(_mm512_max_epi32(_mm512_min_epi32(v, _mm512_set1_epi32(127)), _mm512_set1_epi32(-127)), offset);
            _mm_mask_storeu_epi8(out + i, mask, _mm512_cvtepi32_epi8(v));
        }
    }
}

// R rows x one 32-column panel: int32 dots, then FP32 C = a_scale * b_scale * (dot - correction) (+ bias, + C).
#define GEMM_I8_KERNEL(R)                                                                                      \
    DA3_TARGET_AVX512VNNI static void i8_rows_##R(const uint8_t *a, size_t lda, const float *a_scales,         \
                                                  const uint32_t *panel, size_t quads, const float *b_scales,  \
                                                  const int32_t *corrections, const float *bias,               \
                                                  int accumulate, float *c, size_t ldc, size_t cols) {         \
        __m512i acc0[R], acc1[R];                                                                              \
        for (int r = 0; r < R; r++) { acc0[r] = _mm512_setzero_si512(); acc1[r] = _mm512_setzero_si512(); }   \
        for (size_t i = 0; i < quads; i++) {                                                                   \
            __m512i b0 = _mm512_loadu_si512(panel + i * PANEL);                                                \
            __m512i b1 = _mm512_loadu_si512(panel + i * PANEL + 16);                                           \
            for (int r = 0; r < R; r++) {                                                                      \
                uint32_t quad;                                                                                 \
                memcpy(&quad, a + r * lda + 4 * i, sizeof quad);                                               \
                __m512i av = _mm512_set1_epi32((int)quad);                                                     \
                acc0[r] = _mm512_dpbusd_epi32(acc0[r], av, b0);                                                \
                acc1[r] = _mm512_dpbusd_epi32(acc1[r], av, b1);                                                \
            }                                                                                                  \
        }                                                                                                      \
        __m512i z0 = _mm512_loadu_si512(corrections), z1 = _mm512_loadu_si512(corrections + 16);               \
        __m512 s0 = _mm512_loadu_ps(b_scales), s1 = _mm512_loadu_ps(b_scales + 16);                            \
        __m512 f0[R], f1[R];                                                                                   \
        for (int r = 0; r < R; r++) {                                                                          \
            __m512 sa = _mm512_set1_ps(a_scales[r]);                                                           \
            f0[r] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc0[r], z0)), _mm512_mul_ps(s0, sa));   \
            f1[r] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc1[r], z1)), _mm512_mul_ps(s1, sa));   \
        }                                                                                                      \
        da3_store_panel_rows(f0, f1, R, bias, accumulate, c, ldc, cols);                                       \
    }
GEMM_I8_KERNEL(8)
GEMM_I8_KERNEL(1)

DA3_TARGET_AVX512VNNI void da3_gemm_i8(const uint8_t *a, const float *a_scales, size_t lda, const uint32_t *packed,
                                       size_t m, size_t n, size_t k, const float *bias, int accumulate, float *c,
                                       size_t ldc) {
    size_t quads = k / 4, panels = (n + PANEL - 1) / PANEL, cols_padded = panels * PANEL;
    const float *b_scales = (const float *)(packed + cols_padded * quads);
    const int32_t *corrections = (const int32_t *)(b_scales + cols_padded);
    for (size_t r0 = 0; r0 < m; r0 += ROW_BLOCK) {
        size_t rows = m - r0 < ROW_BLOCK ? m - r0 : ROW_BLOCK;
        for (size_t p = 0; p < panels; p++) {
            const uint32_t *panel = packed + p * PANEL * quads;
            size_t col = p * PANEL, cols = n - col < PANEL ? n - col : PANEL;
            const float *pb = bias ? bias + col : NULL;
            size_t r = 0;
            for (; r + ROWS <= rows; r += ROWS)
                i8_rows_8(a + (r0 + r) * lda, lda, a_scales + r0 + r, panel, quads, b_scales + col, corrections + col,
                          pb, accumulate, c + (r0 + r) * ldc + col, ldc, cols);
            for (; r < rows; r++)
                i8_rows_1(a + (r0 + r) * lda, lda, a_scales + r0 + r, panel, quads, b_scales + col, corrections + col,
                          pb, accumulate, c + (r0 + r) * ldc + col, ldc, cols);
        }
    }
}
#else
int da3_i8_available(void) { return 0; }
void da3_gemm_i8_pack(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale, uint32_t *packed) {
    (void)w; (void)n; (void)k; (void)ldw; (void)row_scale; (void)packed;
}
void da3_quantize_rows_u8(const float *x, size_t m, size_t k, size_t ldx, uint8_t *q, float *scales) {
    (void)x; (void)m; (void)k; (void)ldx; (void)q; (void)scales;
}
void da3_gemm_i8(const uint8_t *a, const float *a_scales, size_t lda, const uint32_t *packed, size_t m, size_t n,
                 size_t k, const float *bias, int accumulate, float *c, size_t ldc) {
    (void)a; (void)a_scales; (void)lda; (void)packed; (void)m; (void)n; (void)k; (void)bias; (void)accumulate;
    (void)c; (void)ldc;
}
#endif
