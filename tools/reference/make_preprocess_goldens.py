#!/usr/bin/env python3
"""Preprocessing goldens for DA3Image, produced by the official Depth Anything 3 InputProcessor.

For every image in ../shared/images (relative to the repository root) this runs the official
`InputProcessor` (depth_anything_3/utils/io/input_processor.py) at process_res 504 and 896 with
upper_bound_resize (plus lower_bound_resize at 504 for a few images), checks that the official
normalised tensor equals (uint8 / 255 - mean) / std computed in float32 from the processed uint8
image (so the uint8 image fully determines it), and writes

    Tests/Fixtures/preprocess/<stem>_<res>.png   the processed uint8 RGB image (upper_bound_resize)
    Tests/Fixtures/preprocess/goldens.json       sizes and a CRC-32 of the uint8 image per case, and
                                                 size + CRC-32 of PIL's decoded RGB for each source

Run from the repository root:

    PYTHONPATH=/tmp/setup/src python3 tools/reference/make_preprocess_goldens.py

torchvision is not importable next to the CPU-only torch here, so `torchvision.transforms` is
replaced by a stub whose ToTensor / Normalize / CenterCrop use the same torch calls as
torchvision (`from_numpy(...).permute(2, 0, 1).float().div(255)`, `tensor.sub_(mean).div_(std)`).
`imageio` (imported but unused by the preprocessing path) is stubbed when missing.
"""
import json
import os
import sys
import types
import zlib

import numpy as np
import torch
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IMAGES = os.path.abspath(os.path.join(ROOT, "..", "shared", "images"))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "preprocess")
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def install_stubs():
    class ToTensor:
        def __call__(self, pic):
            arr = np.array(pic, copy=True)
            if arr.ndim == 2:
                arr = arr[:, :, None]
            return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).contiguous().float().div(255)

    class Normalize:
        def __init__(self, mean, std):
            self.mean, self.std = mean, std

        def __call__(self, tensor):
            tensor = tensor.clone()
            mean = torch.as_tensor(self.mean, dtype=tensor.dtype)
            std = torch.as_tensor(self.std, dtype=tensor.dtype)
            return tensor.sub_(mean[:, None, None]).div_(std[:, None, None])

    class CenterCrop:
        def __init__(self, size):
            self.size = size

        def __call__(self, t):
            h, w = self.size
            top, left = int(round((t.shape[-2] - h) / 2.0)), int(round((t.shape[-1] - w) / 2.0))
            return t[..., top:top + h, left:left + w]

    tv = types.ModuleType("torchvision")
    tr = types.ModuleType("torchvision.transforms")
    tr.ToTensor, tr.Normalize, tr.CenterCrop = ToTensor, Normalize, CenterCrop
    tv.transforms = tr
    sys.modules["torchvision"] = tv
    sys.modules["torchvision.transforms"] = tr
    try:
        import imageio  # noqa: F401
    except ImportError:
        sys.modules["imageio"] = types.ModuleType("imageio")


def crc32(data: bytes) -> str:
    """zlib CRC-32 of raw HWC RGB bytes, as 8 hex digits (the Swift tests compute the same)."""
    return f"{zlib.crc32(data) & 0xFFFFFFFF:08x}"


def main():
    install_stubs()
    from depth_anything_3.utils.io.input_processor import InputProcessor

    os.makedirs(OUT, exist_ok=True)
    proc = InputProcessor()
    mean = torch.tensor(MEAN, dtype=torch.float32)[:, None, None]
    std = torch.tensor(STD, dtype=torch.float32)[:, None, None]
    names = sorted(n for n in os.listdir(IMAGES) if n.lower().endswith((".jpg", ".jpeg", ".png")))
    cases = [(n, 504, "upper_bound_resize") for n in names] + [(n, 896, "upper_bound_resize") for n in names]
    # lower_bound_resize: recorded by size and CRC-32 only (PNGs of these would be large);
    # demo01 and demo04 only shrink (INTER_AREA, bit-exact), so the hash must match exactly.
    cases += [(n, 504, "lower_bound_resize") for n in names if n.startswith(("demo01", "demo04"))]
    records = []
    for name, res, method in cases:
        path = os.path.join(IMAGES, name)
        tensor, _, _ = proc([path], process_res=res, process_res_method=method, num_workers=1, print_progress=False)
        t = tensor[0]  # stacked batch (N, 3, H, W) -> (3, H, W) float32
        # Recover the processed uint8 image from the official pipeline itself.
        img = proc._load_image(path)
        orig_w, orig_h = img.size
        img = proc._resize_image(img, res, method)
        img = proc._make_divisible_by_resize(img, proc.PATCH_SIZE)
        u8 = np.asarray(img)
        assert u8.dtype == np.uint8 and u8.shape[2] == 3
        recon = (torch.from_numpy(np.array(u8, copy=True)).permute(2, 0, 1).float() / 255 - mean) / std
        assert recon.shape == t.shape, (recon.shape, t.shape)
        assert torch.equal(recon, t), f"{name}@{res}: official tensor is not (u8/255-mean)/std"
        stem = os.path.splitext(name)[0]
        rec = {"source": name, "process_res": res, "method": method,
               "original_width": orig_w, "original_height": orig_h,
               "width": int(u8.shape[1]), "height": int(u8.shape[0]), "crc32": crc32(u8.tobytes())}
        if method == "upper_bound_resize":
            rec["golden"] = f"{stem}_{res}.png"
            Image.fromarray(u8).save(os.path.join(OUT, rec["golden"]), optimize=True, compress_level=9)
        records.append(rec)
        print(f"{stem} {res} {method}: {orig_w}x{orig_h} -> {u8.shape[1]}x{u8.shape[0]}")
    # Decoding reference: PIL Image.open(path).convert("RGB") of every shared image.
    decoded = []
    for name in names:
        rgb = np.asarray(Image.open(os.path.join(IMAGES, name)).convert("RGB"))
        decoded.append({"source": name, "width": int(rgb.shape[1]), "height": int(rgb.shape[0]),
                        "crc32": crc32(rgb.tobytes())})
    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        json.dump({"mean": MEAN, "std": STD, "decoded": decoded, "cases": records}, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"total {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
