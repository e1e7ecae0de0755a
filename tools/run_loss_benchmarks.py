#!/usr/bin/python3
"""Long-tailed and noisy-label benchmarks of Xent's losses, 10 seeds each, on balanced (clean) test sets.

Long tail: for each seed, digits is split into a balanced test set (50 rows per class) and a training pool; the
training set keeps n_c = floor(n_max * IF^(-c/9)) rows of class c (class order shuffled by the seed) for IF = 10, 50,
100. Each method trains with `xent train --data lt.csv --test-data balanced.csv --seed SEED` and Xent's defaults.
"CE + post-hoc LA" is the CE model scored by `xent evaluate --logit-adjust 1`.

Noise: for each seed, digits is split into a stratified 80/20 train/test; a fraction (20% or 40%) of the training
labels is replaced by a uniformly drawn other class (symmetric noise); the test labels stay clean. MLP 64-256-10.

Protocols (every method of a table trains under the same one; a method's own options, e.g. LDAM-DRW's, come on top):
    longtail        Xent's defaults: Adam 1e-3, batch 32, at most 200 epochs, early stopping on the validation loss
                    (patience 10) of a 10% validation split of the long-tailed training set.
    longtail-fixed  the same without early stopping: 60 epochs for every method (the budget LDAM-DRW has in both).
    noise           Xent's defaults (early stopping on the noisy validation split).
    noise-long      150 epochs without early stopping, Adam 1e-3, batch 32 (the memorising regime).
    noise-long-sgd  noise-long with SGD (momentum 0.9, lr 0.01, constant) instead of Adam: only the optimizer changes.
    noise-paper     the training recipe of the GCE paper (Zhang & Sabuncu 2018, CIFAR): SGD, momentum 0.9, lr 0.01,
                    weight decay 1e-4, batch 128, 120 epochs, lr x0.1 at epochs 40 and 80, no early stopping.

Prints markdown tables (mean ± std of test balanced accuracy over the seeds, and a paired t-test against CE) for
docs/experiments.md. Usage, after `dotnet build -c Release src/Xent.Cli`:
    /usr/bin/python3 tools/run_loss_benchmarks.py [--seeds 10] [--part PROTOCOL|all] [--threads 1]
`--part all` runs longtail, noise and noise-long (the first tables); the other protocols run when named.
Diagnostics: `--first-seed 100 --seeds 5` (seeds apart from the tables' 0-9), `--extra "--epochs 50"` (xent options,
with values, on top of the protocol for every method), `--methods "NAME;NAME"` (CE always runs), `--factors 50`.
Needs Debian's python3-pandas, python3-sklearn and python3-scipy.
"""
import argparse
import gzip
import json
import os
import re
import shlex
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

# Run only when named in --methods (diagnostics): logit adjustment with a larger τ, and combined with DRW.
EXTRA_LONG_TAIL_METHODS = [
    ("logit-adjusted loss τ = 2", ["--loss", "logit-adjusted:tau=2"]),
    ("logit-adjusted loss τ = 1 + DRW", ["--loss", "logit-adjusted:tau=1", "--drw-epoch", "30"]),
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


LONG_TAIL_PROTOCOLS = {
    "longtail": ([], "Xent's defaults (early stopping on the validation loss)"),
    "longtail-fixed": (["--early-stopping", "0", "--epochs", "60"], "60 epochs without early stopping for every method"),
}

NOISE_PROTOCOLS = {
    "noise": ([], "Xent's defaults (early stopping on the noisy validation split)"),
    "noise-long": (["--early-stopping", "0", "--epochs", "150"], "150 epochs without early stopping (the memorising regime of the papers)"),
    "noise-long-sgd": (["--early-stopping", "0", "--epochs", "150", "--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9"],
                       "150 epochs without early stopping, SGD (momentum 0.9, lr 0.01) instead of Adam"),
    "noise-paper": (["--early-stopping", "0", "--epochs", "120", "--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9",
                     "--weight-decay", "1e-4", "--batch-size", "128", "--schedule", "step:40:0.1"],
                    "the GCE paper's recipe (SGD, momentum 0.9, lr 0.01, weight decay 1e-4, batch 128, 120 epochs, lr ×0.1 at 40 and 80)"),
}

THREADS = ["--threads", "1"]


def merge(protocol, method):
    """The protocol's options with the method's own on top (a method option replaces the protocol's same option)."""
    own = {method[i] for i in range(0, len(method), 2) if method[i].startswith("--")}
    out, i = [], 0
    while i < len(protocol):
        if protocol[i] in own:
            i += 2
            continue
        out += protocol[i:i + 2]
        i += 2
    return out + method


def train(train_csv, test_csv, out, seed, extra):
    run(["train", "--data", train_csv, "--test-data", test_csv, "--out", out, "--seed", str(seed)] + THREADS + extra)
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
    ap.add_argument("--methods", default="", help="names to run, separated by ';' (CE always runs, as the baseline)")
    ap.add_argument("--factors", default="10,50,100", help="comma-separated imbalance factors for the long-tail parts")
    ap.add_argument("--threads", type=int, default=1, help="xent's --threads (results do not depend on it)")
    ap.add_argument("--first-seed", type=int, default=0, help="seeds FIRST .. FIRST+SEEDS-1 (diagnostics use 100 on, apart from the tables' 0-9)")
    ap.add_argument("--extra", default="", help="more xent train options for every method of the part, on top of its protocol, e.g. \"--epochs 50\"")
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
    wanted = [m.strip() for m in args.methods.split(";") if m.strip()]

    def keep(methods):
        return [m for m in methods if not wanted or m[0] == "CE" or m[0] in wanted]
    global THREADS
    THREADS = ["--threads", str(args.threads)]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    extra_cli = shlex.split(args.extra)
    note = f", with {args.extra} on top of the protocol" if args.extra else ""
    for part, (lt_extra, lt_what) in LONG_TAIL_PROTOCOLS.items():
        if args.part != part and not (args.part == "all" and part == "longtail"):
            continue
        for factor in [int(v) for v in args.factors.split(",")]:
            methods = keep(LONG_TAIL_METHODS) + [m for m in EXTRA_LONG_TAIL_METHODS if m[0] in wanted]
            results = {name: [] for name, _ in methods}
            for seed in seeds:
                with tempfile.TemporaryDirectory() as tmp:
                    tr, te = long_tail_sets(df, seed, factor, tmp, **lt_kw)
                    for name, extra in methods:
                        if extra is None:
                            results[name].append(posthoc(os.path.join(tmp, "CE", "model.safetensors"), te, 1))
                        else:
                            results[name].append(train(tr, te, os.path.join(tmp, name), seed, merge(merge(lt_extra, extra_cli), extra)))
                print(f"{part} IF {factor} seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in results.items()), file=sys.stderr)
            what = "" if part == "longtail" else f", {lt_what}"
            table(f"Long-tailed {dataset}, IF = {factor}, balanced test set ({lt_kw.get('per_class_test', 50)} per class){what}{note}, {args.seeds} seeds{'' if args.first_seed == 0 else f' ({seeds[0]}–{seeds[-1]})'}", results, args.seeds)
    for part, (extra_all, what) in NOISE_PROTOCOLS.items():
        if args.part != part and not (args.part == "all" and part in ("noise", "noise-long")):
            continue
        for noise in [float(v) for v in args.noise_levels.split(",")]:
            methods = keep(NOISE_METHODS)
            results = {name: [] for name, _ in methods}
            for seed in seeds:
                with tempfile.TemporaryDirectory() as tmp:
                    tr, te = noisy_sets(df, seed, noise, tmp, **noise_kw)
                    for name, extra in methods:
                        results[name].append(train(tr, te, os.path.join(tmp, name.replace(" ", "_")), seed, ["--hidden", hidden] + merge(merge(extra_all, extra_cli), extra)))
                print(f"{part} {noise} seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in results.items()), file=sys.stderr)
            table(f"{dataset} with {int(noise * 100)}% symmetric label noise, clean test set, MLP with 256 hidden units, {what}{note}, {args.seeds} seeds{'' if args.first_seed == 0 else f' ({seeds[0]}–{seeds[-1]})'}", results, args.seeds)


if __name__ == "__main__":
    main()
