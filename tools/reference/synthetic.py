"""Deterministic synthetic weights and a synthetic input image for Depth Anything 3 tests.

Bit-exact twin of Sources/DA3Weights/Synthetic.swift. Any change here must be mirrored
there (and the committed fixtures regenerated with make_goldens.py).

Weights
-------
For a tensor named `key` (the full checkpoint key, e.g.
"model.backbone.pretrained.blocks.0.attn.qkv.weight") with shape `shape`:

    seed = fnv1a64(utf8(key))
    for flat (row-major) element index i:
        z = seed + (i + 1) * 0x9E3779B97F4A7C15            (mod 2^64)
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9           (mod 2^64)
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB           (mod 2^64)
        z =  z ^ (z >> 31)
        u = float32(z >> 40) / 16777216                    (exact, in [0, 1))
        r = 2 * u - 1                                      (exact, in [-1, 1))
        value = float32(float32(r * scale) + offset)       (float32 multiply, then float32 add; no FMA)

`scale` / `offset` (both float32) come from `scale_offset(key, shape)`, first matching rule wins
(uniform on [-1, 1) has std 1/sqrt(3), so "std s" below means scale = s * sqrt(3)):

  1. key ends with "pos_embed"                        scale 0.5,  offset 0
  2. key ends with "cls_token" or "camera_token"      scale 0.5,  offset 0
  3. key ends with ".gamma" (LayerScale)              scale 0.1,  offset 0.15   -> [0.05, 0.25)
  4. key ends with ".weight" and rank 1 (LayerNorm)   scale 0.1,  offset 1.0    -> [0.9, 1.1)
  5. key ends with ".bias":
       contains "cam_dec.fc_fov."                     scale 0.1,  offset 1.0    (fov ~ 1 rad > 0)
       contains "cam_dec.fc_qvec."                    scale 0.1,  offset 0.5    (|q| well away from 0)
       contains "head.scratch.output_conv2.2."        scale 0.1,  offset 0.5    (log-depth / conf logit mean)
       otherwise                                      scale 0.02, offset 0
  6. any other tensor of rank >= 2 (Linear / Conv2d / ConvTranspose2d weight):
       fan_in = shape[0]                 if key contains "resize_layers.0." or "resize_layers.1."
                                         (ConvTranspose2d, weight (in, out, k, k), stride == kernel:
                                          every output pixel sees in_channels taps)
              = prod(shape[1:])          otherwise (Linear (out, in), Conv2d (out, in, kh, kw))
       gain   = 0.25  if key contains "cam_dec.fc_"  (fc_t, fc_qvec, fc_fov)
              = OUT_GAIN (=0.6) if key contains "head.scratch.output_conv2.2."
              = 1.0   otherwise
       scale = float32(gain * sqrt(3) / sqrt(fan_in))  (computed in float64, then rounded), offset 0
  7. anything else (rank-0/1 tensors not matched above)  scale 0.1, offset 0

Image
-----
`image_rgb(width, height)` returns uint8 HWC RGB from an integer-only formula (see the function):
a sky gradient, a textured ground plane, a box and a disc, plus a small deterministic dither.
`image_normalized` converts exactly as torch would in float32: p / 255, then (x - mean) / std.
"""

from __future__ import annotations

import math

import numpy as np

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3

# Gain of the final 1x1 conv producing (log-depth, conf-logit); sets the log-depth spread.
OUT_GAIN = 0.6

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def fnv1a64(key: str) -> int:
    h = FNV_OFFSET
    for b in key.encode("utf-8"):
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return h


def scale_offset(key: str, shape) -> tuple[np.float32, np.float32]:
    """The (scale, offset) rule; documented in the module docstring. Depends only on (key, shape)."""
    shape = tuple(int(s) for s in shape)
    rank = len(shape)
    if key.endswith("pos_embed"):
        return np.float32(0.5), np.float32(0.0)
    if key.endswith("cls_token") or key.endswith("camera_token"):
        return np.float32(0.5), np.float32(0.0)
    if key.endswith(".gamma"):
        return np.float32(0.1), np.float32(0.15)
    if key.endswith(".weight") and rank == 1:
        return np.float32(0.1), np.float32(1.0)
    if key.endswith(".bias"):
        if "cam_dec.fc_fov." in key:
            return np.float32(0.1), np.float32(1.0)
        if "cam_dec.fc_qvec." in key:
            return np.float32(0.1), np.float32(0.5)
        if "head.scratch.output_conv2.2." in key:
            return np.float32(0.1), np.float32(0.5)
        return np.float32(0.02), np.float32(0.0)
    if rank >= 2:
        if "resize_layers.0." in key or "resize_layers.1." in key:
            fan_in = shape[0]
        else:
            fan_in = 1
            for s in shape[1:]:
                fan_in *= s
        if "cam_dec.fc_" in key:
            gain = 0.25
        elif "head.scratch.output_conv2.2." in key:
            gain = OUT_GAIN
        else:
            gain = 1.0
        return np.float32(gain * math.sqrt(3.0) / math.sqrt(float(fan_in))), np.float32(0.0)
    return np.float32(0.1), np.float32(0.0)


def uniform_pm1(key: str, count: int) -> np.ndarray:
    """The raw r in [-1, 1) (float32) for elements 0..count-1 of tensor `key`."""
    seed = np.uint64(fnv1a64(key))
    i = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = i * np.uint64(GOLDEN)
        z = z + seed
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float32) / np.float32(16777216.0)
    return np.float32(2.0) * u - np.float32(1.0)


def weight_values(key: str, shape) -> np.ndarray:
    """float32 array of the given shape."""
    shape = tuple(int(s) for s in shape)
    count = 1
    for s in shape:
        count *= s
    scale, offset = scale_offset(key, shape)
    r = uniform_pm1(key, count)
    v = (r * scale).astype(np.float32)
    v = (v + offset).astype(np.float32)
    return v.reshape(shape)


def image_rgb(width: int, height: int) -> np.ndarray:
    """uint8 array (height, width, 3). Integer-only; identical to SyntheticImage.rgb in Swift.

    Coordinates are first mapped to a 256x256 virtual canvas: xs = x*256 // W, ys = y*256 // H.
      sky    (ys < 100): R = 70 + ys//2,  G = 130 + ys//3, B = 235 - ys//4
      ground (ys >= 100): with g = ys - 100 and t = ((xs // 16) + (ys // 16)) % 2 (checker):
                        R = 60 + g//2 + 20*t, G = 90 + g//3 + 10*t, B = 40 + g//5
      box  (40 <= xs < 112, 60 <= ys < 190):  R = 200, G = 50 + (ys - 60)//2, B = 40 + xs//4
      disc ((xs-180)^2 + (ys-120)^2 < 45^2): R = 30 + xs//8, G = 80 + ys//4, B = 190
      dither: d = ((x*7 + y*13) % 17) - 8 added to each channel, then clamped to [0, 255].
    """
    x = np.arange(width, dtype=np.int64)[None, :]
    y = np.arange(height, dtype=np.int64)[:, None]
    xs = (x * 256) // width + 0 * y
    ys = (y * 256) // height + 0 * x
    r = np.zeros((height, width), dtype=np.int64)
    g = np.zeros_like(r)
    b = np.zeros_like(r)

    sky = ys < 100
    r[sky] = 70 + ys[sky] // 2
    g[sky] = 130 + ys[sky] // 3
    b[sky] = 235 - ys[sky] // 4

    gr = ~sky
    gg = ys - 100
    t = ((xs // 16) + (ys // 16)) % 2
    r[gr] = (60 + gg // 2 + 20 * t)[gr]
    g[gr] = (90 + gg // 3 + 10 * t)[gr]
    b[gr] = (40 + gg // 5)[gr]

    box = (xs >= 40) & (xs < 112) & (ys >= 60) & (ys < 190)
    r[box] = 200
    g[box] = (50 + (ys - 60) // 2)[box]
    b[box] = (40 + xs // 4)[box]

    disc = (xs - 180) ** 2 + (ys - 120) ** 2 < 45 * 45
    r[disc] = (30 + xs // 8)[disc]
    g[disc] = (80 + ys // 4)[disc]
    b[disc] = 190

    d = ((x * 7 + y * 13) % 17) - 8
    out = np.stack([r + d, g + d, b + d], axis=-1)
    return np.clip(out, 0, 255).astype(np.uint8)


def image_normalized(width: int, height: int) -> np.ndarray:
    """float32 (3, height, width): p/255 then (x - mean)/std, all in float32."""
    img = image_rgb(width, height).astype(np.float32) / np.float32(255.0)
    mean = np.array(IMAGENET_MEAN, dtype=np.float32)
    std = np.array(IMAGENET_STD, dtype=np.float32)
    img = (img - mean) / std
    return np.ascontiguousarray(img.transpose(2, 0, 1).astype(np.float32))
