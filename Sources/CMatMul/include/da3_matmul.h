// Fully connected products through oneDNN's matmul primitive (JIT brgemm kernels), called from
// the engine's own threads: each call runs single-threaded on the calling thread, so the engine
// keeps owning the cores. Primitives are created once per shape and cached.
#ifndef DA3_MATMUL_H
#define DA3_MATMUL_H

#include <stddef.h>
#include <stdint.h>

/// Options of one product (bit flags).
enum {
    DA3_MATMUL_BF16 = 1,        ///< x and W are bfloat16 (uint16_t); otherwise float.
    DA3_MATMUL_ACCUMULATE = 2,  ///< y += product (residual branch); otherwise y = product.
    DA3_MATMUL_GELU = 4,        ///< y = gelu_erf(product) (applied after the bias).
    DA3_MATMUL_OUT_BF16 = 8,    ///< y is bfloat16; otherwise float.
};

/// y (rows x n) = x (rows x k, row-major) * W^T + bias, W stored n x k row-major (as nn.Linear),
/// bias (n floats) optional; `flags` from the enum above. Runs on the calling thread.
/// Returns 0 on success, non-zero when oneDNN cannot create or run the product (the caller
/// falls back to another implementation).
int da3_matmul(int rows, int k, int n, int flags, const void *x, const void *w, const float *bias, void *y);

/// Whether the CPU has native bfloat16 dot products (AVX512-BF16), so DA3_MATMUL_BF16 is fast.
int da3_matmul_bf16_native(void);

#endif
