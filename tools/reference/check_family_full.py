#!/usr/bin/env python3
"""Full-size check of a family model outside CI: runs the release `da3` on the synthetic image at a
resize-free 336 x 280 and compares its depth (and sky / confidence) with the official FP32 goldens
of make_family_goldens.py --full-dir DIR. Prints Pearson, max relative error, max absolute sky error,
da3's wall time and peak RSS (from /usr/bin/time -v).

  swift build -c release --product da3
  PYTHONPATH=/tmp/setup/src python3 tools/reference/make_family_goldens.py --skip-tiny \
      --full-dir goldens-full/family --giant --only da3-giant,da3nested-giant-large
  python3 tools/reference/check_family_full.py goldens-full/family giant
  python3 tools/reference/check_family_full.py goldens-full/family nested-giant-large
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import synthetic  # noqa: E402

H, W = 280, 336


def stats(mine, ref):
    mine, ref = mine.astype(np.float64).ravel(), ref.astype(np.float64).ravel()
    pearson = np.corrcoef(mine, ref)[0, 1]
    maxrel = np.max(np.abs(mine - ref) / np.maximum(np.abs(ref), 1e-12))
    return pearson, maxrel


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("full_dir")
    ap.add_argument("model", help="metric-large, mono-large, giant or nested-giant-large")
    ap.add_argument("--da3", default=os.path.join(HERE, "..", "..", ".build", "release", "da3"))
    ap.add_argument("--size", type=int, default=None,
                    help="also time da3 on the synthetic image with this longer side (e.g. 504)")
    args = ap.parse_args()
    golden = load_file(os.path.join(args.full_dir, f"{args.model}_goldens_{H}x{W}.safetensors"))
    model_dir = os.path.join(args.full_dir, args.model)
    tmp = tempfile.mkdtemp(prefix="da3-family-")
    png = os.path.join(tmp, "synthetic.png")
    Image.fromarray(synthetic.image_rgb(W, H), "RGB").save(png)
    outs = {k: os.path.join(tmp, f"{k}.npy") for k in ("depth", "conf", "sky")}
    cmd = [args.da3, "depth", png, "--model", model_dir, "--process-res", str(W), "--output", outs["depth"],
           "--weight-cache", "off", "--json"]
    has_sky = "sky" in golden or "metric.sky" in golden
    if has_sky:
        cmd += ["--sky", outs["sky"]]
    if "depth_conf" in golden:
        cmd += ["--confidence", outs["conf"]]
    run = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"da3 failed: {run.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", run.stderr).group(1)
    summary = json.loads(run.stdout)
    image = summary["images"][0]
    print(f"{args.model} {W}x{H}: da3 wall {wall} (load {summary.get('model_load_ms', 0) / 1000:.1f} s, "
          f"image {image['timings_ms'].get('total', 0) / 1000:.1f} s), peak RSS {rss / 1e6:.2f} GB")
    depth = np.load(outs["depth"])
    p, r = stats(depth, golden["depth"])
    print(f"  depth: pearson {p:.15f}, max rel {r:.3e}")
    if "depth_conf" in golden:
        p, r = stats(np.load(outs["conf"]), golden["depth_conf"])
        print(f"  confidence: pearson {p:.15f}, max rel {r:.3e}")
    if has_sky:
        sky_ref = golden["sky"] if "sky" in golden else golden["metric.sky"]
        print(f"  sky: max abs {np.max(np.abs(np.load(outs['sky']) - sky_ref)):.3e} "
              f"({int((sky_ref >= 0.3).sum())} sky pixels of {sky_ref.size})")
    if "scale_factor" in golden:
        print(f"  nested scale factor: official {golden['scale_factor'][0]:.8g}, da3 {image.get('scale_factor')}")
    if args.size:
        h = args.size * H // W
        png2 = os.path.join(tmp, f"synthetic_{args.size}.png")
        Image.fromarray(synthetic.image_rgb(args.size, h), "RGB").save(png2)
        cmd2 = [args.da3, "depth", png2, png2, "--model", model_dir, "--process-res", str(args.size),
                "--output-dir", tmp, "--weight-cache", "off", "--json"]
        run = subprocess.run(["/usr/bin/time", "-v"] + cmd2, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"da3 failed: {run.stderr}")
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
        s = json.loads(run.stdout)
        per = [im["timings_ms"]["total"] / 1000 for im in s["images"]]
        print(f"{args.model} {args.size}x{h} (2 images): load {s.get('model_load_ms', 0) / 1000:.1f} s, "
              f"per image {', '.join(f'{t:.1f}' for t in per)} s, peak RSS {rss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()
