#!/usr/bin/env python3
"""Operator census of a .tflite: lists every operator (builtin name, count, max tensor rank) and
fails (exit 1) if the model holds anything the LiteRT *mobile* GPU delegate rejects, as the DA3-Small
model card found it on its Pixel 8a. These rules are for that delegate only: LiteRT's WebGPU GPU
accelerator (the desktop one in the ai-edge-litert wheel) accepts TRANSPOSE_CONV and
align_corners=True RESIZE_BILINEAR and still refuses 5-D tensors and BROADCAST_TO, as measured by
tools/litert/op_probe.py (README, "On the GPU").

    python3 tools/litert/op_census.py MODEL.tflite [MODEL2.tflite ...] [--json]

Reads the flatbuffer with the TFLite schema module shipped in the `ai-edge-litert` wheel
(`ai_edge_litert.schema_py_generated`, needs only the `flatbuffers` package; no TensorFlow).

A model FAILS when it has
  * an operator the DA3-Small LiteRT GPU model card had to remove: GATHER_ND, TRANSPOSE_CONV,
    BROADCAST_TO, SELECT_V2 (card rewrites 5, 6, 8, 9);
  * any tensor of rank > 4 (card rewrite 3; the GPU delegate works on BHWC tensors);
  * a FULLY_CONNECTED whose input has rank > 3 (card rewrite 4: FULLY_CONNECTED layouts other
    than the (1, N, C) token layout were mis-laid out on its GPU delegate);
  * RESIZE_BILINEAR with align_corners=True (card rewrite 7: "GPU bans align_corners=True");
  * an operator whose inputs are all constants (card rewrite 5: the device saw a
    RESIZE_BILINEAR "with 0 runtime inputs"; constant subgraphs must be folded);
  * a custom operator, a STABLEHLO_* operator, or a builtin outside the TFLite GPU delegate's
    operator parsers (tensorflow/lite/delegates/gpu/common/model_builder.cc), listed below;
  * a float64 / int64 / complex tensor that is not a constant (the delegate computes in
    float16/float32).
"""

from __future__ import annotations

import argparse
import json
import sys

# Card rewrites: operators its GPU delegate rejected.
CARD_BANNED = {
    "GATHER_ND": "card rewrite 5 (interpolate of a constant emits GATHER_ND)",
    "TRANSPOSE_CONV": "card rewrite 6 (the Pixel-8a GPU rejects TRANSPOSE_CONV)",
    "BROADCAST_TO": "card rewrite 8 (make_sincos broadcast)",
    "SELECT_V2": "card rewrite 9 (in-place index assignment)",
}

# Builtins with a parser in the TFLite GPU delegate (model_builder.cc) minus CARD_BANNED.
# GELU: the model card's graph keeps the official erf GELU and runs fully on the GPU.
GPU_OPS = {
    "ABS", "ADD", "ADD_N", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CAST", "CONCATENATION", "CONV_2D",
    "COS", "CUMSUM", "DENSIFY", "DEPTH_TO_SPACE", "DEPTHWISE_CONV_2D", "DEQUANTIZE", "DIV", "ELU",
    "EQUAL", "EXP", "FLOOR", "FLOOR_DIV", "FLOOR_MOD", "FULLY_CONNECTED", "GATHER", "GELU",
    "GREATER", "GREATER_EQUAL", "HARD_SWISH", "LEAKY_RELU", "LESS", "LESS_EQUAL", "LOG",
    "LOGICAL_AND", "LOGISTIC", "LSTM", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MIRROR_PAD",
    "MUL", "NEG", "NOT_EQUAL", "ONE_HOT", "PACK", "PAD", "PADV2", "POW", "PRELU", "QUANTIZE",
    "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1",
    "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SIGN", "SIN", "SLICE",
    "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT", "SPLIT_V", "SQRT", "SQUARE", "SQUARED_DIFFERENCE",
    "STRIDED_SLICE", "SUB", "SUM", "TANH", "TILE", "TRANSPOSE",
}

MAX_RANK = 4


def load_schema():
    try:
        from ai_edge_litert import schema_py_generated as s
    except ImportError:  # pragma: no cover
        raise SystemExit("needs `pip install ai-edge-litert` (its schema_py_generated module and flatbuffers)")
    return s


def enum_names(cls) -> dict:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


def census(path: str) -> dict:
    s = load_schema()
    with open(path, "rb") as f:
        buf = f.read()
    m = s.Model.GetRootAsModel(buf, 0)
    opnames = enum_names(s.BuiltinOperator)
    tnames = enum_names(s.TensorType)
    codes = []
    for i in range(m.OperatorCodesLength()):
        oc = m.OperatorCodes(i)
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        name = opnames.get(code, f"BUILTIN_{code}")
        if name == "CUSTOM":
            cc = oc.CustomCode()
            name = "CUSTOM:" + (cc.decode() if cc else "?")
        codes.append(name)

    ops: dict[str, dict] = {}
    problems: list[str] = []
    max_rank = 0
    n_ops = 0
    for g in range(m.SubgraphsLength()):
        sg = m.Subgraphs(g)

        def is_const(ti: int) -> bool:
            t = sg.Tensors(ti)
            b = m.Buffers(t.Buffer())
            return b is not None and (b.DataLength() > 0 or b.Size() > 0)

        for ti in range(sg.TensorsLength()):
            t = sg.Tensors(ti)
            r = t.ShapeLength()
            max_rank = max(max_rank, r)
            if r > MAX_RANK:
                problems.append(f"tensor {t.Name().decode()!r} has rank {r} > {MAX_RANK} "
                                f"(shape {list(t.ShapeAsNumpy())})")
            tn = tnames.get(t.Type(), str(t.Type()))
            if tn in ("FLOAT64", "INT64", "COMPLEX64", "COMPLEX128", "UINT64") and not is_const(ti):
                problems.append(f"tensor {t.Name().decode()!r} is {tn} at run time")
        for oi in range(sg.OperatorsLength()):
            op = sg.Operators(oi)
            name = codes[op.OpcodeIndex()]
            n_ops += 1
            ins = [op.Inputs(j) for j in range(op.InputsLength()) if op.Inputs(j) >= 0]
            outs = [op.Outputs(j) for j in range(op.OutputsLength())]
            rank = max([sg.Tensors(t).ShapeLength() for t in ins + outs] or [0])
            e = ops.setdefault(name, {"count": 0, "max_rank": 0})
            e["count"] += 1
            e["max_rank"] = max(e["max_rank"], rank)
            where = f"{name} (op {oi}, output {sg.Tensors(outs[0]).Name().decode()!r})" if outs else name
            if name in CARD_BANNED:
                problems.append(f"{where}: banned, {CARD_BANNED[name]}")
            elif name.startswith("CUSTOM:") or name.startswith("STABLEHLO_"):
                problems.append(f"{where}: not a GPU-delegate builtin")
            elif name not in GPU_OPS:
                problems.append(f"{where}: not among the GPU delegate's operators")
            if name == "RESIZE_BILINEAR":
                o = s.ResizeBilinearOptions()
                bo = op.BuiltinOptions()
                if bo is not None:
                    o.Init(bo.Bytes, bo.Pos)
                    if o.AlignCorners():
                        problems.append(f"{where}: align_corners=True (card rewrite 7)")
            if name == "FULLY_CONNECTED" and ins and sg.Tensors(ins[0]).ShapeLength() > 3:
                problems.append(f"{where}: input of rank {sg.Tensors(ins[0]).ShapeLength()} (card rewrite 4: "
                                f"the GPU delegate lays out only (1, N, C) token inputs reliably)")
            if ins and all(is_const(t) for t in ins) and name not in ("DEQUANTIZE",):
                problems.append(f"{where}: all {len(ins)} inputs are constants (fold it)")

    inputs, outputs = [], []
    sg = m.Subgraphs(0)
    for j in range(sg.InputsLength()):
        t = sg.Tensors(sg.Inputs(j))
        inputs.append({"name": t.Name().decode(), "shape": [int(v) for v in t.ShapeAsNumpy()],
                       "type": tnames.get(t.Type())})
    for j in range(sg.OutputsLength()):
        t = sg.Tensors(sg.Outputs(j))
        outputs.append({"name": t.Name().decode(), "shape": [int(v) for v in t.ShapeAsNumpy()],
                        "type": tnames.get(t.Type())})
    return {"path": path, "operators": n_ops, "ops": dict(sorted(ops.items())), "max_rank": max_rank,
            "inputs": inputs, "outputs": outputs, "problems": problems, "clean": not problems}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--json", action="store_true", help="print one JSON object per model")
    ap.add_argument("--max-problems", type=int, default=20, help="problems printed per model")
    a = ap.parse_args()
    ok = True
    for p in a.models:
        r = census(p)
        ok &= r["clean"]
        if a.json:
            print(json.dumps(r))
            continue
        print(f"{p}: {r['operators']} operators, max tensor rank {r['max_rank']}")
        for t in r["inputs"]:
            print(f"  input  {t['name']} {t['shape']} {t['type']}")
        for t in r["outputs"]:
            print(f"  output {t['name']} {t['shape']} {t['type']}")
        for name, e in r["ops"].items():
            print(f"  {name:<24} {e['count']:>5}  max rank {e['max_rank']}")
        if r["clean"]:
            print("  GPU-clean: PASS")
        else:
            print(f"  GPU-clean: FAIL ({len(r['problems'])} problems)")
            for pr in r["problems"][: a.max_problems]:
                print(f"    {pr}")
            if len(r["problems"]) > a.max_problems:
                print(f"    ... {len(r['problems']) - a.max_problems} more")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
