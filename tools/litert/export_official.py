#!/usr/bin/env python3
"""Export a `.tflite` straight from the OFFICIAL DepthAnything3Net module with litert-torch, as a
user would who never heard of tools/litert/convert.py: input (1, 1, 3, H, W) (the module's
(B, N, 3, H, W) signature), outputs depth and depth_conf (1, 1, H, W). Nothing is rewritten, so
the graph is not GPU-clean (5-D tensors, native TRANSPOSE_CONV, align_corners=True resizes...):
it runs on LiteRT's CPU accelerator, and through `--accelerator gpu,cpu` with CPU fallback.

    PYTHONPATH=/tmp/setup/src python3 tools/litert/export_official.py --ckpt goldens-full/small \
        --size 504x280 --output out/da3s_official_504x280.tflite --verify

--layout nhwc exports the same module behind an NHWC (1, H, W, 3) input with depth (1, H, W, 1)
and confidence (1, H, W, 1) outputs (a permute before and after), to test that layout.
--verify runs the .tflite with ai_edge_litert's Interpreter (CPU) and the official FP32 model on
the synthetic image and prints the Pearson correlation and max relative error of depth.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import convert  # noqa: E402  (load_official, synthetic_input, corr; sets up the tools/ paths)


def fix_rope_table_size(net: nn.Module, H: int, W: int) -> None:
    """The one change export needs: RotaryPositionEmbedding2D sizes its cos/sin tables with
    `int(positions.max()) + 1`, a data-dependent value torch.export cannot trace. For a fixed
    input size any bound >= the largest position gives the same tables (rows are indexed by
    position), so the tables are sized max(H, W) // 14 + 2 instead; the rest is the official code."""
    from depth_anything_3.model.dinov2.layers import rope as rope_mod
    bound = max(H, W) // 14 + 2

    def forward(self, tokens, positions):
        half = tokens.size(-1) // 2
        cos_comp, sin_comp = self._compute_frequency_components(half, bound, tokens.device, tokens.dtype)
        v, h = tokens.chunk(2, dim=-1)
        v = self._apply_1d_rope(v, positions[..., 0], cos_comp, sin_comp)
        h = self._apply_1d_rope(h, positions[..., 1], cos_comp, sin_comp)
        return torch.cat((v, h), dim=-1)

    rope_mod.RotaryPositionEmbedding2D.forward = forward


class OfficialDepth(nn.Module):
    """The official forward with its dictionary output turned into (depth, depth_conf)."""

    def __init__(self, net: nn.Module, layout: str):
        super().__init__()
        self.net = net
        self.layout = layout

    def forward(self, x: torch.Tensor):
        if self.layout == "nhwc":
            x = x.permute(0, 3, 1, 2)[:, None]                  # (1, H, W, 3) -> (1, 1, 3, H, W)
        out = self.net(x)
        depth, conf = out["depth"], out["depth_conf"]           # (1, 1, H, W)
        if self.layout == "nhwc":
            return depth[..., None][0], conf[..., None][0]      # (1, H, W, 1)
        return depth, conf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, help="checkpoint directory (model.safetensors + config.json)")
    ap.add_argument("--size", default="504x280", help="H x W, multiples of 14")
    ap.add_argument("--layout", choices=("official", "nhwc"), default="official")
    ap.add_argument("--output", required=True)
    ap.add_argument("--src", default=os.environ.get("DA3_SRC"))
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    H, W = (int(v) for v in a.size.lower().split("x"))
    torch.set_num_threads(a.threads)

    net, name = convert.load_official(a.ckpt, a.src)
    x = convert.synthetic_input(H, W)                               # (1, 3, H, W)
    with torch.inference_mode():
        ref = net(torch.from_numpy(x)[None]).depth[0, 0].float().numpy()
    fix_rope_table_size(net, H, W)
    module = OfficialDepth(net, a.layout).eval()
    sample = torch.from_numpy(x)[None] if a.layout == "official" else torch.from_numpy(x).permute(0, 2, 3, 1).contiguous()

    import litert_torch
    em = litert_torch.convert(module, (sample,))
    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    tmp = a.output + ".tmp"
    em.export(tmp)
    os.replace(tmp, a.output)
    print(f"wrote {a.output}: official {name} module, {a.layout} input {tuple(sample.shape)}, "
          f"{os.path.getsize(a.output) / 1e6:.1f} MB")

    if a.verify:
        from ai_edge_litert.interpreter import Interpreter
        it = Interpreter(model_path=a.output, num_threads=a.threads)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], sample.numpy())
        it.invoke()
        outs = [it.get_tensor(d["index"]) for d in it.get_output_details()]
        got = outs[0].reshape(H, W)
        mre = float(np.max(np.abs(got - ref) / np.abs(ref)))
        print(f"verify vs official FP32 ({name}, synthetic image {H}x{W}): corr {convert.corr(got, ref):.9f} "
              f"max rel err {mre:.3g}; outputs {[tuple(o.shape) for o in outs]}")


if __name__ == "__main__":
    main()
