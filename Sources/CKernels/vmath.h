// Branch-free float exp that compilers vectorize inside the target-specific loops.
#ifndef DA3_VMATH_H
#define DA3_VMATH_H

#include <stdint.h>
#include <string.h>

// exp(x), Cephes-style: range reduction by ln 2 with a two-part constant, then a degree-6
// polynomial; relative error about 1 ulp. Arguments are clamped to [-87.3, 88.3], so results
// below the smallest normal float are not produced (softmax never needs them).
static inline float da3_expf(float x) {
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    float n = __builtin_rintf(x * log2e);
    float r = x - n * ln2_hi;
    r = r - n * ln2_lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

// float -> bfloat16 bit pattern, round to nearest even (NaN stays NaN).
static inline uint16_t da3_bf16_round_scalar(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

#endif
