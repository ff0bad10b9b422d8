#version 450
//! bindings 4
//! push 8
// Patch embedding, Conv2d(cin, dim, patch, stride=patch), written as tokens: row
// rowOffset + py*gw + px of Y (row stride dim) holds the dim outputs of patch (py, px).
// Image (cin, gh*patch, gw*patch); weight (dim, cin, patch, patch). One invocation per value.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) readonly buffer W_ { float w[]; };
layout(std430, binding = 2) readonly buffer B_ { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y_ { float y[]; };
layout(push_constant) uniform P { uint cin, gh, gw, dim, patchSize, rowOffset, pad0, pad1; } p;

void main() {
    uint id = flatIndex();
    if (id >= p.gh * p.gw * p.dim) return;
    uint token = id / p.dim, c = id % p.dim;
    uint py = token / p.gw, px = token % p.gw;
    uint width = p.gw * p.patchSize, height = p.gh * p.patchSize;
    float acc = 0.0;
    for (uint ci = 0u; ci < p.cin; ci++) {
        for (uint ky = 0u; ky < p.patchSize; ky++) {
            uint xRow = (ci * height + py * p.patchSize + ky) * width + px * p.patchSize;
            uint wRow = ((c * p.cin + ci) * p.patchSize + ky) * p.patchSize;
            for (uint kx = 0u; kx < p.patchSize; kx++) acc = fma(w[wRow + kx], x[xRow + kx], acc);
        }
    }
    y[(p.rowOffset + token) * p.dim + c] = acc + bias[c];
}
