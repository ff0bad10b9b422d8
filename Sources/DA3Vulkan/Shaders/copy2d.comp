#version 450
//! bindings 2
//! push 6
// Strided copy of a rows x cols block: Y[dstOffset + r*dstStride + c] = X[srcOffset + r*srcStride + c]
// (rows of a token sequence into a concatenation, one row into another sequence).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) writeonly buffer Y_ { float y[]; };
layout(push_constant) uniform P { uint rows, cols, srcOffset, srcStride, dstOffset, dstStride; } p;

void main() {
    uint id = flatIndex();
    if (id >= p.rows * p.cols) return;
    uint r = id / p.cols, c = id % p.cols;
    y[p.dstOffset + r * p.dstStride + c] = x[p.srcOffset + r * p.srcStride + c];
}
