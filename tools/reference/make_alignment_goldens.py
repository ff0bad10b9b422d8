#!/usr/bin/env python3
"""Scene alignment goldens (issue 15) from the OFFICIAL depth_anything_3 code: the scale that
`DepthAnything3._align_to_input_extrinsics_intrinsics` divides depth by, i.e.
`utils.pose_align.align_poses_umeyama(predicted, given, ransac=len(given) >= 10, random_state=42)`,
for scenes of 4 to 25 known cameras whose predicted centres hold a few outliers (so that the RANSAC
variant, used from 10 views on, differs from the plain Umeyama alignment).

  Tests/Fixtures/anyview/alignment.safetensors
    given_<N> (N,4,4) f4, predicted_<N> (N,3,4) f4: world-to-camera, as the API passes them
    scale_<N> (1,): the official scale; plain_scale_<N> (1,): the plain Umeyama scale (ransac=False)
    choice_<n>_<size> (10,size): np.random.default_rng(42).choice(n, size, replace=False), 10 draws

Needs `evo` (pip install --no-deps evo) and the official source on PYTHONPATH.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_goldens as mg  # noqa: E402


def rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def scene(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Given world-to-camera 4x4 and predicted 3x4: the given cameras under a similarity, with
    1% noise on the centres and about one view in five moved far away."""
    given, predicted = [], []
    R0, t0, s0 = rotation(rng), rng.normal(size=3), 0.37
    for k in range(n):
        R, c = rotation(rng), rng.normal(size=3) * 2
        E = np.eye(4)
        E[:3, :3], E[:3, 3] = R, -R @ c
        given.append(E)
        c2 = s0 * (R0 @ c) + t0 + 0.01 * rng.normal(size=3)
        if k % 5 == 3:
            c2 += rng.normal(size=3) * 1.5
        R2 = R @ R0.T
        P = np.zeros((3, 4))
        P[:, :3], P[:, 3] = R2, -R2 @ c2
        predicted.append(P)
    return np.asarray(given, np.float32), np.asarray(predicted, np.float32)


def main() -> None:
    mg.import_official(os.environ.get("DA3_SRC"))
    from depth_anything_3.utils.pose_align import align_poses_umeyama
    out = {}
    rng = np.random.default_rng(7)
    for n in [4, 9, 10, 12, 16, 25]:
        given, predicted = scene(n, rng)
        _, _, scale, _ = align_poses_umeyama(predicted, given, ransac=n >= 10, return_aligned=True, random_state=42)
        _, _, plain, _ = align_poses_umeyama(predicted, given, ransac=False, return_aligned=True, random_state=42)
        out[f"given_{n}"], out[f"predicted_{n}"] = torch.from_numpy(given), torch.from_numpy(predicted)
        out[f"scale_{n}"], out[f"plain_scale_{n}"] = torch.tensor([float(scale)]), torch.tensor([float(plain)])
        print(f"{n} views: scale {scale:.7f} (plain Umeyama {plain:.7f})")
    for n in [10, 11, 16, 25, 100]:
        size = max(3, (n + 1) // 2)
        g = np.random.default_rng(42)
        out[f"choice_{n}_{size}"] = torch.tensor(np.stack([g.choice(np.arange(n), size=size, replace=False)
                                                           for _ in range(10)]).astype(np.float32))
    path = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "Fixtures", "anyview", "alignment.safetensors"))
    save_file(out, path, metadata={"what": "official align_poses_umeyama scales and numpy default_rng(42) draws"})
    mg.canonicalize(path)


if __name__ == "__main__":
    main()
