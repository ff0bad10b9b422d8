#version 450
//! bindings 5
//! push 10
// Direct 2-D convolution (groups 1, square kernel k, stride, zero padding): Y[co][oy][ox] =
// bias[co] + sum W[co][ci][ky][kx] * X[ci][oy*s+ky-pad][ox*s+kx-pad]. Each invocation computes one
// output pixel for 8 output channels (each input value loaded once for 8 products); consecutive
// invocations take consecutive pixels, so their input loads are contiguous.
// Flags: bias, ReLU of the input (a residual conv unit's relu-then-conv), ReLU of the output,
// + R (residual, same shape as Y).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) readonly buffer W_ { float w[]; };
layout(std430, binding = 2) readonly buffer B_ { float bias[]; };
layout(std430, binding = 3) readonly buffer R_ { float r[]; };
layout(std430, binding = 4) writeonly buffer Y_ { float y[]; };
layout(push_constant) uniform P { uint cin, h, w, cout, oh, ow, k, stride, pad, flags; } p;
const uint BIAS = 1u, RELU_IN = 2u, RELU_OUT = 4u, RESIDUAL = 8u;

void main() {
    uint id = flatIndex();
    uint plane = p.oh * p.ow;
    uint groups = (p.cout + 7u) / 8u;
    if (id >= groups * plane) return;
    uint co0 = (id / plane) * 8u, pix = id % plane;
    uint count = min(8u, p.cout - co0);
    int oy = int(pix / p.ow), ox = int(pix % p.ow);
    int k = int(p.k);
    uint kk = p.k * p.k;
    float acc[8];
    for (int j = 0; j < 8; j++) acc[j] = 0.0;
    for (uint ci = 0u; ci < p.cin; ci++) {
        uint xBase = ci * p.h * p.w;
        for (int ky = 0; ky < k; ky++) {
            int iy = oy * int(p.stride) + ky - int(p.pad);
            if (iy < 0 || iy >= int(p.h)) continue;
            for (int kx = 0; kx < k; kx++) {
                int ix = ox * int(p.stride) + kx - int(p.pad);
                if (ix < 0 || ix >= int(p.w)) continue;
                float v = x[xBase + uint(iy) * p.w + uint(ix)];
                if ((p.flags & RELU_IN) != 0u) v = max(v, 0.0);
                uint wi = (co0 * p.cin + ci) * kk + uint(ky * k + kx);
                for (uint j = 0u; j < count; j++) acc[j] = fma(w[wi + j * p.cin * kk], v, acc[j]);
            }
        }
    }
    for (uint j = 0u; j < count; j++) {
        uint o = (co0 + j) * plane + pix;
        float r0 = acc[j];
        if ((p.flags & BIAS) != 0u) r0 += bias[co0 + j];
        if ((p.flags & RELU_OUT) != 0u) r0 = max(r0, 0.0);
        if ((p.flags & RESIDUAL) != 0u) r0 += r[o];
        y[o] = r0;
    }
}
