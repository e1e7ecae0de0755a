#!/usr/bin/env python3
"""Reference cases for Xent's training stack, from PyTorch and scikit-learn (Debian python3-torch, python3-sklearn).

Run:  /usr/bin/python3 tools/generate_training_cases.py
Writes, under tests/Xent.Tests/Golden/:
  optimizer-cases.json  parameter trajectories of torch.optim SGD/Adam/AdamW for fixed gradient sequences
  mlp-parity.json       a 64-128-10 MLP on data/digits.csv (features / 16): PyTorch's initial weights, the batch
                        order, and the per-step training loss of SGD (lr 0.1, momentum 0.9) and Adam (lr 1e-3), 50 steps
  metrics-cases.json    accuracy, per-class precision/recall/F1/support, balanced accuracy, macro-F1, confusion
                        matrix, log loss (scikit-learn) and expected calibration error (numpy, 10 equal-width bins)
"""
import csv, json, os
import numpy as np
import torch
from sklearn import metrics

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "Xent.Tests", "Golden")
os.makedirs(OUT, exist_ok=True)


def dump(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))


# 1. Optimizers: fixed parameter and gradient sequences.
torch.manual_seed(7)
p0 = torch.randn(6)
grads = [torch.randn(6) for _ in range(6)]
configs = [
    ("sgd", dict(lr=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)),
    ("adam", dict(lr=1e-3)),
    ("adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    ("adamw", dict(lr=0.01, weight_decay=0.1)),
]
cases = []
for kind, kw in configs:
    p = torch.nn.Parameter(p0.clone())
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]([p], **kw)
    traj = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        traj.append(p.detach().tolist())
    kw = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}
    cases.append(dict(optimizer=kind, options=kw, initial=p0.tolist(), gradients=[g.tolist() for g in grads], trajectory=traj))
dump("optimizer-cases.json", dict(generator=f"PyTorch {torch.__version__}", cases=cases))

# 2. MLP parity on digits.
with open(os.path.join(ROOT, "data", "digits.csv")) as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
X = torch.tensor([[float(v) for v in r[:-1]] for r in rows], dtype=torch.float32) / 16.0
y = torch.tensor([int(r[-1]) for r in rows])
torch.manual_seed(1234)
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
init = {k: v.detach().clone() for k, v in model.state_dict().items()}
g = torch.Generator().manual_seed(99)
batches = []
while len(batches) < 50:  # full batches of 64 from each epoch's permutation (the last partial batch is dropped)
    order = torch.randperm(len(y), generator=g)
    batches += [order[i * 64:(i + 1) * 64].tolist() for i in range(len(y) // 64)]
batches = batches[:50]
runs = {}
for name, make in [("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)), ("adam", lambda ps: torch.optim.Adam(ps, lr=1e-3))]:
    model.load_state_dict(init)
    opt = make(model.parameters())
    losses = []
    for b in batches:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X[b]), y[b])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    runs[name] = losses
dump("mlp-parity.json", dict(
    generator=f"PyTorch {torch.__version__}", data="data/digits.csv, features / 16", batch_size=64,
    initial={k: v.flatten().tolist() for k, v in init.items()}, shapes={k: list(v.shape) for k, v in init.items()},
    batches=batches, losses=runs))

# 3. Metrics.
rng = np.random.default_rng(5)


def ece(y_true, proba, bins=10):
    conf = proba.max(1)
    pred = proba.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        m = (conf > lo) & (conf <= hi) if i > 0 else (conf >= lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs((pred[m] == y_true[m]).mean() - conf[m].mean())
    return total


metric_cases = []
for name, n, c, skew in [("binary", 60, 2, None), ("multiclass", 120, 4, None), ("imbalanced_absent_class", 80, 3, [0.85, 0.15, 0.0])]:
    y_true = rng.choice(c, size=n, p=[0.6, 0.3, 0.1] if name == "imbalanced_absent_class" else None)
    logits = rng.normal(size=(n, c)) + 2.0 * np.eye(c)[y_true] * (rng.random(n)[:, None] < 0.7)
    if skew is not None:
        logits[:, 2] -= 10  # class 2 is never predicted
    proba = np.exp(logits - logits.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    y_pred = proba.argmax(1)
    labels = list(range(c))
    p, r, f, s = metrics.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    metric_cases.append(dict(
        name=name, classes=c, y_true=y_true.tolist(), y_pred=y_pred.tolist(), proba=proba.tolist(),
        accuracy=metrics.accuracy_score(y_true, y_pred),
        precision=p.tolist(), recall=r.tolist(), f1=f.tolist(), support=s.tolist(),
        balanced_accuracy=metrics.balanced_accuracy_score(y_true, y_pred),
        macro_f1=metrics.f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0),
        weighted_f1=metrics.f1_score(y_true, y_pred, average="weighted", labels=labels, zero_division=0),
        confusion=metrics.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        log_loss=metrics.log_loss(y_true, proba, labels=labels),
        ece=ece(y_true, proba),
        report=metrics.classification_report(y_true, y_pred, labels=labels, digits=4, zero_division=0)))
dump("metrics-cases.json", dict(generator="scikit-learn " + __import__("sklearn").__version__, cases=metric_cases))
print("wrote optimizer-cases.json, mlp-parity.json, metrics-cases.json")
