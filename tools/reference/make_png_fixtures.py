#!/usr/bin/env python3
"""Tiny PNGs of every colour type / bit depth plus what PIL makes of them.

Writes Tests/Fixtures/png/<name>.png (7x5 pixels, hand-encoded so that every PNG colour type and
bit depth can be produced, including 16-bit RGB which PIL cannot write) and
Tests/Fixtures/png/expected.json with `Image.open(path).convert("RGB")` of each file as hex.
Also writes Tests/Fixtures/jpeg/{grey,ycc420,cmyk}.jpg (tiny JPEGs saved by PIL) with
Tests/Fixtures/jpeg/expected.json (PIL's RGB for grey and 4:2:0 colour; CMYK must be rejected).
Run from the repository root:  python3 tools/reference/make_png_fixtures.py
"""
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "png")
W, H = 7, 5


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode(samples, color_type, depth, extra=b""):
    """samples: (H, W, channels) ints in 0 ... 2**depth - 1."""
    rows = []
    for y in range(H):
        row = samples[y].reshape(-1)
        if depth == 16:
            raw = b"".join(struct.pack(">H", int(v)) for v in row)
        elif depth == 8:
            raw = bytes(int(v) for v in row)
        else:  # pack sub-byte samples MSB first
            bits = "".join(format(int(v), f"0{depth}b") for v in row)
            bits += "0" * (-len(bits) % 8)
            raw = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
        rows.append(b"\x00" + raw)
    ihdr = struct.pack(">IIBBBBB", W, H, depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(5)

    def rnd(ch, depth):
        v = rng.integers(0, 2 ** depth, (H, W, ch))
        v.flat[0] = 0
        v.flat[-1] = 2 ** depth - 1
        if depth == 16:  # include small values so PIL's I;16 clipping (<= 255) shows
            v[0, 1:4, 0] = [1, 200, 255]
        return v

    palette = rng.integers(0, 256, (16, 3))
    plte = chunk(b"PLTE", bytes(int(v) for v in palette.reshape(-1)))
    files = {
        "grey1": encode(rnd(1, 1), 0, 1),
        "grey2": encode(rnd(1, 2), 0, 2),
        "grey4": encode(rnd(1, 4), 0, 4),
        "grey8": encode(rnd(1, 8), 0, 8),
        "grey8_trns": encode(rnd(1, 8), 0, 8, chunk(b"tRNS", struct.pack(">H", 7))),
        "grey16": encode(rnd(1, 16), 0, 16),
        "rgb8": encode(rnd(3, 8), 2, 8),
        "rgb16": encode(rnd(3, 16), 2, 16),
        "palette4": encode(rng.integers(0, 16, (H, W, 1)), 3, 4, plte),
        "palette8_trns": encode(rng.integers(0, 16, (H, W, 1)), 3, 8, plte + chunk(b"tRNS", bytes(range(0, 160, 10)))),
        "greyalpha8": encode(rnd(2, 8), 4, 8),
        "greyalpha16": encode(rnd(2, 16), 4, 16),
        "rgba8": encode(rnd(4, 8), 6, 8),
        "rgba16": encode(rnd(4, 16), 6, 16),
    }
    expected = {}
    for name, data in sorted(files.items()):
        path = os.path.join(OUT, name + ".png")
        with open(path, "wb") as f:
            f.write(data)
        im = Image.open(path)
        mode = im.mode
        rgb = np.asarray(im.convert("RGB"))
        expected[name] = {"pil_mode": mode, "width": W, "height": H, "rgb": rgb.tobytes().hex()}
        print(f"{name}: PIL mode {mode}")
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    jdir = os.path.join(ROOT, "Tests", "Fixtures", "jpeg")
    os.makedirs(jdir, exist_ok=True)
    y, x = np.mgrid[0:13, 0:11]
    smooth = np.stack([x * 20, y * 18, (x + y) * 10], -1).astype(np.uint8)
    jpegs = {
        "grey": Image.fromarray(smooth[:, :, 0], "L"),
        "ycc420": Image.fromarray(smooth, "RGB"),
        "cmyk": Image.fromarray(smooth, "RGB").convert("CMYK"),
    }
    jexp = {}
    for name, im in jpegs.items():
        path = os.path.join(jdir, name + ".jpg")
        im.save(path, quality=90)
        back = Image.open(path)
        jexp[name] = {"pil_mode": back.mode, "width": back.size[0], "height": back.size[1],
                      "rgb": np.asarray(back.convert("RGB")).tobytes().hex()}
        print(f"{name}.jpg: PIL mode {back.mode}")
    with open(os.path.join(jdir, "expected.json"), "w") as f:
        json.dump(jexp, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
