#!/usr/bin/python3
"""Inference in PyTorch and in actlab, side by side: 10,000 Fashion-MNIST test images, and one.

    /usr/bin/python3 bench/peer_predict.py [MODEL_DIR] [--threads 1] [--runs 5] [--actlab build/release/actlab]

MODEL_DIR is an actlab model folder of the seed recipe (default: one trained for one epoch into a
temporary folder). PyTorch runs the same network, loaded with tools/torch_interop.py, in eval mode
under torch.no_grad() with BatchNorm as BatchNorm. actlab is measured two ways:
- `actlab predict` on the 10,000 images and on one, which folds BatchNorm into the Linear before
  it and prints the time of its forward pass (the first in a fresh process: cold caches, first-
  touch page faults, OpenBLAS's first call); the whole process's wall time is shown beside it;
- warm, the `inference` numbers of `actlab bench --json` (predict() on the same architecture).
PyTorch's times are warm medians (--runs calls for the batch, 1000 for one image). The matrix
products of the 10,000-image forward alone (torch.mm) bound what either side can reach.
Needs Debian's python3-torch.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from torch_interop import fashion_mnist_test, load_actlab_model, np, torch  # noqa: E402


def median_seconds(fn, runs):
    fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def actlab_predict(actlab, model_dir, x, threads, runs):
    """Medians over runs of the forward-pass ms printed by `actlab predict` and of the process's wall ms."""
    forward, wall = [], []
    with tempfile.TemporaryDirectory() as tmp:
        xin, yout = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        np.save(xin, x)
        for _ in range(runs):
            t0 = time.perf_counter()
            out = subprocess.run([actlab, "predict", "--model", model_dir, "--input", xin, "--output", yout,
                                  "--threads", str(threads)], check=True, capture_output=True, text=True).stdout
            wall.append(1e3 * (time.perf_counter() - t0))
            forward.append(float(re.search(r"forward pass ([0-9.]+) ms", out).group(1)))
    return statistics.median(forward), statistics.median(wall)


def gemm_only_ms(net, rows, runs):
    """The forward's matrix products alone, x W^T for each Linear, as torch.mm runs them."""
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    xs = [torch.rand(rows, m.in_features) for m in linears]
    ws = [m.weight.detach() for m in linears]
    return 1e3 * median_seconds(lambda: [torch.mm(x, w.t()) for x, w in zip(xs, ws)], runs)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model_dir", nargs="?")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--actlab", default="build/release/actlab")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = a.model_dir
        if not model_dir:
            model_dir = os.path.join(tmp, "model")
            subprocess.run([a.actlab, "train", "--epochs", "1", "--out", model_dir], check=True, capture_output=True)
        net, scaling = load_actlab_model(model_dir)
        x = (fashion_mnist_test(10000).astype(np.float32) * np.float32(scaling["scale"])
             + np.float32(scaling["shift"])).astype(np.float32)
        xt, one = torch.from_numpy(x), torch.from_numpy(x[:1].copy())
        with torch.no_grad():
            torch_all = 1e3 * median_seconds(lambda: net(xt), a.runs)
            torch_one = 1e3 * median_seconds(lambda: net(one), 1000)
            gemm = gemm_only_ms(net, len(x), a.runs)
        cold_all, wall_all = actlab_predict(a.actlab, model_dir, x, a.threads, a.runs)
        cold_one, wall_one = actlab_predict(a.actlab, model_dir, x[0], a.threads, a.runs)
    out = subprocess.run([a.actlab, "bench", "--json", "--no-reference", "--activations", "relu", "--threads",
                          str(a.threads)], check=True, capture_output=True, text=True).stdout
    warm = json.loads(out.strip().splitlines()[-1])["inference"]
    warm_all = warm["batch_ms"] * 10000 / warm["rows"]
    warm_one = warm["one_row_us"] / 1e3
    print(f"seed recipe, {a.threads} thread(s); medians; ms")
    print(f"{'input':>12} {'torch eval':>10} {'actlab warm':>11} {'speedup':>7} {'predict cold':>12} {'speedup':>7} "
          f"{'predict process':>15}")
    for name, theirs, ours, cold, wall in (("10000 images", torch_all, warm_all, cold_all, wall_all),
                                           ("1 image", torch_one, warm_one, cold_one, wall_one)):
        print(f"{name:>12} {theirs:>10.3f} {ours:>11.3f} {theirs / ours:>6.2f}x {cold:>12.3f} {theirs / cold:>6.2f}x "
              f"{wall:>15.1f}")
    print(f"the 10000-image forward's matrix products alone (torch.mm): {gemm:.3f} ms, "
          f"{100 * gemm / torch_all:.0f}% of PyTorch's forward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
