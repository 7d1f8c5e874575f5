#!/usr/bin/python3
"""Writes the PyTorch reference values that actlab's kernel tests compare against.

Run it from anywhere with Debian's system interpreter, the one that has python3-torch and
python3-numpy (another `python3` may come first on PATH and has neither):

    /usr/bin/python3 tools/gen_reference.py            # rewrites both files below
    /usr/bin/python3 tools/gen_reference.py --check    # exits 1 if they would change

It writes
  tests/data/activation_reference.json  one case per activation configuration: the spec in actlab's
                                        syntax, float32 inputs x across the whole float range, a seeded
                                        dy, the expected y = f(x) and dx = dy * f'(x) (and for prelu the
                                        gradient of the shared weight), plus what float32 PyTorch gives;
  tests/data/batchnorm_reference.json   torch.nn.BatchNorm1d train/eval cases and PReLU cases with a
                                        shared and a per-channel weight.

The oracle: PyTorch 1.13 in float64 on the float32 inputs, each result rounded once to float32.
float64 holds every intermediate of these formulas for float32 inputs (x^3 of 3.4e38 is 4e115), so
the oracle does not share float32 PyTorch's overflows (gelu-tanh's backward is NaN there for
|x| > 1e13). Backward values come from torch.autograd at the input x. The float32 PyTorch results are
kept beside them ("y_torch_f32", "dx_torch_f32", whole-tensor calls) so a test can say where float32
PyTorch itself is not finite.

The oracle's y and dx are computed one element at a time. PyTorch's CPU kernels have a scalar body and
a vectorized body, and in 1.13 they disagree at hardswish's kink: the scalar body gives f'(3) = 1.5
(x <= 3 takes x/3 + 1/2), the vectorized one f'(3) = 1 (x >= 3 takes 1), so a whole-tensor result
depends on where 3 falls in the array. A one-element tensor always runs the scalar body, the
documented convention (`derivative` in actlab's table follows it). The script prints every point where
the two bodies differ in float64. The shared prelu weight gradient is kept in float64 ("dweight"),
since actlab's activation_param_grad returns a double.

Numbers are written with Python's repr of the float32 value widened to float64, which is exact;
non-finite values are the strings "nan", "inf", "-inf". Everything is seeded: the output is the
same on every run.
"""
import json
import math
import pathlib
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as err:
    sys.exit(f"gen_reference.py needs torch and numpy ({err}); run it with /usr/bin/python3, "
             "Debian's interpreter that has python3-torch and python3-numpy")

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
F32 = np.float32


def to_json_number(v):
    """A float32 (or float64) value as exact JSON: repr of the float, or a string when not finite."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def f32_list(a):
    """Rounds to float32 once, then writes each value exactly."""
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.asarray(a, dtype=np.float64).astype(F32)
    return [to_json_number(v) for v in a.ravel()]


def neighbours(k):
    """k and the float32 values just below and above it."""
    k = F32(k)
    return [k, np.nextafter(k, F32(-np.inf)), np.nextafter(k, F32(np.inf))]


def activation_inputs(kinks):
    """Special values across the float range, the configuration's kinks, and seeded normals * 3."""
    mags = [1e-45, 1e-40, 1.1754944e-38, 1e-7, 0.1, 0.5, 1, 2, 2.9999, 3, 3.0001, 5, 10, 19.9, 20,
            20.1, 30, 50, 88, 89, 100, 1000, 1e4, 1e10, 1e13, 1e14, 1e20, 3e38, 3.4028235e38]
    xs = [F32(0.0), F32(-0.0)]
    for m in mags:
        xs += [F32(m), F32(-m)]
    for k in kinks:
        xs += neighbours(k) + [F32(k - 1e-4), F32(k + 1e-4)]
    rng = np.random.default_rng(1)
    xs += list((rng.standard_normal(50) * 3).astype(F32))
    # Drop repeats (a kink may already be a special value), keeping the first of each.
    seen, out = set(), []
    for v in xs:
        key = (float(v), math.copysign(1.0, float(v)))
        if key not in seen:
            seen.add(key)
            out.append(F32(v))
    return np.array(out, dtype=F32)


def prelu_fn(weight):
    def fn(x, dtype):
        w = torch.tensor([weight], dtype=dtype, requires_grad=True)
        return F.prelu(x, w), w
    return fn


def plain(f):
    return lambda x, dtype: (f(x), None)


# (spec in actlab's syntax, PyTorch's function, kinks of this configuration)
ACTIVATIONS = [
    ("identity", plain(lambda x: x), []),
    ("sigmoid", plain(torch.sigmoid), []),
    ("tanh", plain(torch.tanh), []),
    ("relu", plain(F.relu), [0.0]),
    ("leaky_relu", plain(F.leaky_relu), [0.0]),
    ("leaky_relu:negative_slope=0.2", plain(lambda x: F.leaky_relu(x, 0.2)), [0.0]),
    ("prelu", prelu_fn(0.25), [0.0]),
    ("prelu:weight=-0.1", prelu_fn(-0.1), [0.0]),
    ("elu", plain(F.elu), [0.0]),
    ("elu:alpha=0.5", plain(lambda x: F.elu(x, alpha=0.5)), [0.0]),
    ("selu", plain(F.selu), [0.0]),
    ("celu", plain(F.celu), [0.0]),
    ("celu:alpha=2", plain(lambda x: F.celu(x, alpha=2.0)), [0.0]),
    ("gelu", plain(F.gelu), []),
    ("gelu:approximate=tanh", plain(lambda x: F.gelu(x, approximate="tanh")), []),
    ("silu", plain(F.silu), []),
    ("mish", plain(F.mish), []),
    ("softplus", plain(F.softplus), [20.0]),
    ("softplus:beta=2,threshold=10", plain(lambda x: F.softplus(x, beta=2, threshold=10)), [5.0]),
    ("hardsigmoid", plain(F.hardsigmoid), [-3.0, 3.0]),
    ("hardswish", plain(F.hardswish), [-3.0, 3.0]),
    ("softsign", plain(F.softsign), []),
    ("rrelu", plain(lambda x: F.rrelu(x, training=False)), [0.0]),
    ("rrelu:lower=0.1,upper=0.3", plain(lambda x: F.rrelu(x, lower=0.1, upper=0.3, training=False)), [0.0]),
]


def run_activation(fn, x32, dy32, dtype):
    """y, dx and the weight gradient (or None) of fn at x, by torch.autograd in dtype."""
    x = torch.tensor(x32, dtype=dtype, requires_grad=True)
    y, weight = fn(x, dtype)
    y.backward(torch.tensor(dy32, dtype=dtype))
    dweight = None if weight is None else float(weight.grad.item())
    return y.detach().numpy(), x.grad.numpy(), dweight


def run_elementwise(fn, x32, dy32, dtype):
    """y and dx one element at a time: a one-element tensor always takes the scalar body of PyTorch's
    CPU kernels, never the vectorized one (they disagree at some kinks, see the module comment)."""
    y, dx = np.empty(len(x32)), np.empty(len(x32))
    for i in range(len(x32)):
        yi, dxi, _ = run_activation(fn, x32[i:i + 1], dy32[i:i + 1], dtype)
        y[i], dx[i] = yi[0], dxi[0]
    return y, dx


def activation_cases():
    cases = []
    for index, (spec, fn, kinks) in enumerate(ACTIVATIONS):
        x = activation_inputs(kinks)
        dy = np.random.default_rng(100 + index).standard_normal(len(x)).astype(F32)
        y64, dx64 = run_elementwise(fn, x, dy, torch.float64)
        y64_vec, dx64_vec, dw64 = run_activation(fn, x, dy, torch.float64)
        for name, a, b in (("y", y64, y64_vec), ("dx", dx64, dx64_vec)):
            differ = ~np.isclose(a, b, rtol=1e-12, atol=0, equal_nan=True)
            for i in np.flatnonzero(differ):
                print(f"note: {spec} {name} at x = {x[i]!r}: PyTorch's scalar body gives {a[i]!r}, "
                      f"its vectorized body {b[i]!r}; the file keeps the scalar one")
        y32, dx32, _ = run_activation(fn, x, dy, torch.float32)
        case = {"spec": spec, "x": f32_list(x), "dy": f32_list(dy), "y": f32_list(y64), "dx": f32_list(dx64),
                "y_torch_f32": f32_list(y32), "dx_torch_f32": f32_list(dx32)}
        if dw64 is not None:
            case["dweight"] = to_json_number(dw64)
        cases.append(case)
    return cases


def batchnorm_case(name, rows, features, seed, offset=None, spread=None):
    rng = np.random.default_rng(seed)
    offset = np.zeros(features) if offset is None else np.asarray(offset, dtype=np.float64)
    spread = np.ones(features) if spread is None else np.asarray(spread, dtype=np.float64)
    x = (offset + spread * rng.standard_normal((rows, features))).astype(F32)
    gamma = (1 + 0.2 * rng.standard_normal(features)).astype(F32)
    beta = (0.1 * rng.standard_normal(features)).astype(F32)
    running_mean = (0.1 * rng.standard_normal(features)).astype(F32)
    running_var = (1 + 0.1 * np.abs(rng.standard_normal(features))).astype(F32)
    dy = rng.standard_normal((rows, features)).astype(F32)

    bn = torch.nn.BatchNorm1d(features, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma, dtype=torch.float64))
        bn.bias.copy_(torch.tensor(beta, dtype=torch.float64))
        bn.running_mean.copy_(torch.tensor(running_mean, dtype=torch.float64))
        bn.running_var.copy_(torch.tensor(running_var, dtype=torch.float64))
    bn.train()
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = bn(xt)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    bn.eval()
    with torch.no_grad():
        y_eval = bn(torch.tensor(x, dtype=torch.float64))
        # The batch mean and 1/sqrt(biased var + eps) that the backward consumes (PyTorch's save_mean, save_invstd).
        _, batch_mean, batch_invstd = torch.native_batch_norm(
            torch.tensor(x, dtype=torch.float64), None, None, None, None, True, 0.1, 1e-5)
    return {
        "name": name, "rows": rows, "features": features, "eps": 1e-5, "momentum": 0.1,
        "x": f32_list(x), "gamma": f32_list(gamma), "beta": f32_list(beta),
        "running_mean": f32_list(running_mean), "running_var": f32_list(running_var), "dy": f32_list(dy),
        "y_train": f32_list(y.detach().numpy()),
        "batch_mean": f32_list(batch_mean.numpy()), "batch_invstd": f32_list(batch_invstd.numpy()),
        "running_mean_after": f32_list(bn.running_mean.numpy()),
        "running_var_after": f32_list(bn.running_var.numpy()),
        "dx": f32_list(xt.grad.numpy()), "dgamma": f32_list(bn.weight.grad.numpy()),
        "dbeta": f32_list(bn.bias.grad.numpy()), "y_eval": f32_list(y_eval.numpy()),
    }


def prelu_case(name, rows, channels, weight, seed):
    rng = np.random.default_rng(seed)
    x = (2 * rng.standard_normal((rows, channels))).astype(F32)
    x[0, :] = 0.0  # the kink: PyTorch's derivative there is the slope, and x = 0 adds nothing to dweight
    x[1, 0] = -0.0
    dy = rng.standard_normal((rows, channels)).astype(F32)
    w32 = np.asarray(weight, dtype=F32)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w32, dtype=torch.float64, requires_grad=True)
    y = F.prelu(xt, wt)  # a 2-D input's dim 1 is the channel
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return {"name": name, "rows": rows, "channels": channels, "weight": f32_list(w32), "x": f32_list(x),
            "dy": f32_list(dy), "y": f32_list(y.detach().numpy()), "dx": f32_list(xt.grad.numpy()),
            "dweight": f32_list(wt.grad.numpy())}


def header(what):
    return {"generator": "tools/gen_reference.py", "torch_version": torch.__version__,
            "oracle": f"{what}: PyTorch in float64 on float32 inputs, rounded to float32"}


def render(obj):
    return json.dumps(obj, indent=1, allow_nan=False) + "\n"


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)  # summation order of the float64 reductions does not depend on the machine
    files = {
        DATA / "activation_reference.json": {**header("activations"), "cases": activation_cases()},
        DATA / "batchnorm_reference.json": {
            **header("BatchNorm1d and PReLU"),
            "batchnorm": [
                batchnorm_case("small", 4, 3, seed=11),
                batchnorm_case("large_mean", 16, 5, seed=12, offset=[1000, -1000, 1000, 50, 0],
                               spread=[0.5, 1.0, 0.05, 0.01, 1e-3]),
                batchnorm_case("two_rows", 2, 2, seed=13),
            ],
            "prelu": [
                prelu_case("per_channel", 5, 4, [0.25, -0.1, 0.5, 0.0], seed=21),
                prelu_case("shared", 5, 4, [0.25], seed=22),
            ],
        },
    }
    check = "--check" in sys.argv[1:]
    stale = []
    for path, obj in files.items():
        text = render(obj)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(text)
        tmp.replace(path)
        print(f"wrote {path.relative_to(ROOT)} ({len(text)} bytes)")
    if stale:
        sys.exit("out of date: " + ", ".join(stale))


if __name__ == "__main__":
    main()
