#version 450
//! bindings 4
//! fp16
//! push 6
// LayerNorm of contiguous rows of `width` FP32 values into FP16 (the fast mode's GEMM operand):
// mean and variance in FP32 (two passes, biased variance, as torch.nn.LayerNorm), the normalized
// value with weight and bias in FP32, rounded to FP16 only when stored. One workgroup per row.
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) readonly buffer W_ { float w[]; };
layout(std430, binding = 2) readonly buffer B_ { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y_ { float16_t y[]; };
layout(push_constant) uniform P {
    uint rows, width, inOffset, outOffset;
    float eps;
    uint pad;
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
    uint src = p.inOffset + r * p.width, dst = p.outOffset + r * p.width;
    uint t = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint i = t; i < p.width; i += 128u) s += x[src + i];
    float mean = reduceSum(s) / float(p.width);
    float q = 0.0;
    for (uint i = t; i < p.width; i += 128u) { float d = x[src + i] - mean; q += d * d; }
    float rstd = inversesqrt(reduceSum(q) / float(p.width) + p.eps);
    for (uint i = t; i < p.width; i += 128u) y[dst + i] = float16_t((x[src + i] - mean) * rstd * w[i] + bias[i]);
}
