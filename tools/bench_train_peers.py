#!/usr/bin/env python3
"""Per-epoch training time of scikit-learn's MLPClassifier and PyTorch 1.13 on a CSV, for the bench harness's
`peers` suite (issue 13: whole runs against the peers, same session, same threads).

Both train the model Xent trains with its defaults: Adam (lr 1e-3), batch 32, shuffled each epoch, no weight decay, on
the first 90% of the rows (Xent holds 10% out for validation). `--hidden 0` is a linear model (sklearn:
hidden_layer_sizes=()), `--hidden 64` one ReLU layer of 64. Each epoch is timed on its own (sklearn: one
`partial_fit` call, which is one pass over the data; PyTorch: one loop over shuffled mini-batches); the script prints
JSON with the median epoch time in ms after the first 5 epochs. Reading the CSV is not timed.

Usage: /usr/bin/python3 tools/bench_train_peers.py --csv data.csv --hidden 64 --epochs 30 --threads 2
"""
import argparse
import json
import os
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--hidden", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np

    import csv
    with open(args.csv, newline="") as f:
        rows = list(csv.reader(f))[1:]
    x = np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float32)
    labels = sorted({r[-1] for r in rows})
    y = np.array([labels.index(r[-1]) for r in rows], dtype=np.int64)
    n = int(len(x) * 0.9)
    x, y = x[:n], y[:n]
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-12)  # Xent standardises its inputs
    classes = np.unique(y)
    out = {"rows": int(n), "features": int(x.shape[1]), "hidden": args.hidden, "batch": args.batch, "threads": args.threads}

    try:
        from sklearn.neural_network import MLPClassifier
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=args.threads):
            model = MLPClassifier(hidden_layer_sizes=() if args.hidden == 0 else (args.hidden,), solver="adam",
                                  batch_size=args.batch, learning_rate_init=1e-3, alpha=0.0, shuffle=True, random_state=0)
            times = []
            for epoch in range(args.epochs):
                start = time.perf_counter()
                model.partial_fit(x, y, classes=classes)
                times.append((time.perf_counter() - start) * 1000)
        out["sklearn_ms"] = statistics.median(times[5:])
        import sklearn
        out["sklearn_version"] = sklearn.__version__
    except Exception as e:  # noqa: BLE001 - report, do not fail the other peer
        out["sklearn_error"] = f"{type(e).__name__}: {e}"

    try:
        import torch
        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        c = len(classes)
        if args.hidden == 0:
            model = torch.nn.Linear(x.shape[1], c)
        else:
            model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, c))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        times = []
        for epoch in range(args.epochs):
            start = time.perf_counter()
            perm = torch.randperm(n)
            for i in range(0, n, args.batch):
                idx = perm[i:i + args.batch]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
            times.append((time.perf_counter() - start) * 1000)
        out["torch_ms"] = statistics.median(times[5:])
        out["torch_version"] = torch.__version__
    except Exception as e:  # noqa: BLE001
        out["torch_error"] = f"{type(e).__name__}: {e}"

    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
