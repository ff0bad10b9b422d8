#version 450
//! bindings 2
//! push 2
//! fp16
// FP32 -> FP16 (round to nearest even), the fast mode's operand conversion.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X_ { float x[]; };
layout(std430, binding = 1) writeonly buffer Y_ { float16_t y[]; };
layout(push_constant) uniform P { uint count, pad; } p;

void main() {
    uint i = flatIndex();
    if (i < p.count) y[i] = float16_t(x[i]);
}
