#!/usr/bin/env python3
"""Goldens for the DA3 family beyond Small/Base/Large (issue 16), from the OFFICIAL code in FP32.

Tiny checkpoints (committed, Tests/Fixtures/family/, F16 storage read back as F32 for the goldens):
  tiny-dpt/      DA3METRIC/MONO-LARGE topology (DinoV2 without camera token, q/k norm, RoPE or
                 cat token; DPT head with one output channel and sky_output_conv2), narrow
  tiny-giant/    DA3-GIANT topology (SwiGLU MLPs, DualDPT, camera decoder/encoder, GS head), narrow
  tiny-nested/   NestedDepthAnything3Net of the two above (model.da3.*, model.da3_metric.*)
  each with config.json and goldens_<H>x<W>.safetensors (every stage under the engine's names,
  StageNames.swift; the nested goldens add the aligned depth, confidence, scale factor).

Full size (--full-dir DIR, not committed): DIR/metric-large, DIR/mono-large (model.safetensors +
config.json, synthetic F32 weights) and DIR/<preset>_goldens_<H>x<W>.safetensors (depth, sky,
depth_raw) at 280x336; with --giant also DIR/giant and DIR/nested-giant-large (5-7 GB each).

The sky head's last bias is shifted so that a set fraction of pixels is sky (the synthetic rule
alone gives all or none): the committed checkpoint holds the shifted value, and the goldens come
from the official forward on exactly those weights.

  PYTHONPATH=/tmp/setup/src python3 tools/reference/make_family_goldens.py [--full-dir /work/goldens-full/family] [--giant]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file, save_model

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import synthetic  # noqa: E402
from make_goldens import HubWrapper, canonicalize, fill_synthetic, import_official, sq  # noqa: E402

TINY_SIZE = (70, 56)
FULL_SIZE = (280, 336)
TINY = dict(embed_dim=32, heads=2, depth=6, features=16, out_channels=[8, 16, 32, 64])


def build_tiny_dpt(O):
    from depth_anything_3.model.dpt import DPT
    d = TINY["embed_dim"]
    backbone = O.DinoV2(name="vits", out_layers=[1, 3, 4, 5], alt_start=-1, qknorm_start=-1, rope_start=-1,
                        cat_token=False)
    backbone.pretrained = O.DinoVisionTransformer(
        img_size=84, patch_size=14, embed_dim=d, depth=TINY["depth"], num_heads=TINY["heads"], mlp_ratio=4,
        ffn_layer="mlp", alt_start=-1, qknorm_start=-1, rope_start=-1, cat_token=False)
    head = DPT(dim_in=d, output_dim=1, features=TINY["features"], out_channels=TINY["out_channels"])
    return O.DepthAnything3Net(net=backbone, head=head)


def build_tiny_giant(O):
    from depth_anything_3.model.gs_adapter import GaussianAdapter
    from depth_anything_3.model.gsdpt import GSDPT
    d = TINY["embed_dim"]
    backbone = O.DinoV2(name="vitg", out_layers=[2, 3, 4, 5], alt_start=2, qknorm_start=2, rope_start=2,
                        cat_token=True)
    backbone.pretrained = O.DinoVisionTransformer(
        img_size=84, patch_size=14, embed_dim=d, depth=TINY["depth"], num_heads=TINY["heads"], mlp_ratio=4,
        ffn_layer="swiglufused", alt_start=2, qknorm_start=2, rope_start=2, cat_token=True)
    head = O.DualDPT(dim_in=2 * d, output_dim=2, features=TINY["features"], out_channels=TINY["out_channels"])
    adapter = GaussianAdapter(sh_degree=2, pred_color=False, pred_offset_depth=True, pred_offset_xy=True,
                              gaussian_scale_min=1e-5, gaussian_scale_max=30.0)
    gs_head = GSDPT(dim_in=2 * d, output_dim=adapter.d_in + 1, features=TINY["features"],
                    out_channels=TINY["out_channels"])
    return O.DepthAnything3Net(net=backbone, head=head, cam_dec=O.CameraDec(dim_in=2 * d),
                               cam_enc=O.CameraEnc(dim_out=d, trunk_depth=1), gs_head=gs_head, gs_adapter=adapter)


def build_nested(anyview, metric):
    from depth_anything_3.model.da3 import NestedDepthAnything3Net
    net = NestedDepthAnything3Net.__new__(NestedDepthAnything3Net)
    nn.Module.__init__(net)
    net.da3 = anyview
    net.da3_metric = metric
    return net


def sky_heads(model):
    return [m for name, m in model.named_modules() if name.endswith("scratch.sky_output_conv2")]


def tune_sky(wrapper, x, fraction):
    """Shift each sky head's last bias so that about `fraction` of the pixels of x have sky >= 0.3."""
    for seq in sky_heads(wrapper):
        captured = {}
        h = seq[2].register_forward_hook(lambda _m, _i, o: captured.__setitem__("v", o.detach().clone()))
        with torch.no_grad():
            wrapper.model(x)
        h.remove()
        logits = captured["v"].flatten().double().sort().values
        # The threshold midway between two neighbouring logits: no pixel sits on it.
        i = int((1 - fraction) * logits.numel())
        shift = 0.3 - (logits[i - 1] + logits[i]).item() / 2
        with torch.no_grad():
            seq[2].bias += shift


def store(wrapper, directory, config, dtype):
    os.makedirs(directory, exist_ok=True)
    for _, p in wrapper.named_parameters(remove_duplicate=True):
        p.data = p.data.to(dtype)
    path = os.path.join(directory, "model.safetensors")
    save_model(wrapper, path, metadata={"format": "pt"})
    canonicalize(path)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
        f.write("\n")
    # Forward on exactly the stored values.
    stored = load_file(path)
    wrapper.float()
    missing, unexpected = wrapper.load_state_dict({k: v.float() for k, v in stored.items()}, strict=False)
    assert not unexpected, unexpected
    return path


def hook_stages(net, out, prefix=""):
    """Forward hooks storing the stages under the engine's names (StageNames.swift)."""
    vit, head = net.backbone.pretrained, net.head
    hooks = []

    def fwd(name, fn=lambda o: o[0]):
        def h(_m, _i, o):
            out[prefix + name] = sq(fn(o))
        return h

    def pre(name):
        def h(_m, i):
            out[prefix + name] = sq(i[0][0])
        return h

    hooks.append(vit.patch_embed.register_forward_hook(fwd("patch_embed")))
    for i, blk in enumerate(vit.blocks):
        hooks.append(blk.register_forward_hook(fwd(f"block.{i}")))

    def backbone_hook(_m, _i, o):
        for k, (f, cam) in enumerate(o[0]):
            out[f"{prefix}feat.{k}"] = sq(f[0, 0])
            out[f"{prefix}cam_token.{k}"] = sq(cam[0, 0])
    hooks.append(net.backbone.register_forward_hook(backbone_hook))
    for k in range(4):
        hooks.append(head.resize_layers[k].register_forward_pre_hook(pre(f"head.proj.{k}")))
        hooks.append(head.resize_layers[k].register_forward_hook(fwd(f"head.resized.{k}")))
        hooks.append(getattr(head.scratch, f"layer{k + 1}_rn").register_forward_hook(fwd(f"head.rn.{k}")))
    for j in (4, 3, 2, 1):
        hooks.append(getattr(head.scratch, f"refinenet{j}").register_forward_hook(fwd(f"head.refine.{j}")))
    hooks.append(head.scratch.output_conv1.register_forward_hook(fwd("head.out_conv1")))
    hooks.append(head.scratch.output_conv2.register_forward_hook(fwd("head.logits")))
    if getattr(net, "cam_dec", None) is not None:
        hooks.append(net.cam_dec.register_forward_hook(fwd("pose_enc", lambda o: o[0, 0])))
    return hooks


def single_goldens(net, x, out, prefix="", stages=True):
    """Runs one DepthAnything3Net (with stage hooks unless `stages` is False); adds depth_raw
    (before the sky handling), depth, sky and, with a camera, confidence and intrinsics."""
    hooks = hook_stages(net, out, prefix) if stages else []
    raw = {}
    orig = net._process_mono_sky_estimation

    def spy(output):
        if "sky" in output:
            raw["depth"] = output.depth.clone()
        return orig(output)
    net._process_mono_sky_estimation = spy
    with torch.no_grad():
        res = net(x)
    del net._process_mono_sky_estimation
    for h in hooks:
        h.remove()
    out[prefix + "depth"] = sq(res.depth[0, 0])
    if "sky" in res:
        out[prefix + "sky"] = sq(res.sky[0, 0])
        out[prefix + "depth_raw"] = sq(raw["depth"][0, 0])
    if "depth_conf" in res:
        out[prefix + "depth_conf"] = sq(res.depth_conf[0, 0])
        out[prefix + "intrinsics"] = sq(res.intrinsics[0, 0])
    return res


def image(H, W):
    return torch.from_numpy(synthetic.image_normalized(W, H))[None, None]


def save_goldens(out, path, meta):
    for k, v in out.items():
        assert torch.isfinite(v).all(), k
    save_file(out, path, metadata=meta)
    canonicalize(path)


def sky_note(sky):
    return f"sky pixels {(sky >= 0.3).sum().item()} of {sky.numel()}"


def store_with_goldens(wrapper, root, name, config, x):
    """Stores a tiny model (F16) under root/name and its single-image goldens beside it."""
    H, W = x.shape[-2:]
    store(wrapper, os.path.join(root, name), config, torch.float16)
    out = {"input": sq(x[0, 0])}
    res = single_goldens(wrapper.model, x, out)
    save_goldens(out, os.path.join(root, name, f"goldens_{H}x{W}.safetensors"),
                 {"model": f"da3-{name}-test", "H": str(H), "W": str(W)})
    return res


def tiny(O, root):
    H, W = TINY_SIZE
    x = image(H, W)
    base = {"embed_dim": TINY["embed_dim"], "num_heads": TINY["heads"], "depth": TINY["depth"], "mlp_ratio": 4,
            "patch_size": 14}
    head = {"features": TINY["features"], "out_channels": TINY["out_channels"]}
    dpt_cfg = {"model_name": "da3-tiny-dpt-test",
               "backbone": {**base, "out_layers": [1, 3, 4, 5], "alt_start": -1, "qknorm_start": -1,
                            "rope_start": -1, "cat_token": False, "ffn_layer": "mlp"},
               "head": {**head, "type": "dpt", "dim_in": TINY["embed_dim"], "output_dim": 1}}
    giant_cfg = {"model_name": "da3-tiny-giant-test",
                 "backbone": {**base, "out_layers": [2, 3, 4, 5], "alt_start": 2, "qknorm_start": 2,
                              "rope_start": 2, "cat_token": True, "ffn_layer": "swiglu"},
                 "head": {**head, "type": "dualdpt", "dim_in": 2 * TINY["embed_dim"], "output_dim": 2}}

    torch.manual_seed(0)
    dpt = HubWrapper(build_tiny_dpt(O)).eval()
    fill_synthetic(dpt)
    tune_sky(dpt, x, 0.4)
    res = store_with_goldens(dpt, root, "tiny-dpt", dpt_cfg, x)
    print(f"tiny-dpt {H}x{W}: depth {res.depth.min().item():.4g}..{res.depth.max().item():.4g} | {sky_note(res.sky)}")

    torch.manual_seed(0)
    giant = HubWrapper(build_tiny_giant(O)).eval()
    fill_synthetic(giant)
    res = store_with_goldens(giant, root, "tiny-giant", giant_cfg, x)
    print(f"tiny-giant {H}x{W}: depth {res.depth.min().item():.4g}..{res.depth.max().item():.4g}")

    # Nested: the two tiny networks above, under model.da3.* and model.da3_metric.*.
    nested = HubWrapper(build_nested(giant.model, dpt.model)).eval()
    store(nested, os.path.join(root, "tiny-nested"),
          {"model_name": "da3-tiny-nested-test", "anyview": giant_cfg, "metric": dpt_cfg}, torch.float16)
    out = {"input": sq(x[0, 0])}
    res = nested_goldens(nested.model, x, out)
    save_goldens(out, os.path.join(root, "tiny-nested", f"goldens_{H}x{W}.safetensors"),
                 {"model": "da3-tiny-nested-test", "H": str(H), "W": str(W)})
    print(f"tiny-nested {H}x{W}: scale {res.scale_factor:.6g} | depth {res.depth.min().item():.4g}.."
          f"{res.depth.max().item():.4g} | {sky_note(out['metric.sky'])}")


def nested_goldens(nested, x, out):
    """The nested forward with both branches' stages (metric branch under 'metric.')."""
    h1 = hook_stages(nested.da3, out)
    h2 = hook_stages(nested.da3_metric, out, "metric.")
    with torch.no_grad():
        # The metric branch alone, for its depth/sky (deterministic: the same forward again).
        m = nested.da3_metric(x)
        res = nested(x)
    for h in h1 + h2:
        h.remove()
    out["metric.depth"] = sq(m.depth[0, 0])
    out["metric.sky"] = sq(m.sky[0, 0])
    out["nested.depth"] = sq(res.depth[0, 0])
    out["nested.depth_conf"] = sq(res.depth_conf[0, 0])
    out["nested.scale_factor"] = torch.tensor([res.scale_factor], dtype=torch.float32)
    out["intrinsics"] = sq(res.intrinsics[0, 0])
    return res


def build_preset(O, name):
    cfg = O.load_config(os.path.join(O.pkg_dir, "configs", f"{name}.yaml"))
    return HubWrapper(O.create_object(cfg)).eval()


def full(O, full_dir, names, sky_fraction):
    H, W = FULL_SIZE
    x = image(H, W)
    for name in names:
        t0 = time.perf_counter()
        model = build_preset(O, name)
        fill_synthetic(model)
        if name in sky_fraction:
            tune_sky(model, x, sky_fraction[name])
        short = name.replace("da3", "").lstrip("-")
        d = os.path.join(full_dir, short)
        os.makedirs(d, exist_ok=True)
        save_model(model, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump({"model_name": name}, f)
            f.write("\n")
        print(f"{name}: built and stored in {time.perf_counter() - t0:.1f} s")
        out = {}
        t0 = time.perf_counter()
        if name.startswith("da3nested"):
            with torch.no_grad():
                m = model.model.da3_metric(x)
                res = model.model(x)
            out["metric.sky"] = sq(m.sky[0, 0])
            out["depth"] = sq(res.depth[0, 0])
            out["depth_conf"] = sq(res.depth_conf[0, 0])
            out["scale_factor"] = torch.tensor([res.scale_factor], dtype=torch.float32)
            out["intrinsics"] = sq(res.intrinsics[0, 0])
        else:
            single_goldens(model.model, x, out, stages=False)
        dt = time.perf_counter() - t0
        save_goldens(out, os.path.join(full_dir, f"{short}_goldens_{H}x{W}.safetensors"),
                     {"model": name, "H": str(H), "W": str(W), "weights": "synthetic float32"})
        print(f"{name} {H}x{W}: official forward {dt:.1f} s | depth {out['depth'].min().item():.4g}.."
              f"{out['depth'].max().item():.4g}" + (f" | {sky_note(out['sky'])}" if "sky" in out else ""))
        del model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "Fixtures", "family")))
    ap.add_argument("--src", default=os.environ.get("DA3_SRC"))
    ap.add_argument("--full-dir", default=None)
    ap.add_argument("--skip-tiny", action="store_true")
    ap.add_argument("--giant", action="store_true", help="also the full-width Giant and Nested (5-7 GB each)")
    ap.add_argument("--only", default=None, help="comma list of full-size model names to write (default: all chosen)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    O = import_official(args.src)
    if not args.skip_tiny:
        tiny(O, args.out)
    if args.full_dir:
        names = ["da3metric-large", "da3mono-large"] + (["da3-giant", "da3nested-giant-large"] if args.giant else [])
        if args.only:
            names = [n for n in names if n in args.only.split(",")]
        full(O, args.full_dir, names, {"da3metric-large": 0.4, "da3mono-large": 0.2, "da3nested-giant-large": 0.3})


if __name__ == "__main__":
    main()
