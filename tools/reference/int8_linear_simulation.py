"""How much int8 quantization of the transformer's linear layers alone costs the official model.

Runs the official DA3 forward (FP32) on a checkpoint, then again with every nn.Linear inside the
backbone's blocks replaced by its int8 simulation: weights quantized symmetrically per output
channel, activations per row (or per block of --block values along the input), round to nearest
even, as the engine's `Precision.int8` kernels (Sources/CKernels/gemm_i8.c). Prints the depth and
confidence Pearson correlation and max relative error against the FP32 forward.

    PYTHONPATH=<depth_anything_3 src> python3 tools/reference/int8_linear_simulation.py \
        --model goldens-full/small --height 280 --width 504 [--block 32]
"""
import argparse
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens  # noqa: E402
import synthetic  # noqa: E402


def quantize(a: torch.Tensor, block: int) -> torch.Tensor:
    """Symmetric int8 round trip along the last axis, per row or per block of `block` values."""
    shape = a.shape
    if block:
        a = a.reshape(*shape[:-1], shape[-1] // block, block)
    scale = a.abs().amax(-1, keepdim=True).clamp_min(1e-30) / 127
    return (torch.round(a / scale).clamp(-127, 127) * scale).reshape(shape)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="directory with model.safetensors and config.json (model_name)")
    p.add_argument("--preset", default="small")
    p.add_argument("--height", type=int, default=280)
    p.add_argument("--width", type=int, default=504)
    p.add_argument("--block", type=int, default=0, help="activation block along the input (0: whole rows)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--layers", default="qkv,proj,fc1,fc2", help="which linear layers of each block (name suffixes)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    official = make_goldens.import_official(None)
    model = make_goldens.build_preset(official, args.preset)
    model.load_state_dict(load_file(os.path.join(args.model, "model.safetensors")), strict=False)
    net = model.model
    x = torch.from_numpy(synthetic.image_normalized(args.width, args.height))[None, None]
    with torch.no_grad():
        ref = net(x)
    linears = {id(m) for name, m in net.backbone.named_modules()
               if isinstance(m, torch.nn.Linear) and ".blocks." in name and name.endswith(tuple(args.layers.split(",")))}
    plain = torch.nn.Linear.forward

    def simulated(self, a):
        if id(self) not in linears:
            return plain(self, a)
        return torch.nn.functional.linear(quantize(a, args.block), quantize(self.weight, 0), self.bias)

    torch.nn.Linear.forward = simulated
    with torch.no_grad():
        out = net(x)
    torch.nn.Linear.forward = plain
    for name, a, b in [("depth", out.depth, ref.depth), ("confidence", out.depth_conf, ref.depth_conf)]:
        a, b = a.flatten().double(), b.flatten().double()
        pearson = float(torch.corrcoef(torch.stack([a, b]))[0, 1])
        rel = float(((a - b).abs() / b.abs().clamp_min(1e-12)).max())
        print(f"{args.preset} {args.height}x{args.width} int8 {args.layers} (activations per "
              f"{'block of %d' % args.block if args.block else 'row'}): {name} Pearson {pearson:.7f}, max rel {rel:.3e}")


if __name__ == "__main__":
    main()
