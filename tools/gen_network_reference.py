#!/usr/bin/python3
"""Writes tests/data/network/: a small torch.nn.Sequential saved in actlab's model format, plus what
PyTorch computes with it, so that the C++ tests can replay the same steps without torch.

    /usr/bin/python3 tools/gen_network_reference.py

Needs Debian's python3-torch (importable by /usr/bin/python3 only). Output, deterministic:
  config.json, model.safetensors   the network as actlab reads it (written by this script)
  reference.json                   a batch, train-mode logits, loss and every parameter gradient,
                                   the running statistics after that step, eval-mode logits, and the
                                   weights after two steps of SGD (momentum, nesterov, weight decay),
                                   Adam and AdamW.
Everything is computed in float64 from float32 weights and inputs, then rounded to float32.
"""
import copy
import json
import os
import struct
import sys

try:
    import torch
except ImportError:
    sys.exit("gen_network_reference.py: needs torch; run it with /usr/bin/python3 (Debian's python3-torch)")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "network")


def build():
    torch.manual_seed(7)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.LeakyReLU(0.01),
        torch.nn.Linear(8, 5), torch.nn.BatchNorm1d(5), torch.nn.PReLU(),
        torch.nn.Linear(5, 3), torch.nn.ELU())
    with torch.no_grad():  # non-trivial BatchNorm parameters and running statistics
        for i in (1, 4):
            bn = net[i]
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 2.0)
    return net


CONFIG_LAYERS = [
    {"type": "linear", "in_features": 6, "out_features": 8},
    {"type": "batchnorm1d", "num_features": 8, "eps": 1e-05, "momentum": 0.1},
    {"type": "leaky_relu", "negative_slope": 0.01},
    {"type": "linear", "in_features": 8, "out_features": 5},
    {"type": "batchnorm1d", "num_features": 5, "eps": 1e-05, "momentum": 0.1},
    {"type": "prelu", "num_parameters": 1},
    {"type": "linear", "in_features": 5, "out_features": 3},
    {"type": "elu", "alpha": 1.0},
]


def write_safetensors(path, state):
    header, blobs, offset = {}, [], 0
    for name in sorted(state):
        t = state[name].detach().contiguous()
        if t.dtype == torch.int64:
            data, dtype = struct.pack("<%dq" % t.numel(), *t.flatten().tolist()), "I64"
        else:
            data, dtype = struct.pack("<%df" % t.numel(), *t.float().flatten().tolist()), "F32"
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def f32(t):
    return [float(v) for v in t.detach().float().flatten().tolist()]


def grads_and_loss(net, x, y):
    net.zero_grad()
    logits = net(x)
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    return logits, loss


def after_steps(net32, x, y, make_opt, steps=2):
    net = copy.deepcopy(net32).double().train()
    opt = make_opt(net)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return {k: f32(v) for k, v in net.state_dict().items() if v.dtype != torch.int64}


def decay_groups(net, weight_decay):
    """Weight decay on Linear layers only, as actlab does (never PReLU slopes or BatchNorm)."""
    linear = [p for m in net if isinstance(m, torch.nn.Linear) for p in m.parameters()]
    other = [p for m in net if not isinstance(m, torch.nn.Linear) for p in m.parameters()]
    return [{"params": linear, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0.0}]


def main():
    os.makedirs(OUT, exist_ok=True)
    net32 = build()
    write_safetensors(os.path.join(OUT, "model.safetensors"), net32.state_dict())
    config = {"format": "actlab-model", "version": 1, "in_features": 6, "out_features": 3,
              "input_scaling": {"scale": 1.0, "shift": 0.0}, "layers": CONFIG_LAYERS}
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")

    g = torch.Generator().manual_seed(11)
    x32 = (torch.randn(10, 6, generator=g) * 2.0).float()
    labels = torch.randint(0, 3, (10,), generator=g)
    x = x32.double()

    net = copy.deepcopy(net32).double().train()
    logits, loss = grads_and_loss(net, x, labels)
    ref = {
        "x": f32(x32), "rows": 10, "labels": labels.tolist(),
        "train_logits": f32(logits), "loss": float(loss),
        "grads": {name: f32(p.grad) for name, p in net.named_parameters()},
        "running_after_step": {k: f32(v) for k, v in net.state_dict().items() if "running" in k},
        "eval_logits_after_step": f32(net.eval()(x)),
        "sgd": {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
        "adam": {"lr": 0.01, "weight_decay": 0.001},
        "adamw": {"lr": 0.01, "weight_decay": 0.05},
    }
    ref["after_sgd"] = after_steps(net32, x, labels, lambda n: torch.optim.SGD(
        decay_groups(n, 0.01), lr=0.1, momentum=0.9, nesterov=True))
    ref["after_adam"] = after_steps(net32, x, labels, lambda n: torch.optim.Adam(decay_groups(n, 0.001), lr=0.01))
    ref["after_adamw"] = after_steps(net32, x, labels, lambda n: torch.optim.AdamW(decay_groups(n, 0.05), lr=0.01))
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
