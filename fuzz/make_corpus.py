#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/corpus/<target>/: small valid inputs of every format.

Standard library only (any python3). Rerun after changing a format; the files are committed.
"""
import gzip
import json
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def idx(dims, payload=None):
    count = 1
    for d in dims:
        count *= d
    data = bytes(payload) if payload is not None else bytes(i % 256 for i in range(count))
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def npy(descr, shape, raw, version=(1, 0)):
    shape_text = "(%s,)" % shape[0] if len(shape) == 1 else "(%s)" % ", ".join(map(str, shape))
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    prefix = 10 if version[0] == 1 else 12
    total = (prefix + len(header) + 1 + 63) // 64 * 64
    header = header + " " * (total - prefix - len(header) - 1) + "\n"
    length = struct.pack("<H", len(header)) if version[0] == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header.encode() + raw


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in sorted(tensors.items()):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text.encode() + data


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def main():
    shutil.rmtree(ROOT, ignore_errors=True)

    # IDX: read_idx on the raw bytes (plain and gzip).
    images = idx([2, 3, 3])
    labels = idx([3], [0, 9, 4])
    put("idx", "images_2x3x3.idx", images)
    put("idx", "labels_3.idx", labels)
    put("idx", "images_2x3x3.idx.gz", gz(images))
    put("idx", "labels_3.idx.gz", gz(labels))
    put("idx", "two_members.idx.gz", gz(images[:7]) + gz(images[7:]))
    put("idx", "dims4.idx", idx([1, 2, 1, 2]))
    put("idx", "empty_1d.idx", idx([0]))
    # IDX behind a well-formed gzip stream: byte 0 = damage mode, the rest = the IDX payload.
    put("idx_gz", "images.bin", b"\x00" + images)
    put("idx_gz", "labels_two_members.bin", b"\x40" + labels)
    put("idx_gz", "dims4.bin", b"\x00" + idx([1, 2, 1, 2]))

    # CSV: load_data("csv:FILE").
    put("csv", "header.csv", "label,a,b\n0,1.5,2\n1,3,-4e-3\n2,0,0\n0,1,1\n1,2,2\n")
    put("csv", "no_header.csv", "1,0.5,0.25,7\n0,1,2,3\n3,4,5,6\n2,1,1,1\n0,0,0,0\n1,1e3,-2.5,+3\n")
    put("csv", "label_middle_crlf.csv", '"x","label","y"\r\n1,0,2\r\n3,1,4\r\n5,2,6\r\n7,0,8\r\n9,1,10\r\n')
    put("csv", "bom_blank_lines.csv", "\ufefflabel,v\n\n0,1\n1,2\n\n0,3\n1,4\n0,5\n\n")

    # NPY: read_npy (and load_data("npy:X,Y") with the same file twice).
    put("npy", "f4_2x3.npy", npy("<f4", [2, 3], f32(0, -1, 2.5, -0.0, 1e-3, 3)))
    put("npy", "f8_3.npy", npy("<f8", [3], struct.pack("<3d", 1, -2, 0.5)))
    put("npy", "u1_2x2.npy", npy("|u1", [2, 2], bytes([0, 1, 254, 255])))
    put("npy", "i8_5x1.npy", npy("<i8", [5, 1], struct.pack("<5q", 0, 1, 2, 1, 0)))
    put("npy", "i2_2x2.npy", npy("<i2", [2, 2], struct.pack("<4h", -3, 2, 1, 0)))
    put("npy", "f4_v2.npy", npy("<f4", [2, 2], f32(1, 2, 3, 4), version=(2, 0)))
    put("npy", "f4_0d.npy", npy("<f4", [], f32(7)))
    put("npy", "f4_empty.npy", npy("<f4", [0, 3], b""))

    # safetensors: read_safetensors, and load_model with the fixed config of fuzz_safetensors.cpp
    # (linear 2 -> 3, batchnorm1d(3), prelu(1)).
    model = {
        "0.weight": ("F32", [3, 2], f32(0.1, -0.2, 0.3, 0.4, -0.5, 0.6)),
        "0.bias": ("F32", [3], f32(0, 0.1, -0.1)),
        "1.weight": ("F32", [3], f32(1, 1, 1)),
        "1.bias": ("F32", [3], f32(0, 0, 0)),
        "1.running_mean": ("F32", [3], f32(0, 0, 0)),
        "1.running_var": ("F32", [3], f32(1, 1, 1)),
        "1.num_batches_tracked": ("I64", [], struct.pack("<q", 0)),
        "2.weight": ("F32", [1], f32(0.25)),
    }
    put("safetensors", "model.safetensors", safetensors(model, {"format": "pt"}))
    put("safetensors", "one_tensor.safetensors", safetensors({"x": ("F32", [2, 2], f32(1, 2, 3, 4))}))
    put("safetensors", "empty.safetensors", safetensors({}))

    # config.json: model_from_config_json.
    def config(in_features, layers, out_features, scaling=(1.0, 0.0)):
        return json.dumps({"format": "actlab-model", "version": 1, "in_features": in_features,
                           "out_features": out_features,
                           "input_scaling": {"scale": scaling[0], "shift": scaling[1]},
                           "layers": layers}, indent=2) + "\n"
    put("model_config", "seed.json", config(4, [
        {"type": "linear", "in_features": 4, "out_features": 8},
        {"type": "batchnorm1d", "num_features": 8, "eps": 1e-05, "momentum": 0.1},
        {"type": "leaky_relu", "negative_slope": 0.01},
        {"type": "linear", "in_features": 8, "out_features": 6},
        {"type": "batchnorm1d", "num_features": 6, "eps": 1e-05, "momentum": 0.1},
        {"type": "prelu", "num_parameters": 1},
        {"type": "linear", "in_features": 6, "out_features": 3},
        {"type": "elu", "alpha": 1.0}], 3, (0.003921569, 0.0)))
    put("model_config", "mixed.json", config(2, [
        {"type": "linear", "out_features": 5},
        {"type": "gelu", "approximate": "tanh"},
        {"type": "dropout", "p": 0.2},
        {"type": "prelu", "num_parameters": 5, "init": 0.1},
        {"type": "linear", "out_features": 2},
        {"type": "softplus", "beta": 2, "threshold": 10},
        {"type": "rrelu", "lower": 0.1, "upper": 0.3}], 2))

    # Regressions: inputs that once broke the contract (each is kept as a seed, so every run replays it).
    put("model_config", "regression_format_number.json", '{"format": 5555, "version": 1}')
    put("model_config", "regression_scale_beyond_float.json", json.dumps({
        "format": "actlab-model", "version": 1, "in_features": 2, "input_scaling": {"scale": 1e300},
        "layers": [{"type": "relu"}]}))
    deep = "[" * 1000 + "]" * 1000  # under -max_len; the depth limit (32) refuses it either way
    put("model_config", "regression_deep_nesting.json", '{"format": "actlab-model", "version": 1, '
        '"in_features": 2, "layers": [{"type": "relu"}], "out_features": ' + deep + "}")
    header = '{"a": {"dtype": "F32", "shape": [' + deep + '], "data_offsets": [0, 0]}}'
    put("safetensors", "regression_deep_nesting.safetensors", struct.pack("<Q", len(header)) + header.encode())

    # Model SPECs: byte 0 = input width - 1, the rest the SPEC.
    specs = [
        (3, "linear(256),batchnorm1d,leaky_relu,linear(128),batchnorm1d,prelu,linear(10),elu"),
        (1, "linear(out_features=4),gelu(approximate=tanh),dropout(p=0.2),linear(2)"),
        (7, "batchnorm1d(eps=1e-3,momentum=0.5),prelu(num_parameters=8,init=0.1),softplus(beta=2,threshold=10)"),
        (0, "linear(in_features=1,out_features=3),rrelu(lower=0.1,upper=0.2),celu(alpha=2),linear(1),sigmoid"),
    ]
    for i, (w, s) in enumerate(specs):
        put("model_spec", "spec%d.txt" % i, bytes([w]) + s.encode())
    # Regressions: a model of 2^48 weights; values finite as doubles but not as float32.
    put("model_spec", "regression_huge_model.txt", b"\x00linear(16777216),linear(16777216)")
    put("model_spec", "regression_eps_underflow.txt", b"\x03batchnorm1d(eps=1e-50)")
    put("model_spec", "regression_eps_overflow.txt", b"\x03batchnorm1d(eps=1e300)")
    put("model_spec", "regression_dropout_rounds_to_1.txt", b"\x03dropout(p=0.999999999)")

    # Activation specs: line 1 for parse_activation, further lines key=value.
    acts = ["identity", "sigmoid", "tanh", "relu", "leaky_relu:negative_slope=0.2", "prelu:weight=0.25",
            "elu:alpha=0.5", "selu", "celu:alpha=2", "gelu:approximate=tanh", "silu", "mish",
            "softplus:beta=2,threshold=10", "hardsigmoid", "hardswish", "softsign", "rrelu:lower=0.1,upper=0.3",
            "gelu\napproximate=1", "rrelu\nlower=0.2\nupper=0.25", "softplus\nbeta=0.5\nthreshold=20"]
    for i, a in enumerate(acts):
        put("activation", "act%02d.txt" % i, a)


if __name__ == "__main__":
    main()
