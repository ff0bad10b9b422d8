#!/usr/bin/env python3
"""Convert a DA3 checkpoint (official DA3-Small/Base layout, or the synthetic tiny test
checkpoint) to a GPU-clean, depth-only `.tflite` for one fixed input size, with litert-torch.

    PYTHONPATH=/tmp/setup/src python3 tools/litert/convert.py --ckpt goldens-full/small \
        --size 896x504 --mode exact --dtype fp16 --output out/da3_small_exact_fp16.tflite --verify

Input of the .tflite: (1, 3, H, W) float32 NCHW, ImageNet-normalized (the native engine's
preprocessing). Output: depth (1, 1, H, W) float32 = exp(logit 0) of the DualDPT main branch.

The model is `tools/bench/exportable.DepthOnlyDA3` (rewrites R1-R8 there: RoPE tables and the
bicubic pos_embed baked to constants, split q/k/v with a 4-D attention layout, LayerScale
folded, camera token inserted by concat) plus the GPU rewrites below.

Modes
  --mode exact   every rewrite is exact in real arithmetic:
      G1 bilinear align_corners=True resizes (the four FeatureFusionBlock upsamples and the
         final upsample to H x W) as two fixed interpolation matrices (the official
         align_corners=True weights, built once per shape), each applied as a 1x1 CONV_2D whose
         channels are the resized axis (width pass, then the height pass between 4-D TRANSPOSEs;
         no RESIZE_BILINEAR, no GATHER, no 4-D FULLY_CONNECTED);
      G2 ConvTranspose2d(k=s, stride=s) as zero-stuff (nearest upsample x top-left mask) + Conv2d
         (the model card's rewrite 6; no TRANSPOSE_CONV);
      G3 both DualDPT UV position embeddings kept, precomputed with the official code and added
         as constants (no sin/cos/BROADCAST_TO in the graph); --uv broadcast stores each as two
         small tables (column-only and row-only halves, exact) added with broadcasting ADDs.
  --mode card    the model card's approximations: G2, align_corners=False bilinear resizes
         (RESIZE_BILINEAR, half-pixel centres) and the second UV embedding (after the final
         upsample) switched off; the per-level UV embeddings stay.
  --mode unclean deliberately NOT GPU-clean (native TRANSPOSE_CONV, align_corners=True
         RESIZE_BILINEAR): for testing tools/litert/op_census.py.

--dtype fp16 stores weights as float16 (litert-torch full_fp16_recipe); compute and I/O stay
float32. --verify runs the .tflite with ai_edge_litert's Interpreter and the OFFICIAL FP32
PyTorch model (DepthAnything3Net.forward) on the synthetic test image and prints the Pearson
correlation of the depth maps (and writes them next to the output with --save-depth).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
sys.path.insert(0, os.path.join(ROOT, "tools", "bench"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


# ----------------------------------------------------------------------------- model loading

def hide_torchvision_stub():
    for k in ("torchvision", "torchvision.transforms"):
        m = sys.modules.get(k)
        if m is not None and getattr(m, "__spec__", None) is None:
            del sys.modules[k]


def load_official(ckpt: str, src: str | None):
    """Official DepthAnything3Net (eval, FP32) with the checkpoint's weights. `ckpt` is a
    directory holding model.safetensors (+ config.json with model_name) or a .safetensors file.
    The preset comes from config.json's model_name: da3-small / da3-base / da3-large, or
    da3-tiny-test / da3-tiny32-test (the synthetic test configurations, make_goldens.build_tiny)."""
    import make_goldens as mg
    from safetensors.torch import load_file
    O = mg.import_official(src)
    path = ckpt
    cfg = {}
    if os.path.isdir(ckpt):
        path = os.path.join(ckpt, "model.safetensors")
        cj = os.path.join(ckpt, "config.json")
        if os.path.exists(cj):
            with open(cj) as f:
                cfg = json.load(f)
    name = cfg.get("model_name", "da3-small")
    if name in ("da3-tiny-test", "da3-tiny32-test"):
        bb = cfg["backbone"]
        wrapper = mg.build_tiny(O, bb["embed_dim"], bb["num_heads"])
    elif name in ("da3-small", "da3-base", "da3-large"):
        wrapper = mg.build_preset(O, name[len("da3-"):])
    else:
        raise SystemExit(f"unsupported model_name {name!r} in {ckpt}")
    sd = load_file(path)
    if not any(k.startswith("model.") for k in sd):  # card rewrite 1: accept both key layouts
        sd = {"model." + k: v for k, v in sd.items()}
    res = wrapper.load_state_dict({k: v.float() for k, v in sd.items()}, strict=False)
    own = wrapper.state_dict()
    bad = list(res.unexpected_keys)
    for k in res.missing_keys:  # only names of storage shared with a stored tensor may be absent
        if not any(own[s].data_ptr() == own[k].data_ptr() for s in sd if s in own):
            bad.append(k)
    if bad:
        raise SystemExit(f"checkpoint mismatch: {bad[:5]}")
    net = wrapper.model.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    hide_torchvision_stub()
    return net, name


# ----------------------------------------------------------------------------- GPU rewrites

def bilinear_matrix(n_in: int, n_out: int, align_corners: bool) -> np.ndarray:
    """(n_out, n_in) float32 matrix M with out = M @ in: the weights of PyTorch's CPU
    upsample_bilinear2d along one axis (source index and lambda computed in float32 as there).
    Built in numpy so that tracing sees one constant, not the ops that build it."""
    M = np.zeros((n_out, n_in), dtype=np.float32)
    if align_corners:
        scale = np.float32((n_in - 1) / (n_out - 1)) if n_out > 1 else np.float32(0)
    else:
        scale = np.float32(n_in / n_out)
    for i in range(n_out):
        if align_corners:
            src = np.float32(scale * np.float32(i))
        else:
            src = max(np.float32(scale * np.float32(i + 0.5) - np.float32(0.5)), np.float32(0))
        i0 = int(src)
        i1 = i0 + 1 if i0 < n_in - 1 else i0
        l1 = np.float32(src - np.float32(i0))
        l0 = np.float32(1) - l1
        M[i, i0] += l0
        M[i, i1] += l1
    return M


def matrix_resize(x: torch.Tensor, size, align_corners: bool = True) -> torch.Tensor:
    """Bilinear resize of (B, C, h, w) to size (H, W) as two constant MatMuls (G1)."""
    _, C, h, w = x.shape
    H, W = int(size[0]), int(size[1])
    Ry = torch.from_numpy(np.ascontiguousarray(bilinear_matrix(h, H, align_corners).T))  # (h, H)
    Rx = torch.from_numpy(np.ascontiguousarray(bilinear_matrix(w, W, align_corners).T))  # (w, W)
    def along_last(t, R):
        # (B, C, a, b) @ R (b, n) as a 1x1 CONV_2D with b input and n output channels on the
        # (B, b, C, a) permutation, which in TFLite's NHWC is t itself (no 4-D FULLY_CONNECTED)
        w = R.t().contiguous()[:, :, None, None]                 # (n, b, 1, 1)
        return F.conv2d(t.permute(0, 3, 1, 2), w).permute(0, 2, 3, 1)

    # cheaper order first (MACs: width pass h*w*W, height pass W*h*H; or the other way round)
    if h * w * W + W * h * H <= w * h * H + H * w * W:
        y = along_last(x, Rx)                                    # (B, C, h, W)
        y = along_last(y.transpose(2, 3), Ry).transpose(2, 3)    # (B, C, H, W)
    else:
        y = along_last(x.transpose(2, 3), Ry).transpose(2, 3)    # (B, C, H, w)
        y = along_last(y, Rx)
    return y


def make_interpolate(mode: str):
    """Replacement for depth_anything_3's custom_interpolate (FeatureFusionBlock upsampling)."""
    def interp(x, size=None, scale_factor=None, mode_=None, align_corners=True, **kw):
        if size is None:
            size = (int(x.shape[-2] * scale_factor), int(x.shape[-1] * scale_factor))
        size = (int(size[0]), int(size[1]))
        if mode == "exact":
            return matrix_resize(x, size, True)
        if mode == "card":
            return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=True)  # unclean
    def wrapper(x, size=None, scale_factor=None, mode="bilinear", align_corners=True):
        return interp(x, size=size, scale_factor=scale_factor, align_corners=align_corners)
    return wrapper


class ConstUVEmbed(nn.Module):
    """DualDPT._add_pos_embed for a fixed size, as one constant (1, C, h, w) added (G3)."""

    def __init__(self, uv):
        super().__init__()
        if uv.mode == "full":
            pe = uv.pe
        else:
            C2 = uv.pe_u.shape[1]
            h, w = uv.pe_v.shape[2], uv.pe_u.shape[3]
            pe = torch.cat((uv.pe_u.expand(1, C2, h, w), uv.pe_v.expand(1, C2, h, w)), dim=1)
        self.register_buffer("pe", pe.contiguous(), persistent=False)

    def forward(self, x):
        return x + self.pe


def build_model(net, H: int, W: int, mode: str, uv: str = "const", *,
                card_resize: bool = True, card_uv_off: bool = True):
    """`card_resize` / `card_uv_off` (card mode only) switch its two approximations separately."""
    import exportable as ex
    import depth_anything_3.model.dpt as dpt_mod
    model = ex.DepthOnlyDA3(net, H, W, convt="native", uv_mode="separable").eval()
    if mode != "unclean":
        model.resize_layers = nn.ModuleList(
            ex.ZeroStuffConvTranspose(m) if isinstance(m, nn.ConvTranspose2d) else m
            for m in model.resize_layers)
    if mode != "unclean" and uv == "const":
        model.pe_stage = nn.ModuleList(ConstUVEmbed(m) for m in model.pe_stage)
        model.pe_final = ConstUVEmbed(model.pe_final)
    interp = make_interpolate("exact" if (mode == "card" and not card_resize) else mode)
    dpt_mod.custom_interpolate = interp  # FeatureFusionBlock.forward looks it up in its module

    model.final_interpolate = lambda t, size: interp(t, size=size)
    model.final_pe = not (mode == "card" and card_uv_off)
    model.expand_tokens = False  # B = 1: expand would become BROADCAST_TO
    return model


# ----------------------------------------------------------------------------- verification

def synthetic_input(H: int, W: int) -> np.ndarray:
    import synthetic
    return np.ascontiguousarray(synthetic.image_normalized(W, H)[None], dtype=np.float32)


def run_tflite(path: str, x: np.ndarray, threads: int = 2) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=path, num_threads=threads)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]).copy()


def official_depth(net, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return net(torch.from_numpy(x)[None]).depth[0, 0].float().numpy()


def corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "goldens-full", "small"),
                    help="checkpoint directory (model.safetensors + config.json) or .safetensors file")
    ap.add_argument("--size", default="896x504", help="H x W, multiples of 14 (default 896x504)")
    ap.add_argument("--mode", choices=("exact", "card", "unclean"), default="exact")
    ap.add_argument("--dtype", choices=("fp32", "fp16"), default="fp32", help="weight storage")
    ap.add_argument("--output", required=True, help=".tflite path")
    ap.add_argument("--uv", choices=("const", "broadcast"), default="const",
                    help="UV embeddings as full (1, C, h, w) constants added (default; the final one holds "
                         "32 x H x W floats for DA3-Small, 58 MB at 896x504, kept FP32 by --dtype fp16), or as two "
                         "small tables added by broadcasting to the channel halves (exact, much smaller; "
                         "relies on the GPU delegate's broadcast ADD)")
    ap.add_argument("--src", default=os.environ.get("DA3_SRC"), help="folder holding depth_anything_3")
    ap.add_argument("--verify", action="store_true", help="compare with the official FP32 model")
    ap.add_argument("--save-depth", action="store_true", help="with --verify: write <output>.depth.npy and .official.npy")
    ap.add_argument("--check-twin", action="store_true", help="also compare the rewritten torch model itself")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    H, W = (int(v) for v in a.size.lower().split("x"))
    torch.set_num_threads(a.threads)

    t0 = time.perf_counter()
    net, name = load_official(a.ckpt, a.src)
    x = synthetic_input(H, W)
    xt = torch.from_numpy(x)
    # the official reference first: build_model patches the FeatureFusionBlock interpolation
    ref = official_depth(net, x) if (a.verify or a.check_twin) else None
    model = build_model(net, H, W, a.mode, a.uv)
    if a.check_twin:
        with torch.inference_mode():
            twin = model(xt)[0, 0].numpy()
        print(f"torch twin vs official: corr {corr(twin, ref):.9f} max rel err "
              f"{float(np.max(np.abs(twin - ref) / np.abs(ref))):.3g}")

    import litert_torch
    kw = {}
    if a.dtype == "fp16":
        from litert_torch.generative.quantize import quant_recipes
        kw["quant_config"] = quant_recipes.full_fp16_recipe()
    em = litert_torch.convert(model, (xt,), **kw)
    out_dir = os.path.dirname(os.path.abspath(a.output))
    os.makedirs(out_dir, exist_ok=True)
    tmp = a.output + ".tmp"
    em.export(tmp)
    os.replace(tmp, a.output)
    dt = time.perf_counter() - t0
    print(f"wrote {a.output}: {name} {H}x{W} mode={a.mode} dtype={a.dtype}, "
          f"{os.path.getsize(a.output) / 1e6:.1f} MB, {dt:.1f} s")

    if a.verify:
        got = run_tflite(a.output, x, a.threads)[0, 0]
        c = corr(got, ref)
        mre = float(np.max(np.abs(got - ref) / np.abs(ref)))
        print(f"verify vs official FP32 ({name}, synthetic image {H}x{W}): corr {c:.9f} "
              f"max rel err {mre:.3g}")
        if a.save_depth:
            np.save(a.output + ".depth.npy", got)
            np.save(a.output + ".official.npy", ref)


if __name__ == "__main__":
    main()
