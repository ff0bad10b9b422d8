// Attention products for one head and one block of query rows, AVX-512 (head dimension 64):
// S = scale * Q K^T, softmax(S) in place, O = S V. K and V are packed once per head by
// da3_attention_pack so that the inner loops stream contiguous memory.
#include <math.h>
#include <string.h>
#include "ckernels.h"
#include "dispatch.h"
#include "vmath.h"

#define HD 64      // head dimension handled by the fast path
#define PANEL 32   // key columns per packed K panel (two zmm registers)
#ifndef CHUNK_PANELS
#define CHUNK_PANELS 16  // key panels per cache chunk: 512 keys, 128 KiB of K (and of V); measured best of 4-32
#endif

size_t da3_attention_packed_count(size_t tokens) {
    size_t panels = (tokens + PANEL - 1) / PANEL;
    return panels * PANEL * HD + tokens * HD;
}

int da3_attention_fast_path_available(size_t head_dim) {
#ifdef DA3_X86
    return head_dim == HD && da3_detect_isa() == DA3_ISA_AVX512;
#else
    (void)head_dim;
    return 0;
#endif
}

void da3_attention_pack(const float *k, const float *v, size_t ld, size_t tokens, float *packed) {
    size_t panels = (tokens + PANEL - 1) / PANEL;
    // K panels kp[p][d][c] = k[p*PANEL + c][d] (zero beyond the last token): the FP32 GEMM's weight
    // panels, with tokens as the columns.
    da3_gemm_f32_pack(k, tokens, HD, ld, NULL, packed);
    float *vp = packed + panels * PANEL * HD;
    for (size_t t = 0; t < tokens; t++) memcpy(vp + t * HD, v + t * ld, HD * sizeof(float));
}

#ifdef DA3_X86
#include <immintrin.h>

// S[i][j] = scale * sum_d q[i][d] k[j][d] for R rows and key panels p0..<p1; rowmax[i] becomes the
// maximum of its value and these scores.
#define QK_KERNEL(R)                                                                              \
    DA3_TARGET_AVX512 static void qk_rows_##R(const float *q, size_t ldq, const float *kp,         \
                                              size_t tokens, size_t p0, size_t p1, float scale,    \
                                              float *s, size_t lds, float *rowmax) {               \
        __m512 vscale = _mm512_set1_ps(scale);                                                    \
        __m512 mx[R];                                                                             \
        for (int r = 0; r < R; r++) mx[r] = _mm512_set1_ps(rowmax[r]);                            \
        for (size_t p = p0; p < p1; p++) {                                                        \
            const float *panel = kp + p * PANEL * HD;                                             \
            __m512 acc0[R], acc1[R];                                                              \
            for (int r = 0; r < R; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); } \
            for (size_t d = 0; d < HD; d++) {                                                     \
                __m512 k0 = _mm512_loadu_ps(panel + d * PANEL);                                   \
                __m512 k1 = _mm512_loadu_ps(panel + d * PANEL + 16);                              \
                for (int r = 0; r < R; r++) {                                                     \
                    __m512 qv = _mm512_set1_ps(q[r * ldq + d]);                                   \
                    acc0[r] = _mm512_fmadd_ps(qv, k0, acc0[r]);                                   \
                    acc1[r] = _mm512_fmadd_ps(qv, k1, acc1[r]);                                   \
                }                                                                                 \
            }                                                                                     \
            size_t j0 = p * PANEL, left = tokens - j0;                                            \
            __mmask16 m0 = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);                   \
            __mmask16 m1 = left >= 32 ? 0xFFFF : (left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0); \
            for (int r = 0; r < R; r++) {                                                         \
                __m512 s0 = _mm512_mul_ps(acc0[r], vscale), s1 = _mm512_mul_ps(acc1[r], vscale);   \
                _mm512_mask_storeu_ps(s + r * lds + j0, m0, s0);                                  \
                _mm512_mask_storeu_ps(s + r * lds + j0 + 16, m1, s1);                             \
                mx[r] = _mm512_mask_max_ps(mx[r], m0, mx[r], s0);                                 \
                mx[r] = _mm512_mask_max_ps(mx[r], m1, mx[r], s1);                                 \
            }                                                                                     \
        }                                                                                         \
        for (int r = 0; r < R; r++) rowmax[r] = _mm512_reduce_max_ps(mx[r]);                      \
    }
QK_KERNEL(8)
QK_KERNEL(1)

// O[i][0..64) (+)= sum_{t0 <= t < t1} S[i][t] v[t][0..64) for R rows (O is started at t0 = 0).
#define PV_KERNEL(R)                                                                              \
    DA3_TARGET_AVX512 static void pv_rows_##R(const float *s, size_t lds, const float *vp,         \
                                              size_t t0, size_t t1, float *o, size_t ldo) {       \
        __m512 acc[R][4];                                                                         \
        for (int r = 0; r < R; r++)                                                               \
            for (int c = 0; c < 4; c++)                                                           \
                acc[r][c] = t0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(o + r * ldo + 16 * c); \
        for (size_t t = t0; t < t1; t++) {                                                        \
            const float *vr = vp + t * HD;                                                        \
            __m512 v0 = _mm512_loadu_ps(vr), v1 = _mm512_loadu_ps(vr + 16);                       \
            __m512 v2 = _mm512_loadu_ps(vr + 32), v3 = _mm512_loadu_ps(vr + 48);                  \
            for (int r = 0; r < R; r++) {                                                         \
                __m512 p = _mm512_set1_ps(s[r * lds + t]);                                        \
                acc[r][0] = _mm512_fmadd_ps(p, v0, acc[r][0]);                                    \
                acc[r][1] = _mm512_fmadd_ps(p, v1, acc[r][1]);                                    \
                acc[r][2] = _mm512_fmadd_ps(p, v2, acc[r][2]);                                    \
                acc[r][3] = _mm512_fmadd_ps(p, v3, acc[r][3]);                                    \
            }                                                                                     \
        }                                                                                         \
        for (int r = 0; r < R; r++)                                                               \
            for (int c = 0; c < 4; c++) _mm512_storeu_ps(o + r * ldo + 16 * c, acc[r][c]);         \
    }
PV_KERNEL(6)
PV_KERNEL(1)

// e = 2^(s - max) in place for base-2 scores; returns the sum. One pass: the row maximum came from
// the QK kernel.
DA3_TARGET_AVX512 static float exp2_row(float *row, size_t n, float max) {
    __m512 vmax = _mm512_set1_ps(max), sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 e0 = da3_exp2_nonpositive16(_mm512_sub_ps(_mm512_loadu_ps(row + i), vmax), 7);
        __m512 e1 = da3_exp2_nonpositive16(_mm512_sub_ps(_mm512_loadu_ps(row + i + 16), vmax), 7);
        _mm512_storeu_ps(row + i, e0);
        _mm512_storeu_ps(row + i + 16, e1);
        sum0 = _mm512_add_ps(sum0, e0);
        sum1 = _mm512_add_ps(sum1, e1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 e = _mm512_maskz_mov_ps(m, da3_exp2_nonpositive16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + i), vmax), 7));
        _mm512_mask_storeu_ps(row + i, m, e);
        sum0 = _mm512_add_ps(sum0, e);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(sum0, sum1));
}

// Softmax is applied as O = (sum_t e_t v_t) / sum_t e_t: the normalization scales the 64 outputs
// of a row instead of its `tokens` probabilities. Scores are kept in base 2 (scale * log2 e folded
// into the QK product's scale), since exp(s - max) = 2^((s - max) log2 e) and exp2 is cheaper.
DA3_TARGET_AVX512 void da3_attention_block(const float *q, size_t ldq, const float *packed, size_t tokens, size_t rows,
                         float scale, float *scores, float *out, size_t ldo) {
    size_t panels = (tokens + PANEL - 1) / PANEL;
    const float *kp = packed, *vp = packed + panels * PANEL * HD;
    float rowmax[rows], inv[rows];
    scale *= 1.44269504088896341f;
    size_t i;
    for (i = 0; i < rows; i++) rowmax[i] = -INFINITY;
    // Keys in chunks that stay in cache while every row group of the block passes over them (a
    // head's packed K and V together outgrow L2 from ~2,000 tokens).
    for (size_t p0 = 0; p0 < panels; p0 += CHUNK_PANELS) {
        size_t p1 = p0 + CHUNK_PANELS < panels ? p0 + CHUNK_PANELS : panels;
        for (i = 0; i + 8 <= rows; i += 8)
            qk_rows_8(q + i * ldq, ldq, kp, tokens, p0, p1, scale, scores + i * tokens, tokens, rowmax + i);
        for (; i < rows; i++) qk_rows_1(q + i * ldq, ldq, kp, tokens, p0, p1, scale, scores + i * tokens, tokens, rowmax + i);
    }
    for (i = 0; i < rows; i++) inv[i] = 1.0f / exp2_row(scores + i * tokens, tokens, rowmax[i]);
    for (size_t t0 = 0; t0 < tokens; t0 += CHUNK_PANELS * PANEL) {
        size_t t1 = t0 + CHUNK_PANELS * PANEL < tokens ? t0 + CHUNK_PANELS * PANEL : tokens;
        for (i = 0; i + 6 <= rows; i += 6) pv_rows_6(scores + i * tokens, tokens, vp, t0, t1, out + i * ldo, ldo);
        for (; i < rows; i++) pv_rows_1(scores + i * tokens, tokens, vp, t0, t1, out + i * ldo, ldo);
    }
    for (i = 0; i < rows; i++) {
        __m512 v = _mm512_set1_ps(inv[i]);
        for (int c = 0; c < HD; c += 16)
            _mm512_storeu_ps(out + i * ldo + c, _mm512_mul_ps(_mm512_loadu_ps(out + i * ldo + c), v));
    }
}
#else
void da3_attention_block(const float *q, size_t ldq, const float *packed, size_t tokens, size_t rows,
                         float scale, float *scores, float *out, size_t ldo) {
    (void)q; (void)ldq; (void)packed; (void)tokens; (void)rows; (void)scale; (void)scores; (void)out; (void)ldo;
}
#endif
