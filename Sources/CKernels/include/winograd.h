// Winograd F(2x2, 3x3) transforms for 3x3 stride-1 pad-1 convolutions on planar (C, H, W) maps.
#ifndef DA3_WINOGRAD_H
#define DA3_WINOGRAD_H

#include <stddef.h>

/// Floats of scratch that da3_wino23_input needs for a chunk of `count` tiles.
size_t da3_wino23_scratch_count(size_t count);

/// Input transform of tiles tile0 ..< tile0 + count of tile row `tile_row` (tile (r, c) covers input rows
/// 2r-1 ... 2r+2, columns 2c-1 ... 2c+2, zero outside; max(x, 0) when `relu`): v[xi * xi_stride + c * ldv + t],
/// xi = 0 ..< 16,
/// t = 0 ..< count rounded up to 16 (ldv >= that, xi_stride >= channels * ldv; keep xi_stride * 4 bytes
/// off multiples of 4 KiB, or the 16 store streams collide in the L1 sets).
void da3_wino23_input(const float *x, size_t channels, size_t height, size_t width, size_t tile_row, size_t tile0,
                      size_t count, int relu, float *v, size_t ldv, size_t xi_stride, float *scratch);

/// Output transform: from m[xi * xi_stride + co * ldm + t] writes the 2x2 outputs of each tile (+ bias and
/// + residual at the same index, each may be NULL; residual may equal y) into y (out_channels, height, width),
/// clipped to the image. ldm >= count rounded up to 16.
void da3_wino23_output(const float *m, size_t ldm, size_t xi_stride, size_t out_channels, size_t count,
                       const float *bias, const float *residual, float *y, size_t height, size_t width,
                       size_t tile_row, size_t tile0);

#endif
