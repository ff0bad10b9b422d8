#version 450
//! bindings 3
//! push 4
// Elementwise ops over `count` values: Y = op(A[, B]). Ops: 0 add (A + B), 1 ReLU, 2 GELU (erf),
// 3 exp, 4 exp + 1 (DA3's confidence activation), 5 multiply (A * B), 6 copy, 7 A + B[i % period]
// (a broadcast row). A is read from aOffset on (one channel of a multi-channel map). Y may be A.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer A_ { float a[]; };
layout(std430, binding = 1) readonly buffer B_ { float b[]; };
layout(std430, binding = 2) writeonly buffer Y_ { float y[]; };
layout(push_constant) uniform P { uint count, op, period, aOffset; } p;

void main() {
    uint i = flatIndex();
    if (i >= p.count) return;
    float v = a[p.aOffset + i];
    switch (p.op) {
    case 0u: v += b[i]; break;
    case 1u: v = max(v, 0.0); break;
    case 2u: v = gelu(v); break;
    case 3u: v = exp(v); break;
    case 4u: v = exp(v) + 1.0; break;
    case 5u: v *= b[i]; break;
    case 6u: break;
    default: v += b[i % p.period]; break;
    }
    y[i] = v;
}
