#!/usr/bin/env python3
"""Depth from `.tflite` files through `da3 depth --backend litert` on LiteRT's CPU and GPU
accelerators, against the official FP32 PyTorch model, on the synthetic test image at each
model's own size (resize-free, so the input is the official one bit for bit).

    PYTHONPATH=/tmp/setup/src python3 tools/litert/gpu_fidelity.py --ckpt goldens-full/small \
        --run out/da3s_exact_fp16_504x280.tflite out/da3s_card_fp16_504x280.tflite \
        --compile out/da3s_exact_fp16_896x504.tflite --json tools/litert/results/gpu-swiftshader.json

--run models: CPU accelerator, then `--accelerator gpu` at `--gpu-precision fp32` and `fp16`;
each row gives Pearson and max relative error of depth against official FP32, Pearson against
the CPU accelerator, `fully_accelerated` and the adapter from `--json`, and the inference time.
--compile models: `da3 info MODEL --accelerator gpu --json` only (compiles onto the GPU, does
not run: SwiftShader cannot finish a 896x504 forward inside LiteRT's two-minute wait).
The Vulkan driver is the caller's (VK_ICD_FILENAMES / VK_DRIVER_FILES); --icd sets
VK_ICD_FILENAMES for the runs (e.g. .deps/swiftshader/vk_swiftshader_icd.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402


def cpu_name() -> str:
    """`model name`, family and model from /proc/cpuinfo (e.g. AMD EPYC, family 25 model 17 = Zen 4)."""
    fields = {}
    for line in open("/proc/cpuinfo"):
        k, _, v = line.partition(":")
        fields.setdefault(k.strip(), v.strip())
    return f"{fields.get('model name')} (family {fields.get('cpu family')}, model {fields.get('model')})"


def da3(binary: str, args: list[str], env: dict) -> dict:
    p = subprocess.run([binary] + args + ["--json"], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"}
    return json.loads(p.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, help="checkpoint the .tflite files were made from (official reference)")
    ap.add_argument("--run", nargs="*", default=[], help=".tflite files to run")
    ap.add_argument("--compile", nargs="*", default=[], help=".tflite files to compile onto the GPU only")
    ap.add_argument("--da3", default=os.path.join(ROOT, ".build", "release", "da3"))
    ap.add_argument("--icd", default=None, help="VK_ICD_FILENAMES for the runs")
    ap.add_argument("--precisions", default="fp32,fp16", help="GPU precisions to run (empty: CPU accelerator only)")
    ap.add_argument("--src", default=os.environ.get("DA3_SRC"))
    ap.add_argument("--json", default=None, help="write the results here")
    a = ap.parse_args()

    import convert
    import torch
    from PIL import Image
    import synthetic
    torch.set_num_threads(2)
    env = dict(os.environ)
    if a.icd:
        env["VK_ICD_FILENAMES"] = os.path.abspath(a.icd)
    net = None
    rows, compiled = [], []
    tmp = tempfile.mkdtemp(prefix="da3-gpu-fidelity-")
    official = {}
    for model in a.run:
        info = da3(a.da3, ["info", model], env)
        H, W = info["height"], info["width"]
        png = os.path.join(tmp, f"synthetic_{H}x{W}.png")
        if (H, W) not in official:
            Image.fromarray(synthetic.image_rgb(W, H)).save(png)
            if net is None:
                net, _ = convert.load_official(a.ckpt, a.src)
            official[(H, W)] = convert.official_depth(net, convert.synthetic_input(H, W))
        ref = official[(H, W)]
        cpu = None
        for acc, prec in [("cpu", None)] + [("gpu", p) for p in a.precisions.split(",") if p]:
            out = os.path.join(tmp, "d.npy")
            args = ["depth", png, "--backend", "litert", "--model", model, "--accelerator", acc, "--output", out]
            if prec:
                args += ["--gpu-precision", prec]
            r = da3(a.da3, args, env)
            row = {"model": os.path.basename(model), "size": f"{H}x{W}", "accelerator": acc, "gpu_precision": prec}
            if "error" in r:
                row["error"] = r["error"]
            else:
                d = np.load(out).astype(np.float64)
                if acc == "cpu":
                    cpu = d
                row.update(
                    pearson_vs_official=float(np.corrcoef(d.ravel(), ref.ravel())[0, 1]),
                    max_rel_err_vs_official=float(np.max(np.abs(d - ref) / np.abs(ref))),
                    pearson_vs_cpu_accelerator=float(np.corrcoef(d.ravel(), cpu.ravel())[0, 1]) if cpu is not None else None,
                    inference_ms=r["images"][0]["timings_ms"]["inference"],
                    **{k: r["litert"].get(k) for k in ("fully_accelerated", "adapter")})
            rows.append(row)
            print(json.dumps(row), flush=True)
    for model in a.compile:
        r = da3(a.da3, ["info", model, "--accelerator", "gpu"], env)
        row = {"model": os.path.basename(model)}
        row.update({k: r.get(k) for k in ("error", "width", "height", "fully_accelerated", "adapter", "compile_ms") if k in r})
        compiled.append(row)
        print(json.dumps(row), flush=True)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump({"machine": platform.machine(), "cpu": cpu_name(),
                       "vk_icd_filenames": env.get("VK_ICD_FILENAMES"), "runs": rows, "compiles": compiled}, f, indent=1)


if __name__ == "__main__":
    main()
