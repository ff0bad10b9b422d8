#!/usr/bin/env python3
"""Peer-runtime benchmark for DA3-Small, depth only: PyTorch eager FP32, ONNX Runtime, LiteRT
(XNNPACK), on the same synthetic preprocessed input and the same thread count.

    PYTHONPATH=/tmp/setup/src python3 tools/bench/bench_peers.py --threads 2 \
        --sizes 504x280,280x504,896x504 --runs 5 --json out/peers.json
    python3 tools/bench/bench_peers.py --quick          # CI smoke: 56x56, 1 run, PyTorch only

Sizes are H x W (input height x width, multiples of 14). Every measurement runs in its own child
process (`--child ...`), which also reports its peak RSS (ru_maxrss). See README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
REF = os.path.join(ROOT, "tools", "reference")
CACHE = os.path.join(HERE, ".cache")
DEFAULT_CKPT = os.path.join(ROOT, "goldens-full", "small", "model.safetensors")
DEFAULT_SRC = os.environ.get("DA3_SRC", "/tmp/setup/src")
RUNTIMES = ("pytorch", "onnxruntime", "litert")
# The Swift engine (da3-bench, --engine) in its precisions, timed in the same rounds as the peers:
# exact (FP32), fast (da3-bench's `fast` = the bfloat16 kernels, not measured) and int8.
ENGINE_RUNTIMES = ("engine", "engine-fast", "engine-int8")
ENGINE_PRECISION = {"engine": "exact", "engine-fast": "fast", "engine-int8": "int8",
                    "engine-before": "exact", "engine-fast-before": "fast"}
# A second da3-bench (--engine-before: the engine before a change), timed in the same rounds.
BEFORE_RUNTIMES = ("engine-before", "engine-fast-before")
DEFAULT_ENGINE = os.path.join(ROOT, ".build", "release", "da3-bench")
# The whole `da3 depth` process (--process): start-up, load, decode, preprocess, forward, write, in
# the exact precision and in `--precision fast` (the kernels its cached probe picks on this CPU).
PROCESS_RUNTIME = "da3-process"
PROCESS_FAST_RUNTIME = "da3-process-fast"
PROCESS_RUNTIMES = (PROCESS_RUNTIME, PROCESS_FAST_RUNTIME)
DEFAULT_DA3 = os.path.join(ROOT, ".build", "release", "da3")

sys.path[:0] = [HERE, REF]


# ============================================================================ child helpers

def peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def current_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def emit(obj) -> None:
    print("@@RESULT@@ " + json.dumps(obj), flush=True)


def hide_torchvision_stub():
    """make_goldens stubs torchvision (it cannot be imported next to CPU torch here); the ONNX
    exporter and litert-torch probe importlib.util.find_spec('torchvision'), which raises on a
    stub without __spec__. Drop the stub once the official modules are imported."""
    for k in ("torchvision", "torchvision.transforms"):
        m = sys.modules.get(k)
        if m is not None and getattr(m, "__spec__", None) is None:
            del sys.modules[k]


def load_official(src: str, ckpt: str, threads: int):
    """Official DA3-Small (DepthAnything3Net) with synthetic weights, eval, FP32."""
    import torch
    torch.set_num_threads(threads)
    import make_goldens as mg
    O = mg.import_official(src)
    wrapper = mg.build_preset(O, "small")
    if ckpt and os.path.exists(ckpt):
        from safetensors.torch import load_file
        res = wrapper.load_state_dict(load_file(ckpt), strict=False)
        # save_model de-duplicates tensors that share storage at init; only aux-branch keys may miss
        bad = [k for k in res.missing_keys if "_aux" not in k] + list(res.unexpected_keys)
        assert not bad, f"checkpoint mismatch: {bad[:5]}"
    else:
        print(f"note: {ckpt} missing, filling synthetic weights in memory", file=sys.stderr)
        mg.fill_synthetic(wrapper)
    net = wrapper.model.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def input_nchw(H: int, W: int):
    import numpy as np
    import synthetic
    return np.ascontiguousarray(synthetic.image_normalized(W, H)[None], dtype=np.float32)  # (1,3,H,W)


def time_loop(fn, runs: int):
    fn()  # warm-up
    times = []
    out = None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


# ============================================================================ children

def child_gemm(a) -> None:
    """Practical FP32 GEMM peak (numpy/OpenBLAS and torch), N threads."""
    import numpy as np
    info = {}
    try:
        import threadpoolctl
        threadpoolctl.threadpool_limits(a.threads)
        info["blas"] = [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                        for d in threadpoolctl.threadpool_info()]
    except ImportError:
        info["blas"] = "threadpoolctl not installed (OPENBLAS_NUM_THREADS set by the parent)"
    shapes = [(2304, 1536, 384), (4096, 4096, 4096)] if not a.quick else [(512, 512, 512)]
    res = {}
    rng = np.random.default_rng(0)
    for (M, N, K) in shapes:
        A = rng.standard_normal((M, K), dtype=np.float32)
        B = rng.standard_normal((K, N), dtype=np.float32)
        C = np.empty((M, N), dtype=np.float32)
        np.matmul(A, B, out=C)
        reps = 20 if M * N * K < 1e10 else 4
        best = min(_t(lambda: np.matmul(A, B, out=C)) for _ in range(reps))
        res[f"{M}x{N}x{K}"] = 2 * M * N * K / best / 1e9
    out = {"numpy": res, "numpy_peak": max(res.values()), **info}
    try:
        import torch
        torch.set_num_threads(a.threads)
        rt = {}
        for (M, N, K) in shapes:
            A = torch.randn(M, K)
            B = torch.randn(K, N)
            C = torch.empty(M, N)
            torch.mm(A, B, out=C)
            reps = 20 if M * N * K < 1e10 else 4
            best = min(_t(lambda: torch.mm(A, B, out=C)) for _ in range(reps))
            rt[f"{M}x{N}x{K}"] = 2 * M * N * K / best / 1e9
        out["torch"] = rt
        out["torch_peak"] = max(rt.values())
    except ImportError:
        pass
    emit(out)


def _t(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def child_verify(a) -> None:
    """Official unpatched vs depth-only-patched eager (must be bit-identical), DepthOnlyDA3 (the
    exported graph's torch twin) vs official, and FlopCounterMode on the patched model."""
    import numpy as np
    import torch
    import exportable as ex
    net = load_official(a.src, a.ckpt, a.threads)
    H, W = a.H, a.W
    x = torch.from_numpy(input_nchw(H, W))[None]  # (1,1,3,H,W)
    with torch.inference_mode():
        full = net(x)
        ref = full.depth[0, 0].clone()
        twin = ex.DepthOnlyDA3(net, H, W).eval()
        d_twin = twin(x[0])[0, 0]
        ex.make_depth_only(net)
        d_patch = net(x).depth[0, 0]
    from torch.utils.flop_counter import FlopCounterMode
    with torch.inference_mode():
        fc = FlopCounterMode(display=False)
        with fc:
            net(x)
    counts = fc.get_flop_counts()
    by_op = {str(k): int(v) for k, v in counts.get("Global", {}).items()}
    total = int(fc.get_total_flops())

    def mod_total(prefix):
        s = 0
        for mod, ops in counts.items():
            if mod == prefix:
                s += sum(int(v) for v in ops.values())
        return s
    # CPU SDPA (aten._scaled_dot_product_flash_attention_for_cpu) has no FLOP formula registered in
    # FlopCounterMode: count the twin with explicit softmax(q k^T) v attention as well (bmm counted)
    with torch.inference_mode():
        fc2 = FlopCounterMode(display=False)
        with fc2:
            ex.DepthOnlyDA3(net, H, W, attn="explicit").eval()(x[0])
    twin_ops = {str(k): int(v) for k, v in fc2.get_flop_counts().get("Global", {}).items()}
    rel = ((d_twin - ref).abs() / ref.abs()).max().item()
    emit({
        "patched_equals_official": bool(torch.equal(d_patch, ref)),
        "twin_max_rel_err": rel,
        "twin_corr": float(np.corrcoef(d_twin.numpy().ravel(), ref.numpy().ravel())[0, 1]),
        "flop_counter": {"total": total, "by_op": by_op,
                         "backbone": mod_total("DepthAnything3Net.backbone"),
                         "head": mod_total("DepthAnything3Net.head")},
        "flop_counter_twin_explicit_attn": {"total": int(fc2.get_total_flops()), "by_op": twin_ops},
    })


def child_export(a) -> None:
    import torch
    import exportable as ex
    net = load_official(a.src, a.ckpt, a.threads)
    hide_torchvision_stub()
    H, W = a.H, a.W
    x = torch.from_numpy(input_nchw(H, W))
    model = ex.DepthOnlyDA3(net, H, W, convt=a.convt).eval()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    tmp = a.out + ".tmp"
    t0 = time.perf_counter()
    info = {}
    if a.fmt == "onnx":
        prog = torch.onnx.export(model, (x,), None, input_names=["image"], output_names=["depth"],
                                 opset_version=18, dynamo=True, optimize=True, verbose=False)
        prog.save(tmp, external_data=False)
        info["exporter"] = f"torch.onnx.export(dynamo=True, optimize=True, opset 18), torch {torch.__version__}"
    else:
        import litert_torch
        em = litert_torch.convert(model, (x,))
        em.export(tmp)
        info["exporter"] = f"litert_torch.convert {getattr(litert_torch, '__version__', '?')}, torch {torch.__version__}"
    os.replace(tmp, a.out)
    info["export_s"] = time.perf_counter() - t0
    info["bytes"] = os.path.getsize(a.out)
    emit(info)


def child_run(a) -> None:
    import numpy as np
    H, W, N = a.H, a.W, a.threads
    extra = {}
    if a.runtime == "pytorch":
        import torch
        net = load_official(a.src, a.ckpt, N)
        import exportable as ex
        ex.make_depth_only(net)
        x = torch.from_numpy(input_nchw(H, W))[None]
        rss_load = current_rss_mb()

        def fwd():
            with torch.inference_mode():
                return net(x).depth
        times, out = time_loop(fwd, a.runs)
        depth = out[0, 0].numpy()
        extra["torch"] = torch.__version__
        extra["note"] = "official DepthAnything3Net.forward, DualDPT main branch only, cam_dec skipped, autocast off"
    elif a.runtime == "onnxruntime":
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = N
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
        x = input_nchw(H, W)
        rss_load = current_rss_mb()
        times, out = time_loop(lambda: sess.run(None, {"image": x})[0], a.runs)
        depth = out[0, 0]
        extra["onnxruntime"] = ort.__version__
    elif a.runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter
        import ai_edge_litert
        it = Interpreter(model_path=a.model, num_threads=N)
        it.allocate_tensors()
        ind = it.get_input_details()[0]["index"]
        outd = it.get_output_details()[0]["index"]
        x = input_nchw(H, W)
        rss_load = current_rss_mb()

        def fwd():
            it.set_tensor(ind, x)
            it.invoke()
            return it.get_tensor(outd)
        times, out = time_loop(fwd, a.runs)
        depth = out[0, 0]
        try:
            ops = it._get_ops_details()
            names = [o["op_name"] for o in ops]
            # all nodes of the model plus one DELEGATE node per XNNPACK partition (1 = one partition)
            extra["ops_in_model"] = {n: names.count(n) for n in sorted(set(names))}
        except Exception as e:  # private API
            extra["ops_in_model"] = f"n/a ({e})"
        extra["ai_edge_litert"] = getattr(ai_edge_litert, "__version__", "?")
    else:
        raise ValueError(a.runtime)
    np.save(a.out, np.ascontiguousarray(depth, dtype=np.float32))
    emit({"runs": times, "median_s": statistics.median(times), "min_s": min(times),
          "rss_after_load_mb": rss_load, "peak_rss_mb": peak_rss_mb(), **extra})


# ============================================================================ parent

def run_child(args, *child_args, timeout=3600):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [args.src, env.get("PYTHONPATH", "")] if p)
    env["OMP_NUM_THREADS"] = str(args.threads)
    env["OPENBLAS_NUM_THREADS"] = str(args.threads)  # thread count only; OPENBLAS_CORETYPE untouched
    cmd = [sys.executable, os.path.abspath(__file__), "--threads", str(args.threads), "--src", args.src,
           "--ckpt", args.ckpt, *child_args]
    if args.quick:
        cmd.append("--quick")
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    for line in p.stdout.splitlines():
        if line.startswith("@@RESULT@@ "):
            return json.loads(line[len("@@RESULT@@ "):])
    tail = (p.stdout[-1500:] + "\n" + p.stderr[-3000:]).strip()
    raise RuntimeError(f"child {' '.join(child_args)} failed (rc {p.returncode}):\n{tail}")


def run_engine(args, rt, key, out_npy, timeout=3600):
    """One da3-bench run (one warm-up, then args.runs timed forwards) on the same synthetic input."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "engine.json")
        binary = args.engine_before if rt in BEFORE_RUNTIMES else args.engine
        cmd = [binary, "--sizes", key, "--runs", str(args.runs), "--threads", str(args.threads),
               "--precision", ENGINE_PRECISION[rt], "--json", report, "--depth-dir", tmp]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed (rc {p.returncode}):\n{(p.stdout[-1500:] + p.stderr[-3000:]).strip()}")
        with open(report) as f:
            r = json.load(f)
        os.replace(os.path.join(tmp, f"depth_{key}.npy"), out_npy)
    size = r["sizes"][key]
    return {"runs": size["forward_runs_s"], "peak_rss_mb": r["peak_rss_mb"], "stages_median_s": size["stages_median_s"],
            "engine_gemm_peak_gflops": r["gemm_peak_gflops"], "precision": r["precision"]}


def process_image(H: int, W: int) -> str:
    """tools/reference/synthetic.py's RGB image at W x H as an 8-bit PNG (cached), so `da3 depth
    --process-res max(H, W)` processes it at exactly H x W."""
    path = os.path.join(CACHE, f"process_input_{H}x{W}.png")
    if not os.path.exists(path):
        sys.path.insert(0, REF)
        import synthetic
        from PIL import Image
        Image.fromarray(synthetic.image_rgb(W, H)).save(path)
    return path


def run_process(args, key, precision="exact", timeout=3600):
    """args.runs whole `da3 depth --precision PRECISION` processes, one image each, after one warm-up
    (page cache, the packed-weight cache file that `da3` keeps by default, here under
    tools/bench/.cache, and fast mode's kernel probe, cached there too): wall time and peak RSS of
    each, as /usr/bin/time would report them, and the precision choice the warm-up reported."""
    import resource
    import tempfile
    H, W = (int(v) for v in key.split("x"))
    image = process_image(H, W)
    env = dict(os.environ, DA3_NUM_THREADS=str(args.threads),
               DA3_WEIGHT_CACHE=os.path.join(CACHE, "da3-weight-cache"))
    runs, rss = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [args.process, "depth", image, "--model", os.path.dirname(os.path.abspath(args.ckpt)),
               "--process-res", str(max(H, W)), "--output", os.path.join(tmp, "depth.npy"), "--quiet",
               "--precision", precision]
        warm = subprocess.run(cmd[:-1] + [precision, "--json"], env=env, capture_output=True, text=True, timeout=timeout)
        if warm.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} --json failed:\n{warm.stderr[-3000:]}")
        choice = json.loads(warm.stdout).get("precision")
        for i in range(args.runs + 1):
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            _, status, usage = os.wait4(p.pid, 0)
            elapsed = time.perf_counter() - t0
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr.read()[-3000:]}")
            p.stdout.close()
            p.stderr.close()
            if i > 0:
                runs.append(elapsed)
                rss = max(rss, usage.ru_maxrss / 1024)
    return {"runs": runs, "peak_rss_mb": rss, "image": os.path.relpath(image, ROOT), "precision_choice": choice}


def machine_info(threads: int) -> dict:
    model, flags, family, number = platform.processor(), "", None, None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and ":" in line:
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1]
                if line.startswith("cpu family") and family is None:  # AMD 25 = Zen 3/4, 26 = Zen 5
                    family = line.split(":", 1)[1].strip()
                if line.startswith("model\t") and number is None:
                    number = line.split(":", 1)[1].strip()
    except OSError:
        pass
    fl = set(flags.split())
    vector_flags = sorted(f for f in fl if f.startswith(("avx512", "amx")) or f in ("avx2", "fma", "avx_vnni", "f16c"))
    return {
        "cpu_model": model,
        "cpu_family": family,
        "cpu_model_number": number,
        "cores": os.cpu_count(),
        "threads": threads,
        "isa": [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "avx512_fp16", "amx_tile") if f in fl],
        "vector_flags": vector_flags,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "openblas_l2_size_env": os.environ.get("OPENBLAS_L2_SIZE"),
    }


def cpu_busy(interval: float = 1.0) -> float:
    """Fraction of all CPUs busy over `interval` seconds (/proc/stat), i.e. other processes' load
    while this (idle) parent samples it."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)  # idle + iowait, total
    try:
        i0, t0 = snap()
        time.sleep(interval)
        i1, t1 = snap()
        return 1.0 - (i1 - i0) / max(1, t1 - t0)
    except OSError:
        return float("nan")


def wait_idle(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (at most max_wait s) until two consecutive 1-s samples show < threshold busy."""
    t_end = time.time() + max_wait
    quiet = 0
    b = cpu_busy()
    while time.time() < t_end:
        quiet = quiet + 1 if b < threshold else 0
        if quiet >= 2:
            break
        b = cpu_busy()
    return b


def loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def ckpt_tag(args, extra: str) -> str:
    h = hashlib.sha1()
    import exportable
    h.update(exportable.REWRITE_VERSION.encode())
    h.update(extra.encode())
    if os.path.exists(args.ckpt):
        st = os.stat(args.ckpt)
        h.update(f"{st.st_size}:{int(st.st_mtime)}".encode())
    else:
        h.update(b"synthetic-in-memory")
    return h.hexdigest()[:10]


def corr(a, b) -> float:
    import numpy as np
    return float(np.corrcoef(a.ravel().astype(np.float64), b.ravel().astype(np.float64))[0, 1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="504x280,280x504,896x504", help="comma-separated HxW")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", default=None, help="write all numbers here")
    ap.add_argument("--runtimes", default=",".join(RUNTIMES))
    ap.add_argument("--quick", action="store_true", help="CI smoke: 56x56, 1 run, PyTorch only")
    ap.add_argument("--ckpt", default=DEFAULT_CKPT, help="DA3-Small checkpoint (Hub layout)")
    ap.add_argument("--src", default=DEFAULT_SRC, help="official depth_anything_3 source root")
    ap.add_argument("--convt", default="native", choices=["native", "matmul", "zero_stuff"],
                    help="ConvTranspose rewrite for the exported graphs (exportable.py R7)")
    ap.add_argument("--rebuild", action="store_true", help="re-export cached .onnx/.tflite")
    ap.add_argument("--no-gemm", action="store_true")
    ap.add_argument("--rounds", type=int, default=1,
                    help="time every runtime this many times per size, rounds interleaving the runtimes "
                         "(runs pooled; helps on a noisy machine)")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                    help="before each timed child, wait up to SECONDS for the CPUs to be idle (<15%% busy)")
    ap.add_argument("--no-verify", action="store_true", help="skip the official-vs-patched check and FlopCounterMode")
    ap.add_argument("--engine", nargs="?", const=DEFAULT_ENGINE, default=None, metavar="DA3_BENCH",
                    help="also time the Swift engine (exact, fast = bfloat16, and int8 precision) with this da3-bench binary "
                         f"(default {os.path.relpath(DEFAULT_ENGINE, ROOT)}; build it with "
                         "`swift build -c release --product da3-bench`), side by side with the peers")
    ap.add_argument("--engine-before", default=None, metavar="DA3_BENCH",
                    help="with --engine: also time this second da3-bench binary (the engine before a change) in "
                         "both precisions, in the same interleaved rounds (runtimes engine-before, engine-fast-before)")
    ap.add_argument("--process", nargs="?", const=DEFAULT_DA3, default=None, metavar="DA3",
                    help="also time whole `da3 depth` processes (one image each: start-up, model load, decode, "
                         "preprocess, forward, write) with this da3 binary "
                         f"(default {os.path.relpath(DEFAULT_DA3, ROOT)}) on --ckpt, in the same rounds")
    # child mode
    ap.add_argument("--child", choices=["gemm", "verify", "export", "run"], help=argparse.SUPPRESS)
    ap.add_argument("--size", help=argparse.SUPPRESS)
    ap.add_argument("--runtime", help=argparse.SUPPRESS)
    ap.add_argument("--fmt", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.size:
        a.H, a.W = (int(v) for v in a.size.lower().split("x"))
    if a.child:
        if a.src and a.src not in sys.path:
            sys.path.insert(0, a.src)
        {"gemm": child_gemm, "verify": child_verify, "export": child_export, "run": child_run}[a.child](a)
        return

    if a.quick:
        a.sizes, a.runs, a.runtimes = "56x56", 1, "pytorch"
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in a.sizes.split(",") if s]
    runtimes = [r for r in a.runtimes.split(",") if r]
    if a.engine:
        runtimes += [r for r in ENGINE_RUNTIMES if r not in runtimes]
    if a.engine_before:
        assert a.engine, "--engine-before needs --engine"
        runtimes += [r for r in BEFORE_RUNTIMES if r not in runtimes]
    if a.process:
        runtimes += list(PROCESS_RUNTIMES)
    for r in runtimes:
        assert r in RUNTIMES + ENGINE_RUNTIMES + BEFORE_RUNTIMES + PROCESS_RUNTIMES, r
        assert a.engine or r not in ENGINE_RUNTIMES, f"{r} needs --engine"
    for (H, W) in sizes:
        assert H % 14 == 0 and W % 14 == 0, f"{H}x{W}: sides must be multiples of 14"
    import exportable
    res = {"machine": machine_info(a.threads), "runs": a.runs, "loadavg_start": loadavg(),
           "model": "DA3-Small depth only (DualDPT main branch; no ray branch; camera decoder skipped), "
                    "synthetic weights, FP32",
           "input": "tools/reference/synthetic.py image_normalized(W, H), (1, 3, H, W) float32",
           "rewrites_version": exportable.REWRITE_VERSION, "convt": a.convt, "sizes": {}}
    t_all = time.perf_counter()
    res["gemm_peak_gflops"] = None
    if not a.no_gemm:
        measure_gemm(a, res, "start")
    import numpy as np
    os.makedirs(CACHE, exist_ok=True)
    for (H, W) in sizes:
        key = f"{H}x{W}"
        S = {"H": H, "W": W}
        res["sizes"][key] = S
        fl = exportable.analytic_flops(H, W)
        S["flops"] = fl["total"]
        S["flops_split"] = fl
        print(f"\n== {key} (H x W), {(H // 14) * (W // 14) + 1} tokens: analytic {fl['total'] / 1e9:.2f} GFLOP "
              f"(backbone linear {fl['backbone_linear'] / 1e9:.2f} + patch {fl['patch_embed'] / 1e9:.2f}, "
              f"attention {fl['attention'] / 1e9:.2f}, head {fl['head'] / 1e9:.2f})", flush=True)
        if not a.no_verify:
            v = run_child(a, "--child", "verify", "--size", key)
            S["verify"] = v
            print(f"  official depth == depth-only patched: {v['patched_equals_official']}; exportable twin "
                  f"max rel err {v['twin_max_rel_err']:.2e}; FlopCounterMode {v['flop_counter']['total'] / 1e9:.2f} GFLOP (official, SDPA "
                  f"uncounted), {v['flop_counter_twin_explicit_attn']['total'] / 1e9:.2f} GFLOP (twin, explicit attention)",
                  flush=True)
        ref = None
        extras, outs, results = {}, {}, {}
        for rt in runtimes:
            model_path = None
            if rt in ("onnxruntime", "litert"):
                fmt = "onnx" if rt == "onnxruntime" else "tflite"
                tag = ckpt_tag(a, f"{fmt}:{a.convt}")
                model_path = os.path.join(CACHE, f"da3s_depth_{key}_{a.convt}_{tag}.{fmt}")
                if a.rebuild or not os.path.exists(model_path):
                    print(f"  exporting {os.path.basename(model_path)} ...", flush=True)
                    e = run_child(a, "--child", "export", "--size", key, "--fmt", fmt, "--out", model_path,
                                  "--convt", a.convt)
                    S.setdefault("export", {})[rt] = e
                    print(f"    {e['export_s']:.1f} s, {e['bytes'] / 1e6:.1f} MB", flush=True)
            outs[rt] = os.path.join(CACHE, f"depth_{rt}_{key}.npy")
            extras[rt] = ["--model", model_path] if model_path else []
        # Rounds interleave the runtimes, so on a machine whose speed drifts every runtime sees
        # the same conditions.
        for rnd in range(a.rounds):
            for rt in runtimes:
                r = results.get(rt)
                if r is not None and "error" in r:
                    continue
                busy = wait_idle(a.wait_idle) if a.wait_idle else cpu_busy(0.5)
                try:
                    if rt in PROCESS_RUNTIMES:
                        ri = run_process(a, key, "fast" if rt == PROCESS_FAST_RUNTIME else "exact")
                    elif rt in ENGINE_RUNTIMES + BEFORE_RUNTIMES:
                        ri = run_engine(a, rt, key, outs[rt])
                    else:
                        ri = run_child(a, "--child", "run", "--runtime", rt, "--size", key, "--runs", str(a.runs),
                                       "--out", outs[rt], *extras[rt])
                except Exception as e:  # keep going; record the failure
                    print(f"  {rt}: FAILED: {e}", flush=True)
                    results[rt] = {"error": str(e)[-2000:]}
                    continue
                ri["cpu_busy_before"] = round(busy, 3)
                if r is None:
                    r = results[rt] = ri
                    r["rounds"] = [ri["runs"]]
                    r["cpu_busy_before"] = [ri["cpu_busy_before"]]
                else:
                    r["rounds"].append(ri["runs"])
                    r["cpu_busy_before"].append(ri["cpu_busy_before"])
                    r["peak_rss_mb"] = max(r["peak_rss_mb"], ri["peak_rss_mb"])
        for rt in runtimes:
            r = results[rt]
            if "error" in r:
                S[rt] = r
                continue
            r["runs"] = [t for rr in r["rounds"] for t in rr]
            r["median_s"] = statistics.median(r["runs"])
            r["min_s"] = min(r["runs"])
            if rt in PROCESS_RUNTIMES:  # an 8-bit image of its own: timing only
                r["corr"] = None
                S[rt] = r
                continue
            d = np.load(outs[rt])
            if rt == "pytorch":
                ref = d
            if ref is not None:
                r["corr"] = corr(d, ref)
                r["max_rel_err"] = float(np.max(np.abs(d - ref) / np.abs(ref)))
            else:
                r["corr"] = None
            if extras[rt]:
                r["model_file"] = os.path.relpath(extras[rt][1], ROOT)
            S[rt] = r
        print_table(key, S, runtimes, res.get("gemm_peak_gflops"))
    if not a.no_gemm and not a.quick:
        measure_gemm(a, res, "end")  # the peak is the best of both (a busy machine only lowers it)
        print(f"\nGEMM peak used for %peak above: {res['gemm_peak_gflops']:.1f} GFLOP/s "
              f"(start and end measurements: {[round(g['numpy_peak'], 1) for g in res['gemm_runs']]})")
    res["loadavg_end"] = loadavg()
    res["wall_s"] = time.perf_counter() - t_all
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
        print(f"\nwrote {a.json}")
    print(f"load average start {res['loadavg_start']} end {res['loadavg_end']}; total {res['wall_s']:.0f} s")
    if a.quick:
        ok = res["sizes"]["56x56"].get("pytorch", {}).get("median_s") is not None
        v = res["sizes"]["56x56"].get("verify", {})
        ok = ok and v.get("patched_equals_official", True) and v.get("twin_max_rel_err", 0) < 1e-4
        print("quick smoke:", "1 passed, 0 failed" if ok else "0 passed, 1 failed")
        sys.exit(0 if ok else 1)


def measure_gemm(a, res, when):
    if a.wait_idle:
        wait_idle(a.wait_idle)
    g = run_child(a, "--child", "gemm")
    g["when"] = when
    res.setdefault("gemm_runs", []).append(g)
    best = max(res["gemm_runs"], key=lambda r: r["numpy_peak"])
    res["gemm_peak_gflops"] = best["numpy_peak"]
    res["gemm"] = best
    print(f"GEMM FP32 peak ({a.threads} threads, {when}): numpy {g['numpy_peak']:.1f} GFLOP/s "
          f"{ {k: round(v, 1) for k, v in g['numpy'].items()} }"
          + (f" | torch.mm {g['torch_peak']:.1f} GFLOP/s" if "torch_peak" in g else "")
          + f" | BLAS {g.get('blas')}", flush=True)


def print_table(key, S, runtimes, peak):
    fl = S["flops"]
    print(f"  {'runtime':<18} {'median s':>9} {'min s':>8} {'GFLOP/s':>8} {'%peak':>6} {'peak RSS MB':>12} "
          f"{'corr':>12} {'max rel':>9}")
    for rt in runtimes:
        r = S.get(rt)
        if not r or "error" in r:
            print(f"  {rt:<18} FAILED")
            continue
        gf = fl / r["median_s"] / 1e9
        pk = f"{100 * gf / peak:5.1f}%" if peak else "   n/a"
        c = f"{r['corr']:.9f}" if r.get("corr") is not None else "n/a"
        mr = f"{r['max_rel_err']:.1e}" if r.get("max_rel_err") is not None else "n/a"
        print(f"  {rt:<18} {r['median_s']:9.3f} {r['min_s']:8.3f} {gf:8.1f} {pk:>6} {r['peak_rss_mb']:12.0f} "
              f"{c:>12} {mr:>9}", flush=True)
    for rt in ENGINE_RUNTIMES:
        r = S.get(rt)
        if not r or "error" in r:
            continue
        ratios = {p: r["median_s"] / S[p]["median_s"] for p in RUNTIMES if S.get(p, {}).get("median_s")}
        S.setdefault("ratios", {})[rt] = ratios
        print(f"  {rt} / peer (medians): " + ", ".join(f"{p} {v:.2f}" for p, v in ratios.items()), flush=True)
    for after, before in zip(ENGINE_RUNTIMES, BEFORE_RUNTIMES):
        if S.get(after, {}).get("median_s") and S.get(before, {}).get("median_s"):
            ratio = S[after]["median_s"] / S[before]["median_s"]
            S.setdefault("ratios", {}).setdefault(after, {})["before"] = ratio
            print(f"  {after} / {before} (medians): {ratio:.3f}", flush=True)
    for rt in PROCESS_RUNTIMES:
        r = S.get(rt)
        if r and "error" not in r and S.get("litert", {}).get("median_s"):
            S.setdefault("ratios", {})[rt] = {"litert": r["median_s"] / S["litert"]["median_s"]}
            print(f"  whole da3 depth process ({rt}) / LiteRT forward (medians): "
                  f"{r['median_s'] / S['litert']['median_s']:.3f}", flush=True)
    fast, exact = S.get(PROCESS_FAST_RUNTIME), S.get(PROCESS_RUNTIME)
    if fast and exact and "error" not in fast and "error" not in exact:
        S.setdefault("ratios", {}).setdefault(PROCESS_FAST_RUNTIME, {})[PROCESS_RUNTIME] = fast["median_s"] / exact["median_s"]
        print(f"  whole process, --precision fast / exact (medians): {fast['median_s'] / exact['median_s']:.3f} "
              f"(fast ran {fast.get('precision_choice', {}).get('kernels')})", flush=True)


if __name__ == "__main__":
    main()
