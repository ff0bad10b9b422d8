// FP32 matrix products for the exact path's linear layers: C (m x n) (+)= A (m x k) B^T + bias,
// AVX-512. B (n x k, as nn.Linear weights) is packed once into panels of 32 columns, k-major, so
// the micro-kernel multiplies 8 rows by 32 columns with one broadcast of A and two panel loads
// per k (16 FMAs). Accumulation runs in k order in FP32, like any BLAS.
#include <string.h>
#include "ckernels.h"
#include "dispatch.h"
#include "gemm_epilogue.h"
#include "transpose.h"

#define PANEL 32
#define ROWS 8

size_t da3_gemm_f32_packed_count(size_t n, size_t k) { return (n + PANEL - 1) / PANEL * PANEL * k; }

static void pack_generic(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale, float *packed) {
    size_t panels = (n + PANEL - 1) / PANEL;
    for (size_t p = 0; p < panels; p++)
        for (size_t c = 0; c < PANEL; c++) {
            size_t col = p * PANEL + c;
            float *dst = packed + p * PANEL * k + c;
            if (col >= n) {
                for (size_t i = 0; i < k; i++) dst[i * PANEL] = 0.0f;
            } else if (row_scale) {
                for (size_t i = 0; i < k; i++) dst[i * PANEL] = w[col * ldw + i] * row_scale[col];
            } else {
                for (size_t i = 0; i < k; i++) dst[i * PANEL] = w[col * ldw + i];
            }
        }
}

#ifdef DA3_X86
// As pack_generic, 16 columns x 16 k at a time through an in-register transpose; the k remainder
// goes through pack_generic's element loop on a shifted view.
DA3_TARGET_AVX512 static void pack_avx512(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale,
                                          float *packed) {
    size_t panels = (n + PANEL - 1) / PANEL, k16 = k / 16 * 16;
    for (size_t g = 0; g < 2 * panels; g++) {  // 16-column halves of the panels
        size_t col0 = g * 16;
        float *dst = packed + (g / 2) * PANEL * k + (g % 2) * 16;
        __mmask16 live = n - col0 >= 16 ? 0xFFFF : (col0 < n ? (__mmask16)((1u << (n - col0)) - 1) : 0);
        __m512 scale = row_scale ? _mm512_maskz_loadu_ps(live, row_scale + col0) : _mm512_set1_ps(1.0f);
        for (size_t i0 = 0; i0 < k16; i0 += 16) {
            __m512 r[16];
            for (int c = 0; c < 16; c++)
                r[c] = col0 + c < n ? _mm512_loadu_ps(w + (col0 + c) * ldw + i0) : _mm512_setzero_ps();
            da3_transpose16(r);
            for (int j = 0; j < 16; j++) {
                __m512 v = row_scale ? _mm512_mul_ps(r[j], scale) : r[j];
                _mm512_storeu_ps(dst + (i0 + j) * PANEL, v);
            }
        }
        for (size_t i = k16; i < k; i++)
            for (int c = 0; c < 16; c++) {
                size_t col = col0 + c;
                float v = col < n ? w[col * ldw + i] : 0.0f;
                dst[i * PANEL + c] = row_scale && col < n ? v * row_scale[col] : v;
            }
    }
}
#endif

void da3_gemm_f32_pack(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale, float *packed) {
#ifdef DA3_X86
    if (da3_detect_isa() == DA3_ISA_AVX512) { pack_avx512(w, n, k, ldw, row_scale, packed); return; }
#endif
    pack_generic(w, n, k, ldw, row_scale, packed);
}

#ifdef DA3_X86
#include <immintrin.h>

// R rows x one 32-column panel whose k rows are `ldp` floats apart (PANEL for packed panels, the
// row stride for B read in place): C = acc + bias, or C += acc + bias. The _tail instances mask
// the panel loads to `cols` columns, so a last partial panel of B read in place is never read past
// its end; full panels use plain loads (masked ones cost ~3% here).
#define GEMM32_KERNEL(R, NAME, LOAD)                                                              \
    DA3_TARGET_AVX512 static void NAME(const float *a, size_t lda, const float *panel, size_t ldp,  \
                                       size_t k, const float *bias, int accumulate, float *c,     \
                                       size_t ldc, size_t cols) {                                 \
        __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);                      \
        __mmask16 m1 = cols >= 32 ? 0xFFFF : (cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0); \
        (void)m0; (void)m1;                                                                       \
        __m512 acc0[R], acc1[R];                                                                  \
        for (int r = 0; r < R; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); } \
        for (size_t i = 0; i < k; i++) {                                                          \
            __m512 b0 = LOAD(m0, panel + i * ldp), b1 = LOAD(m1, panel + i * ldp + 16);            \
            for (int r = 0; r < R; r++) {                                                         \
                __m512 av = _mm512_set1_ps(a[r * lda + i]);                                       \
                acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);                                       \
                acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);                                       \
            }                                                                                     \
        }                                                                                         \
        da3_store_panel_rows(acc0, acc1, R, bias, accumulate, c, ldc, cols);                     \
    }
#define LOAD_FULL(mask, p) _mm512_loadu_ps(p)
#define LOAD_MASKED(mask, p) _mm512_maskz_loadu_ps(mask, p)
GEMM32_KERNEL(8, gemm32_rows_8, LOAD_FULL)
GEMM32_KERNEL(1, gemm32_rows_1, LOAD_FULL)
GEMM32_KERNEL(8, gemm32_rows_8_tail, LOAD_MASKED)
GEMM32_KERNEL(1, gemm32_rows_1_tail, LOAD_MASKED)

typedef void (*gemm32_rows_fn)(const float *, size_t, const float *, size_t, size_t, const float *, int, float *,
                               size_t, size_t);

// Panel p of B starts at b + p * panel_step and its k rows are ldp apart.
DA3_TARGET_AVX512 static void gemm_f32_avx512(const float *a, size_t lda, const float *b, size_t panel_step, size_t ldp,
                                              size_t m, size_t n, size_t k, const float *bias, int accumulate,
                                              float *c, size_t ldc) {
    size_t panels = (n + PANEL - 1) / PANEL;
    for (size_t p = 0; p < panels; p++) {
        const float *panel = b + p * panel_step;
        size_t col = p * PANEL, cols = n - col < PANEL ? n - col : PANEL;
        const float *pb = bias ? bias + col : NULL;
        gemm32_rows_fn rows8 = cols == PANEL ? gemm32_rows_8 : gemm32_rows_8_tail;
        gemm32_rows_fn rows1 = cols == PANEL ? gemm32_rows_1 : gemm32_rows_1_tail;
        size_t r = 0;
        for (; r + ROWS <= m; r += ROWS) rows8(a + r * lda, lda, panel, ldp, k, pb, accumulate, c + r * ldc + col, ldc, cols);
        for (; r < m; r++) rows1(a + r * lda, lda, panel, ldp, k, pb, accumulate, c + r * ldc + col, ldc, cols);
    }
}
#endif

int da3_gemm_f32_available(void) {
#ifdef DA3_X86
    return da3_detect_isa() == DA3_ISA_AVX512;
#else
    return 0;
#endif
}

void da3_gemm_f32(const float *a, size_t lda, const float *packed, size_t m, size_t n, size_t k, const float *bias,
                  int accumulate, float *c, size_t ldc) {
#ifdef DA3_X86
    gemm_f32_avx512(a, lda, packed, PANEL * k, PANEL, m, n, k, bias, accumulate, c, ldc);
#else
    (void)a; (void)lda; (void)packed; (void)m; (void)n; (void)k; (void)bias; (void)accumulate; (void)c; (void)ldc;
#endif
}

// B's rows are read in place: a 32-column strip of k rows is the panel, ldb floats apart.
void da3_gemm_f32_kn(const float *a, size_t lda, const float *b, size_t ldb, size_t m, size_t n, size_t k, int accumulate,
                     float *c, size_t ldc) {
#ifdef DA3_X86
    gemm_f32_avx512(a, lda, b, PANEL, ldb, m, n, k, NULL, accumulate, c, ldc);
#else
    (void)a; (void)lda; (void)b; (void)ldb; (void)m; (void)n; (void)k; (void)accumulate; (void)c; (void)ldc;
#endif
}
