#!/usr/bin/python3
"""Long-tailed and noisy-label benchmarks of Xent's losses, 10 seeds each, on balanced (clean) test sets.

Long tail: for each seed, digits is split into a balanced test set (50 rows per class) and a training pool; the
training set keeps n_c = floor(n_max * IF^(-c/9)) rows of class c (class order shuffled by the seed) for IF = 10, 50,
100. Each method trains with `xent train --data lt.csv --test-data balanced.csv --seed SEED` and Xent's defaults.
"CE + post-hoc LA" is the CE model scored by `xent evaluate --logit-adjust 1`.

Noise: for each seed, digits is split into a stratified 80/20 train/test; a fraction (20% or 40%) of the training
labels is replaced by a uniformly drawn other class (symmetric noise); the test labels stay clean. MLP 64-256-10.

Prints markdown tables (mean ± std of test balanced accuracy over the seeds, and a paired t-test against CE) for
docs/experiments.md. Usage, after `dotnet build -c Release src/Xent.Cli`:
    /usr/bin/python3 tools/run_loss_benchmarks.py [--seeds 10] [--part longtail|noise|noise-long|all]
Needs Debian's python3-pandas, python3-sklearn and python3-scipy.
"""
import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.model_selection import train_test_split

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XENT = ["dotnet", os.path.join(ROOT, "src/Xent.Cli/bin/Release/net10.0/Xent.Cli.dll")]

LONG_TAIL_METHODS = [
    ("CE", []),
    ("balanced weights", ["--class-weights", "balanced"]),
    ("class-balanced (β = 0.9999)", ["--class-weights", "effective:0.9999"]),
    ("focal γ = 2", ["--loss", "focal:gamma=2"]),
    ("LDAM-DRW", ["--loss", "ldam", "--drw-epoch", "30", "--early-stopping", "0", "--epochs", "60"]),
    ("LDAM-DRW (cosine head)", ["--loss", "ldam", "--head", "cosine", "--drw-epoch", "30", "--early-stopping", "0", "--epochs", "60"]),
    ("logit-adjusted loss τ = 1", ["--loss", "logit-adjusted:tau=1"]),
    ("CE + post-hoc LA τ = 1", None),
    ("balanced softmax", ["--loss", "balanced-softmax"]),
]

NOISE_METHODS = [
    ("CE", []),
    ("CE + label smoothing 0.1", ["--label-smoothing", "0.1"]),
    ("GCE q = 0.7", ["--loss", "gce:q=0.7"]),
    ("SCE α = 0.1, β = 1", ["--loss", "sce:alpha=0.1,beta=1"]),
    ("poly1 ε = 1", ["--loss", "poly1:epsilon=1"]),
]


FASHION = "/usr/share/datasets/fashion-mnist"


def load_fashion(part):
    """Debian's dataset-fashion-mnist IDX files as a DataFrame: 784 pixel columns (0..255) and the label."""
    prefix = "train" if part == "train" else "t10k"
    with gzip.open(os.path.join(FASHION, f"{prefix}-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(os.path.join(FASHION, f"{prefix}-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    df = pd.DataFrame(images, columns=[f"p{i}" for i in range(784)])
    df["label"] = labels
    return df


def run(args):
    r = subprocess.run(XENT + args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"xent failed ({r.returncode}): {' '.join(args)}\n{r.stderr}\n{r.stdout[-2000:]}")
    return r.stdout


def train(train_csv, test_csv, out, seed, extra):
    run(["train", "--data", train_csv, "--test-data", test_csv, "--out", out, "--seed", str(seed)] + extra)
    with open(os.path.join(out, "metrics.json")) as f:
        return json.load(f)["balanced_accuracy"]


def posthoc(model, test_csv, tau):
    out = run(["evaluate", "--model", model, "--data", test_csv, "--logit-adjust", str(tau)])
    return float(re.search(r"balanced accuracy ([0-9.]+)", out).group(1))


def long_tail_sets(df, seed, factor, tmp, test_df=None, per_class_test=50, n_head=None):
    rng = np.random.default_rng(seed)
    test_parts, pool_parts = [], []
    for c, rows in df.groupby("label"):
        idx = rng.permutation(len(rows))
        if test_df is None:
            test_parts.append(rows.iloc[idx[:per_class_test]])
            pool_parts.append(rows.iloc[idx[per_class_test:]])
        else:
            pool_parts.append(rows.iloc[idx[:n_head]])
    if test_df is not None:
        for c, rows in test_df.groupby("label"):
            test_parts.append(rows.iloc[rng.permutation(len(rows))[:per_class_test]])
    order = rng.permutation(10)
    n_max = min(len(p) for p in pool_parts)
    lt = []
    for rank, c in enumerate(order):
        n = max(1, int(n_max * factor ** (-rank / 9)))
        lt.append(pool_parts[c].iloc[:n])
    train = pd.concat(lt).sample(frac=1, random_state=seed)
    test = pd.concat(test_parts)
    tr, te = os.path.join(tmp, "lt.csv"), os.path.join(tmp, "balanced.csv")
    train.to_csv(tr, index=False)
    test.to_csv(te, index=False)
    return tr, te


def noisy_sets(df, seed, noise, tmp, test_df=None, n_train=None):
    if test_df is None:
        train, test = train_test_split(df, test_size=0.2, stratify=df["label"], random_state=seed)
    else:
        train = df.groupby("label", group_keys=False).apply(lambda g: g.sample(n_train // 10, random_state=seed))
        test = test_df.groupby("label", group_keys=False).apply(lambda g: g.sample(200, random_state=seed))
    rng = np.random.default_rng(seed)
    y = train["label"].to_numpy().copy()
    flip = rng.random(len(y)) < noise
    other = (y + rng.integers(1, 10, len(y))) % 10
    y[flip] = other[flip]
    train = train.assign(label=y)
    tr, te = os.path.join(tmp, "noisy.csv"), os.path.join(tmp, "clean.csv")
    train.to_csv(tr, index=False)
    test.to_csv(te, index=False)
    return tr, te


def table(title, results, seeds):
    base = np.array(results[list(results)[0]])
    print(f"\n{title}\n")
    print("| method | balanced accuracy (mean ± std) | difference to CE | paired t-test p |")
    print("|---|---|---|---|")
    for name, values in results.items():
        v = np.array(values)
        if name == list(results)[0]:
            print(f"| {name} | {100 * v.mean():.1f} ± {100 * v.std(ddof=1):.1f} | — | — |")
            continue
        d = v - base
        p = stats.ttest_rel(v, base).pvalue if d.std() > 0 else (1.0 if d.mean() == 0 else 0.0)
        print(f"| {name} | {100 * v.mean():.1f} ± {100 * v.std(ddof=1):.1f} | {100 * d.mean():+.1f} | {p:.2g} |")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--part", default="all")
    ap.add_argument("--dataset", default="digits", choices=["digits", "fashion-mnist"])
    ap.add_argument("--noise-levels", default="0.2,0.4", help="comma-separated noise rates for the noise parts")
    ap.add_argument("--methods", default="", help="comma-separated names to run (CE always runs, as the baseline)")
    args = ap.parse_args()
    if args.dataset == "digits":
        df, test_df, lt_kw, noise_kw, dataset, hidden = pd.read_csv(os.path.join(ROOT, "data/digits.csv")), None, {}, {}, "digits", "256"
    else:
        # Subsets small enough for 10 seeds on 2 cores: a head of 600 training images a class, a balanced test set of
        # 100 a class from the official test images; 6,000 noisy training images and 200 clean test images a class.
        df, test_df = load_fashion("train"), load_fashion("test")
        lt_kw = {"test_df": test_df, "per_class_test": 100, "n_head": 600}
        noise_kw = {"test_df": test_df, "n_train": 6000}
        dataset, hidden = "Fashion-MNIST", "256"
    wanted = [m for m in args.methods.split(",") if m]

    def keep(methods):
        return [m for m in methods if not wanted or m[0] == "CE" or m[0] in wanted]
    if args.part in ("longtail", "all"):
        for factor in (10, 50, 100):
            methods = keep(LONG_TAIL_METHODS)
            results = {name: [] for name, _ in methods}
            for seed in range(args.seeds):
                with tempfile.TemporaryDirectory() as tmp:
                    tr, te = long_tail_sets(df, seed, factor, tmp, **lt_kw)
                    for name, extra in methods:
                        if extra is None:
                            results[name].append(posthoc(os.path.join(tmp, "CE", "model.safetensors"), te, 1))
                        else:
                            results[name].append(train(tr, te, os.path.join(tmp, name), seed, extra))
                print(f"IF {factor} seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in results.items()), file=sys.stderr)
            table(f"Long-tailed {dataset}, IF = {factor}, balanced test set ({lt_kw.get('per_class_test', 50)} per class), {args.seeds} seeds", results, args.seeds)
    for part, extra_all, what in (("noise", [], "Xent's defaults (early stopping on the noisy validation split)"),
                                  ("noise-long", ["--early-stopping", "0", "--epochs", "150"], "150 epochs without early stopping (the memorising regime of the papers)")):
        if args.part not in (part, "all"):
            continue
        for noise in [float(v) for v in args.noise_levels.split(",")]:
            methods = keep(NOISE_METHODS)
            results = {name: [] for name, _ in methods}
            for seed in range(args.seeds):
                with tempfile.TemporaryDirectory() as tmp:
                    tr, te = noisy_sets(df, seed, noise, tmp, **noise_kw)
                    for name, extra in methods:
                        results[name].append(train(tr, te, os.path.join(tmp, name.replace(" ", "_")), seed, ["--hidden", hidden] + extra_all + extra))
                print(f"{part} {noise} seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in results.items()), file=sys.stderr)
            table(f"{dataset} with {int(noise * 100)}% symmetric label noise, clean test set, MLP with 256 hidden units, {what}, {args.seeds} seeds", results, args.seeds)


if __name__ == "__main__":
    main()
