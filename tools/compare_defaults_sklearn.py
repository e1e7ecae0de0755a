#!/usr/bin/python3
"""Xent's default settings against scikit-learn's MLPClassifier(64), on the same stratified splits, over 10 seeds.

For each dataset and seed: sklearn's train_test_split(test_size=0.2, stratify=y, random_state=seed) makes a train and
a test file; scikit-learn fits its pipeline on the train file (StandardScaler + MLPClassifier(hidden_layer_sizes=(64,))
for numeric data; SimpleImputer + OneHotEncoder + StandardScaler for mixed data) and `xent train --data train.csv
--test-data test.csv` trains with its defaults (plus --class-weights balanced where the table says so). Both are
scored on the test file. Prints a markdown table (mean ± std, and a paired t-test on accuracy) for docs/experiments.md.

Usage (from the repository root, after `dotnet build -c Release src/Xent.Cli`):
    /usr/bin/python3 tools/compare_defaults_sklearn.py [--seeds 10] [--only iris,wine]
Needs Debian's python3-sklearn and python3-pandas; data/glass.csv and data/penguins_raw.csv come from
tools/export_r_datasets.sh and are committed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XENT = ["dotnet", os.path.join(ROOT, "src/Xent.Cli/bin/Release/net10.0/Xent.Cli.dll")]
PENGUIN_DROP = ["studyName", "Sample Number", "Individual ID", "Date Egg", "Comments"]


def sklearn_frame(loader):
    d = loader(as_frame=True)
    df = d.frame.rename(columns={"target": "label"})
    return df


def datasets():
    glass = pd.read_csv(os.path.join(ROOT, "data/glass.csv"))
    penguins = pd.read_csv(os.path.join(ROOT, "data/penguins_raw.csv")).rename(columns={"Species": "label"})
    return {
        "iris": (sklearn_frame(load_iris), []),
        "wine": (sklearn_frame(load_wine), []),
        "breast_cancer": (sklearn_frame(load_breast_cancer), []),
        "digits": (sklearn_frame(load_digits), []),
        "glass (balanced weights)": (glass, ["--class-weights", "balanced"]),
        "penguins_raw (mixed)": (penguins, ["--drop", ",".join(PENGUIN_DROP)]),
    }


def sklearn_pipeline(train, seed):
    x = train.drop(columns=["label"] + [c for c in PENGUIN_DROP if c in train.columns])
    numeric = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
    categorical = [c for c in x.columns if c not in numeric]
    if categorical or x[numeric].isna().any().any():
        pre = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), categorical),
        ])
    else:
        pre = StandardScaler()
    return make_pipeline(pre, MLPClassifier(hidden_layer_sizes=(64,), random_state=seed)), list(x.columns)


def run_xent(train_path, test_path, out, seed, extra):
    cmd = XENT + ["train", "--data", train_path, "--test-data", test_path, "--out", out, "--seed", str(seed)] + extra
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"xent failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    with open(os.path.join(out, "metrics.json")) as f:
        m = json.load(f)
    return m["accuracy"], m["balanced_accuracy"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rows = []
    for name, (df, extra) in datasets().items():
        if args.only and not any(name.startswith(o) for o in args.only.split(",")):
            continue
        sk_acc, sk_bal, xe_acc, xe_bal = [], [], [], []
        for seed in range(args.seeds):
            train, test = train_test_split(df, test_size=0.2, stratify=df["label"], random_state=seed)
            with tempfile.TemporaryDirectory() as tmp:
                tr, te = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
                train.to_csv(tr, index=False)
                test.to_csv(te, index=False)
                model, cols = sklearn_pipeline(train, seed)
                model.fit(train[cols], train["label"])
                pred = model.predict(test[cols])
                sk_acc.append(accuracy_score(test["label"], pred))
                sk_bal.append(balanced_accuracy_score(test["label"], pred))
                a, b = run_xent(tr, te, os.path.join(tmp, "run"), seed, extra)
                xe_acc.append(a)
                xe_bal.append(b)
            print(f"{name} seed {seed}: sklearn {sk_acc[-1]:.4f}/{sk_bal[-1]:.4f}  xent {xe_acc[-1]:.4f}/{xe_bal[-1]:.4f}", file=sys.stderr)
        t = stats.ttest_rel(xe_acc, sk_acc) if np.std(np.array(xe_acc) - np.array(sk_acc)) > 0 else None
        rows.append((name, sk_acc, sk_bal, xe_acc, xe_bal, t))

    def ms(v):
        return f"{100 * np.mean(v):.1f} ± {100 * np.std(v, ddof=1):.1f}"

    print(f"| dataset | scikit-learn accuracy | Xent accuracy | difference (Xent − sklearn) | paired t-test p | scikit-learn balanced acc. | Xent balanced acc. |")
    print("|---|---|---|---|---|---|---|")
    for name, sa, sb, xa, xb, t in rows:
        diff = 100 * (np.mean(xa) - np.mean(sa))
        p = f"{t.pvalue:.2f}" if t is not None else "—"
        print(f"| {name} | {ms(sa)} | {ms(xa)} | {diff:+.1f} | {p} | {ms(sb)} | {ms(xb)} |")


if __name__ == "__main__":
    main()
