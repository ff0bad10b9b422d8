#version 450
//! bindings 4
//! push 6
// Transposed convolution whose kernel equals its stride s (no overlap), as
// nn.ConvTranspose2d(cin, cout, kernel_size=s, stride=s): Y[co][oy][ox] = bias[co] +
// sum_ci X[ci][oy/s][ox/s] * W[ci][co][oy%s][ox%s]. One invocation per output value.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) readonly buffer W_ { float w[]; };
layout(std430, binding = 2) readonly buffer B_ { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y_ { float y[]; };
layout(push_constant) uniform P { uint cin, h, w, cout, s, hasBias; } p;

void main() {
    uint id = flatIndex();
    uint ow = p.w * p.s, plane = p.h * p.s * ow;
    if (id >= p.cout * plane) return;
    uint co = id / plane, pix = id % plane;
    uint oy = pix / ow, ox = pix % ow;
    uint iy = oy / p.s, ix = ox / p.s, ky = oy % p.s, kx = ox % p.s;
    float acc = 0.0;
    for (uint ci = 0u; ci < p.cin; ci++) {
        acc = fma(x[(ci * p.h + iy) * p.w + ix], w[((ci * p.cout + co) * p.s + ky) * p.s + kx], acc);
    }
    if (p.hasBias != 0u) acc += bias[co];
    y[id] = acc;
}
