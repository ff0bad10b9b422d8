#version 450
//! bindings 1
//! push 4
// Softmax in place over rows of `width` values (row stride ld) of x * scale (scale > 0), one
// workgroup per row: exp((x - max) * scale) / sum, as torch.softmax(x * scale).
layout(local_size_x = 128) in;
layout(std430, binding = 0) buffer X_ { float x[]; };
layout(push_constant) uniform P { uint rows, width, ld; float scale; } p;

shared float partial[128];

void main() {
    uint r = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (r >= p.rows) return;
    uint t = gl_LocalInvocationID.x, base = r * p.ld;
    float m = -3.402823466e38;
    for (uint i = t; i < p.width; i += 128u) m = max(m, x[base + i]);
    partial[t] = m;
    barrier();
    for (uint s = 64u; s > 0u; s >>= 1) { if (t < s) partial[t] = max(partial[t], partial[t + s]); barrier(); }
    m = partial[0];
    barrier();
    float sum = 0.0;
    for (uint i = t; i < p.width; i += 128u) { float e = exp((x[base + i] - m) * p.scale); x[base + i] = e; sum += e; }
    partial[t] = sum;
    barrier();
    for (uint s = 64u; s > 0u; s >>= 1) { if (t < s) partial[t] += partial[t + s]; barrier(); }
    float inv = 1.0 / partial[0];
    for (uint i = t; i < p.width; i += 128u) x[base + i] *= inv;
}
