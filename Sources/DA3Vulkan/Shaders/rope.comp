#version 450
//! bindings 4
//! push 6
// 2-D rotary position embedding in place (layers/rope.py): within each head of headDim values,
// the first half rotates with the token's y position and the second with its x position; within a
// half of size d, (v[i], v[i + d/2]) -> (v[i] c - v[i + d/2] s, v[i + d/2] c + v[i] s) with the
// angle pos * 100^(-2i/d) taken from precomputed tables (cos/sin[pos * d/2 + i]) so the GPU uses
// the CPU's exact values. One invocation per rotated pair.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer X_ { float x[]; };
layout(std430, binding = 1) readonly buffer Pos_ { int pos[]; };  // (y, x) per token
layout(std430, binding = 2) readonly buffer Cos_ { float cosT[]; };
layout(std430, binding = 3) readonly buffer Sin_ { float sinT[]; };
layout(push_constant) uniform P { uint tokens, heads, headDim, ld, offset, pad; } p;

void main() {
    uint id = flatIndex();
    uint half4 = p.headDim / 4u;          // pairs per axis
    uint perToken = p.heads * 2u * half4;
    if (id >= p.tokens * perToken) return;
    uint token = id / perToken, rest = id % perToken;
    uint head = rest / (2u * half4), axis = (rest / half4) % 2u, i = rest % half4;
    int position = pos[token * 2u + axis];
    uint base = token * p.ld + p.offset + head * p.headDim + axis * (p.headDim / 2u);
    float c = cosT[uint(position) * half4 + i], s = sinT[uint(position) * half4 + i];
    float a = x[base + i], b = x[base + i + half4];
    x[base + i] = a * c - b * s;
    x[base + i + half4] = b * c + a * s;
}
