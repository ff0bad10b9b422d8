#!/usr/bin/env python3
"""Self-test of the converter and the op census on the tiny test checkpoint (~2 min):
exact and card conversions must pass the census and match the official model (exact: corr
>= 0.99999); the deliberately unclean conversion must fail it, naming TRANSPOSE_CONV and
RESIZE_BILINEAR align_corners=True.

    PYTHONPATH=/tmp/setup/src python3 tools/litert/selftest.py [--size 70x56] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="70x56")
    ap.add_argument("--keep", default=None, help="write the .tflite files here (default: a temporary folder)")
    a = ap.parse_args()
    out = a.keep or tempfile.mkdtemp(prefix="da3-litert-")
    os.makedirs(out, exist_ok=True)
    sys.path.insert(0, HERE)
    import op_census
    failures = []
    for mode in ("exact", "card", "unclean"):
        path = os.path.join(out, f"tiny_{mode}_{a.size}.tflite")
        r = subprocess.run([sys.executable, os.path.join(HERE, "convert.py"), "--ckpt",
                            os.path.join(ROOT, "Tests", "Fixtures", "tiny"), "--size", a.size, "--mode", mode,
                            "--output", path, "--verify"], capture_output=True, text=True)
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith(("wrote", "verify"))]
        for ln in lines:
            print(f"[{mode}] {ln}")
        if r.returncode != 0:
            failures.append(f"{mode}: convert.py exit {r.returncode}: {r.stderr[-400:]}")
            continue
        c = op_census.census(path)
        print(f"[{mode}] census: {'PASS' if c['clean'] else 'FAIL'}; {len(c['problems'])} problems; "
              f"max rank {c['max_rank']}")
        for p in c["problems"][:3]:
            print(f"[{mode}]   {p}")
        if mode == "unclean":
            text = "\n".join(c["problems"])
            if c["clean"] or "TRANSPOSE_CONV" not in text or "align_corners=True" not in text:
                failures.append("unclean: the census did not name TRANSPOSE_CONV and align_corners=True")
        elif not c["clean"]:
            failures.append(f"{mode}: census failed: {c['problems'][:3]}")
        if mode == "exact":
            v = [ln for ln in lines if ln.startswith("verify")]
            corr = float(v[0].split("corr ")[1].split()[0]) if v else 0.0
            if corr < 0.99999:
                failures.append(f"exact: corr {corr} < 0.99999")
    print("selftest:", "PASS" if not failures else "FAIL")
    for f in failures:
        print("  " + f)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
