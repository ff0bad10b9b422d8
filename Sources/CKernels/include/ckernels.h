// Hand-written SIMD kernels for the hot pointwise/row operations. Each function picks an
// AVX-512, AVX2+FMA or portable implementation at run time, so no compiler flags are needed
// and the package stays usable as an ordinary dependency.
#ifndef DA3_CKERNELS_H
#define DA3_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Row-wise softmax in place: rows x width, row stride ld (elements).
void da3_softmax_rows(float *x, size_t rows, size_t width, size_t ld);

/// Exact-erf GELU in place: 0.5 x (1 + erf(x / sqrt 2)).
void da3_gelu(float *x, size_t count);

/// LayerNorm of `rows` rows of `width` (strides in elements; in place allowed when strides match).
void da3_layernorm_rows(const float *x, size_t rows, size_t width, size_t in_stride, const float *weight,
                        const float *bias, float eps, float *y, size_t out_stride);

/// out[k] = w0[k] * row[i0[k]] + w1[k] * row[i1[k]] for k < n (products rounded separately).
void da3_lerp_gather(const float *row, const int32_t *i0, const int32_t *i1, const float *w0, const float *w1, size_t n,
                     float *out);

/// Whether da3_attention_block can run here (head dimension 64 and AVX-512).
int da3_attention_fast_path_available(size_t head_dim);

/// Floats needed to pack one head's K and V for `tokens` tokens.
size_t da3_attention_packed_count(size_t tokens);

/// Packs one head's K (into 32-key panels) and V (tokens x 64, contiguous); k and v rows are `ld` apart.
void da3_attention_pack(const float *k, const float *v, size_t ld, size_t tokens, float *packed);

/// For `rows` query rows (ldq apart): scores = scale * q K^T (rows x tokens, in `scores`), softmax,
/// out = scores V (rows x 64, ldo apart). Requires da3_attention_fast_path_available(64).
void da3_attention_block(const float *q, size_t ldq, const float *packed, size_t tokens, size_t rows,
                         float scale, float *scores, float *out, size_t ldo);

/// Whether the CPU has AVX-512 with bfloat16 dot products (the `Precision.fast` kernels).
int da3_bf16_available(void);

/// float -> bfloat16 (bit patterns), rounding to nearest even (the AVX512-BF16 path treats
/// subnormal inputs as zero).
void da3_f32_to_bf16(const float *x, uint16_t *y, size_t n);

/// A parallel region's body: called once per index.
typedef void (*da3_pool_fn)(void *ctx, size_t index);

/// Starts the engine's thread pool with `threads` threads in all (the caller of a region is one of
/// them); only the first call has an effect.
void da3_pool_start(size_t threads);

/// Calls fn(ctx, i) for every i in 0..<count, on the pool's workers and the calling thread, and
/// returns when all calls have finished. Serial on the caller when nested, when another thread's
/// region is running, or before da3_pool_start.
void da3_pool_run(size_t count, da3_pool_fn fn, void *ctx);

/// Whether da3_gemm_f32 can run here (AVX-512).
int da3_gemm_f32_available(void);

/// Floats of B (n x k) packed by da3_gemm_f32_pack.
size_t da3_gemm_f32_packed_count(size_t n, size_t k);

/// Packs B (n rows of k floats, `ldw` apart) into 32-column panels for da3_gemm_f32, row j
/// multiplied by row_scale[j] when row_scale is not NULL (LayerScale folded in while packing).
void da3_gemm_f32_pack(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale, float *packed);

/// C (m x n, row stride ldc) = A B^T + bias, or C += A B^T + bias with `accumulate`; A is m rows
/// of k floats (`lda` apart), B packed by da3_gemm_f32_pack, bias n floats or NULL. Processes rows
/// in the order given (callers block rows for cache). Requires da3_gemm_f32_available().
void da3_gemm_f32(const float *a, size_t lda, const float *packed, size_t m, size_t n, size_t k, const float *bias,
                  int accumulate, float *c, size_t ldc);

/// C (m x n, row stride ldc) = A B, or C += A B with `accumulate`, on da3_gemm_f32's micro-kernel
/// with B (k rows of n floats, `ldb` apart) read in place instead of packed: for products whose
/// B is made fresh each time (Winograd's transformed tiles, im2col columns) and has few rows.
/// Requires da3_gemm_f32_available().
void da3_gemm_f32_kn(const float *a, size_t lda, const float *b, size_t ldb, size_t m, size_t n, size_t k, int accumulate,
                     float *c, size_t ldc);

/// Whether the int8 kernels (da3_gemm_i8, da3_quantize_rows_u8) can run here (AVX512-VNNI).
int da3_i8_available(void);
/// 32-bit words of B (n x k, k a multiple of 4) packed by da3_gemm_i8_pack: the int8 panels, then
/// one float scale and one int32 zero-point correction per (padded) column.
size_t da3_gemm_i8_packed_words(size_t n, size_t k);
/// Quantizes B (n rows of k floats, `ldw` apart; row j times row_scale[j] when given) symmetrically
/// per row to int8 (scale max|row| / 127, round to nearest even) into 32-column panels of 4-value
/// words. Requires da3_i8_available().
void da3_gemm_i8_pack(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale, uint32_t *packed);
/// Quantizes m rows of k floats (`ldx` apart) symmetrically per row: q = round(x * 127 / max|row|)
/// stored as q + 128 (unsigned, k bytes per row), scales[r] = max|row| / 127 (0 rows: scale 0).
/// Requires da3_i8_available().
void da3_quantize_rows_u8(const float *x, size_t m, size_t k, size_t ldx, uint8_t *q, float *scales);
/// C (m x n) = A B^T + bias, or C += with `accumulate`: A m rows of k offset bytes (`lda` apart)
/// with per-row scales from da3_quantize_rows_u8, B packed by da3_gemm_i8_pack; int32 dot products
/// (vpdpbusd), then C = a_scale * b_scale * (dot - 128 * sum(b)) + bias in FP32.
void da3_gemm_i8(const uint8_t *a, const float *a_scales, size_t lda, const uint32_t *packed, size_t m, size_t n,
                 size_t k, const float *bias, int accumulate, float *c, size_t ldc);

/// 32-bit words of B (n x k) packed by da3_gemm_bf16_pack (k even).
size_t da3_gemm_bf16_packed_words(size_t n, size_t k);

/// Packs B (n rows of k floats, `ldw` apart; k even) as bfloat16 pairs in 32-column panels, row j
/// multiplied by row_scale[j] (in FP32, before rounding) when row_scale is not NULL.
/// Requires AVX512-BF16 (da3_bf16_available).
void da3_gemm_bf16_pack(const float *w, size_t n, size_t k, size_t ldw, const float *row_scale, uint32_t *packed);

/// Packs B given as its transpose, k rows of n floats (`ldb` apart), in the same layout as
/// da3_gemm_bf16_pack (so C = A (B^T)^T, e.g. Winograd's U V with V stored k x n).
void da3_gemm_bf16_pack_kn(const float *b, size_t k, size_t n, size_t ldb, uint32_t *packed);

/// C (m x n, row stride ldc) = A B^T + bias, or C += A B^T + bias with `accumulate`; A is m rows
/// of k bfloat16 values (`lda` elements apart, even), B packed by da3_gemm_bf16_pack, bias n
/// floats or NULL. FP32 accumulation. Requires AVX512-BF16.
void da3_gemm_bf16(const uint16_t *a, size_t lda, const uint32_t *packed, size_t m, size_t n, size_t k,
                   const float *bias, int accumulate, float *c, size_t ldc);

/// Whether da3_attention_bf16_block can run here (head dimension 64 and AVX512-BF16).
int da3_attention_bf16_available(size_t head_dim);

/// 32-bit words needed to pack one head's K and V as bfloat16 pairs.
size_t da3_attention_bf16_packed_words(size_t tokens);

/// 32-bit words of per-thread scratch for a block of `rows` query rows.
size_t da3_attention_bf16_scratch_words(size_t tokens, size_t rows);

/// Packs one head's K and V (rows `ld` floats apart) as bfloat16 pairs for da3_attention_bf16_block.
void da3_attention_bf16_pack(const float *k, const float *v, size_t ld, size_t tokens, uint32_t *packed);

/// The bfloat16 twin of da3_attention_block: out = softmax(scale q K^T) V for `rows` query rows,
/// with products on bfloat16 inputs and float accumulation. `scratch` holds
/// da3_attention_bf16_scratch_words(tokens, rows) words. The result is left in `out` (float), or,
/// when `out_bf16` is not NULL, rounded into `out_bf16` (`out` then only serves as work space);
/// both have rows `ldo` elements apart.
void da3_attention_bf16_block(const float *q, size_t ldq, const uint32_t *packed, size_t tokens, size_t rows,
                              float scale, uint32_t *scratch, float *out, uint16_t *out_bf16, size_t ldo);

/// Fixes glibc's mmap threshold at `bytes` (blocks below it come from the heap) and its trim
/// threshold at 16 times that (free memory kept at the heap top for the next image). No-op on other C libraries.
void da3_fix_mmap_threshold(size_t bytes);

/// Whether da3_fix_mmap_threshold has made freed heap blocks stay with the process (glibc).
int da3_heap_keeps_freed(void);

/// Writes a zero to one byte of every 4 KB page of `bytes` bytes at `memory`, so that the kernel maps
/// them now rather than at their first use.
void da3_touch_pages(void *memory, size_t bytes);

/// A 64-bit checksum of `bytes` bytes (not cryptographic: it detects damaged or truncated files).
uint64_t da3_checksum64(const void *data, size_t bytes, uint64_t seed);

/// The instruction-set level the kernels run at: 1 portable C, 2 AVX2 + FMA, 3 AVX-512 (the CPU's
/// level, lowered by the environment variable DA3_ISA=avx2|generic or by da3_limit_isa).
int da3_kernel_isa(void);

/// Caps the kernels' instruction-set level at `cap` (1 portable, 2 AVX2, 3 AVX-512: no cap) for
/// every later call, and returns the previous cap. For tests that run the lower levels' bodies;
/// availability answers cached before (e.g. GEMMF32.available) do not change.
int da3_limit_isa(int cap);

/// Loads OpenBLAS (libopenblas.so.0, or the CBLAS library named by the environment variable
/// DA3_BLAS_LIBRARY) once, single-threaded; safe from any thread. Returns 1 when
/// its products are available, 0 when it could not be loaded (da3_blas_error says why).
int da3_blas_load(void);

/// Why OpenBLAS could not be loaded (NULL when it is loaded).
const char *da3_blas_error(void);

/// Starts da3_blas_load on a thread of its own and returns at once (start-up overlap); later calls do nothing.
void da3_blas_load_async(void);

/// cblas_sgemm, row-major: C (m x n) = alpha * op(A) op(B) + beta * C. Loads OpenBLAS on first use;
/// aborts with a message when it cannot (check da3_blas_load before).
void da3_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
               int ldb, float beta, float *c, int ldc);

#endif
