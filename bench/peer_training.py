#!/usr/bin/python3
"""Trains the same network in PyTorch and in actlab, side by side, and prints the ratios.

    /usr/bin/python3 bench/peer_training.py [--epochs 3] [--threads 1,2] [--actlab build/release/actlab]

Both train the seed recipe (784-256-128-10: Linear, BatchNorm1d, LeakyReLU(0.01); Linear,
BatchNorm1d, PReLU; Linear, ELU) on Fashion-MNIST with SGD (lr 0.05, momentum 0.9, cosine schedule
per step), batch 128, shuffled each epoch, evaluating on the test set after each epoch. For each
thread count it reports seconds per training epoch (evaluation excluded, as actlab's history.json
measures it), test accuracy, peak resident memory of the whole process (/usr/bin/time -v), and
the GEMM-only time of one epoch in PyTorch (the same matrix products, nothing else), and actlab's
epoch time against the time its own matrix products took within the same epoch (history.json's
matmul_seconds: measured in the same process at the same moment, so machine noise cancels).
actlab runs with --no-diagnostics, like for like (the diagnostics cost is measured separately); its
test accuracy is shown beside that of the same run with the scalar reference kernels.
Needs Debian's python3-torch (importable by /usr/bin/python3 only).
"""
import argparse
import gzip
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

DATA = "/usr/share/datasets/fashion-mnist"


def load(kind):
    import numpy as np
    with gzip.open(f"{DATA}/{kind}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(f"{DATA}/{kind}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    return x, y


def torch_run(epochs, threads, batch=128, seed=0):
    """One PyTorch training run; prints one JSON line."""
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    xtr, ytr = torch.from_numpy(xtr.copy()), torch.from_numpy(ytr.astype(np.int64))
    xte = torch.from_numpy(xte.copy()).float() / 255
    yte = torch.from_numpy(yte.astype(np.int64))
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.BatchNorm1d(256), torch.nn.LeakyReLU(0.01),
        torch.nn.Linear(256, 128), torch.nn.BatchNorm1d(128), torch.nn.PReLU(),
        torch.nn.Linear(128, 10), torch.nn.ELU())
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    steps_per_epoch = math.ceil(len(xtr) / batch)
    total = steps_per_epoch * epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds, acc = [], 0.0
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(xtr))
        t0 = time.perf_counter()
        for b in range(steps_per_epoch):
            idx = perm[b * batch:(b + 1) * batch]
            if len(idx) < 2:
                continue
            xb = xtr[idx].float() / 255
            loss = loss_fn(net(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        seconds.append(time.perf_counter() - t0)
        net.eval()
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
    # The matrix products of one epoch alone: forward, dW and dX of each Linear.
    shapes = [(784, 256), (256, 128), (128, 10)]
    ws = [torch.randn(o, i) for i, o in shapes]
    xs = [torch.randn(batch, i) for i, _ in shapes]
    dys = [torch.randn(batch, o) for _, o in shapes]
    t0 = time.perf_counter()
    for _ in range(steps_per_epoch):
        for k, (w, x, dy) in enumerate(zip(ws, xs, dys)):
            torch.mm(x, w.t())
            torch.mm(dy.t(), x)
            if k > 0:
                torch.mm(dy, w)
    gemm = time.perf_counter() - t0
    print(json.dumps({"seconds_per_epoch": sorted(seconds)[len(seconds) // 2], "test_accuracy": acc,
                      "gemm_seconds_per_epoch": gemm}))


def peak_rss_mb(cmd):
    """Runs cmd under /usr/bin/time -v; returns (stdout, peak RSS in MB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        out = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd, check=True, capture_output=True,
                             text=True).stdout
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read()).group(1))
    return out, rss / 1024


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--actlab", default="build/release/actlab")
    p.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--thread-count", type=int, default=1, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_child:
        return torch_run(a.epochs, a.thread_count)
    if not os.path.exists("/usr/bin/time"):
        sys.exit("peer_training.py: needs /usr/bin/time (Debian package 'time')")
    print(f"seed recipe, Fashion-MNIST, batch 128, SGD, {a.epochs} epochs; medians of per-epoch times")
    print(f"{'threads':>7} {'torch s/ep':>10} {'actlab s/ep':>11} {'speedup':>7} {'torch GEMM s/ep':>15} "
          f"{'actlab/GEMM':>11} {'own matmul':>10} {'torch acc':>9} {'actlab acc':>10} {'ref acc':>7} {'torch MB':>8} {'actlab MB':>9} {'mem ratio':>9}")
    for threads in [int(t) for t in a.threads.split(",")]:
        out, torch_mb = peak_rss_mb([sys.executable, __file__, "--torch-child", "--epochs", str(a.epochs),
                                     "--thread-count", str(threads)])
        t = json.loads(out.strip().splitlines()[-1])
        with tempfile.TemporaryDirectory() as tmp:
            out, actlab_mb = peak_rss_mb([a.actlab, "train", "--no-diagnostics", "--epochs", str(a.epochs), "--threads", str(threads),
                                          "--out", tmp, "--json"])
            r = json.loads(out.strip().splitlines()[-1])
            with open(os.path.join(tmp, "history.json")) as f:
                epochs = json.load(f)
            out = subprocess.run([a.actlab, "train", "--no-diagnostics", "--kernels", "reference", "--epochs",
                                  str(a.epochs), "--threads", str(threads), "--out", os.path.join(tmp, "ref"), "--json"],
                                 check=True, capture_output=True, text=True).stdout
            ref_acc = json.loads(out.strip().splitlines()[-1])["test_accuracy"]
        hist = sorted(e["seconds"] for e in epochs)
        ours = hist[len(hist) // 2]
        own = sorted(e["seconds"] / e["matmul_seconds"] for e in epochs)
        own_ratio = own[len(own) // 2]
        print(f"{threads:>7} {t['seconds_per_epoch']:>10.3f} {ours:>11.3f} {t['seconds_per_epoch'] / ours:>6.2f}x "
              f"{t['gemm_seconds_per_epoch']:>15.3f} {ours / t['gemm_seconds_per_epoch']:>10.2f}x {own_ratio:>9.2f}x "
              f"{100 * t['test_accuracy']:>8.2f}% {100 * r['test_accuracy']:>9.2f}% {100 * ref_acc:>6.2f}% {torch_mb:>8.0f} {actlab_mb:>9.0f} "
              f"{actlab_mb / torch_mb:>8.2f}x")


if __name__ == "__main__":
    sys.exit(main())
