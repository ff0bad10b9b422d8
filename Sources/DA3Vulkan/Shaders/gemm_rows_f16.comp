#version 450
//! bindings 6
//! fp16
//! push 12
// FP16-operand twin of gemm_rows (the fast mode on CPU devices): A (M x K, lda) and B (K x N, ldb;
// a Linear's weight stored transposed) hold float16, half the bytes of gemm_rows' operands. Each
// product of two FP16 values is exact in FP32 and sums in FP32 (what an FP16 matrix unit with FP32
// accumulation computes). Same lanes as gemm_rows: one column n and 8 rows per invocation.
// Epilogue as gemm_rows, in FP32: + bias (per column n, or per row m with BIAS_PER_ROW), GELU or
// ReLU, * gamma[n], + R[m*ldc + n] (FP32); C is FP32, or FP16 with F16_OUT (no residual then).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer A_ { float16_t a[]; };
layout(std430, binding = 1) readonly buffer B_ { float16_t b[]; };
layout(std430, binding = 2) readonly buffer Bias_ { float bias[]; };
layout(std430, binding = 3) readonly buffer Gamma_ { float gamma[]; };
layout(std430, binding = 4) buffer R_ { float r[]; };
layout(std430, binding = 5) buffer C_ { float c[]; };
layout(std430, binding = 5) buffer C16_ { float16_t c16[]; };
layout(push_constant) uniform P {
    uint M, N, K, lda, ldb, ldc, unused, flags, aOffset, bOffset, cOffset, rOffset;
} p;
const uint BIAS = 1u, BIAS_PER_ROW = 2u, GELU = 4u, RELU = 8u, GAMMA = 16u, RESIDUAL = 32u, TRANSPOSED_OUT = 64u,
           F16_OUT = 128u;

void main() {
    uint n = gl_GlobalInvocationID.x;
    uint m0 = gl_WorkGroupID.y * 8u;
    if (n >= p.N) return;
    float acc[8];
    for (int i = 0; i < 8; i++) acc[i] = 0.0;
    uint rows = min(8u, p.M - m0);
    if (rows == 8u) {
        for (uint k = 0u; k < p.K; k++) {
            float bv = float(b[p.bOffset + k * p.ldb + n]);
            for (uint i = 0u; i < 8u; i++) acc[i] = fma(float(a[p.aOffset + (m0 + i) * p.lda + k]), bv, acc[i]);
        }
    } else {
        for (uint k = 0u; k < p.K; k++) {
            float bv = float(b[p.bOffset + k * p.ldb + n]);
            for (uint i = 0u; i < rows; i++) acc[i] = fma(float(a[p.aOffset + (m0 + i) * p.lda + k]), bv, acc[i]);
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
        if ((p.flags & F16_OUT) != 0u) c16[p.cOffset + at] = float16_t(v); else c[p.cOffset + at] = v;
    }
}
