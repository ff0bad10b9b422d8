#version 450
//! bindings 3
//! push 4
// Adds DA3's separable UV position embedding to a planar (C, h, w) map in place: channel c < C/2
// gets columns[c * w + x], channel c >= C/2 gets rows[(c - C/2) * h + y] (see UVEmbedding).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer X_ { float x[]; };
layout(std430, binding = 1) readonly buffer C_ { float columns[]; };
layout(std430, binding = 2) readonly buffer R_ { float rowsT[]; };
layout(push_constant) uniform P { uint channels, h, w, pad; } p;

void main() {
    uint id = flatIndex();
    uint plane = p.h * p.w;
    if (id >= p.channels * plane) return;
    uint c = id / plane, pix = id % plane;
    uint half2 = p.channels / 2u;
    float add = c < half2 ? columns[c * p.w + pix % p.w] : rowsT[(c - half2) * p.h + pix / p.w];
    x[id] += add;
}
