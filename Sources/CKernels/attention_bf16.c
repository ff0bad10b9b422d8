// Attention for one head and one block of query rows with bfloat16 products (AVX512-BF16,
// head dimension 64): the fast-mode twin of attention.c. Q, K, P and V are rounded to bfloat16;
// products accumulate in float, and the softmax (max, exp, sum) runs in float.
// vdpbf16ps multiplies adjacent bfloat16 pairs, so the packed layouts interleave pairs:
// K panels hold (k[j][2i], k[j][2i+1]) for 32 keys j per pair index i; V holds
// (v[2t][d], v[2t+1][d]) for each token pair t.
#include <math.h>
#include <string.h>
#include "ckernels.h"
#include "dispatch.h"
#include "vmath.h"

#define HD 64
#define PAIRS (HD / 2)
#define PANEL 32

static size_t panels_of(size_t tokens) { return (tokens + PANEL - 1) / PANEL; }
static size_t token_pairs(size_t tokens) { return (tokens + 1) / 2; }

int da3_attention_bf16_available(size_t head_dim) {
#ifdef DA3_X86
    return head_dim == HD && da3_has_avx512bf16();
#else
    (void)head_dim;
    return 0;
#endif
}

size_t da3_attention_bf16_packed_words(size_t tokens) {
    return panels_of(tokens) * PANEL * PAIRS + token_pairs(tokens) * HD;
}

size_t da3_attention_bf16_scratch_words(size_t tokens, size_t rows) {
    // Scores (float), probabilities (bfloat16 pairs), the block's queries (bfloat16 pairs).
    return rows * tokens + rows * token_pairs(tokens) + rows * PAIRS;
}

#ifdef DA3_X86
#include <immintrin.h>

#define DP(acc, a, b) _mm512_dpbf16_ps((acc), (__m512bh)(a), (__m512bh)(b))

// 64 floats -> 32 words of bfloat16 pairs (element 2i in the low half of word i).
DA3_TARGET_AVX512BF16 static inline void row_to_pairs(const float *x, uint32_t *out) {
    _mm512_storeu_si512(out, (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x)));
    _mm512_storeu_si512(out + 16, (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 48), _mm512_loadu_ps(x + 32)));
}

DA3_TARGET_AVX512BF16 void da3_attention_bf16_pack(const float *k, const float *v, size_t ld, size_t tokens,
                                                    uint32_t *packed) {
    size_t panels = panels_of(tokens), pairs = token_pairs(tokens);
    uint32_t *kp = packed, *vp = packed + panels * PANEL * PAIRS;
    // K: the bfloat16 GEMM's weight panels (pair words, word-major), with tokens as the columns.
    da3_gemm_bf16_pack(k, tokens, HD, ld, NULL, kp);
    // V: word d of token pair j = (v[2j][d], v[2j+1][d]).
    float zeros[HD] = {0};
    for (size_t j = 0; j < pairs; j++) {
        const float *v0 = v + 2 * j * ld, *v1 = 2 * j + 1 < tokens ? v0 + ld : zeros;
        for (size_t d = 0; d < HD; d += 16) {
            __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(v0 + d)));
            __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(v1 + d)));
            _mm512_storeu_si512(vp + j * HD + d, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
        }
    }
}

// S[i][j] = sum_d q[i][d] k[j][d] (scale already in q) for R rows; rowmax[i] = max_j S[i][j].
#define QK16_KERNEL(R)                                                                            \
    DA3_TARGET_AVX512BF16 static void qk16_rows_##R(const uint32_t *q, const uint32_t *kp,         \
                                                    size_t tokens, float *s, size_t lds,          \
                                                    float *rowmax) {                              \
        size_t panels = panels_of(tokens);                                                        \
        __m512 mx[R];                                                                             \
        for (int r = 0; r < R; r++) mx[r] = _mm512_set1_ps(-INFINITY);                            \
        for (size_t p = 0; p < panels; p++) {                                                     \
            const uint32_t *panel = kp + p * PANEL * PAIRS;                                       \
            __m512 acc0[R], acc1[R];                                                              \
            for (int r = 0; r < R; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); } \
            for (size_t i = 0; i < PAIRS; i++) {                                                  \
                __m512i k0 = _mm512_loadu_si512(panel + i * PANEL);                               \
                __m512i k1 = _mm512_loadu_si512(panel + i * PANEL + 16);                          \
                for (int r = 0; r < R; r++) {                                                     \
                    __m512i qv = _mm512_set1_epi32((int)q[r * PAIRS + i]);                        \
                    acc0[r] = DP(acc0[r], qv, k0);                                                \
                    acc1[r] = DP(acc1[r], qv, k1);                                                \
                }                                                                                 \
            }                                                                                     \
            size_t j0 = p * PANEL, left = tokens - j0;                                            \
            __mmask16 m0 = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);                   \
            __mmask16 m1 = left >= 32 ? 0xFFFF : (left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0); \
            for (int r = 0; r < R; r++) {                                                         \
                _mm512_mask_storeu_ps(s + r * lds + j0, m0, acc0[r]);                             \
                _mm512_mask_storeu_ps(s + r * lds + j0 + 16, m1, acc1[r]);                        \
                mx[r] = _mm512_mask_max_ps(mx[r], m0, mx[r], acc0[r]);                            \
                mx[r] = _mm512_mask_max_ps(mx[r], m1, mx[r], acc1[r]);                            \
            }                                                                                     \
        }                                                                                         \
        for (int r = 0; r < R; r++) rowmax[r] = _mm512_reduce_max_ps(mx[r]);                      \
    }
QK16_KERNEL(8)
QK16_KERNEL(1)

// O[i][0..64) = sum_t P[i][t] v[t][0..64) for R rows; P rows hold `pairs` bfloat16 pairs.
#define PV16_KERNEL(R)                                                                            \
    DA3_TARGET_AVX512BF16 static void pv16_rows_##R(const uint32_t *pr, size_t ldp,                \
                                                    const uint32_t *vp, size_t pairs, float *o,   \
                                                    size_t ldo) {                                 \
        __m512 acc[R][4];                                                                         \
        for (int r = 0; r < R; r++)                                                               \
            for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();                          \
        for (size_t j = 0; j < pairs; j++) {                                                      \
            const uint32_t *vr = vp + j * HD;                                                     \
            __m512i v0 = _mm512_loadu_si512(vr), v1 = _mm512_loadu_si512(vr + 16);                \
            __m512i v2 = _mm512_loadu_si512(vr + 32), v3 = _mm512_loadu_si512(vr + 48);           \
            for (int r = 0; r < R; r++) {                                                         \
                __m512i p = _mm512_set1_epi32((int)pr[r * ldp + j]);                              \
                acc[r][0] = DP(acc[r][0], p, v0);                                                 \
                acc[r][1] = DP(acc[r][1], p, v1);                                                 \
                acc[r][2] = DP(acc[r][2], p, v2);                                                 \
                acc[r][3] = DP(acc[r][3], p, v3);                                                 \
            }                                                                                     \
        }                                                                                         \
        for (int r = 0; r < R; r++)                                                               \
            for (int c = 0; c < 4; c++) _mm512_storeu_ps(o + r * ldo + 16 * c, acc[r][c]);         \
    }
PV16_KERNEL(6)
PV16_KERNEL(1)

// p = bf16(2^(s - max)) for one row of base-2 scores (zero-padded to whole pairs); returns the
// float sum of the unrounded values.
DA3_TARGET_AVX512BF16 static float exp2_row_bf16(const float *s, size_t n, float max, uint16_t *p) {
    __m512 vmax = _mm512_set1_ps(max), sum = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 e0 = da3_exp2_nonpositive16(_mm512_sub_ps(_mm512_loadu_ps(s + i), vmax), 5);
        __m512 e1 = da3_exp2_nonpositive16(_mm512_sub_ps(_mm512_loadu_ps(s + i + 16), vmax), 5);
        sum = _mm512_add_ps(sum, _mm512_add_ps(e0, e1));
        _mm512_storeu_si512(p + i, (__m512i)_mm512_cvtne2ps_pbh(e1, e0));
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 e = _mm512_maskz_mov_ps(m, da3_exp2_nonpositive16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + i), vmax), 5));
        sum = _mm512_add_ps(sum, e);
        _mm256_mask_storeu_epi16(p + i, m, (__m256i)_mm512_cvtneps_pbh(e));
    }
    if (n & 1) p[n] = 0;
    return _mm512_reduce_add_ps(sum);
}

DA3_TARGET_AVX512BF16 void da3_attention_bf16_block(const float *q, size_t ldq, const uint32_t *packed, size_t tokens,
                                                     size_t rows, float scale, uint32_t *scratch, float *out,
                                                     uint16_t *out_bf16, size_t ldo) {
    size_t panels = panels_of(tokens), pairs = token_pairs(tokens);
    const uint32_t *kp = packed, *vp = packed + panels * PANEL * PAIRS;
    float *scores = (float *)scratch;
    uint32_t *probs = scratch + rows * tokens, *q16 = probs + rows * pairs;
    float rowmax[rows], inv[rows];
    // Queries scaled by scale * log2(e), so the scores are base-2 exponents: softmax(x) is
    // 2^(x log2 e) normalized, and exp2 is cheaper than exp.
    const float qscale = scale * 1.44269504088896341f;
    for (size_t i = 0; i < rows; i++) {
        float scaled[HD];
        for (size_t d = 0; d < HD; d++) scaled[d] = q[i * ldq + d] * qscale;
        row_to_pairs(scaled, q16 + i * PAIRS);
    }
    size_t i = 0;
    for (; i + 8 <= rows; i += 8) qk16_rows_8(q16 + i * PAIRS, kp, tokens, scores + i * tokens, tokens, rowmax + i);
    for (; i < rows; i++) qk16_rows_1(q16 + i * PAIRS, kp, tokens, scores + i * tokens, tokens, rowmax + i);
    for (i = 0; i < rows; i++)
        inv[i] = 1.0f / exp2_row_bf16(scores + i * tokens, tokens, rowmax[i], (uint16_t *)(probs + i * pairs));
    i = 0;
    for (; i + 6 <= rows; i += 6) pv16_rows_6(probs + i * pairs, pairs, vp, pairs, out + i * ldo, ldo);
    for (; i < rows; i++) pv16_rows_1(probs + i * pairs, pairs, vp, pairs, out + i * ldo, ldo);
    for (i = 0; i < rows; i++) {
        __m512 v = _mm512_set1_ps(inv[i]);
        for (int c = 0; c < HD; c += 16) {
            __m512 o = _mm512_mul_ps(_mm512_loadu_ps(out + i * ldo + c), v);
            if (out_bf16) _mm256_storeu_si256((__m256i *)(out_bf16 + i * ldo + c), (__m256i)_mm512_cvtneps_pbh(o));
            else _mm512_storeu_ps(out + i * ldo + c, o);
        }
    }
}
#else
void da3_attention_bf16_pack(const float *k, const float *v, size_t ld, size_t tokens, uint32_t *packed) {
    (void)k; (void)v; (void)ld; (void)tokens; (void)packed;
}

void da3_attention_bf16_block(const float *q, size_t ldq, const uint32_t *packed, size_t tokens, size_t rows,
                              float scale, uint32_t *scratch, float *out, uint16_t *out_bf16, size_t ldo) {
    (void)q; (void)ldq; (void)packed; (void)tokens; (void)rows; (void)scale; (void)scratch; (void)out; (void)out_bf16;
    (void)ldo;
}
#endif
