#!/usr/bin/env python3
"""Write the reference goldens for the Swift Depth Anything 3 port.

Runs the OFFICIAL depth_anything_3 model code in FP32 on CPU (no autocast, torch.no_grad(),
2 threads) with the deterministic synthetic weights of synthetic.py, and writes:

  Tests/Fixtures/synthetic/samples.json          generator checksums for the Swift twin
  Tests/Fixtures/tiny/model.safetensors          tiny DA3 checkpoint (F16 / BF16 / F32 mix)
  Tests/Fixtures/tiny/config.json
  Tests/Fixtures/tiny/goldens_<H>x<W>.safetensors   intermediate + final tensors, tiny model
  Tests/Fixtures/litert/tiny32/model.safetensors + config.json   half-width tiny checkpoint, the
                                                 source of the LiteRT fixture (tools/litert/convert.py)
  Tests/Fixtures/small/goldens_<H>x<W>.safetensors  DA3-Small (synthetic f32 weights), stride-4 outputs

With --full-dir DIR also (not committed):
  DIR/small_goldens_<H>x<W>.safetensors          full-resolution depth / depth_conf
  DIR/small/model.safetensors + config.json      full DA3-Small synthetic checkpoint (F32)

See README.md in this folder.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import types

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file, save_model

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import synthetic  # noqa: E402

TINY_SIZES = [(70, 56), (84, 84)]
SMALL_SIZES = [(504, 280), (280, 504), (896, 504)]
# (preset, sizes): DA3-Small at the acceptance sizes, DA3-Base at one small portrait size.
PRESET_SIZES = [("small", SMALL_SIZES), ("base", [(280, 210)])]
SMALL_STRIDE = 4


def import_official(src: str | None):
    if src:
        sys.path.insert(0, src)
    # torchvision cannot be imported next to CPU torch here; the model modules do not need it,
    # but stub it in case an import chain touches it.
    if "torchvision" not in sys.modules:
        try:
            import torchvision  # noqa: F401
        except Exception:
            tv = types.ModuleType("torchvision")
            tvt = types.ModuleType("torchvision.transforms")
            tv.transforms = tvt
            sys.modules["torchvision"] = tv
            sys.modules["torchvision.transforms"] = tvt
    import depth_anything_3  # noqa: F401
    from depth_anything_3.cfg import create_object, load_config
    from depth_anything_3.model.cam_dec import CameraDec
    from depth_anything_3.model.cam_enc import CameraEnc
    from depth_anything_3.model.da3 import DepthAnything3Net
    from depth_anything_3.model.dinov2.dinov2 import DinoV2
    from depth_anything_3.model.dinov2.vision_transformer import DinoVisionTransformer
    from depth_anything_3.model.dualdpt import DualDPT

    return types.SimpleNamespace(
        create_object=create_object, load_config=load_config, CameraDec=CameraDec,
        CameraEnc=CameraEnc, DepthAnything3Net=DepthAnything3Net, DinoV2=DinoV2,
        DinoVisionTransformer=DinoVisionTransformer, DualDPT=DualDPT,
        pkg_dir=os.path.abspath(list(depth_anything_3.__path__)[0]),
    )


class HubWrapper(nn.Module):
    """Mirrors the DepthAnything3 API wrapper: state_dict keys start with `model.`."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.model = net


def canonicalize(path: str) -> None:
    """Rewrite a safetensors header with sorted keys (the library writes metadata in hash order),
    so regenerating the fixtures gives byte-identical files. Data bytes are untouched."""
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + blob[8 + n:])


def build_tiny(O, embed_dim: int = 64, heads: int = 2) -> HubWrapper:
    """DA3-Small's topology (12 blocks, the same special layers and head structure), narrow."""
    backbone = O.DinoV2(name="vits", out_layers=[5, 7, 9, 11], alt_start=4, qknorm_start=4,
                        rope_start=4, cat_token=True)
    backbone.pretrained = O.DinoVisionTransformer(
        img_size=84, patch_size=14, embed_dim=embed_dim, depth=12, num_heads=heads, mlp_ratio=4,
        ffn_layer="mlp", alt_start=4, qknorm_start=4, rope_start=4, cat_token=True)
    head = O.DualDPT(dim_in=2 * embed_dim, output_dim=2, features=16, out_channels=[8, 16, 32, 64])
    net = O.DepthAnything3Net(net=backbone, head=head, cam_dec=O.CameraDec(dim_in=2 * embed_dim),
                              cam_enc=O.CameraEnc(dim_out=embed_dim, trunk_depth=1))
    return HubWrapper(net).eval()


def write_tiny_checkpoint(O, tiny_dir: str, name: str, embed_dim: int = 64, heads: int = 2) -> str:
    """A synthetic tiny checkpoint (mixed dtypes, see tiny_dtype) and its config.json; returns the
    .safetensors path."""
    tiny = build_tiny(O, embed_dim, heads)
    fill_synthetic(tiny)
    # Store as the Hub does (save_model: one name per shared storage) in mixed dtypes.
    for pname, p in list(tiny.named_parameters(remove_duplicate=True)):
        p.data = p.data.to(tiny_dtype(pname))
    os.makedirs(tiny_dir, exist_ok=True)
    ckpt = os.path.join(tiny_dir, "model.safetensors")
    save_model(tiny, ckpt, metadata={"format": "pt"})
    canonicalize(ckpt)
    with open(os.path.join(tiny_dir, "config.json"), "w") as f:
        json.dump({
            "model_name": name,
            "backbone": {"embed_dim": embed_dim, "num_heads": heads, "depth": 12, "mlp_ratio": 4, "patch_size": 14,
                         "pos_embed_grid": 6, "out_layers": [5, 7, 9, 11], "alt_start": 4,
                         "qknorm_start": 4, "rope_start": 4, "cat_token": True},
            "head": {"dim_in": 2 * embed_dim, "features": 16, "out_channels": [8, 16, 32, 64], "output_dim": 2},
            "cam_dec": {"dim_in": 2 * embed_dim}, "cam_enc": {"dim_out": embed_dim, "trunk_depth": 1, "unused": True},
            "dtypes": {"F32": "pos_embed, cls_token, camera_token, *.gamma",
                       "BF16": "model.cam_dec.*, model.cam_enc.*, model.head.scratch.output_conv2.*",
                       "F16": "everything else"},
        }, f, indent=1)
        f.write("\n")
    return ckpt


def fill_synthetic(model: nn.Module) -> None:
    """Every tensor of the state dict gets synthetic.weight_values(key, shape) (float32).
    Shared tensors are written once per storage, under the name save_model keeps
    (the sorted-first name)."""
    sd = model.state_dict()
    seen = {}
    for key in sorted(sd.keys()):
        t = sd[key]
        ptr = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if ptr in seen:
            continue
        seen[ptr] = key
        vals = torch.from_numpy(synthetic.weight_values(key, tuple(t.shape)))
        with torch.no_grad():
            t.copy_(vals)


def tiny_dtype(key: str) -> torch.dtype:
    """Storage dtype for the tiny checkpoint: F32 for tokens / pos_embed / LayerScale gammas,
    BF16 for the camera decoder & encoder and the final output conv, F16 for everything else."""
    if key.endswith("pos_embed") or key.endswith("cls_token") or key.endswith("camera_token") \
            or key.endswith(".gamma"):
        return torch.float32
    if ".cam_dec." in key or ".cam_enc." in key or ".scratch.output_conv2." in key:
        return torch.bfloat16
    return torch.float16


def sq(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float32).contiguous().clone()


def run_tiny_goldens(wrapper: HubWrapper, H: int, W: int, path: str) -> dict:
    net = wrapper.model
    vit = net.backbone.pretrained
    head = net.head
    gh, gw = H // 14, W // 14
    x = torch.from_numpy(synthetic.image_normalized(W, H))[None, None]  # (1,1,3,H,W)
    out: dict[str, torch.Tensor] = {"input": sq(x[0, 0])}
    # The stage names below are those of Sources/DA3Model/StageNames.swift (the engine's observer
    # names, one table on the Swift side): change both together.
    hooks = []

    def fwd(name, fn=lambda o: o):
        def h(_m, _i, o):
            out[name] = sq(fn(o))
        return h

    def pre(name):
        def h(_m, i):
            out[name] = sq(i[0][0])
        return h

    hooks.append(vit.patch_embed.register_forward_hook(fwd("patch_embed", lambda o: o[0])))
    for i, blk in enumerate(vit.blocks):
        hooks.append(blk.register_forward_hook(fwd(f"block.{i}", lambda o: o[0])))

    def backbone_hook(_m, _i, o):
        feats, _aux = o
        for k, (f, cam) in enumerate(feats):
            out[f"feat.{k}"] = sq(f[0, 0])
            out[f"cam_token.{k}"] = sq(cam[0, 0])
    hooks.append(net.backbone.register_forward_hook(backbone_hook))
    for k in range(4):
        hooks.append(head.resize_layers[k].register_forward_pre_hook(pre(f"head.proj.{k}")))
        hooks.append(head.resize_layers[k].register_forward_hook(fwd(f"head.resized.{k}", lambda o: o[0])))
        rn = getattr(head.scratch, f"layer{k + 1}_rn")
        hooks.append(rn.register_forward_hook(fwd(f"head.rn.{k}", lambda o: o[0])))
    for j in (4, 3, 2, 1):
        hooks.append(getattr(head.scratch, f"refinenet{j}").register_forward_hook(
            fwd(f"head.refine.{j}", lambda o: o[0])))
    hooks.append(head.scratch.output_conv1.register_forward_hook(fwd("head.out_conv1", lambda o: o[0])))
    hooks.append(head.scratch.output_conv2.register_forward_pre_hook(pre("head.upsampled")))
    hooks.append(head.scratch.output_conv2.register_forward_hook(fwd("head.logits", lambda o: o[0])))
    hooks.append(net.cam_dec.register_forward_hook(fwd("pose_enc", lambda o: o[0, 0])))

    with torch.no_grad():
        # tokens after cls prepend + pos embed add: the official method, called on its own.
        out["tokens"] = sq(vit.prepare_tokens_with_masks(x)[0, 0])
        res = net(x)
    for h in hooks:
        h.remove()
    out["depth"] = sq(res.depth[0, 0])
    out["depth_conf"] = sq(res.depth_conf[0, 0])
    out["intrinsics"] = sq(res.intrinsics[0, 0])

    # Sanity: shapes as documented.
    N, T, D = gh * gw, 1 + gh * gw, 64
    assert out["patch_embed"].shape == (N, D)
    assert out["tokens"].shape == (T, D)
    assert all(out[f"block.{i}"].shape == (T, D) for i in range(12))
    assert out["feat.0"].shape == (N, 2 * D) and out["cam_token.0"].shape == (2 * D,)
    assert out["head.logits"].shape == (2, H, W)
    assert out["pose_enc"].shape == (9,)
    assert out["head.proj.0"].shape == (8, gh, gw)
    for k, v in out.items():
        assert torch.isfinite(v).all(), k
    meta = {"model": "da3-tiny-test", "H": str(H), "W": str(W), "grid": f"{gh}x{gw}",
            "note": "official depth_anything_3 FP32 CPU; batch dims squeezed"}
    save_file(out, path, metadata=meta)
    canonicalize(path)
    return out


def depth_stats(depth: torch.Tensor, conf: torch.Tensor) -> str:
    ld = torch.log(depth.double())
    return (f"depth min {depth.min().item():.4g} max {depth.max().item():.4g} | log-depth mean "
            f"{ld.mean().item():.3f} std {ld.std().item():.3f} | conf min {conf.min().item():.4g} "
            f"max {conf.max().item():.4g}")


def write_samples(path: str) -> None:
    keys = [
        ("model.backbone.pretrained.blocks.0.attn.qkv.weight", [1152, 384]),
        ("model.backbone.pretrained.blocks.3.ls1.gamma", [384]),
        ("model.backbone.pretrained.blocks.5.norm1.weight", [384]),
        ("model.backbone.pretrained.blocks.5.attn.q_norm.bias", [64]),
        ("model.backbone.pretrained.pos_embed", [1, 1370, 384]),
        ("model.backbone.pretrained.camera_token", [1, 2, 384]),
        ("model.backbone.pretrained.patch_embed.proj.weight", [384, 3, 14, 14]),
        ("model.head.resize_layers.0.weight", [48, 48, 4, 4]),
        ("model.head.resize_layers.3.weight", [384, 384, 3, 3]),
        ("model.head.scratch.output_conv2.2.weight", [2, 32, 1, 1]),
        ("model.head.scratch.output_conv2.2.bias", [2]),
        ("model.cam_dec.fc_fov.0.bias", [2]),
        ("model.cam_dec.fc_qvec.0.bias", [4]),
        ("model.cam_dec.fc_t.weight", [3, 768]),
        ("model.backbone.pretrained.blocks.11.mlp.fc1.weight", [1536, 384]),
        ("model.cam_enc.pose_branch.fc1.weight", [192, 9]),
        ("model.\u00e9\u4e2d.unicode_key", [7]),  # non-ASCII: fnv1a64 runs over UTF-8 bytes
    ]
    entries = []
    for key, shape in keys:
        v = synthetic.weight_values(key, shape).reshape(-1)
        scale, offset = synthetic.scale_offset(key, shape)
        entries.append({
            "key": key, "shape": shape, "seed": str(synthetic.fnv1a64(key)),
            "scale_bits": int(np.float32(scale).view(np.uint32)),
            "offset_bits": int(np.float32(offset).view(np.uint32)),
            "first_bits": [int(b) for b in v[:16].view(np.uint32)],
            "first": [float(f) for f in v[:16]],
            "sum": float(v.astype(np.float64).sum()),
            # exact, order-independent checks over ALL elements (uint64 arithmetic, mod 2^64):
            "bits_sum": str(int(v.view(np.uint32).astype(np.uint64).sum())),
            "bits_weighted_sum": str(int((v.view(np.uint32).astype(np.uint64)
                                          * ((np.arange(v.size, dtype=np.uint64) % np.uint64(251))
                                             + np.uint64(1))).sum())),
            "abs_sum": float(np.abs(v.astype(np.float64)).sum()),
        })
    images = []
    for (w, h) in [(56, 70), (84, 84), (13, 7), (280, 504), (504, 280), (1, 1)]:
        rgb = synthetic.image_rgb(w, h)
        nrm = synthetic.image_normalized(w, h)
        flat = rgb.reshape(-1).astype(np.int64)
        weights = (np.arange(flat.size, dtype=np.int64) % 251) + 1
        images.append({
            "width": w, "height": h,
            "rgb_sum": int(flat.sum()),
            "rgb_weighted_sum": int((flat * weights).sum()),  # position-sensitive checksum
            "rgb_first": [int(p) for p in flat[:24]],
            "normalized_first_bits": [int(b) for b in nrm.reshape(-1)[:16].view(np.uint32)],
            "normalized_sum": float(nrm.astype(np.float64).sum()),
            "normalized_bits_weighted_sum": str(int((nrm.reshape(-1).view(np.uint32).astype(np.uint64)
                                                     * ((np.arange(nrm.size, dtype=np.uint64) % np.uint64(251))
                                                        + np.uint64(1))).sum())),
        })
    doc = {"generator": "tools/reference/synthetic.py", "weights": entries, "images": images}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "Fixtures")),
                    help="fixtures root (default: Tests/Fixtures of this repo)")
    ap.add_argument("--src", default=os.environ.get("DA3_SRC"),
                    help="folder holding the depth_anything_3 package (if not pip-installed)")
    ap.add_argument("--full-dir", default=None, help="also write full-size outputs here (not committed)")
    ap.add_argument("--skip-small", action="store_true", help="only the tiny goldens and samples (skip DA3-Small and DA3-Base)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    O = import_official(args.src)
    out_root = args.out

    write_samples(os.path.join(out_root, "synthetic", "samples.json"))
    print("wrote synthetic/samples.json")

    # ---------------- tiny ----------------
    tiny_dir = os.path.join(out_root, "tiny")
    ckpt = write_tiny_checkpoint(O, tiny_dir, "da3-tiny-test")
    # The LiteRT backend's fixture checkpoint: half as wide, so its FP32 .tflite stays small.
    write_tiny_checkpoint(O, os.path.join(out_root, "litert", "tiny32"), "da3-tiny32-test", embed_dim=32, heads=2)
    # Golden forward: load exactly the stored values back as float32.
    tiny = build_tiny(O)
    stored = load_file(ckpt)
    missing, unexpected = tiny.load_state_dict({k: v.float() for k, v in stored.items()}, strict=False)
    assert not unexpected, unexpected
    sd = tiny.state_dict()
    for k in missing:  # only aliases of shared storage may be missing
        alias = [s for s in stored if sd[s].data_ptr() == sd[k].data_ptr()]
        assert alias, f"missing non-shared key {k}"
    dropped = sorted(missing)
    print(f"tiny checkpoint: {len(stored)} tensors, {os.path.getsize(ckpt)} bytes; "
          f"names dropped by save_model (shared storage): {dropped}")
    tiny.eval()
    for (H, W) in TINY_SIZES:
        t0 = time.perf_counter()
        o = run_tiny_goldens(tiny, H, W, os.path.join(tiny_dir, f"goldens_{H}x{W}.safetensors"))
        dt = time.perf_counter() - t0
        print(f"tiny {H}x{W}: {dt * 1000:.1f} ms | {depth_stats(o['depth'], o['depth_conf'])} | "
              f"pose_enc {[round(v, 4) for v in o['pose_enc'].tolist()]} | fx {o['intrinsics'][0, 0]:.2f} "
              f"fy {o['intrinsics'][1, 1]:.2f}")

    if args.skip_small:
        return

    # ---------------- full-size presets (synthetic float32 weights) ----------------
    for preset, sizes in PRESET_SIZES:
        run_preset(O, preset, sizes, out_root, args)


def build_preset(O, preset: str) -> HubWrapper:
    cfg = O.load_config(os.path.join(O.pkg_dir, "configs", f"da3-{preset}.yaml"))
    return HubWrapper(O.create_object(cfg)).eval()


def run_preset(O, preset: str, sizes, out_root: str, args) -> None:
    """Official forward of da3-<preset> with synthetic weights; stride-4 goldens per size."""
    t0 = time.perf_counter()
    model = build_preset(O, preset)
    fill_synthetic(model)
    nparam = sum(p.numel() for p in model.parameters())
    print(f"da3-{preset}: {nparam} parameters, build + synthetic fill {time.perf_counter() - t0:.2f} s")
    out_dir = os.path.join(out_root, preset)
    os.makedirs(out_dir, exist_ok=True)
    if args.full_dir:
        os.makedirs(os.path.join(args.full_dir, preset), exist_ok=True)
        save_model(model, os.path.join(args.full_dir, preset, "model.safetensors"), metadata={"format": "pt"})
        with open(os.path.join(args.full_dir, preset, "config.json"), "w") as f:
            json.dump({"model_name": f"da3-{preset}"}, f)
            f.write("\n")
    net = model.model
    for (H, W) in sizes:
        x = torch.from_numpy(synthetic.image_normalized(W, H))[None, None]
        with torch.no_grad():
            net(x[..., :56, :56])  # warm-up
            t0 = time.perf_counter()
            res = net(x)
            dt = time.perf_counter() - t0
        depth, conf = res.depth[0, 0].float(), res.depth_conf[0, 0].float()
        ixt = res.intrinsics[0, 0].float()
        # pose_enc via the official decoder on the official camera token (same as inside forward)
        with torch.no_grad():
            feats, _ = net.backbone(x)
            pose_enc = net.cam_dec(feats[-1][1])[0, 0].float()
        assert torch.isfinite(depth).all() and torch.isfinite(conf).all()
        g = {
            "depth_s4": depth[::SMALL_STRIDE, ::SMALL_STRIDE].contiguous(),
            "conf_s4": conf[::SMALL_STRIDE, ::SMALL_STRIDE].contiguous(),
            "pose_enc": pose_enc.contiguous(),
            "intrinsics": ixt.contiguous(),
        }
        meta = {"model": f"da3-{preset}", "weights": "synthetic (tools/reference/synthetic.py), float32",
                "H": str(H), "W": str(W), "stride": str(SMALL_STRIDE),
                "note": "depth_s4 = depth[::4, ::4], conf_s4 = depth_conf[::4, ::4]"}
        save_file(g, os.path.join(out_dir, f"goldens_{H}x{W}.safetensors"), metadata=meta)
        canonicalize(os.path.join(out_dir, f"goldens_{H}x{W}.safetensors"))
        if args.full_dir:
            save_file({"depth": depth.contiguous(), "depth_conf": conf.contiguous(),
                       "pose_enc": pose_enc.contiguous(), "intrinsics": ixt.contiguous()},
                      os.path.join(args.full_dir, f"{preset}_goldens_{H}x{W}.safetensors"),
                      metadata={k: v for k, v in meta.items() if k != "note"})
        print(f"da3-{preset} {H}x{W}: official FP32 forward {dt:.2f} s ({args.threads} threads) | "
              f"{depth_stats(depth, conf)} | pose_enc {[round(v, 4) for v in pose_enc.tolist()]} | "
              f"fx {ixt[0, 0]:.1f} fy {ixt[1, 1]:.1f}")


if __name__ == "__main__":
    main()
