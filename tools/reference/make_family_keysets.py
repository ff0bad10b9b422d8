#!/usr/bin/env python3
"""Key sets (names, shapes) of the published DA3 family checkpoints, from the official configs.

Builds each official model on the meta device (no memory, no weights) and writes
Tests/Fixtures/family/keysets/<model_name>.json: {"model_name", "tensors": {key: shape}} with
the Hub checkpoints' `model.` prefix, one name per shared storage as safetensors' save_model keeps.
Tests turn these into sparse F32 safetensors files (header + zero pages) to check preset
detection and strict loading on the real layouts without 1-7 GB of weights.

  PYTHONPATH=/tmp/setup/src python3 tools/reference/make_family_keysets.py
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_goldens import HubWrapper, import_official  # noqa: E402

NAMES = ["da3-small", "da3-base", "da3-large", "da3-giant", "da3metric-large", "da3mono-large",
         "da3nested-giant-large"]


class parameters_on_meta:
    """Each parameter moves to the meta device as it is registered (built on the CPU one at a time,
    so the whole model never holds memory; the official constructors call .item(), which the meta
    device refuses)."""

    def __enter__(self):
        self.old = torch.nn.Module.register_parameter

        def register(module, name, param):
            if param is not None:
                param = torch.nn.Parameter(param.data.to("meta"), requires_grad=param.requires_grad)
            self.old(module, name, param)
        torch.nn.Module.register_parameter = register
        self.old_setattr = torch.nn.Module.__setattr__

        def setattr_(module, name, value):
            if isinstance(value, torch.nn.Parameter) and value.device.type != "meta":
                value = torch.nn.Parameter(value.data.to("meta"), requires_grad=value.requires_grad)
            self.old_setattr(module, name, value)
        torch.nn.Module.__setattr__ = setattr_

    def __exit__(self, *exc):
        torch.nn.Module.register_parameter = self.old
        torch.nn.Module.__setattr__ = self.old_setattr


def main():
    O = import_official(os.environ.get("DA3_SRC"))
    out_dir = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "Fixtures", "family", "keysets"))
    os.makedirs(out_dir, exist_ok=True)
    for name in NAMES:
        cfg = O.load_config(os.path.join(O.pkg_dir, "configs", f"{name}.yaml"))
        with parameters_on_meta():
            model = HubWrapper(O.create_object(cfg))
        sd = model.state_dict()
        # save_model keeps one name per shared storage; on meta there is no storage, so keep the
        # first of parameters registered twice (named_parameters de-duplicates them).
        names = {n for n, _ in model.named_parameters(remove_duplicate=True)}
        names |= {n for n, _ in model.named_buffers(remove_duplicate=True)}
        tensors = {k: list(v.shape) for k, v in sorted(sd.items()) if k in names}
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump({"model_name": name, "tensors": tensors}, f, separators=(",", ":"), sort_keys=True)
            f.write("\n")
        count = sum(int(torch.tensor(s).prod()) if s else 1 for s in tensors.values())
        print(f"{name}: {len(tensors)} tensors, {count} values ({count * 4 / 1e9:.2f} GB F32)")


if __name__ == "__main__":
    main()
