#!/usr/bin/python3
"""Moves actlab models to PyTorch and back, and checks that both give the same outputs.

    /usr/bin/python3 tools/torch_interop.py check MODEL_DIR [--actlab build/release/actlab] [--rows 10000]

`check` loads MODEL_DIR (config.json + model.safetensors) into the equivalent torch.nn.Sequential,
runs it in eval mode on Fashion-MNIST test images scaled as config.json says, runs
`actlab predict` on the same inputs, and prints the largest difference (exit 1 if it is above
1e-4 relative). Needs Debian's python3-torch and python3-numpy (importable by /usr/bin/python3 only).

As a library: load_actlab_model(dir) -> (torch.nn.Sequential in eval mode, input scaling).
The other direction (a torch.nn.Sequential written as an actlab model folder) is shown by
tools/gen_network_reference.py, whose output the C++ tests load.
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError:
    sys.exit("torch_interop.py: needs torch and numpy; run it with /usr/bin/python3 (Debian's python3-torch)")

ACTIVATIONS = {  # actlab type -> (torch module, the config keys it takes as keyword arguments)
    "identity": (torch.nn.Identity, []), "sigmoid": (torch.nn.Sigmoid, []), "tanh": (torch.nn.Tanh, []),
    "relu": (torch.nn.ReLU, []), "leaky_relu": (torch.nn.LeakyReLU, ["negative_slope"]),
    "elu": (torch.nn.ELU, ["alpha"]), "selu": (torch.nn.SELU, []), "celu": (torch.nn.CELU, ["alpha"]),
    "gelu": (torch.nn.GELU, ["approximate"]), "silu": (torch.nn.SiLU, []), "mish": (torch.nn.Mish, []),
    "softplus": (torch.nn.Softplus, ["beta", "threshold"]), "hardsigmoid": (torch.nn.Hardsigmoid, []),
    "hardswish": (torch.nn.Hardswish, []), "softsign": (torch.nn.Softsign, []),
    "rrelu": (torch.nn.RReLU, ["lower", "upper"]),
}


def module_for(layer):
    kind = layer["type"]
    if kind == "linear":
        return torch.nn.Linear(layer["in_features"], layer["out_features"])
    if kind == "batchnorm1d":
        return torch.nn.BatchNorm1d(layer["num_features"], eps=layer["eps"], momentum=layer["momentum"])
    if kind == "prelu":
        return torch.nn.PReLU(layer["num_parameters"])
    if kind == "dropout":
        return torch.nn.Dropout(layer["p"])
    cls, keys = ACTIVATIONS[kind]
    return cls(**{k: layer[k] for k in keys})


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"]).copy())
    return out


def load_actlab_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    net = torch.nn.Sequential(*[module_for(layer) for layer in config["layers"]])
    net.load_state_dict(read_safetensors(os.path.join(model_dir, "model.safetensors")), strict=True)
    return net.eval(), config["input_scaling"]


def fashion_mnist_test(rows):
    path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    with gzip.open(path) as f:
        raw = f.read()
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784)[:rows]
    return pixels


def check(args):
    net, scaling = load_actlab_model(args.model_dir)
    x = (fashion_mnist_test(args.rows).astype(np.float32) * np.float32(scaling["scale"])
         + np.float32(scaling["shift"])).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        xin, yout = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        np.save(xin, x)
        subprocess.run([args.actlab, "predict", "--model", args.model_dir, "--input", xin, "--output", yout],
                       check=True, stdout=subprocess.DEVNULL)
        ours = np.load(yout)
    with torch.no_grad():
        theirs = net(torch.from_numpy(x)).numpy()
    diff = np.abs(ours - theirs)
    rel = diff / (1e-6 + np.abs(theirs))
    agree = (ours.argmax(1) == theirs.argmax(1)).mean()
    print(f"{len(x)} rows: max |actlab - torch| = {diff.max():.3g}, max relative = {rel.max():.3g} "
          f"(where |torch| > 1e-3: {rel[np.abs(theirs) > 1e-3].max():.3g}), argmax agreement {100 * agree:.2f}%")
    ok = np.allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    print("same outputs within rtol 1e-4, atol 1e-5" if ok else "OUTPUTS DIFFER")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="compare actlab predict with the same model in torch")
    c.add_argument("model_dir")
    c.add_argument("--actlab", default="build/release/actlab")
    c.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args()
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
