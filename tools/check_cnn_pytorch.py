#!/usr/bin/env python3
"""Loads a Xent model file into PyTorch and compares its probabilities with Xent's predictions.

Usage: /usr/bin/python3 tools/check_cnn_pytorch.py MODEL.safetensors ROWS.csv XENT_PREDICTIONS.csv
ROWS.csv holds the model's input columns (a header row of names, then numbers), XENT_PREDICTIONS.csv is what
`xent predict --model MODEL --data ROWS.csv` wrote. The architecture comes from the file's xent.architecture
metadata, the weights load with strict=True under their PyTorch names, and numeric columns are standardised with the
stored preprocessor, as Xent does. Prints the largest absolute difference of the probabilities; exits 1 above 1e-5.
"""
import csv, json, struct, sys
import numpy as np
import torch
import torch.nn as nn

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).copy())
    return tensors, meta


def pair(v, default):
    return tuple(v) if v else default


def layer(spec):
    kind = spec["kind"]
    shape = spec.get("shape")
    if kind == "linear":
        return nn.Linear(spec["in"], spec["out"])
    if kind in ("conv2d", "conv1d"):
        rank = 2 if kind == "conv2d" else 1
        cls = nn.Conv2d if rank == 2 else nn.Conv1d
        return cls(shape[0], spec["channels"], tuple(spec["kernel"]), stride=pair(spec.get("stride"), (1,) * rank),
                   padding=pair(spec.get("padding"), (0,) * rank), dilation=pair(spec.get("dilation"), (1,) * rank), bias=spec.get("bias", True))
    if kind in ("maxpool2d", "maxpool1d", "avgpool2d", "avgpool1d"):
        cls = {"maxpool2d": nn.MaxPool2d, "maxpool1d": nn.MaxPool1d, "avgpool2d": nn.AvgPool2d, "avgpool1d": nn.AvgPool1d}[kind]
        k = tuple(spec["kernel"])
        return cls(k, stride=pair(spec.get("stride"), k), padding=pair(spec.get("padding"), (0,) * len(k)))
    if kind == "global_avgpool":
        return nn.Sequential(nn.AdaptiveAvgPool2d(1) if len(shape) == 3 else nn.AdaptiveAvgPool1d(1), nn.Flatten())
    if kind in ("batchnorm2d", "batchnorm1d"):
        return (nn.BatchNorm2d if kind == "batchnorm2d" else nn.BatchNorm1d)(shape[0])
    if kind == "flatten":
        return nn.Flatten()
    if kind == "relu":
        return nn.ReLU()
    if kind == "dropout":
        return nn.Dropout(spec.get("probability", 0))
    if kind == "softmax":
        return nn.Softmax(dim=1)
    if kind == "log_softmax":
        return nn.LogSoftmax(dim=1)
    raise SystemExit(f"layer kind {kind} is not handled by this script")


class Model(nn.Module):
    """The Xent layers in a Sequential, reshaping the flat rows to each shaped layer's input shape."""

    def __init__(self, arch):
        super().__init__()
        self.specs = arch["layers"]
        self.layers = nn.Sequential(*[layer(s) for s in self.specs])

    def forward(self, x):
        for spec, m in zip(self.specs, self.layers):
            if spec.get("shape"):
                x = x.reshape(x.shape[0], *spec["shape"])
            elif spec["kind"] in ("linear", "relu", "dropout", "softmax", "log_softmax"):
                x = x.reshape(x.shape[0], -1)
            x = m(x)
        return x.reshape(x.shape[0], -1)


def main():
    model_path, rows_path, predictions_path = sys.argv[1:4]
    tensors, meta = read_safetensors(model_path)
    arch = json.loads(meta["xent.architecture"])
    model = Model(arch).double()
    state = {"layers." + k: v for k, v in tensors.items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    with open(rows_path) as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = np.array([[float(v) for v in r] for r in reader], dtype=np.float64)
    pre = json.loads(meta["xent.preprocessor"]) if "xent.preprocessor" in meta else None
    if pre:
        names = [c["name"] for c in pre["columns"]]
        rows = rows[:, [header.index(n) for n in names]]
        mean = np.array([c.get("mean", 0.0) for c in pre["columns"]])
        scale = np.array([c.get("scale", 1.0) for c in pre["columns"]])
        rows = ((rows.astype(np.float32) - mean.astype(np.float32)) / scale.astype(np.float32)).astype(np.float64)
    with torch.no_grad():
        logits = model(torch.from_numpy(rows))
        p = torch.softmax(logits * float(meta.get("xent.logit_scale", 1)), dim=1).numpy()
    with open(predictions_path) as f:
        reader = csv.reader(f)
        head = next(reader)
        cols = [i for i, h in enumerate(head) if h.startswith("p_")]
        xent = np.array([[float(r[i]) for i in cols] for r in reader])
    diff = np.abs(xent - p).max()
    print(f"{len(rows)} rows, {p.shape[1]} classes: largest |p_xent - p_torch| = {diff:.2e}")
    sys.exit(0 if diff <= 1e-5 else 1)


if __name__ == "__main__":
    main()
