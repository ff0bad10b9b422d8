#version 450
//! bindings 2
//! push 9
// Unfolds a (C, H, W) map for a convolution as a GEMM: col[(ci*k + ky)*k + kx][oy*ow + ox] =
// X[ci][oy*s + ky - pad][ox*s + kx - pad] (0 outside), optionally ReLU'd. The product
// W (cout x cin*k*k) * col then gives the convolution (gemm_f32 with transB = 0).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) writeonly buffer C_ { float col[]; };
layout(push_constant) uniform P { uint cin, h, w, oh, ow, k, stride, pad, reluIn; } p;

void main() {
    uint id = flatIndex();
    uint plane = p.oh * p.ow;
    uint rows = p.cin * p.k * p.k;
    if (id >= rows * plane) return;
    uint row = id / plane, pix = id % plane;
    uint ci = row / (p.k * p.k), kk = row % (p.k * p.k);
    int iy = int(pix / p.ow) * int(p.stride) + int(kk / p.k) - int(p.pad);
    int ix = int(pix % p.ow) * int(p.stride) + int(kk % p.k) - int(p.pad);
    float v = 0.0;
    if (iy >= 0 && iy < int(p.h) && ix >= 0 && ix < int(p.w)) v = x[ci * p.h * p.w + uint(iy) * p.w + uint(ix)];
    if (p.reluIn != 0u) v = max(v, 0.0);
    col[id] = v;
}
