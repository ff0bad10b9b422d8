#!/usr/bin/env python3
"""Several images of different sizes through the OFFICIAL input processor (issue 15, acceptance 2).

Runs depth_anything_3's `InputProcessor` on three synthetic images of different sizes and aspect
ratios (synthetic.image_rgb) with given intrinsics, for each process_res_method at process_res 70,
and writes Tests/Fixtures/anyview/preprocess_<method>.safetensors:

    tensor      (N, 3, H, W) float32   the stacked normalized batch (after the centre crop to the
                                       smallest processed height and width)
    intrinsics  (N, 3, 3) float32      the intrinsics adjusted by every resize and crop
    sizes       (N, 2) float32         the source (width, height) of each image
    in_intrinsics (N, 3, 3) float32    the intrinsics given with the sources

torchvision is stubbed as in make_preprocess_goldens.py (same torch calls as torchvision).

    PYTHONPATH=/tmp/setup/src python3 tools/reference/make_scene_preprocess_goldens.py
"""
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_goldens as mg  # noqa: E402
import make_preprocess_goldens as mp  # noqa: E402
import synthetic  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "anyview")
SIZES = [(100, 60), (50, 90), (77, 77)]  # (width, height)
METHODS = ["upper_bound_resize", "lower_bound_resize", "upper_bound_crop", "lower_bound_crop"]
RES = 70


def main():
    mp.install_stubs()
    from depth_anything_3.utils.io.input_processor import InputProcessor
    import depth_anything_3.utils.io.input_processor as ip
    ip.logger.warn = lambda *a, **k: None  # the size-mismatch warning (the logger may lack warn)
    proc = InputProcessor()
    images = [synthetic.image_rgb(w, h) for (w, h) in SIZES]
    ixts = np.array([[[0.8 * max(w, h) + i, 0, w / 2 + 1.5], [0, 0.8 * max(w, h) - i, h / 2 - 2.5], [0, 0, 1]]
                     for i, (w, h) in enumerate(SIZES)], dtype=np.float64)
    exts = np.array([np.eye(4) for _ in SIZES], dtype=np.float64)
    os.makedirs(OUT, exist_ok=True)
    for method in METHODS:
        tensor, _, k = proc([im.copy() for im in images], exts.copy(), ixts.copy(), process_res=RES,
                            process_res_method=method, num_workers=1, sequential=True)
        out = {"tensor": tensor.float().contiguous(), "intrinsics": k.float().contiguous(),
               "sizes": torch.tensor(SIZES, dtype=torch.float32),
               "in_intrinsics": torch.from_numpy(ixts).float().contiguous()}
        path = os.path.join(OUT, f"preprocess_{method}.safetensors")
        save_file(out, path, metadata={"process_res": str(RES), "method": method})
        mg.canonicalize(path)
        print(method, tuple(tensor.shape), [round(float(v), 3) for v in k[:, 0, 2]])


if __name__ == "__main__":
    main()
