#!/usr/bin/python3
"""Activation and BatchNorm kernels in PyTorch and in actlab, side by side, with ratios.

    /usr/bin/python3 bench/peer_kernels.py [--threads 1] [--actlab build/release/actlab]
                                           [--onednn build/release/bench/peer_onednn] [--markdown FILE]

Runs `actlab bench --json` (which measures the memory roof, actlab's vector kernels and its scalar
reference in one process) and then times the same operations in PyTorch 1.13 with the same thread
count: forward F.<activation>(x) and backward through autograd (torch.autograd.grad of y with
respect to x for a fixed dy), at 256K floats (cache) and 16M floats (DRAM); BatchNorm1d training
forward, backward and eval forward at 128x512 and 1024x1024. Medians of repeated timings.
The PReLU layer is compared as a layer too, over [n/256, 256] with one shared slope and with 256:
its backward gives dx and the slopes' gradient on both sides (PyTorch's prelu backward always
computes the slopes' gradient; actlab's table row "prelu", a fixed slope, computes dx alone).
oneDNN, the other peer, is timed by bench/peer_onednn (its eltwise and PReLU primitives, built
where libdnnl-dev is installed) in the same run with the same threads; its column is left out
where that program is missing, and shows "-" for activations oneDNN does not have.
What a CPU without AVX-512 gets, on one with it: cap all three sides, PyTorch included, since its
gelu runs through oneDNN's JIT kernels:

    ACTLAB_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2 /usr/bin/python3 bench/peer_kernels.py --threads 1

Needs Debian's python3-torch (importable by /usr/bin/python3 only).
"""
import argparse
import json
import os
import subprocess
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("peer_kernels.py: needs torch; run it with /usr/bin/python3 (Debian's python3-torch)")

TORCH = {  # actlab spec -> the PyTorch function at the same parameters
    "identity": lambda x: x * 1.0, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01), "prelu": lambda x: F.prelu(x, PRELU_WEIGHT),
    "elu": F.elu, "selu": F.selu, "celu": F.celu, "gelu": F.gelu,
    "gelu:approximate=tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu, "mish": F.mish,
    "softplus": F.softplus, "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish, "softsign": F.softsign,
    "rrelu": lambda x: F.rrelu(x, training=False),
}
PRELU_WEIGHT = torch.tensor([0.25])


def median_time(fn, min_seconds=0.2):
    fn()
    samples, total = [], 0.0
    while len(samples) < 3 or (total < min_seconds and len(samples) < 1000):
        t0 = time.perf_counter()
        fn()
        s = time.perf_counter() - t0
        samples.append(s)
        total += s
    return sorted(samples)[len(samples) // 2]


def torch_activation(spec, n):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, generator=g) * 3
    dy = torch.randn(n, generator=g)
    f = TORCH[spec]
    fwd = median_time(lambda: f(x))
    xg = x.clone().requires_grad_(True)
    y = f(xg)
    bwd = median_time(lambda: torch.autograd.grad(y, xg, dy, retain_graph=True))
    return fwd / n * 1e9, bwd / n * 1e9


def torch_prelu_layer(n, weights, channels=256):
    rows = max(n // channels, 1)  # as actlab bench rounds it
    g = torch.Generator().manual_seed(1)
    x = torch.randn(rows, channels, generator=g) * 3
    dy = torch.randn(rows, channels, generator=g)
    w = torch.full((weights,), 0.25, requires_grad=True)
    with torch.no_grad():
        fwd = median_time(lambda: F.prelu(x, w))
    xg = x.clone().requires_grad_(True)
    y = F.prelu(xg, w)
    bwd = median_time(lambda: torch.autograd.grad(y, [xg, w], dy, retain_graph=True))
    return fwd / x.numel() * 1e9, bwd / x.numel() * 1e9


def torch_batchnorm(rows, features):
    g = torch.Generator().manual_seed(3)
    x = (torch.randn(rows, features, generator=g) * 2).requires_grad_(True)
    dy = torch.randn(rows, features, generator=g)
    bn = torch.nn.BatchNorm1d(features).train()
    fwd = median_time(lambda: bn(x))
    y = bn(x)
    bwd = median_time(lambda: torch.autograd.grad(y, [x, bn.weight, bn.bias], dy, retain_graph=True))
    bn.eval()
    with torch.no_grad():
        ev = median_time(lambda: bn(x))
    n = rows * features
    return fwd / n * 1e9, bwd / n * 1e9, ev / n * 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--actlab", default="build/release/actlab")
    p.add_argument("--onednn", default="build/release/bench/peer_onednn",
                   help="bench/peer_onednn's binary (its column is left out when missing)")
    p.add_argument("--markdown", help="also write the tables to this file")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    out = subprocess.run([a.actlab, "bench", "--json", "--threads", str(a.threads)], check=True,
                         capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    onednn, peer_names = {}, f"PyTorch {torch.__version__}"
    if os.path.isfile(a.onednn) and os.access(a.onednn, os.X_OK):
        # Its notes (a mapping left out) go to stderr, passed through; a failure leaves the column out.
        run = subprocess.run([a.onednn, "--threads", str(a.threads)], stdout=subprocess.PIPE, text=True)
        if run.returncode == 0:
            o = json.loads(run.stdout.strip().splitlines()[-1])
            onednn = {(k["activation"], k["direction"], k["elems"]): k["ns_per_elem"] for k in o["kernels"]}
            peer_names += f", oneDNN {o['version']} ({o['isa']})"
        else:
            print(f"peer_kernels.py: {a.onednn} failed (exit {run.returncode}): no oneDNN column", file=sys.stderr)
    else:
        print(f"peer_kernels.py: {a.onednn} not found (needs libdnnl-dev): no oneDNN column", file=sys.stderr)
    lines = [f"CPU: {r['cpu']}; actlab vector kernels: {r['isa']}; threads: {a.threads}; {peer_names}", ""]
    for roof in r["roofs"]:
        n = roof["elems"]
        lines += [f"### {n} floats (copy roof {roof['copy_gbs']:.1f} GB/s: memcpy {roof['memcpy_gbs']:.1f}, "
                  f"streaming {roof['stream_copy_gbs']:.1f}; triad roof {roof['triad_gbs']:.1f} GB/s: plain "
                  f"{roof['plain_triad_gbs']:.1f}, streaming {roof['stream_triad_gbs']:.1f})",
                  "", "| activation | dir | actlab ns/elem | roof | reference ns/elem | PyTorch ns/elem | vs PyTorch |"
                  + (" oneDNN ns/elem | vs oneDNN |" if onednn else ""),
                  "|---|---|---|---|---|---|---|" + ("---|---|" if onednn else "")]
        ours = {(k["activation"], k["direction"], k["kernels"]): k for k in r["kernels"] if k["elems"] == n}
        peers = [(spec, lambda spec=spec: torch_activation(spec, n)) for spec in TORCH]
        peers += [(f"prelu_layer:weights={w}", lambda w=w: torch_prelu_layer(n, w)) for w in (1, 256)]
        for spec, peer in peers:
            if not any(key[0] == spec for key in ours):
                continue
            tf, tb = peer()
            for direction, t in (("forward", tf), ("backward", tb)):
                v = ours.get((spec, direction, "vector"))
                ref = ours.get((spec, direction, "reference"))
                if not v:
                    continue
                ref_ns = f"{ref['ns_per_elem']:.3f}" if ref else "-"
                row = (f"| {spec} | {direction} | {v['ns_per_elem']:.3f} | {100 * v['roof_fraction']:.0f}% | "
                       f"{ref_ns} | {t:.3f} | {t / v['ns_per_elem']:.1f}x |")
                if onednn:
                    od = onednn.get((spec, direction, n))
                    row += f" {od:.3f} | {od / v['ns_per_elem']:.1f}x |" if od else " - | - |"
                lines.append(row)
        lines += ["", "prelu: a fixed slope, dx alone on actlab's side, where PyTorch's backward also sums the "
                  "slope's gradient. prelu_layer:weights=W: the PReLU layer over [n/256, 256] with W slopes, dx and "
                  "the slopes' gradient on both sides.", ""]
    lines += ["### BatchNorm1d, ns per element", "",
              "| shape | pass | actlab | PyTorch | vs PyTorch |", "|---|---|---|---|---|"]
    for b in r["batchnorm"]:
        if b["kernels"] != "vector":
            continue
        tf, tb, te = torch_batchnorm(b["rows"], b["features"])
        shape = f"{b['rows']}x{b['features']}"
        for name, ours_ns, theirs in (("train forward", b["train_forward_ns"], tf), ("backward", b["backward_ns"], tb),
                                      ("train fwd+bwd", b["train_forward_ns"] + b["backward_ns"], tf + tb),
                                      ("eval forward", b["eval_forward_ns"], te)):
            lines.append(f"| {shape} | {name} | {ours_ns:.3f} | {theirs:.3f} | {theirs / ours_ns:.1f}x |")
    s = r["training_step"]
    lines += ["", f"Training step (seed recipe, batch 128, SGD): {s['step_ms']:.3f} ms, matrix products "
              f"{s['gemm_ms']:.3f} ms ({100 * s['gemm_ms'] / s['step_ms']:.0f}%), the rest {s['other_ms']:.3f} ms."]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
