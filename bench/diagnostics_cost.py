#!/usr/bin/env python3
"""What the training diagnostics cost: the same training run with and without them, alternated.

    python3 bench/diagnostics_cost.py [--runs 3] [--epochs 3] [--threads 1,2] [--actlab build/release/actlab]

For each thread count, runs `actlab train` (the seed recipe on Fashion-MNIST) --runs times with
diagnostics (the default) and --runs times with --no-diagnostics, alternating so that a change in
the machine's load hits both alike. Prints the median training time per epoch (history.json,
diagnostics included) and the median wall time of the whole process, and their ratios.
Needs only the actlab program and the dataset.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--actlab", default="build/release/actlab")
    a = p.parse_args()
    print(f"seed recipe, Fashion-MNIST, {a.epochs} epochs, {a.runs} runs each way, alternated; medians")
    print(f"{'threads':>7} {'epoch s on':>10} {'epoch s off':>11} {'epoch cost':>10} {'wall s on':>9} "
          f"{'wall s off':>10} {'wall cost':>9}")
    for threads in [int(t) for t in a.threads.split(",")]:
        epochs = {"on": [], "off": []}
        wall = {"on": [], "off": []}
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(a.runs):
                for mode in ("on", "off"):
                    out = os.path.join(tmp, mode)
                    cmd = [a.actlab, "train", "--epochs", str(a.epochs), "--threads", str(threads), "--out", out]
                    if mode == "off":
                        cmd.append("--no-diagnostics")
                    t0 = time.perf_counter()
                    subprocess.run(cmd, check=True, capture_output=True)
                    wall[mode].append(time.perf_counter() - t0)
                    with open(os.path.join(out, "history.json")) as f:
                        epochs[mode] += [e["seconds"] for e in json.load(f)]
        e_on, e_off = statistics.median(epochs["on"]), statistics.median(epochs["off"])
        w_on, w_off = statistics.median(wall["on"]), statistics.median(wall["off"])
        print(f"{threads:>7} {e_on:>10.3f} {e_off:>11.3f} {100 * (e_on / e_off - 1):>9.1f}% {w_on:>9.2f} "
              f"{w_off:>10.2f} {100 * (w_on / w_off - 1):>8.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
