#!/usr/bin/python3
"""PyTorch cross-checks of Xent's noisy-label runs (docs/experiments.md, "Why GCE missed +20 points").

  step   One full-batch SGD step of `xent train` (momentum 0) against PyTorch autograd's gradient from the same initial
         weights, for CE, GCE (q = 0.7), SCE (α = 0.1, β = 1, A = −4) and poly1 (ε = 1): prints |Δw|/lr ÷ |∇| and the
         cosine per tensor (both 1 when the trainer's loss gradient is PyTorch's).
  train  The noise benchmark's MLP 64-256-10 trained in PyTorch on the same split as tools/run_loss_benchmarks.py
         (standardised pixels, 10% of the training rows held out like Xent's validation split, PyTorch's default
         initialisation, batch 32, no early stopping); prints the clean-test accuracy per seed and loss.

Usage, after `dotnet build -c Release src/Xent.Cli`:
    /usr/bin/python3 tools/noise_pytorch_reference.py step
    /usr/bin/python3 tools/noise_pytorch_reference.py train --seeds 0,1,2,3,4 --noise 0.4 --optimizer sgd --lr 0.01
Needs Debian's python3-torch, python3-pandas and python3-sklearn.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_loss_benchmarks as bench  # noqa: E402

LOSSES = {"ce": "cross-entropy", "gce": "gce:q=0.7", "sce": "sce:alpha=0.1,beta=1", "poly1": "poly1:epsilon=1"}


def loss_fn(name, z, y):
    ce = F.cross_entropy(z, y, reduction="none")
    p = F.softmax(z, 1).gather(1, y[:, None]).squeeze(1)
    return {"ce": ce, "gce": (1 - p ** 0.7) / 0.7, "sce": 0.1 * ce + 4.0 * (1 - p), "poly1": ce + (1 - p)}[name].mean()


def load_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    tensors = {}
    for k, v in header.items():
        if k != "__metadata__":
            s, e = v["data_offsets"]
            tensors[k] = torch.tensor(np.frombuffer(b[8 + n + s:8 + n + e], dtype=np.float32).reshape(v["shape"]).copy(), dtype=torch.float64)
    return tensors, header["__metadata__"]


def step(tmp):
    df = pd.read_csv(os.path.join(bench.ROOT, "data/digits.csv"))
    tr, te = bench.noisy_sets(df, 0, 0.4, tmp)
    rows = pd.read_csv(tr)
    lr = 0.01
    for name, spec in LOSSES.items():
        def xent(out, rate):
            bench.run(["train", "--data", tr, "--val-data", te, "--test-data", te, "--out", out, "--force", "--seed", "3", "--hidden", "256",
                       "--early-stopping", "0", "--epochs", "1", "--optimizer", "sgd", "--momentum", "0", "--lr", str(rate),
                       "--batch-size", "100000", "--loss", spec, "--threads", "1"])
            return load_safetensors(os.path.join(out, "model.safetensors"))
        w0, meta = xent(os.path.join(tmp, "w0"), 1e-30)  # the initial weights (same seed)
        w1, _ = xent(os.path.join(tmp, "w1"), lr)
        cols = json.loads(meta["xent.preprocessor"])["columns"]
        mean, scale = np.array([c["mean"] for c in cols]), np.array([c["scale"] for c in cols])
        x = torch.tensor((rows.drop(columns="label").to_numpy() - mean) / scale)
        y = torch.tensor(rows["label"].to_numpy())
        p = {k: v.clone().requires_grad_(True) for k, v in w0.items()}
        z = F.relu(x @ p["0.weight"].T + p["0.bias"]) @ p["2.weight"].T + p["2.bias"]
        loss_fn(name, z, y).backward()
        for k in p:
            d, g = ((w0[k] - w1[k]) / lr).flatten(), p[k].grad.flatten()
            print(f"{name:6s} {k:9s} |Δw/lr| / |∇| = {(d.norm() / g.norm()).item():.6f}  cosine = {(d @ g / d.norm() / g.norm()).item():.7f}")


def train_torch(tr, te, name, seed, optimizer, lr, epochs, batch):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    a, b = pd.read_csv(tr), pd.read_csv(te)
    x, y = a.drop(columns="label").to_numpy(np.float32), a["label"].to_numpy()
    xt, yt = b.drop(columns="label").to_numpy(np.float32), b["label"].to_numpy()
    keep = rng.permutation(len(x))[int(round(0.1 * len(x))):]
    x, y = x[keep], y[keep]
    mu, sd = x.mean(0), x.std(0)
    sd[sd == 0] = 1
    x, xt = torch.tensor((x - mu) / sd), torch.tensor((xt - mu) / sd)
    y, yt = torch.tensor(y), torch.tensor(yt)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = (torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss_fn(name, model(x[idx]), y[idx]).backward()
            opt.step()
    with torch.no_grad():
        return (model(xt).argmax(1) == yt).double().mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["step", "train"])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--noise", type=float, default=0.4)
    ap.add_argument("--losses", default="ce,gce,sce")
    ap.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        if args.mode == "step":
            step(tmp)
            return
        df = pd.read_csv(os.path.join(bench.ROOT, "data/digits.csv"))
        results = {n: [] for n in args.losses.split(",")}
        for seed in [int(s) for s in args.seeds.split(",")]:
            tr, te = bench.noisy_sets(df, seed, args.noise, tmp)
            for n in results:
                results[n].append(train_torch(tr, te, n, seed, args.optimizer, args.lr, args.epochs, args.batch_size))
            print(f"seed {seed}: " + ", ".join(f"{n} {v[-1]:.3f}" for n, v in results.items()), file=sys.stderr)
        for n, v in results.items():
            print(f"{n}: {100 * np.mean(v):.1f} ± {100 * np.std(v, ddof=1):.1f} (PyTorch, {args.optimizer} lr {args.lr}, {args.epochs} epochs, batch {args.batch_size}, {len(v)} seeds)")


if __name__ == "__main__":
    main()
