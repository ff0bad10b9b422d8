#version 450
//! bindings 4
//! push 10
// LayerNorm over rows of `width` values (biased variance, two passes as torch.nn.LayerNorm), one
// workgroup per row. Row r starts at inOffset + (r / groups) * inStride + (r % groups) * innerStride
// in X and at outOffset + (r / groups) * outStride + (r % groups) * innerStride in Y, so per-head
// q/k norms inside a fused qkv buffer are one dispatch, and a normalized half can be written into
// a concatenation. Each thread reads and writes only its own elements, so Y may be X (in place).
layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) readonly buffer W_ { float w[]; };
layout(std430, binding = 2) readonly buffer B_ { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y_ { float y[]; };
layout(push_constant) uniform P {
    uint rows, width, groups, inStride, outStride, innerStride, inOffset, outOffset;
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
    uint inner = (r % p.groups) * p.innerStride;
    uint src = p.inOffset + (r / p.groups) * p.inStride + inner, dst = p.outOffset + (r / p.groups) * p.outStride + inner;
    uint t = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint i = t; i < p.width; i += 128u) s += x[src + i];
    float mean = reduceSum(s) / float(p.width);
    float q = 0.0;
    for (uint i = t; i < p.width; i += 128u) { float d = x[src + i] - mean; q += d * d; }
    float rstd = inversesqrt(reduceSum(q) / float(p.width) + p.eps);
    for (uint i = t; i < p.width; i += 128u) {
        float v = (x[src + i] - mean) * rstd;
        if ((p.flags & 1u) != 0u) v = v * w[i] + bias[i];
        y[dst + i] = v;
    }
}
