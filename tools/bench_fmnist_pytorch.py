#!/usr/bin/env python3
"""Time per training step of the Fashion-MNIST CNN or MLP in PyTorch 1.13, for the bench harness's `fmnist` suite
(issue 12: an epoch against PyTorch, same session, same threads).

The models are the ones the suite trains in Xent: the CNN
conv2d(32,3),relu,maxpool(2),conv2d(64,3),relu,maxpool(2),flatten,linear(128),relu,linear; the BatchNorm CNN
(`bn-cnn`) conv2d(32,3,padding=1),batchnorm,relu,maxpool(2),conv2d(64,3,padding=1),batchnorm,relu,maxpool(2),flatten,
dropout(0.25),linear(128),relu,linear, the model of the documented 92.65% figure; and the 784-256-10 MLP, on
the training images scaled to [0, 1], cross-entropy, Adam (lr 1e-3), batch 128 from a shuffled order (gathering the
batch is timed, as in Xent). After 10 warm-up steps, `--steps` steps are timed; the script prints JSON with the mean
step time in ms (an epoch is 469 steps). Reading the data is not timed.

Usage: /usr/bin/python3 tools/bench_fmnist_pytorch.py --model cnn --steps 100 --threads 2
"""
import argparse
import gzip
import json
import os
import sys
import time


def read_idx(path):
    import numpy as np
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["cnn", "bn-cnn", "mlp"], default="cnn")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import torch
    from torch import nn
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.from_numpy(read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")).astype("float32") / 255.0).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz")).astype("int64"))
    if args.model == "cnn":
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
    elif args.model == "bn-cnn":
        model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        x = x.reshape(-1, 784)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(len(x))
    state = {"next": 0}

    def step():
        if state["next"] + args.batch > len(perm):
            state["next"] = 0
        idx = perm[state["next"]:state["next"] + args.batch]
        state["next"] += args.batch
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    ms = (time.perf_counter() - start) * 1000 / args.steps
    json.dump({"model": args.model, "step_ms": ms, "steps": args.steps, "batch": args.batch, "threads": args.threads,
               "torch_version": torch.__version__}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
