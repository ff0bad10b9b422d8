#version 450
//! bindings 2
//! push 7
// Bicubic resize (A = -0.75, align_corners=False, antialias=False, explicit scale factors) of
// channels-last maps (pixels of `channels` contiguous values; the position embedding's layout),
// as F.interpolate(scale_factor=..., mode="bicubic"): source coordinate (dst + 0.5) * invScale - 0.5,
// border taps clamped. invScale = 1 / scale_factor is computed on the host in FP32 as the CPU does.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) writeonly buffer Y_ { float y[]; };
layout(push_constant) uniform P { uint channels, h, w, oh, ow; float invScaleY, invScaleX; } p;

const float A = -0.75;
float conv1(float t) { return ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0; }
float conv2(float t) { return ((A * t - 5.0 * A) * t + 8.0 * A) * t - 4.0 * A; }

void axis(uint o, uint n, float invScale, out int idx[4], out float wt[4]) {
    float real = invScale * (float(o) + 0.5) - 0.5;
    float f = floor(real);
    float t = real - f;
    wt[0] = conv2(t + 1.0); wt[1] = conv1(t); wt[2] = conv1(1.0 - t); wt[3] = conv2(2.0 - t);
    for (int i = 0; i < 4; i++) idx[i] = clamp(int(f) - 1 + i, 0, int(n) - 1);
}

void main() {
    uint id = flatIndex();
    if (id >= p.oh * p.ow * p.channels) return;
    uint c = id % p.channels, pix = id / p.channels;
    int ry[4], rx[4];
    float wy[4], wx[4];
    axis(pix / p.ow, p.h, p.invScaleY, ry, wy);
    axis(pix % p.ow, p.w, p.invScaleX, rx, wx);
    float acc = 0.0;
    for (int i = 0; i < 4; i++) {
        uint row = uint(ry[i]) * p.w;
        float r = wx[0] * x[(row + uint(rx[0])) * p.channels + c] + wx[1] * x[(row + uint(rx[1])) * p.channels + c]
                + wx[2] * x[(row + uint(rx[2])) * p.channels + c] + wx[3] * x[(row + uint(rx[3])) * p.channels + c];
        acc += wy[i] * r;
    }
    y[id] = acc;
}
