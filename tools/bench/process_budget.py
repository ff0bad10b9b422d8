#!/usr/bin/env python3
"""Where a whole `da3 depth` process spends the time outside its warm forward pass.

    python3 tools/bench/process_budget.py --size 504x280 --runs 10
    python3 tools/bench/process_budget.py --da3 NEW/da3 --before OLD/da3 --runs 15   # A/B, interleaved

Each round runs, for every binary (alternating which goes first), three processes on the harness's
synthetic PNG (tools/bench/bench_peers.py --process uses the same one, `--process-res max(H, W)`):

  plain   `da3 depth IMAGE --output X.npy --quiet`, the harness's command: wall time, user+system
          CPU time and minor page faults (getrusage, independent of other load on the machine);
  stages  the same with `--timings --json`: decode, preprocess, the wait for the background model
          load ("load wait"; the load itself is "load (background)"), the first forward,
          encode + write, and the time outside the batch (start-up before it, exit after it);
  warm    the image twice in one process: the second forward is the warm forward, so
          "first forward - warm forward" is what a first pass costs beyond a warm one (its page
          faults of fresh activation memory, the first-size plan).

Every binary gets its own packed-weight cache (the cache key includes the executable), filled by a
warm-up run. Medians and minima over the rounds. Shared 2-core machines drift: compare binaries only
within one run, and prefer the fault counts for small differences.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from bench_peers import CACHE, DEFAULT_CKPT, DEFAULT_DA3, process_image  # noqa: E402


def run(cmd, env):
    """Wall seconds, standard output and standard error of one process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (rc {p.returncode}):\n{err[-3000:]}")
    return wall, out, err


def run_usage(cmd, env):
    """Wall seconds, user + system CPU seconds and minor page faults of one process (getrusage)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_minflt


def timings(stderr: str) -> dict:
    """`--timings` lines (`name  12.3 ms`) as a dict; network stages summed into "forward"."""
    marks = [(m.group(1).strip(), float(m.group(2))) for m in re.finditer(r"^(.+?)\s+([0-9.]+) ms$", stderr, re.M)]
    out, forward, in_forward = {}, 0.0, False
    for name, ms in marks:
        if name == "load model":
            in_forward = True
        elif name in ("encode", "write", "total", "resize"):
            in_forward = False
        elif in_forward:
            forward += ms
            continue
        out[name] = out.get(name, 0.0) + ms
    out["forward"] = forward
    return out


def one_round(binary, image, args, env, tmp):
    base = [binary, "depth", image, "--model", os.path.dirname(os.path.abspath(args.ckpt)),
            "--process-res", str(args.res)]
    r = {}
    r["wall"], r["cpu"], r["minflt"] = run_usage(base + ["--output", os.path.join(tmp, "d.npy"), "--quiet"], env)
    wall, out, err = run(base + ["--output", os.path.join(tmp, "d.npy"), "--quiet", "--timings", "--json"], env)
    summary, marks = json.loads(out), timings(err)
    r["stages_wall"] = wall
    r["outside_batch"] = wall - summary["total_seconds"]
    r["load_background"] = summary["model_load_ms"] / 1000
    for key, name in (("decode", "decode"), ("preprocess", "preprocess"), ("load model", "load_wait"),
                      ("forward", "first_forward"), ("encode", "encode"), ("write", "write")):
        r[name] = marks.get(key, 0.0) / 1000
    twice = [binary, "depth", image, image, "--model", os.path.dirname(os.path.abspath(args.ckpt)),
             "--process-res", str(args.res), "--output-dir", tmp, "--formats", "npy", "--quiet", "--json"]
    _, out, _ = run(twice, env)
    images = json.loads(out)["images"]
    r["warm_forward"] = images[1]["timings_ms"]["inference"] / 1000
    r["first_forward_in_pair"] = images[0]["timings_ms"]["inference"] / 1000
    return r


ROWS = [("wall", "whole process (plain, wall)"), ("cpu", "whole process (plain, user+system CPU)"),
        ("minflt", "minor page faults (plain)"), ("stages_wall", "whole process (--timings --json, wall)"),
        ("outside_batch", "  start-up + exit (outside the batch)"), ("decode", "  decode"),
        ("preprocess", "  preprocess"), ("load_wait", "  load wait (after preprocess)"),
        ("first_forward", "  first forward"), ("encode", "  encode"), ("write", "  write"),
        ("load_background", "load (background thread)"), ("warm_forward", "warm forward (2nd image, same process)"),
        ("first_minus_warm", "first forward - warm forward (same process)"),
        ("outside_warm", "whole process (plain) - warm forward")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--da3", default=DEFAULT_DA3, help="da3 binary (default: the release build)")
    ap.add_argument("--before", help="a second da3 binary, run in the same rounds")
    ap.add_argument("--ckpt", default=DEFAULT_CKPT)
    ap.add_argument("--size", default="504x280", help="H x W of the input image (default 504x280)")
    ap.add_argument("--runs", type=int, default=10, help="rounds (default 10)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the per-round values and medians here")
    args = ap.parse_args()
    H, W = (int(v) for v in args.size.split("x"))
    args.res = max(H, W)
    os.makedirs(CACHE, exist_ok=True)
    image = process_image(H, W)
    binaries = {"after": args.da3} if not args.before else {"after": args.da3, "before": args.before}
    results = {name: [] for name in binaries}
    with tempfile.TemporaryDirectory() as tmp:
        envs = {}
        for name, binary in binaries.items():
            envs[name] = dict(os.environ, DA3_NUM_THREADS=str(args.threads),
                              DA3_WEIGHT_CACHE=os.path.join(tmp, f"cache-{name}"))
            run_usage([binary, "depth", image, "--model", os.path.dirname(os.path.abspath(args.ckpt)),
                       "--process-res", str(args.res), "--output", os.path.join(tmp, "d.npy"), "--quiet"], envs[name])
        for i in range(args.runs):
            order = list(binaries) if i % 2 == 0 else list(binaries)[::-1]
            for name in order:
                r = one_round(binaries[name], image, args, envs[name], tmp)
                r["first_minus_warm"] = r["first_forward_in_pair"] - r["warm_forward"]
                r["outside_warm"] = r["wall"] - r["warm_forward"]
                results[name].append(r)
    summary = {}
    print(f"da3 depth at {H}x{W} (H x W), {args.runs} interleaved rounds, {args.threads} threads; median (min)")
    header = f"{'':46s}" + "".join(f"{name:>22s}" for name in binaries)
    print(header)
    for key, label in ROWS:
        line = f"{label:46s}"
        for name in binaries:
            values = [r[key] for r in results[name]]
            med, low = statistics.median(values), min(values)
            summary.setdefault(name, {})[key] = {"median": med, "min": low}
            line += f"{med:>12.0f} ({low:>6.0f})" if key == "minflt" else f"{med * 1e3:>10.1f} ms ({low * 1e3:5.1f})"
        print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"size": args.size, "runs": args.runs, "threads": args.threads, "binaries": binaries,
                       "medians": summary, "rounds": results}, f, indent=1)


if __name__ == "__main__":
    main()
