#version 450
//! bindings 6
//! fp16
//! push 12
// FP16 twin of gemm_f32: A and B hold float16 (storage and shared memory in FP16, half the
// traffic); each product of two FP16 values is exact in FP32 and accumulates in FP32; C is FP32.
// C = epilogue(A * op(B)): tiled GEMM, 64x64 output tiles, 16x16 threads of 4x4 outputs,
// K in steps of 16 through shared memory. A is M x K (row stride lda). op(B)(k, n) is B[n*ldb + k]
// when transB = 1 (a Linear's (out, in) weight) and B[k*ldb + n] otherwise (im2col columns).
// Epilogue, in order: + bias (per column n, or per row m with BIAS_PER_ROW), GELU or ReLU,
// * gamma[n] (LayerScale), + R[m*ldc + n] (residual; R may be C itself). C is FP32, or FP16 with
// F16_OUT (rounded once, after the FP32 epilogue).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "common.glsl"
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer A_ { float16_t a[]; };
layout(std430, binding = 1) readonly buffer B_ { float16_t b[]; };
layout(std430, binding = 2) readonly buffer Bias_ { float bias[]; };
layout(std430, binding = 3) readonly buffer Gamma_ { float gamma[]; };
layout(std430, binding = 4) buffer R_ { float r[]; };
layout(std430, binding = 5) buffer C_ { float c[]; };
layout(std430, binding = 5) buffer C16_ { float16_t c16[]; };
layout(push_constant) uniform P {
    uint M, N, K, lda, ldb, ldc, transB, flags, aOffset, bOffset, cOffset, rOffset;
} p;
const uint BIAS = 1u, BIAS_PER_ROW = 2u, GELU = 4u, RELU = 8u, GAMMA = 16u, RESIDUAL = 32u, F16_OUT = 128u;

shared float16_t As[16][65];
shared float16_t Bs[16][65];

void main() {
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * 16u + tx;
    uint row0 = gl_WorkGroupID.y * 64u, col0 = gl_WorkGroupID.x * 64u;
    float acc[4][4];
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) acc[i][j] = 0.0;
    for (uint k0 = 0u; k0 < p.K; k0 += 16u) {
        // A tile: 64 rows x 16 k; each thread loads 4 (consecutive k for coalescing).
        for (uint e = tid; e < 1024u; e += 256u) {
            uint m = e / 16u, k = e % 16u;
            uint gm = row0 + m, gk = k0 + k;
            As[k][m] = (gm < p.M && gk < p.K) ? a[p.aOffset + gm * p.lda + gk] : float16_t(0.0);
        }
        for (uint e = tid; e < 1024u; e += 256u) {
            uint n, k;
            if (p.transB != 0u) { n = e / 16u; k = e % 16u; } else { k = e / 64u; n = e % 64u; }
            uint gn = col0 + n, gk = k0 + k;
            float16_t v = float16_t(0.0);
            if (gn < p.N && gk < p.K) v = p.transB != 0u ? b[p.bOffset + gn * p.ldb + gk] : b[p.bOffset + gk * p.ldb + gn];
            Bs[k][n] = v;
        }
        barrier();
        for (uint k = 0u; k < 16u; k++) {
            float av[4], bv[4];
            for (uint i = 0u; i < 4u; i++) { av[i] = float(As[k][ty + 16u * i]); bv[i] = float(Bs[k][tx + 16u * i]); }
            for (uint i = 0u; i < 4u; i++) for (uint j = 0u; j < 4u; j++) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        barrier();
    }
    for (uint i = 0u; i < 4u; i++) {
        uint m = row0 + ty + 16u * i;
        if (m >= p.M) continue;
        for (uint j = 0u; j < 4u; j++) {
            uint n = col0 + tx + 16u * j;
            if (n >= p.N) continue;
            float v = acc[i][j];
            if ((p.flags & BIAS) != 0u) v += bias[(p.flags & BIAS_PER_ROW) != 0u ? m : n];
            if ((p.flags & GELU) != 0u) v = gelu(v);
            if ((p.flags & RELU) != 0u) v = max(v, 0.0);
            if ((p.flags & GAMMA) != 0u) v *= gamma[n];
            if ((p.flags & RESIDUAL) != 0u) v += r[p.rOffset + m * p.ldc + n];
            if ((p.flags & F16_OUT) != 0u) c16[p.cOffset + m * p.ldc + n] = float16_t(v); else c[p.cOffset + m * p.ldc + n] = v;
        }
    }
}
