// Shared helpers for the DA3 compute shaders (included by glslc, not a shader itself).

// Flat index of a 1-D problem dispatched as a 2-D grid of 256-wide workgroups (grids wider than
// 65535 groups spill into y; VulkanDispatch.linear computes the grid).
uint flatIndex() {
    return gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 256u + gl_GlobalInvocationID.x;
}

// erfc(z) for z >= 0 with relative error below 1.2e-7 (Chebyshev fit, Numerical Recipes 6.2).
float erfcPositive(float z) {
    float t = 1.0 / (1.0 + 0.5 * z);
    float p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    return t * exp(-z * z + p);
}

// Exact (erf) GELU, 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.GELU(). 1 + erf is formed from erfc
// so that it keeps full relative accuracy for negative x, where it is tiny.
float gelu(float x) {
    float z = abs(x) * 0.70710678118654752;
    float e = erfcPositive(z);
    return 0.5 * x * (x < 0.0 ? e : 2.0 - e);
}
