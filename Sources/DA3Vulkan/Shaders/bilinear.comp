#version 450
//! bindings 2
//! push 7
// Bilinear resize with align_corners=True of planar (C, H, W) maps, as F.interpolate: the source
// coordinate is dst * scale with scale = (in - 1) / (out - 1) computed on the host in FP32 (as
// PyTorch does); each output blends two horizontally interpolated source rows,
// ly0 * (lx0 a + lx1 b) + ly1 * (lx0 c + lx1 d), the CPU kernel's order.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) writeonly buffer Y_ { float y[]; };
layout(push_constant) uniform P { uint channels, h, w, oh, ow; float scaleY, scaleX; } p;

void taps(uint o, uint n, float scale, out uint i0, out uint i1, out float l0, out float l1) {
    float real = scale * float(o);
    i0 = min(uint(real), n - 1u);
    i1 = i0 + (i0 < n - 1u ? 1u : 0u);
    l1 = clamp(real - float(i0), 0.0, 1.0);
    l0 = 1.0 - l1;
}

void main() {
    uint id = flatIndex();
    uint plane = p.oh * p.ow;
    if (id >= p.channels * plane) return;
    uint c = id / plane, pix = id % plane;
    uint y0, y1, x0, x1;
    float ly0, ly1, lx0, lx1;
    taps(pix / p.ow, p.h, p.scaleY, y0, y1, ly0, ly1);
    taps(pix % p.ow, p.w, p.scaleX, x0, x1, lx0, lx1);
    uint base = c * p.h * p.w;
    precise float h0 = lx0 * x[base + y0 * p.w + x0] + lx1 * x[base + y0 * p.w + x1];
    precise float h1 = lx0 * x[base + y1 * p.w + x0] + lx1 * x[base + y1 * p.w + x1];
    precise float v = ly0 * h0 + ly1 * h1;
    y[id] = v;
}
