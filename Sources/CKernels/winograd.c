// Winograd F(2x2, 3x3) input and output transforms for 3x3 stride-1 pad-1 convolutions on planar
// (C, H, W) maps. Tiles are 4x4 input patches at (2 r - 1, 2 c - 1) giving 2x2 outputs at (2 r, 2 c).
// Both transforms work on groups of 16 horizontally adjacent tiles with plain loops over the group,
// compiled per ISA (AVX-512 / AVX2+FMA / portable) through target attributes so the loops vectorize.
#include <string.h>
#include "winograd.h"
#include "dispatch.h"

#define G 16  // tiles per group (one zmm)

#if defined(__GNUC__)
#define DA3_INLINE static inline __attribute__((always_inline))
#else
#define DA3_INLINE static inline
#endif

size_t da3_wino23_scratch_count(size_t count) { return 4 * (2 * ((count + G - 1) / G) * G + 2); }

// One channel: the 4 input rows 2 r - 1 ... 2 r + 2 and columns 2 tile0 - 1 ... into `patch` (zero outside
// the image), then V[xi][t] = (B^T d B)[xi] for the tiles of the chunk, written at v + xi * xi_stride + t.
DA3_INLINE void input_channel(const float *x, size_t h, size_t w, size_t tile_row, size_t tile0, size_t count,
                              int relu, float *patch, float *v, size_t xi_stride) {
    size_t groups = (count + G - 1) / G;
    size_t pw = 2 * groups * G + 2;
    long col0 = 2 * (long)tile0 - 1;
    for (int i = 0; i < 4; i++) {
        float *prow = patch + i * pw;
        long iy = 2 * (long)tile_row - 1 + i;
        if (iy < 0 || iy >= (long)h) { memset(prow, 0, pw * sizeof(float)); continue; }
        const float *srow = x + (size_t)iy * w;
        long lo = col0 < 0 ? -col0 : 0;             // first patch column inside the image
        long hi = (long)w - col0;                   // one past the last
        if (hi > (long)pw) hi = (long)pw;
        if (lo > 0) memset(prow, 0, (size_t)lo * sizeof(float));
        if (hi > lo) memcpy(prow + lo, srow + col0 + lo, (size_t)(hi - lo) * sizeof(float));
        if (hi < (long)pw) { long s = hi > 0 ? hi : 0; memset(prow + s, 0, (size_t)((long)pw - s) * sizeof(float)); }
    }
    for (size_t g = 0; g < groups; g++) {
        float d[4][4][G];
        for (int i = 0; i < 4; i++) {
            const float *p = patch + i * pw + 2 * g * G;
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < G; l++) {
                    float e = p[2 * l + j];
                    d[i][j][l] = relu && e < 0.0f ? 0.0f : e;
                }
        }
        float t[4][4][G];
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < G; l++) {
                float d0 = d[0][j][l], d1 = d[1][j][l], d2 = d[2][j][l], d3 = d[3][j][l];
                t[0][j][l] = d0 - d2;
                t[1][j][l] = d1 + d2;
                t[2][j][l] = d2 - d1;
                t[3][j][l] = d1 - d3;
            }
        float *out = v + g * G;
        for (int i = 0; i < 4; i++)
            for (int l = 0; l < G; l++) {
                float a0 = t[i][0][l], a1 = t[i][1][l], a2 = t[i][2][l], a3 = t[i][3][l];
                out[(size_t)(i * 4 + 0) * xi_stride + l] = a0 - a2;
                out[(size_t)(i * 4 + 1) * xi_stride + l] = a1 + a2;
                out[(size_t)(i * 4 + 2) * xi_stride + l] = a2 - a1;
                out[(size_t)(i * 4 + 3) * xi_stride + l] = a1 - a3;
            }
    }
}

DA3_INLINE void input_body(const float *x, size_t channels, size_t h, size_t w, size_t tile_row, size_t tile0,
                           size_t count, int relu, float *v, size_t ldv, size_t xi_stride, float *scratch) {
    for (size_t c = 0; c < channels; c++)
        input_channel(x + c * h * w, h, w, tile_row, tile0, count, relu, scratch, v + c * ldv, xi_stride);
}

// y[co] rows 2 r, 2 r + 1 for the tiles of the chunk = A^T M A (+ bias), clipped to the image.
DA3_INLINE void output_body(const float *m, size_t ldm, size_t xi_stride, size_t out_channels, size_t count,
                            const float *bias, const float *residual, float *y, size_t h, size_t w,
                            size_t tile_row, size_t tile0) {
    size_t groups = (count + G - 1) / G;
    size_t oy = 2 * tile_row;
    size_t rows = oy + 1 < h ? 2 : 1;
    for (size_t co = 0; co < out_channels; co++) {
        float b = bias ? bias[co] : 0.0f;
        float *yplane = y + co * h * w;
        for (size_t g = 0; g < groups; g++) {
            const float *src = m + co * ldm + g * G;
            float s[2][4][G];
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < G; l++) {
                    float m0 = src[(size_t)(0 * 4 + j) * xi_stride + l], m1 = src[(size_t)(1 * 4 + j) * xi_stride + l];
                    float m2 = src[(size_t)(2 * 4 + j) * xi_stride + l], m3 = src[(size_t)(3 * 4 + j) * xi_stride + l];
                    s[0][j][l] = m0 + m1 + m2;
                    s[1][j][l] = m1 - m2 - m3;
                }
            float o[2][2 * G];
            for (int i = 0; i < 2; i++)
                for (int l = 0; l < G; l++) {
                    float a0 = s[i][0][l], a1 = s[i][1][l], a2 = s[i][2][l], a3 = s[i][3][l];
                    o[i][2 * l] = a0 + a1 + a2 + b;
                    o[i][2 * l + 1] = a1 - a2 - a3 + b;
                }
            size_t ox = 2 * (tile0 + g * G);
            if (ox >= w) break;
            size_t n = w - ox < 2 * G ? w - ox : 2 * G;
            size_t tiles_left = count - g * G;
            if (n > 2 * tiles_left) n = 2 * tiles_left;
            for (size_t i = 0; i < rows; i++) {
                size_t at = co * h * w + (oy + i) * w + ox;
                if (residual)
                    for (size_t k = 0; k < n; k++) y[at + k] = o[i][k] + residual[at + k];
                else
                    memcpy(yplane + (oy + i) * w + ox, o[i], n * sizeof(float));
            }
        }
    }
}

#ifdef DA3_X86
#include <immintrin.h>

// Lanes l of a 16-float load at column c whose column c + l lies in [0, w).
DA3_TARGET_AVX512 static inline __mmask16 column_mask(long c, long w) {
    if (c >= 0 && c + 16 <= w) return 0xFFFF;
    long lo = c < 0 ? -c : 0, hi = w - c;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

// As input_channel, straight from the image rows with masked loads at the borders, and the
// stride-2 tile columns split by permutes.
DA3_TARGET_AVX512 static void input_channel_avx512(const float *x, size_t h, size_t w, size_t tile_row, size_t tile0,
                                                   size_t count, int relu, float *v, size_t xi_stride) {
    size_t groups = (count + G - 1) / G;
    const __m512 zero = _mm512_setzero_ps();
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    const float *rows[4];
    for (int i = 0; i < 4; i++) {
        long iy = 2 * (long)tile_row - 1 + i;
        rows[i] = (iy < 0 || iy >= (long)h) ? NULL : x + (size_t)iy * w;
    }
    for (size_t g = 0; g < groups; g++) {
        long c = 2 * (long)(tile0 + g * G) - 1;  // image column of the group's first patch column
        __mmask16 m0 = column_mask(c, (long)w), m1 = column_mask(c + 16, (long)w);
        __mmask16 m2 = column_mask(c + 2, (long)w), m3 = column_mask(c + 18, (long)w);
        __m512 d[4][4];
        for (int i = 0; i < 4; i++) {
            if (!rows[i]) {
                d[i][0] = d[i][1] = d[i][2] = d[i][3] = _mm512_setzero_ps();
                continue;
            }
            const float *p = rows[i] + c;  // masked lanes are never read
            __m512 a = _mm512_maskz_loadu_ps(m0, p), b = _mm512_maskz_loadu_ps(m1, p + 16);
            __m512 a2 = _mm512_maskz_loadu_ps(m2, p + 2), b2 = _mm512_maskz_loadu_ps(m3, p + 18);
            if (relu) {
                a = _mm512_max_ps(a, zero);
                b = _mm512_max_ps(b, zero);
                a2 = _mm512_max_ps(a2, zero);
                b2 = _mm512_max_ps(b2, zero);
            }
            d[i][0] = _mm512_permutex2var_ps(a, even, b);
            d[i][1] = _mm512_permutex2var_ps(a, odd, b);
            d[i][2] = _mm512_permutex2var_ps(a2, even, b2);
            d[i][3] = _mm512_permutex2var_ps(a2, odd, b2);
        }
        __m512 t[4][4];
        for (int j = 0; j < 4; j++) {
            t[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
            t[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
            t[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
            t[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
        }
        float *out = v + g * G;
        for (int i = 0; i < 4; i++) {
            _mm512_storeu_ps(out + (size_t)(i * 4 + 0) * xi_stride, _mm512_sub_ps(t[i][0], t[i][2]));
            _mm512_storeu_ps(out + (size_t)(i * 4 + 1) * xi_stride, _mm512_add_ps(t[i][1], t[i][2]));
            _mm512_storeu_ps(out + (size_t)(i * 4 + 2) * xi_stride, _mm512_sub_ps(t[i][2], t[i][1]));
            _mm512_storeu_ps(out + (size_t)(i * 4 + 3) * xi_stride, _mm512_sub_ps(t[i][1], t[i][3]));
        }
    }
}

// As output_body: 16 tiles at a time, interleaved by permutes and stored with masks.
DA3_TARGET_AVX512 static void output_avx512(const float *m, size_t ldm, size_t xi_stride, size_t out_channels,
                                            size_t count, const float *bias, const float *residual, float *y,
                                            size_t h, size_t w, size_t tile_row, size_t tile0) {
    size_t groups = (count + G - 1) / G;
    size_t oy = 2 * tile_row;
    size_t rows = oy + 1 < h ? 2 : 1;
    const __m512i lo_idx = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi_idx = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    for (size_t g = 0; g < groups; g++) {
        size_t ox = 2 * (tile0 + g * G);
        if (ox >= w) break;
        size_t n = w - ox < 2 * G ? w - ox : 2 * G;
        size_t tiles_left = count - g * G;
        if (n > 2 * tiles_left) n = 2 * tiles_left;
        __mmask16 mlo = n >= 16 ? 0xFFFF : (__mmask16)((1u << n) - 1);
        __mmask16 mhi = n >= 32 ? 0xFFFF : (n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0);
        for (size_t co = 0; co < out_channels; co++) {
            const float *src = m + co * ldm + g * G;
            __m512 b = _mm512_set1_ps(bias ? bias[co] : 0.0f);
            __m512 s[2][4];
            for (int j = 0; j < 4; j++) {
                __m512 m0 = _mm512_loadu_ps(src + (size_t)(0 * 4 + j) * xi_stride);
                __m512 m1 = _mm512_loadu_ps(src + (size_t)(1 * 4 + j) * xi_stride);
                __m512 m2 = _mm512_loadu_ps(src + (size_t)(2 * 4 + j) * xi_stride);
                __m512 m3 = _mm512_loadu_ps(src + (size_t)(3 * 4 + j) * xi_stride);
                s[0][j] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
                s[1][j] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
            }
            size_t at = co * h * w + oy * w + ox;
            for (size_t i = 0; i < rows; i++) {
                __m512 e = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[i][0], s[i][1]), s[i][2]), b);
                __m512 o = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[i][1], s[i][2]), s[i][3]), b);
                __m512 lo = _mm512_permutex2var_ps(e, lo_idx, o), hi = _mm512_permutex2var_ps(e, hi_idx, o);
                if (residual) {
                    lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(mlo, residual + at + i * w));
                    hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(mhi, residual + at + i * w + 16));
                }
                _mm512_mask_storeu_ps(y + at + i * w, mlo, lo);
                _mm512_mask_storeu_ps(y + at + i * w + 16, mhi, hi);
            }
        }
    }
}

DA3_TARGET_AVX512 static void input_avx512(const float *x, size_t c, size_t h, size_t w, size_t r, size_t t0, size_t n,
                                           int relu, float *v, size_t ldv, size_t xi_stride) {
    // Rows 2r+1 and 2r+2 are new to this tile row (2r-1 and 2r were read by the previous one): short
    // spans per channel that the hardware prefetcher does not pick up, so fetch them two channels ahead.
    long lo = 2 * (long)t0 - 1, hi = 2 * (long)(t0 + n) + 1;
    if (lo < 0) lo = 0;
    if (hi > (long)w) hi = (long)w;
    for (size_t ch = 0; ch < c; ch++) {
        if (ch + 2 < c) {
            for (size_t i = 2 * r + 1; i <= 2 * r + 2 && i < h; i++) {
                const char *row = (const char *)(x + (ch + 2) * h * w + i * w);
                for (long b = lo * 4; b < hi * 4; b += 64) _mm_prefetch(row + b, _MM_HINT_T0);
                _mm_prefetch(row + hi * 4 - 4, _MM_HINT_T0);
            }
        }
        input_channel_avx512(x + ch * h * w, h, w, r, t0, n, relu, v + ch * ldv, xi_stride);
    }
}
DA3_TARGET_AVX2 static void input_avx2(const float *x, size_t c, size_t h, size_t w, size_t r, size_t t0, size_t n,
                                       int relu, float *v, size_t ldv, size_t xs, float *s) {
    input_body(x, c, h, w, r, t0, n, relu, v, ldv, xs, s);
}
DA3_TARGET_AVX2 static void output_avx2(const float *m, size_t ldm, size_t xs, size_t co, size_t n, const float *b,
                                        const float *res, float *y, size_t h, size_t w, size_t r, size_t t0) {
    output_body(m, ldm, xs, co, n, b, res, y, h, w, r, t0);
}
#endif

void da3_wino23_input(const float *x, size_t channels, size_t height, size_t width, size_t tile_row, size_t tile0,
                      size_t count, int relu, float *v, size_t ldv, size_t xi_stride, float *scratch) {
#ifdef DA3_X86
    switch (da3_detect_isa()) {
    case DA3_ISA_AVX512: input_avx512(x, channels, height, width, tile_row, tile0, count, relu, v, ldv, xi_stride); return;
    case DA3_ISA_AVX2: input_avx2(x, channels, height, width, tile_row, tile0, count, relu, v, ldv, xi_stride, scratch); return;
    default: break;
    }
#endif
    input_body(x, channels, height, width, tile_row, tile0, count, relu, v, ldv, xi_stride, scratch);
}

void da3_wino23_output(const float *m, size_t ldm, size_t xi_stride, size_t out_channels, size_t count,
                       const float *bias, const float *residual, float *y, size_t height, size_t width,
                       size_t tile_row, size_t tile0) {
#ifdef DA3_X86
    switch (da3_detect_isa()) {
    case DA3_ISA_AVX512: output_avx512(m, ldm, xi_stride, out_channels, count, bias, residual, y, height, width, tile_row, tile0); return;
    case DA3_ISA_AVX2: output_avx2(m, ldm, xi_stride, out_channels, count, bias, residual, y, height, width, tile_row, tile0); return;
    default: break;
    }
#endif
    output_body(m, ldm, xi_stride, out_channels, count, bias, residual, y, height, width, tile_row, tile0);
}
