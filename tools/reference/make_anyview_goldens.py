#!/usr/bin/env python3
"""Any-view scene goldens (issue 15) from the OFFICIAL depth_anything_3 code, FP32 on CPU.

Runs `DepthAnything3Net` on S views of one size in one pass (B = 1), as `DepthAnything3.inference`
does after preprocessing, for each reference-view strategy, with known cameras (camera encoder,
`_normalize_extrinsics`, `_align_to_input_extrinsics_intrinsics`) and with `use_ray_pose`:

  Tests/Fixtures/anyview/tiny_<case>.safetensors   tiny model (Tests/Fixtures/tiny), 3 views 70x56
  --full-dir DIR: DIR/anyview-<preset>/<case>.safetensors   DA3-Small / DA3-Base synthetic
      checkpoints (DIR/<preset>/model.safetensors from make_goldens.py --full-dir), 4 views at
      504x504 (resize-free inputs)

Cases: first, middle, saddle_balanced, saddle_sim_range (no cameras), posed (cameras given),
two_views (tiny only: the first 2 views, where no reference view is selected),
and full-size only ray (use_ray_pose, default strategy; the Swift engine has no ray pose yet). Each file holds `input` (S,3,H,W), `ref_view` (1,) (the
reference view chosen; -1 when none is), `depth`, `depth_conf` (S,H,W), `extrinsics` (S,3,4),
`intrinsics` (S,3,3) as the network returns them, and for `posed` also the cameras given
(`in_extrinsics` (S,4,4), `in_intrinsics` (S,3,3)), the normalized extrinsics the network saw
(`norm_extrinsics`) and the aligned outputs of the API (`aligned_depth`, `align_scale`). The
default case of the tiny model also holds every block output (`block.<i>`, (S*T, D), views in
processing order) and `pose_enc` (S,9).
"""

from __future__ import annotations

import argparse
import os
import sys
import types

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_goldens as mg  # noqa: E402
import synthetic  # noqa: E402

STRATEGIES = ["first", "middle", "saddle_balanced", "saddle_sim_range"]


class _Stub(types.ModuleType):
    """A module whose every attribute is a do-nothing stub (for import chains only)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stub(f"{self.__name__}.{name}")

    def __call__(self, *a, **k):
        return _Stub(self.__name__)


def import_api():
    """depth_anything_3.api imports exporters and visualizers (matplotlib, moviepy, ...) that the
    two functions used here (`_normalize_extrinsics`, `_align_to_input_extrinsics_intrinsics`) do
    not need: missing third-party modules are stubbed until the import goes through."""
    for _ in range(30):
        try:
            from depth_anything_3.api import DepthAnything3
            return DepthAnything3
        except ModuleNotFoundError as e:
            name = e.name
            if name.startswith("depth_anything_3"):
                raise
            for k in [m for m in sys.modules if m.startswith("depth_anything_3.api") or m.startswith("depth_anything_3.utils.export")]:
                del sys.modules[k]
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                sys.modules.setdefault(".".join(parts[:i]), _Stub(".".join(parts[:i])))
    raise RuntimeError("could not import depth_anything_3.api")


def scene_views(S: int, H: int, W: int, order=None) -> torch.Tensor:
    """S distinct synthetic views of one size: view k is the top-left H x W of the synthetic image
    of size (W + 14k) x (H + 7k), brightness-shifted by 0.1 k (so class tokens differ), taken in
    `order` (chosen so that the strategies pick different reference views)."""
    views = []
    for k in (order or range(S)):
        img = synthetic.image_normalized(W + 14 * k, H + 7 * k)[:, :H, :W] + np.float32(0.1 * k)
        views.append(torch.from_numpy(np.ascontiguousarray(img)))
    return torch.stack(views)[None]  # (1,S,3,H,W)


def scene_cameras(S: int, H: int, W: int) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera 4x4 poses on an arc looking at the origin, and pinhole intrinsics."""
    exts, ixts = [], []
    for k in range(S):
        a = 0.25 * k - 0.3
        c, s = np.cos(a), np.sin(a)
        R = np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])  # rotation about y
        center = np.array([3.0 * s, 0.2 * k, -3.0 * c + 0.5]) * 2.5
        E = np.eye(4)
        E[:3, :3] = R
        E[:3, 3] = -R @ center
        exts.append(E)
        f = 0.9 * max(H, W) + 3 * k
        ixts.append(np.array([[f, 0, W / 2 + k], [0, f * 1.01, H / 2 - k], [0, 0, 1]]))
    return np.asarray(exts, dtype=np.float32), np.asarray(ixts, dtype=np.float32)


class RefRecorder:
    """Wraps the official select_reference_view to record the index it returns."""

    def __init__(self, vt_module):
        self.vt = vt_module
        self.orig = vt_module.select_reference_view
        self.last = -1
        vt_module.select_reference_view = self

    def __call__(self, x, strategy="saddle_balanced"):
        b = self.orig(x, strategy=strategy)
        self.last = int(b[0])
        return b


def sq(t) -> torch.Tensor:
    if isinstance(t, np.ndarray):
        t = torch.from_numpy(t)
    return t.detach().to(torch.float32).contiguous().clone()


def run_case(net, api_cls, rec: RefRecorder, x: torch.Tensor, case: str, blocks: bool) -> dict:
    S, H, W = x.shape[1], x.shape[-2], x.shape[-1]
    out: dict[str, torch.Tensor] = {"input": sq(x[0])}
    hooks = []
    if blocks:
        vit = net.backbone.pretrained
        for i, blk in enumerate(vit.blocks):
            def h(_m, _i, o, i=i):
                out[f"block.{i}"] = sq(o.reshape(-1, o.shape[-1]))
            hooks.append(blk.register_forward_hook(h))
        hooks.append(net.cam_dec.register_forward_hook(lambda _m, _i, o: out.__setitem__("pose_enc", sq(o[0]))))
    rec.last = -1
    ext_in = ixt_in = None
    with torch.no_grad():
        if case == "posed":
            e, k = scene_cameras(S, H, W)
            ext_in, ixt_in = torch.from_numpy(e), torch.from_numpy(k)
            ex_norm = api_cls._normalize_extrinsics(None, ext_in[None].clone())
            res = net(x, ex_norm, ixt_in[None])
            out["in_extrinsics"], out["in_intrinsics"], out["norm_extrinsics"] = sq(ext_in), sq(ixt_in), sq(ex_norm[0])
        elif case == "ray":
            res = net(x, use_ray_pose=True)
        else:
            res = net(x, ref_view_strategy=case)
    for h in hooks:
        h.remove()
    out["ref_view"] = torch.tensor([float(rec.last)])
    out["depth"], out["depth_conf"] = sq(res.depth[0]), sq(res.depth_conf[0])
    out["extrinsics"], out["intrinsics"] = sq(res.extrinsics[0][..., :3, :]), sq(res.intrinsics[0])
    if case == "posed":
        pred = types.SimpleNamespace(depth=res.depth[0].numpy().copy(), extrinsics=res.extrinsics[0].numpy().copy(),
                                     intrinsics=res.intrinsics[0].numpy().copy())
        depth_before = pred.depth.copy()
        pred = api_cls._align_to_input_extrinsics_intrinsics(None, ext_in, ixt_in, pred, True)
        out["aligned_depth"] = sq(pred.depth)
        # depth /= scale: recover the scale the official alignment used.
        out["align_scale"] = torch.tensor([float(np.median(depth_before / pred.depth))])
        out["aligned_extrinsics"], out["aligned_intrinsics"] = sq(pred.extrinsics), sq(pred.intrinsics)
    for k, v in out.items():
        assert torch.isfinite(v).all(), (case, k)
    return out


def save(out: dict, path: str, meta: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(out, path, metadata=meta)
    mg.canonicalize(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "Fixtures")))
    ap.add_argument("--src", default=os.environ.get("DA3_SRC"))
    ap.add_argument("--full-dir", default=None, help="also write DA3-Small/Base 4-view goldens under DIR/anyview-<preset>/")
    ap.add_argument("--presets", default="small,base")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-tiny", action="store_true", help="only the full-size goldens")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    try:
        import torchvision  # noqa: F401
    except Exception:
        for name in ["torchvision", "torchvision.transforms"]:
            sys.modules[name] = _Stub(name)
    O = mg.import_official(args.src)
    import depth_anything_3.model.dinov2.vision_transformer as vt
    api_cls = import_api()
    rec = RefRecorder(vt)

    # ---------------- tiny: 3 views, 70 x 56 ----------------
    if not args.skip_tiny:
        write_tiny(O, api_cls, rec, args)
    if not args.full_dir:
        return
    for preset in args.presets.split(","):
        run_preset(O, api_cls, rec, preset, args)


def write_tiny(O, api_cls, rec, args) -> None:
    tiny = mg.build_tiny(O)
    stored = load_file(os.path.join(args.out, "tiny", "model.safetensors"))
    tiny.load_state_dict({k: v.float() for k, v in stored.items()}, strict=False)
    tiny.eval()
    x = scene_views(3, 70, 56, order=[0, 2, 1])
    for case in STRATEGIES + ["posed"]:  # the ray case only full-size, for the ray pose work to come
        o = run_case(tiny.model, api_cls, rec, x, case, blocks=(case == "saddle_balanced"))
        save(o, os.path.join(args.out, "anyview", f"tiny_{case}.safetensors"),
             {"model": "da3-tiny-test", "views": "3", "H": "70", "W": "56", "case": case})
        print(f"tiny {case}: ref {int(o['ref_view'][0])} depth [{o['depth'].min():.4g}, {o['depth'].max():.4g}]"
              f" t0 {[round(v, 4) for v in o['extrinsics'][1, :, 3].tolist()]}"
              + (f" scale {o['align_scale'].item():.5g}" if case == "posed" else ""))
    # Two views: below THRESH_FOR_REF_SELECTION, no selection (view 0 is the reference).
    o = run_case(tiny.model, api_cls, rec, x[:, :2].contiguous(), "saddle_balanced", blocks=False)
    save(o, os.path.join(args.out, "anyview", "tiny_two_views.safetensors"),
         {"model": "da3-tiny-test", "views": "2", "H": "70", "W": "56", "case": "two_views"})
    print(f"tiny two views: ref {int(o['ref_view'][0])}")



def run_preset(O, api_cls, rec, preset: str, args) -> None:
    """The 4-view goldens of da3-<preset> with the synthetic checkpoint of make_goldens.py --full-dir."""
    ckpt = os.path.join(args.full_dir, preset, "model.safetensors")
    model = mg.build_preset(O, preset)
    missing, unexpected = model.load_state_dict(load_file(ckpt), strict=False)
    assert not unexpected, unexpected
    model.eval()
    x = scene_views(4, 504, 504)
    for case in STRATEGIES + ["posed", "ray"]:
        o = run_case(model.model, api_cls, rec, x, case, blocks=False)
        save(o, os.path.join(args.full_dir, f"anyview-{preset}", f"{case}.safetensors"),
             {"model": f"da3-{preset}", "views": "4", "H": "504", "W": "504", "case": case})
        print(f"da3-{preset} {case}: ref {int(o['ref_view'][0])} depth [{o['depth'].min():.4g}, {o['depth'].max():.4g}]",
              flush=True)


if __name__ == "__main__":
    main()
