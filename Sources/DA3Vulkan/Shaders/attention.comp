#version 450
//! bindings 2
//! push 10
// softmax(q k^T * scale) v for one query row of one head per workgroup (grid: tokens x heads),
// keys in blocks of 64 with an online (running max) softmax, all in FP32. Token t's q, k and v
// of head h are headDim values at t*ldIn + {q,k,v}Offset + h*headDim (a fused qkv buffer);
// the output goes to t*ldOut + outOffset + h*headDim. headDim <= 64.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer QKV_ { float qkv[]; };
layout(std430, binding = 1) writeonly buffer O_ { float o[]; };
layout(push_constant) uniform P {
    uint tokens, headDim, ldIn, ldOut, qOffset, kOffset, vOffset, outOffset;
    float scale;
    uint pad;
} p;

shared float q[64];
shared float s[64];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint row = gl_WorkGroupID.x, head = gl_WorkGroupID.y;
    uint hd = p.headDim, hOff = head * hd;
    if (t < hd) q[t] = qkv[row * p.ldIn + p.qOffset + hOff + t];
    float runMax = -3.402823466e38, runSum = 0.0, acc = 0.0;
    for (uint k0 = 0u; k0 < p.tokens; k0 += 64u) {
        barrier();
        uint key = k0 + t;
        float score = -3.402823466e38;
        if (key < p.tokens) {
            uint kb = key * p.ldIn + p.kOffset + hOff;
            float d = 0.0;
            for (uint i = 0u; i < hd; i++) d = fma(q[i], qkv[kb + i], d);
            score = d * p.scale;
        }
        s[t] = score;
        barrier();
        uint n = min(64u, p.tokens - k0);
        float blockMax = runMax;
        for (uint j = 0u; j < n; j++) blockMax = max(blockMax, s[j]);
        barrier();
        // Each invocation exponentiates its own key's score once; all then read the 64 weights.
        s[t] = key < p.tokens ? exp(score - blockMax) : 0.0;
        barrier();
        float correction = exp(runMax - blockMax);
        runSum *= correction;
        acc *= correction;
        for (uint j = 0u; j < n; j++) {
            float e = s[j];
            runSum += e;
            if (t < hd) acc = fma(e, qkv[(k0 + j) * p.ldIn + p.vOffset + hOff + t], acc);
        }
        runMax = blockMax;
    }
    if (t < hd) o[row * p.ldOut + p.outOffset + hOff + t] = acc / runSum;
}
