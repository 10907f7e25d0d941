"""Writes the small .pt fixtures the Interop tests read (run once; the outputs are committed).

Usage: /usr/bin/python3 bench/cnclip-interop/make_pt_fixtures.py tests/Tuwen.Tests/Interop/Fixtures
(Debian python3-torch 1.13 here; the pyenv python3 has no torch.) Values are small integers / exact binary fractions so the C# test can compare exactly.
"""
import collections
import os
import sys

import torch

out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)

base = torch.arange(12, dtype=torch.float32) * 0.5          # 0, 0.5, ..., 5.5
sd = collections.OrderedDict()
sd["module.w"] = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float32)
sd["module.h"] = torch.tensor([0.5, -1.0, 2.25, 65504.0], dtype=torch.float16)
sd["module.i"] = torch.tensor([-3, 0, 7, 2**40], dtype=torch.int64)
sd["module.t"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()  # 3x2, stride (1, 3)
sd["module.base"] = base
sd["module.view"] = base[4:10].view(2, 3)                    # shares storage, offset 4
torch.save({"epoch": 3, "state_dict": sd}, os.path.join(out, "nested_state_dict.pt"))
# A plain top-level state_dict without prefixes or nesting.
torch.save(collections.OrderedDict(a=torch.tensor([1.5, -2.5])), os.path.join(out, "plain.pt"))
# The layout Chinese-CLIP's training script saves: a real module's state_dict (with torch's _metadata attribute,
# written through BUILD) next to an optimizer state full of ints, floats, tuples, None and more tensors.
model = torch.nn.Linear(3, 2)
with torch.no_grad():
    model.weight.copy_(torch.tensor([[1.0, -1.0, 0.25], [2.0, 0.0, -0.5]]))
    model.bias.copy_(torch.tensor([0.125, -8.0]))
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98))
model(torch.ones(1, 3)).sum().backward()
opt.step()
with torch.no_grad():
    model.weight.copy_(torch.tensor([[1.0, -1.0, 0.25], [2.0, 0.0, -0.5]]))
    model.bias.copy_(torch.tensor([0.125, -8.0]))
torch.save({"epoch": 1, "step": 10, "name": "cnclip", "state_dict": model.half().state_dict(),
            "optimizer": opt.state_dict()}, os.path.join(out, "cnclip_layout.pt"))
print("ok", torch.__version__)
