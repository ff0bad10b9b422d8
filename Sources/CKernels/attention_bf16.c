// Attention for one head and one block of query rows with bfloat16 products (AVX512-BF16,
// head dimension 64): the fast-mode twin of attention.c. Q, K, P and V are rounded to bfloat16;
// products accumulate in float, and the softmax (max, exp, sum) runs in float.
// vdpbf16ps multiplies adjacent bfloat16 pairs, so the packed layouts interleave pairs:
// K panels hold (k[j][2i], k[j][2i+1]) for 32 keys j per pair index i; V holds
// (v[2t][d], v[2t+1][d]) for each token pair t.
#include <math.h>
#include <string.h>
#include "ckernels.h"
#include "vmath.h"
#include "dispatch.h"

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

static inline uint32_t pack_pair(float lo, float hi) {
    return (uint32_t)da3_bf16_round(lo) | (uint32_t)da3_bf16_round(hi) << 16;
}

void da3_attention_bf16_pack(const float *k, const float *v, size_t ld, size_t tokens, uint32_t *packed) {
    size_t panels = panels_of(tokens), pairs = token_pairs(tokens);
    uint32_t *kp = packed, *vp = packed + panels * PANEL * PAIRS;
    for (size_t p = 0; p < panels; p++)
        for (size_t c = 0; c < PANEL; c++) {
            size_t t = p * PANEL + c;
            for (size_t i = 0; i < PAIRS; i++)
                kp[(p * PAIRS + i) * PANEL + c] = t < tokens ? pack_pair(k[t * ld + 2 * i], k[t * ld + 2 * i + 1]) : 0;
        }
    for (size_t j = 0; j < pairs; j++) {
        const float *v0 = v + 2 * j * ld;
        int has1 = 2 * j + 1 < tokens;
        for (size_t d = 0; d < HD; d++) vp[j * HD + d] = pack_pair(v0[d], has1 ? v0[ld + d] : 0.0f);
    }
}

#ifdef DA3_X86
#include <immintrin.h>

#define DP(acc, a, b) _mm512_dpbf16_ps((acc), (__m512bh)(a), (__m512bh)(b))

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

// exp(x) for x <= 0 on 16 lanes: da3_expf's reduction and polynomial, with scalef for 2^n.
DA3_TARGET_AVX512BF16 static inline __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

// p = bf16(exp(s - max)) for one row (zero-padded to whole pairs); returns the float sum.
DA3_TARGET_AVX512BF16 static float exp_row_bf16(const float *s, size_t n, float max, uint16_t *p) {
    __m512 vmax = _mm512_set1_ps(max), sum = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 e = _mm512_maskz_mov_ps(m, exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + i), vmax)));
        sum = _mm512_add_ps(sum, e);
        _mm256_mask_storeu_epi16(p + i, m, (__m256i)_mm512_cvtneps_pbh(e));
    }
    if (n & 1) p[n] = 0;
    return _mm512_reduce_add_ps(sum);
}

DA3_TARGET_AVX512BF16 void da3_attention_bf16_block(const float *q, size_t ldq, const uint32_t *packed, size_t tokens,
                                                     size_t rows, float scale, uint32_t *scratch, float *out, size_t ldo) {
    size_t panels = panels_of(tokens), pairs = token_pairs(tokens);
    const uint32_t *kp = packed, *vp = packed + panels * PANEL * PAIRS;
    float *scores = (float *)scratch;
    uint32_t *probs = scratch + rows * tokens, *q16 = probs + rows * pairs;
    float rowmax[rows], inv[rows];
    // Queries with the softmax scale folded in (a power of two for head dimension 64: exact).
    for (size_t i = 0; i < rows; i++) {
        float scaled[HD];
        for (size_t d = 0; d < HD; d++) scaled[d] = q[i * ldq + d] * scale;
        da3_f32_to_bf16(scaled, (uint16_t *)(q16 + i * PAIRS), HD);
    }
    size_t i = 0;
    for (; i + 8 <= rows; i += 8) qk16_rows_8(q16 + i * PAIRS, kp, tokens, scores + i * tokens, tokens, rowmax + i);
    for (; i < rows; i++) qk16_rows_1(q16 + i * PAIRS, kp, tokens, scores + i * tokens, tokens, rowmax + i);
    for (i = 0; i < rows; i++)
        inv[i] = 1.0f / exp_row_bf16(scores + i * tokens, tokens, rowmax[i], (uint16_t *)(probs + i * pairs));
    i = 0;
    for (; i + 6 <= rows; i += 6) pv16_rows_6(probs + i * pairs, pairs, vp, pairs, out + i * ldo, ldo);
    for (; i < rows; i++) pv16_rows_1(probs + i * pairs, pairs, vp, pairs, out + i * ldo, ldo);
    for (i = 0; i < rows; i++) {
        __m512 v = _mm512_set1_ps(inv[i]);
        for (int c = 0; c < HD; c += 16)
            _mm512_storeu_ps(out + i * ldo + c, _mm512_mul_ps(_mm512_loadu_ps(out + i * ldo + c), v));
    }
}
#else
void da3_attention_bf16_block(const float *q, size_t ldq, const uint32_t *packed, size_t tokens, size_t rows,
                              float scale, uint32_t *scratch, float *out, size_t ldo) {
    (void)q; (void)ldq; (void)packed; (void)tokens; (void)rows; (void)scale; (void)scratch; (void)out; (void)ldo;
}
#endif
