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
and ray (use_ray_pose, default strategy, after torch.manual_seed(RAY_SEED) so that the RANSAC draws
are known; it also holds the head's `ray` (S,h,w,6) and `ray_conf` (S,h,w) and `seed` (1,)).
ray_consistent: the ray case on a checkpoint whose ray head gives rays that fit a camera
(`make_rays_consistent`; tiny: the changed tensors are in the file as `weights.<key>`; full size:
the checkpoint is written to DIR/anyview-<preset>/ray_consistent/model.safetensors).
Also Tests/Fixtures/anyview/torch_randperm.safetensors: torch.randperm draws after manual_seed, for
the generator twin (`randperm_<seed>_<n>`: three draws of n, the first 16 of each), and torch's
descending argsort of arrays with exact ties (`argsort_values_<k>`, `argsort_order_<k>`). Each file holds `input` (S,3,H,W), `ref_view` (1,) (the
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
RAY_SEED = 0  # the engine's default --ray-pose-seed


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
            def keep_rays(_m, _i, o):
                out["ray"], out["ray_conf"] = sq(o["ray"][0]), sq(o["ray_conf"][0])
            hooks.append(net.head.register_forward_hook(keep_rays))
            torch.manual_seed(RAY_SEED)  # the RANSAC draws come from torch's global generator
            res = net(x, use_ray_pose=True)
            out["seed"] = torch.tensor([float(RAY_SEED)])
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


def make_rays_consistent(model, x: torch.Tensor) -> dict:
    """Turns the synthetic checkpoint's ray head into one whose rays are a pinhole camera's (with
    0.1% noise from the synthetic features), as a trained model's are: only the last aux level's
    modules change (output_conv1_aux[3][4], output_conv2_aux[3][0, 2, 5]); depth does not.

    On the synthetic weights the rays fit no camera, and upstream's RANSAC is then chaotic: its own
    output moves by O(1) when its rays move by 1e-6 (see the README of this folder), so no other
    implementation can be compared with it there. Here the rays come from the low-frequency sin/cos
    channels of the UV position embedding that the head adds before output_conv2_aux:
    d = R [a u + px, b v + py, 1] with u, v the embedding's coordinates, origins constant, and a
    confidence varying across the image. Returns the new tensors by checkpoint key."""
    net = model.model
    sc = net.head.scratch
    C = sc.output_conv2_aux[3][0].in_channels
    q = C // 4
    u_sin, u_cos, v_sin, v_cos = q - 1, 2 * q - 1, 3 * q - 1, 4 * q - 1
    H, W = x.shape[-2:]
    ph, pw = H // 14 * 8, W // 14 * 8
    pe = net.head._add_pos_embed(torch.zeros(1, C, ph, pw), W, H)[0]
    assert torch.allclose(pe[u_sin], pe[u_sin][:1].expand(ph, pw)) and torch.allclose(pe[v_sin], pe[v_sin][:, :1].expand(ph, pw))
    omega = 1.0 / 100 ** ((q - 1) / q)
    # The synthetic pre-head's output, scaled so that it perturbs u and v by ~1e-3.
    feats = {}
    hook = sc.output_conv1_aux[3].register_forward_hook(lambda _m, _i, o: feats.__setitem__("neck", o.detach()))
    with torch.no_grad():
        net(x, use_ray_pose=False)
    hook.remove()
    eps = 1e-3 * 0.1 * omega / float(feats["neck"][:, [u_sin, v_sin]].std())
    with torch.no_grad():
        last = sc.output_conv1_aux[3][4]
        last.weight.mul_(eps)
        last.bias.mul_(eps)
        conv, ln, proj = sc.output_conv2_aux[3][0], sc.output_conv2_aux[3][2], sc.output_conv2_aux[3][5]
        A = 10.0  # h = A * 0.1 * sin / cos: the four channels of one coordinate have a constant sum of squares
        conv.weight.zero_()
        conv.bias.zero_()
        for k, (ch, sign) in enumerate([(u_sin, 1), (u_cos, 1), (u_sin, -1), (u_cos, -1),
                                        (v_sin, 1), (v_cos, 1), (v_sin, -1), (v_cos, -1)]):
            conv.weight[k, ch, 1, 1] = sign * A
        conv.bias[8:] = torch.tensor([1.0, -1.0] * ((32 - 8) // 2))
        std = ((4 * (A * 0.1) ** 2 + 24) / 32 + ln.eps) ** 0.5  # LayerNorm's std (mean 0)
        ln.weight.fill_(1.0)
        ln.bias.fill_(5.0)  # keeps every channel positive through the ReLU
        cu = cv = std / omega  # (y - 5) * cu ≈ u
        a, b, px, py = 1.2, 0.9, 0.05, -0.03
        cx_, sx_, cy_, sy_ = np.cos(0.1), np.sin(0.1), np.cos(0.05), np.sin(0.05)
        R = np.array([[cx_, 0, sx_], [0, 1, 0], [-sx_, 0, cx_]]) @ np.array([[1, 0, 0], [0, cy_, -sy_], [0, sy_, cy_]])
        proj.weight.zero_()
        proj.bias.zero_()
        for k in range(3):
            proj.weight[k, 0, 0, 0] = float(R[k, 0] * a * cu)
            proj.weight[k, 4, 0, 0] = float(R[k, 1] * b * cv)
            proj.bias[k] = float(-5 * (R[k, 0] * a * cu + R[k, 1] * b * cv) + R[k, 0] * px + R[k, 1] * py + R[k, 2])
        proj.bias[3:6] = torch.tensor([0.3, -0.2, 1.5])
        proj.weight[6, 0, 0, 0], proj.weight[6, 4, 0, 0] = 0.4, 0.25
        proj.bias[6] = -5 * 0.65
    state = model.state_dict()
    names = [f"model.head.scratch.output_conv1_aux.3.4.{t}" for t in ("weight", "bias")] + \
            [f"model.head.scratch.output_conv2_aux.{m}.{t}" for m in ("3.0", "0.2", "3.5") for t in ("weight", "bias")]
    return {k: state[k].detach().clone().contiguous() for k in names}


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
    ap.add_argument("--cases", default=",".join(STRATEGIES + ["posed", "ray", "ray_consistent"]),
                    help="full-size cases to write (ray_consistent: also its checkpoint, under anyview-<preset>/ray_consistent/)")
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
    for case in STRATEGIES + ["posed", "ray"]:
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
    # Last (it changes the model): rays that fit a camera; the changed tensors go in the file.
    changed = make_rays_consistent(tiny, x)
    o = run_case(tiny.model, api_cls, rec, x, "ray", blocks=False)
    o.update({f"weights.{k}": v for k, v in changed.items()})
    save(o, os.path.join(args.out, "anyview", "tiny_ray_consistent.safetensors"),
         {"model": "da3-tiny-test", "views": "3", "H": "70", "W": "56", "case": "ray_consistent"})
    print(f"tiny ray_consistent: t0 {[round(v, 4) for v in o['extrinsics'][1, :, 3].tolist()]}")
    write_randperm(args)


def write_randperm(args) -> None:
    """torch.randperm's draws after manual_seed, for the TorchGenerator twin test."""
    out = {}
    for seed in [0, 42, 67280421310721]:
        torch.manual_seed(seed)
        for n in [2, 10, 384, 24883, 100003]:
            out[f"randperm_{seed}_{n}"] = torch.stack([torch.randperm(n)[:16].float() if n >= 16 else
                                                       torch.cat([torch.randperm(n).float(), torch.zeros(16 - n)])
                                                       for _ in range(3)])
    # torch.argsort(descending=True) on the CPU, with exact ties (its order of ties is its own).
    g = torch.Generator().manual_seed(1)
    cases = [torch.randint(0, 50, (n,), generator=g).float() for n in (5, 17, 1000, 5000)]
    cases += [torch.rand(3000, generator=g), torch.ones(2000), torch.tensor([1.0, float("nan"), 2.0, float("nan")] * 50)]
    for k, values in enumerate(cases):
        out[f"argsort_values_{k}"] = values
        out[f"argsort_order_{k}"] = torch.argsort(values, descending=True).float()
    save(out, os.path.join(args.out, "anyview", "torch_randperm.safetensors"),
         {"what": "torch.randperm after manual_seed; torch.argsort(descending=True)"})



def run_preset(O, api_cls, rec, preset: str, args) -> None:
    """The 4-view goldens of da3-<preset> with the synthetic checkpoint of make_goldens.py --full-dir."""
    ckpt = os.path.join(args.full_dir, preset, "model.safetensors")
    model = mg.build_preset(O, preset)
    missing, unexpected = model.load_state_dict(load_file(ckpt), strict=False)
    assert not unexpected, unexpected
    model.eval()
    x = scene_views(4, 504, 504)
    for case in [c for c in args.cases.split(",") if c != "ray_consistent"]:
        o = run_case(model.model, api_cls, rec, x, case, blocks=False)
        save(o, os.path.join(args.full_dir, f"anyview-{preset}", f"{case}.safetensors"),
             {"model": f"da3-{preset}", "views": "4", "H": "504", "W": "504", "case": case})
        print(f"da3-{preset} {case}: ref {int(o['ref_view'][0])} depth [{o['depth'].min():.4g}, {o['depth'].max():.4g}]",
              flush=True)
    if "ray_consistent" in args.cases.split(","):
        # The same checkpoint but for a ray head whose rays fit a camera (make_rays_consistent).
        changed = make_rays_consistent(model, x)
        tensors = load_file(ckpt)
        tensors.update(changed)
        path = os.path.join(args.full_dir, f"anyview-{preset}", "ray_consistent", "model.safetensors")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        save_file(tensors, path, metadata={"format": "pt", "note": "make_anyview_goldens.py make_rays_consistent"})
        o = run_case(model.model, api_cls, rec, x, "ray", blocks=False)
        save(o, os.path.join(args.full_dir, f"anyview-{preset}", "ray_consistent.safetensors"),
             {"model": f"da3-{preset}", "views": "4", "H": "504", "W": "504", "case": "ray_consistent"})
        print(f"da3-{preset} ray_consistent: extrinsics[0] {o['extrinsics'][0].tolist()} intrinsics[0] {o['intrinsics'][0].tolist()}",
              flush=True)


if __name__ == "__main__":
    main()
