#version 450
//! bindings 4
//! push 9
// LayerNorm over rows of `width` values (biased variance, two passes as torch.nn.LayerNorm), one
// workgroup per row. Row r starts at offset + (r / groups) * outerStride + (r % groups) * innerStride
// in both X and Y, so per-head q/k norms inside a fused qkv buffer are one dispatch. Each thread
// reads and writes only its own elements, so Y may be X (in place).
layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) readonly buffer W_ { float w[]; };
layout(std430, binding = 2) readonly buffer B_ { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y_ { float y[]; };
layout(push_constant) uniform P {
    uint rows, width, groups, outerStride, innerStride, inOffset, outOffset;
    float eps;
    uint flags;  // bit 0: apply weight and bias
} p;

shared float partial[128];

float reduceSum(float v) {
    uint t = gl_LocalInvocationID.x;
    partial[t] = v;
    barrier();
    for (uint s = 64u; s > 0u; s >>= 1) {
        if (t < s) partial[t] += partial[t + s];
        barrier();
    }
    float total = partial[0];
    barrier();
    return total;
}

void main() {
    uint r = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (r >= p.rows) return;
    uint base = (r / p.groups) * p.outerStride + (r % p.groups) * p.innerStride;
    uint t = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint i = t; i < p.width; i += 128u) s += x[p.inOffset + base + i];
    float mean = reduceSum(s) / float(p.width);
    float q = 0.0;
    for (uint i = t; i < p.width; i += 128u) { float d = x[p.inOffset + base + i] - mean; q += d * d; }
    float rstd = inversesqrt(reduceSum(q) / float(p.width) + p.eps);
    for (uint i = t; i < p.width; i += 128u) {
        float v = (x[p.inOffset + base + i] - mean) * rstd;
        if ((p.flags & 1u) != 0u) v = v * w[i] + bias[i];
        y[p.outOffset + base + i] = v;
    }
}
