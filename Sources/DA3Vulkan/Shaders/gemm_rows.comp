#version 450
//! bindings 6
//! push 12
// C = epilogue(A * B) without shared memory or barriers, for devices that run invocations as SIMD
// lanes of CPU cores (lavapipe): each invocation owns one column n and 8 rows, so at every k the
// workgroup's 64 lanes load 64 consecutive values of B (one vector load) and share 8 values of A
// (uniform loads). A is M x K (lda), B is K x N (ldb; a Linear's weight stored transposed).
// Epilogue as gemm_f32: + bias (per column n, or per row m with BIAS_PER_ROW), GELU or ReLU,
// * gamma[n], + R[m*ldc + n]; TRANSPOSED_OUT stores C[n*ldc + m] (a planar map from tokens).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer A_ { float a[]; };
layout(std430, binding = 1) readonly buffer B_ { float b[]; };
layout(std430, binding = 2) readonly buffer Bias_ { float bias[]; };
layout(std430, binding = 3) readonly buffer Gamma_ { float gamma[]; };
layout(std430, binding = 4) buffer R_ { float r[]; };
layout(std430, binding = 5) buffer C_ { float c[]; };
layout(push_constant) uniform P {
    uint M, N, K, lda, ldb, ldc, unused, flags, aOffset, bOffset, cOffset, rOffset;
} p;
const uint BIAS = 1u, BIAS_PER_ROW = 2u, GELU = 4u, RELU = 8u, GAMMA = 16u, RESIDUAL = 32u, TRANSPOSED_OUT = 64u;

void main() {
    uint n = gl_GlobalInvocationID.x;
    uint m0 = gl_WorkGroupID.y * 8u;
    if (n >= p.N) return;
    float acc[8];
    for (int i = 0; i < 8; i++) acc[i] = 0.0;
    uint rows = min(8u, p.M - m0);
    if (rows == 8u) {
        for (uint k = 0u; k < p.K; k++) {
            float bv = b[p.bOffset + k * p.ldb + n];
            for (uint i = 0u; i < 8u; i++) acc[i] = fma(a[p.aOffset + (m0 + i) * p.lda + k], bv, acc[i]);
        }
    } else {
        for (uint k = 0u; k < p.K; k++) {
            float bv = b[p.bOffset + k * p.ldb + n];
            for (uint i = 0u; i < rows; i++) acc[i] = fma(a[p.aOffset + (m0 + i) * p.lda + k], bv, acc[i]);
        }
    }
    for (uint i = 0u; i < rows; i++) {
        uint m = m0 + i;
        float v = acc[i];
        if ((p.flags & BIAS) != 0u) v += bias[(p.flags & BIAS_PER_ROW) != 0u ? m : n];
        if ((p.flags & GELU) != 0u) v = gelu(v);
        if ((p.flags & RELU) != 0u) v = max(v, 0.0);
        if ((p.flags & GAMMA) != 0u) v *= gamma[n];
        uint at = (p.flags & TRANSPOSED_OUT) != 0u ? n * p.ldc + m : m * p.ldc + n;
        if ((p.flags & RESIDUAL) != 0u) v += r[p.rOffset + at];
        c[p.cOffset + at] = v;
    }
}
