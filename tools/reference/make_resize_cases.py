#!/usr/bin/env python3
"""Random cv2.resize cases (uint8, 3 channels) for DA3Image's OpenCVResize tests.

Writes one binary file of cases; DA3ImageTests compares OpenCVResize against it and prints the
exact-match fraction and the largest difference per interpolation and code path.

    python3 tools/reference/make_resize_cases.py --out Tests/Fixtures/resize/cv2_small.bin --count 60 --max-side 24 --seed 1
    python3 tools/reference/make_resize_cases.py --out /tmp/da3_resize_fuzz.bin --count 600 --max-side 300 --seed 7
    DA3_RESIZE_FUZZ_FILE=/tmp/da3_resize_fuzz.bin swift test --scratch-path .build-img --filter DA3ImageTests.ResizeTests

Format (little endian): b"DA3RSZ01", uint32 count, then per case: int32 sw, sh, dw, dh, interp
(0 = INTER_AREA, 1 = INTER_CUBIC), sw*sh*3 source bytes, dw*dh*3 cv2 output bytes.
Requires cv2 (opencv-python(-headless)); the IPP HAL is left enabled as in the official pipeline.
"""
import argparse
import struct

import cv2
import numpy as np


def sizes(rng, max_side):
    """Source and destination sizes covering shrink/enlarge, integer and fractional factors, tiny sides."""
    kind = rng.integers(0, 8)
    sw, sh = (int(v) for v in rng.integers(1, max_side + 1, 2))
    if kind == 0:  # integer shrink factors (INTER_AREA fast path)
        fx, fy = (int(v) for v in rng.integers(1, 5, 2))
        dw, dh = max(1, sw // fx), max(1, sh // fy)
        sw, sh = dw * fx, dh * fy
    elif kind == 1:  # tiny sides (1xN, Nx1, under 4)
        sw, sh = int(rng.integers(1, 5)), int(rng.integers(1, max_side + 1))
        if rng.integers(0, 2):
            sw, sh = sh, sw
        dw, dh = (int(v) for v in rng.integers(1, max_side + 1, 2))
    elif kind == 2:  # one side unchanged, other +-1 (make_divisible_by_resize)
        dw, dh = sw, max(1, sh + int(rng.integers(-2, 3)))
        if rng.integers(0, 2):
            dw, dh = max(1, sw + int(rng.integers(-2, 3))), sh
    elif kind == 3:  # mixed: one side shrinks, other grows
        dw, dh = max(1, sw // 2), sh * 2
    else:  # anything
        dw, dh = (int(v) for v in rng.integers(1, max_side + 1, 2))
    return sw, sh, dw, dh


def source(rng, sw, sh):
    if rng.integers(0, 2):
        return rng.integers(0, 256, (sh, sw, 3), dtype=np.uint8)
    # smooth image with some noise, closer to photos
    y, x = np.mgrid[0:sh, 0:sw]
    base = np.stack([(x * 7 + y * 3) % 256, (x * x + y) % 256, (128 + 100 * np.sin(x / 3.0 + y / 5.0))], -1)
    return np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--max-side", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    blobs = []
    n = 0
    while n < a.count:
        sw, sh, dw, dh = sizes(rng, a.max_side)
        if (sw, sh) == (dw, dh):
            continue
        img = source(rng, sw, sh)
        for interp, code in ((cv2.INTER_AREA, 0), (cv2.INTER_CUBIC, 1)):
            out = cv2.resize(img, (dw, dh), interpolation=interp)
            assert out.shape == (dh, dw, 3)
            blobs.append(struct.pack("<5i", sw, sh, dw, dh, code) + img.tobytes() + out.tobytes())
            n += 1
    with open(a.out, "wb") as f:
        f.write(b"DA3RSZ01" + struct.pack("<I", len(blobs)) + b"".join(blobs))
    print(f"wrote {len(blobs)} cases to {a.out}")


if __name__ == "__main__":
    main()
