#!/usr/bin/env python3
"""Reference values for Xent's ranking metrics (ROC AUC, average precision), from scikit-learn.

Run:  /usr/bin/python3 tools/generate_ranking_cases.py
Writes tests/Xent.Tests/Golden/ranking-cases.json: for each case the true classes, the n x C probabilities (float32
values, written exactly, so that Xent's float probabilities hold the same numbers and the same ties), and

  roc_auc            binary: roc_auc_score(y, P[:, 1]); multi-class: roc_auc_score(y, P, multi_class="ovr", average="macro")
  average_precision  binary: average_precision_score(y, P[:, 1]);
                     multi-class: average_precision_score(label_binarize(y, classes=range(C)), P, average="macro")
  per_class_roc_auc, per_class_average_precision   one-vs-rest, class k against the rest, scored by P[:, k]
  roc_fpr, roc_tpr, roc_thresholds (binary only)   roc_curve(y, P[:, 1], drop_intermediate=False)
  pr_precision, pr_recall (binary only)            precision_recall_curve(y, P[:, 1])

Every case has every class in y, so that scikit-learn defines every value (it refuses a class without rows).
"""
import json, os
import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score, average_precision_score, roc_curve, precision_recall_curve
from sklearn.preprocessing import label_binarize

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "Xent.Tests", "Golden", "ranking-cases.json")


def softmax32(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def binary_proba(p1):
    p1 = np.asarray(p1, dtype=np.float32)
    return np.stack([np.float32(1) - p1, p1], axis=1).astype(np.float32)


rng = np.random.default_rng(9)
inputs = []

# Binary, by hand: a tie between a positive and a negative, and a tie between two positives.
inputs.append(("binary with ties", np.array([0, 0, 1, 1, 0, 1, 1, 0]), binary_proba([0.1, 0.4, 0.4, 0.8, 0.3, 0.8, 0.65, 0.05])))

# Binary, 200 rows, scores on a 0.05 grid: many ties; positives score higher on average.
y = rng.integers(0, 2, 200)
p1 = np.clip(np.round((0.35 + 0.3 * y + rng.normal(0, 0.2, 200)) * 20) / 20, 0, 1)
inputs.append(("binary, 200 rows, many ties", y, binary_proba(p1)))

# Binary, imbalanced (10% positive), continuous scores.
y = (rng.random(300) < 0.1).astype(int)
p1 = 1 / (1 + np.exp(-(rng.normal(0, 1, 300) + 1.5 * y)))
inputs.append(("binary, 300 rows, 10% positive", y, binary_proba(p1)))

# Binary, perfectly separated; and binary, every score equal.
inputs.append(("binary, separated", np.array([0, 1, 0, 1, 1, 0]), binary_proba([0.2, 0.9, 0.1, 0.7, 0.8, 0.3])))
inputs.append(("binary, constant scores", np.array([0, 1, 0, 1, 1, 0, 0]), binary_proba([0.5] * 7)))

# Three classes, 150 rows, continuous.
y = np.repeat(np.arange(3), 50)
rng.shuffle(y)
logits = rng.normal(0, 1, (150, 3))
logits[np.arange(150), y] += 1.2
inputs.append(("3 classes, 150 rows", y, softmax32(logits)))

# Four classes, 120 rows, logits on a coarse grid: repeated rows, so ties within each column.
y = rng.integers(0, 4, 120)
y[:4] = np.arange(4)
logits = np.round(rng.normal(0, 1, (120, 4)) * 2) / 2
logits[np.arange(120), y] += 1.0
inputs.append(("4 classes, 120 rows, ties", y, softmax32(logits)))

# Ten classes, 400 rows, unbalanced.
y = np.minimum(9, rng.geometric(0.25, 400) - 1)
y[:10] = np.arange(10)
logits = rng.normal(0, 1.5, (400, 10))
logits[np.arange(400), y] += 2.0
inputs.append(("10 classes, 400 rows, unbalanced", y, softmax32(logits)))

cases = []
for name, y, P in inputs:
    C = P.shape[1]
    assert sorted(set(y.tolist())) == list(range(C))
    Pd = P.astype(np.float64)  # exactly the float32 values
    Y = label_binarize(y, classes=list(range(C)))
    if C == 2:
        Y = np.stack([1 - y, y], axis=1)
    case = dict(name=name, classes=C, y_true=y.tolist(), proba=[[float(v) for v in row] for row in Pd])
    case["per_class_roc_auc"] = [roc_auc_score(Y[:, k], Pd[:, k]) for k in range(C)]
    case["per_class_average_precision"] = [average_precision_score(Y[:, k], Pd[:, k]) for k in range(C)]
    if C == 2:
        case["roc_auc"] = roc_auc_score(y, Pd[:, 1])
        case["average_precision"] = average_precision_score(y, Pd[:, 1])
        fpr, tpr, thr = roc_curve(y, Pd[:, 1], drop_intermediate=False)
        case["roc_fpr"], case["roc_tpr"] = fpr.tolist(), tpr.tolist()
        case["roc_thresholds"] = [t if np.isfinite(t) else None for t in thr.tolist()]
        precision, recall, _ = precision_recall_curve(y, Pd[:, 1])
        case["pr_precision"], case["pr_recall"] = precision.tolist(), recall.tolist()
    else:
        case["roc_auc"] = roc_auc_score(y, Pd, multi_class="ovr", average="macro")
        case["average_precision"] = average_precision_score(Y, Pd, average="macro")
    cases.append(case)

with open(OUT, "w") as f:
    json.dump(dict(generator="scikit-learn " + sklearn.__version__, cases=cases), f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.relpath(OUT, ROOT)}")
