// bfloat16 matrix products with FP32 accumulation (AVX512-BF16): C (m x n) (+)= A (m x k) B^T + bias,
// for `Precision.fast`. B (n x k, as nn.Linear weights) is packed once into panels of 32 columns
// holding bfloat16 pairs along k, so the micro-kernel multiplies 8 rows by 32 columns with one
// broadcast of an A pair and two panel loads per pair of k (vdpbf16ps); A rows are bfloat16.
#include <string.h>
#include "ckernels.h"
#include "dispatch.h"
#include "gemm_epilogue.h"
#include "transpose.h"
#include "vmath.h"

#define PANEL 32
#define ROWS 8
#define ROW_BLOCK 64   // rows whose A slices stay in L1/L2 while every panel passes over them

size_t da3_gemm_bf16_packed_words(size_t n, size_t k) { return (n + PANEL - 1) / PANEL * PANEL * (k / 2); }

#ifdef DA3_X86
#include <immintrin.h>

// 16 columns at a time: each column's pair words (16 at once) are made by rounding, and 16x16
// transposes turn them into the panel's word-major order; the pair remainder goes word by word.
DA3_TARGET_AVX512BF16 void da3_gemm_bf16_pack(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale,
                                              uint32_t *packed) {
    size_t pairs = k / 2, pairs16 = pairs / 16 * 16, panels = (n + PANEL - 1) / PANEL;
    for (size_t g = 0; g < 2 * panels; g++) {  // 16-column halves of the panels
        size_t col0 = g * 16;
        uint32_t *dst = packed + (g / 2) * PANEL * pairs + (g % 2) * 16;
        for (size_t i0 = 0; i0 < pairs16; i0 += 16) {
            __m512 r[16];
            for (int c = 0; c < 16; c++) {
                size_t col = col0 + c;
                if (col >= n) { r[c] = _mm512_setzero_ps(); continue; }
                const float *x = w + col * ldw + 2 * i0;
                __m512 vg = _mm512_set1_ps(row_scale ? row_scale[col] : 1.0f);
                r[c] = (__m512)_mm512_cvtne2ps_pbh(_mm512_mul_ps(_mm512_loadu_ps(x + 16), vg),
                                                   _mm512_mul_ps(_mm512_loadu_ps(x), vg));
            }
            da3_transpose16(r);
            for (int j = 0; j < 16; j++) _mm512_storeu_ps((float *)(dst + (i0 + j) * PANEL), r[j]);
        }
        for (size_t i = pairs16; i < pairs; i++)
            for (int c = 0; c < 16; c++) {
                size_t col = col0 + c;
                uint32_t word = 0;
                if (col < n) {
                    float gc = row_scale ? row_scale[col] : 1.0f;
                    const float *x = w + col * ldw;
                    word = (uint32_t)da3_bf16_round_scalar(x[2 * i] * gc) | (uint32_t)da3_bf16_round_scalar(x[2 * i + 1] * gc) << 16;
                }
                dst[i * PANEL + c] = word;
            }
    }
}

DA3_TARGET_AVX512BF16 void da3_gemm_bf16_pack_kn(const float *b, size_t k, size_t n, size_t ldb, uint32_t *packed) {
    size_t pairs = k / 2, panels = (n + PANEL - 1) / PANEL;
    for (size_t i = 0; i < pairs; i++) {
        const float *r0 = b + 2 * i * ldb, *r1 = r0 + ldb;
        for (size_t p = 0; p < panels; p++)
            for (size_t h = 0; h < PANEL; h += 16) {
                size_t col = p * PANEL + h;
                __mmask16 m = col >= n ? 0 : (n - col >= 16 ? 0xFFFF : (__mmask16)((1u << (n - col)) - 1));
                __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, r0 + col)));
                __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, r1 + col)));
                _mm512_storeu_si512(packed + (p * pairs + i) * PANEL + h, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
            }
    }
}

#define DP(acc, a, b) _mm512_dpbf16_ps((acc), (__m512bh)(a), (__m512bh)(b))

// R rows x one 32-column panel: acc = A rows . panel, then C = acc + bias or C += acc + bias.
#define GEMM16_KERNEL(R)                                                                          \
    DA3_TARGET_AVX512BF16 static void gemm16_rows_##R(const uint16_t *a, size_t lda,              \
                                                      const uint32_t *panel, size_t pairs,        \
                                                      const float *bias, int accumulate,          \
                                                      float *c, size_t ldc, size_t cols) {        \
        __m512 acc0[R], acc1[R];                                                                  \
        for (int r = 0; r < R; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); } \
        for (size_t i = 0; i < pairs; i++) {                                                      \
            __m512i b0 = _mm512_loadu_si512(panel + i * PANEL);                                   \
            __m512i b1 = _mm512_loadu_si512(panel + i * PANEL + 16);                              \
            for (int r = 0; r < R; r++) {                                                         \
                uint32_t pair;                                                                    \
                memcpy(&pair, a + r * lda + 2 * i, sizeof pair);                                  \
                __m512i av = _mm512_set1_epi32((int)pair);                                        \
                acc0[r] = DP(acc0[r], av, b0);                                                    \
                acc1[r] = DP(acc1[r], av, b1);                                                    \
            }                                                                                     \
        }                                                                                         \
        da3_store_panel_rows(acc0, acc1, R, bias, accumulate, c, ldc, cols);                     \
    }
GEMM16_KERNEL(8)
GEMM16_KERNEL(1)

DA3_TARGET_AVX512BF16 void da3_gemm_bf16(const uint16_t *a, size_t lda, const uint32_t *packed, size_t m, size_t n,
                                         size_t k, const float *bias, int accumulate, float *c, size_t ldc) {
    size_t pairs = k / 2, panels = (n + PANEL - 1) / PANEL;
    for (size_t r0 = 0; r0 < m; r0 += ROW_BLOCK) {
        size_t rows = m - r0 < ROW_BLOCK ? m - r0 : ROW_BLOCK;
        for (size_t p = 0; p < panels; p++) {
            const uint32_t *panel = packed + p * PANEL * pairs;
            size_t col = p * PANEL, cols = n - col < PANEL ? n - col : PANEL;
            const float *pb = bias ? bias + col : NULL;
            size_t r = 0;
            for (; r + ROWS <= rows; r += ROWS)
                gemm16_rows_8(a + (r0 + r) * lda, lda, panel, pairs, pb, accumulate, c + (r0 + r) * ldc + col, ldc, cols);
            for (; r < rows; r++)
                gemm16_rows_1(a + (r0 + r) * lda, lda, panel, pairs, pb, accumulate, c + (r0 + r) * ldc + col, ldc, cols);
        }
    }
}
#else
void da3_gemm_bf16_pack_kn(const float *b, size_t k, size_t n, size_t ldb, uint32_t *packed) {
    (void)b; (void)k; (void)n; (void)ldb; (void)packed;
}
void da3_gemm_bf16_pack(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale, uint32_t *packed) {
    (void)w; (void)n; (void)k; (void)ldw; (void)row_scale; (void)packed;
}
void da3_gemm_bf16(const uint16_t *a, size_t lda, const uint32_t *packed, size_t m, size_t n, size_t k,
                   const float *bias, int accumulate, float *c, size_t ldc) {
    (void)a; (void)lda; (void)packed; (void)m; (void)n; (void)k; (void)bias; (void)accumulate; (void)c; (void)ldc;
}
#endif
