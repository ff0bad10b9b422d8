#!/usr/bin/env python3
"""Which operators LiteRT's WebGPU GPU delegate accepts, measured: tiny depth-shaped `.tflite`
probes, each built around one operator the DA3-Small model card's Pixel 8a GPU delegate
rejected, compiled by `da3 info PROBE --accelerator gpu --json` on the Vulkan device the
environment selects (VK_ICD_FILENAMES; --icd sets it), then run on the GPU and on the CPU
accelerator to compare the result.

    python3 tools/litert/op_probe.py --icd .deps/swiftshader/vk_swiftshader_icd.json \
        --json tools/litert/results/op-probe-swiftshader.json

Probes (input (1, 3, 16, 16) unless said, output depth-shaped (1, 1, 16, 16)):
  control           3x3 CONV_2D only
  transpose_conv    stride-2 CONV_2D then ConvTranspose2d(k=2, s=2): TRANSPOSE_CONV
  resize_align      bilinear upsample with align_corners=True: RESIZE_BILINEAR(align_corners)
  rank5             (1, 1, 3, 16, 16) input, 5-D MUL and RESHAPE to 4-D
  broadcast_to      a (1, 1, 1, 16) row expanded to (1, 1, 16, 16) and concatenated: BROADCAST_TO
The census (tools/litert/op_census.py) confirms the probed operator is in each file. Each
accelerator's depth is compared with the PyTorch module on the same normalized input.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class Control(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


class TransposeConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 4, 2, stride=2)
        self.up = nn.ConvTranspose2d(4, 1, 2, stride=2)

    def forward(self, x):
        return self.up(self.down(x))


class ResizeAlignCorners(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 1, 2, stride=2)

    def forward(self, x):
        return F.interpolate(self.down(x), size=(16, 16), mode="bilinear", align_corners=True)


class Rank5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 1)
        self.register_buffer("scale", torch.linspace(0.5, 1.5, 3).reshape(1, 1, 3, 1, 1))

    def forward(self, x):
        y = x * self.scale                       # 5-D MUL
        return self.conv(y.reshape(1, 3, 16, 16))


class BroadcastTo(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 1)
        self.mix = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        y = self.conv(x)
        row = y.mean(dim=2, keepdim=True)        # (1, 1, 1, 16)
        # concatenated, the expanded row must exist as a tensor: BROADCAST_TO
        return self.mix(torch.cat([y, row.expand(1, 1, 16, 16)], dim=1))


PROBES = {
    "control": (Control, (1, 3, 16, 16), "CONV_2D"),
    "transpose_conv": (TransposeConv, (1, 3, 16, 16), "TRANSPOSE_CONV"),
    "resize_align": (ResizeAlignCorners, (1, 3, 16, 16), "RESIZE_BILINEAR"),
    "rank5": (Rank5, (1, 1, 3, 16, 16), None),
    "broadcast_to": (BroadcastTo, (1, 3, 16, 16), "BROADCAST_TO"),
}


def da3(binary, args, env):
    p = subprocess.run([binary] + args, capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--da3", default=os.path.join(ROOT, ".build", "release", "da3"))
    ap.add_argument("--icd", default=None)
    ap.add_argument("--keep", default=None, help="keep the probe .tflite files here")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    import litert_torch
    from PIL import Image
    env = dict(os.environ)
    if a.icd:
        env["VK_ICD_FILENAMES"] = os.path.abspath(a.icd)
    out = a.keep or tempfile.mkdtemp(prefix="da3-op-probe-")
    os.makedirs(out, exist_ok=True)
    png = os.path.join(out, "probe.png")
    rgb = (np.arange(16 * 16 * 3) * 37 % 251).astype(np.uint8).reshape(16, 16, 3)
    Image.fromarray(rgb).save(png)
    # the input da3 makes of it: /255, ImageNet mean and std, CHW
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    chw = np.ascontiguousarray(((rgb.astype(np.float32) / np.float32(255) - mean) / std).transpose(2, 0, 1))[None]
    torch.manual_seed(0)
    rows = []
    for name, (cls, shape, op) in PROBES.items():
        path = os.path.join(out, f"{name}.tflite")
        m = cls().eval()
        litert_torch.convert(m, (torch.randn(*shape),)).export(path)
        rc, so, se = da3(a.da3, ["info", path, "--accelerator", "gpu", "--json"], env)
        import op_census
        c = op_census.census(path)
        row = {"probe": name, "operator": op, "ops": c["ops"], "max_rank": c["max_rank"], "accepted_by_gpu_delegate": rc == 0}
        if rc == 0:
            j = json.loads(so)
            row.update(fully_accelerated=j["fully_accelerated"], adapter=j["adapter"])
            outs = {}
            for acc in ("cpu", "gpu"):
                d = os.path.join(out, f"{name}.{acc}.npy")
                rc2, _, se2 = da3(a.da3, ["depth", png, "--backend", "litert", "--model", path, "--accelerator", acc,
                                          "--output", d, "--quiet"], env)
                outs[acc] = np.load(d).astype(np.float64) if rc2 == 0 else None
                if rc2 != 0:
                    row[f"{acc}_error"] = se2
            with torch.no_grad():
                x = torch.from_numpy(chw if len(shape) == 4 else chw[None])
                ref = m(x).reshape(16, 16).double().numpy()
            row["reference_max_abs"] = float(np.max(np.abs(ref)))
            for acc, d in outs.items():
                if d is not None:
                    row[f"max_abs_err_{acc}_vs_pytorch"] = float(np.max(np.abs(d - ref)))
        else:
            row["refusal"] = se
        rows.append(row)
        print(json.dumps(row), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"vk_icd_filenames": env.get("VK_ICD_FILENAMES"), "probes": rows}, f, indent=1)


if __name__ == "__main__":
    main()
