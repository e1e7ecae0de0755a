#!/usr/bin/python3
"""Golden cases for the losses beyond PyTorch's weight= (float32 cases: float32 inputs, float64 reference): focal, logit-adjusted, balanced softmax, LDAM, GCE, SCE,
poly1 and the z-loss term, each written here with PyTorch autograd from its formula (PyTorch 1.13, Debian's
python3-torch). Writes tests/Xent.Tests/Golden/pytorch-1.13-classification-losses.json: per case the loss text as
`xent train --loss` reads it, the input, the targets, optional class weights, ignore_index, reduction, z-loss
coefficient and class counts, the dtype, and the expected loss and gradient.

Usage: /usr/bin/python3 tools/generate_loss_golden.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests/Xent.Tests/Golden/pytorch-1.13-classification-losses.json")


def move_classes_last(z):
    # (N, C, d1..dk) -> (N*d1*..dk, C); (C) -> (1, C)
    if z.dim() == 1:
        return z.unsqueeze(0)
    if z.dim() == 2:
        return z
    return z.movedim(1, -1).reshape(-1, z.shape[1])


def per_position(z, y, fn):
    """fn(logits rows (P, C), targets (P)) -> per-position loss (P)."""
    return fn(move_classes_last(z), y.reshape(-1))


def reduce(losses, y, weight, ignore, reduction, normalise_by_positions):
    y = y.reshape(-1)
    keep = y != ignore
    w = torch.ones_like(losses) if weight is None else weight[torch.where(keep, y, torch.zeros_like(y))]
    w = torch.where(keep, w, torch.zeros_like(w))
    weighted = losses * w
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    denominator = keep.sum().to(losses.dtype) if normalise_by_positions else w.sum()
    return weighted.sum() / denominator


def safe_targets(y, ignore):
    return torch.where(y == ignore, torch.zeros_like(y), y)


def focal(gamma):
    def fn(z, y):
        logp = F.log_softmax(z, dim=1).gather(1, y.unsqueeze(1)).squeeze(1)
        return -((1 - logp.exp()) ** gamma) * logp
    return fn


def shifted_ce(offset):
    def fn(z, y):
        return F.cross_entropy(z + offset, y, reduction="none")
    return fn


def ldam(counts, max_margin, scale):
    m = 1.0 / torch.tensor(counts, dtype=torch.float64).sqrt().sqrt()
    m = m * (max_margin / m.max())

    def fn(z, y):
        margin = m.to(z.dtype)[y]
        onehot = F.one_hot(y, z.shape[1]).to(z.dtype)
        return F.cross_entropy(scale * (z - onehot * margin.unsqueeze(1)), y, reduction="none")
    return fn


def gce(q):
    def fn(z, y):
        p = F.softmax(z, dim=1).gather(1, y.unsqueeze(1)).squeeze(1)
        return (1 - p ** q) / q
    return fn


def sce(alpha, beta, a):
    def fn(z, y):
        ce = F.cross_entropy(z, y, reduction="none")
        p = F.softmax(z, dim=1).gather(1, y.unsqueeze(1)).squeeze(1)
        return alpha * ce - beta * a * (1 - p)
    return fn


def poly1(eps):
    def fn(z, y):
        ce = F.cross_entropy(z, y, reduction="none")
        p = F.softmax(z, dim=1).gather(1, y.unsqueeze(1)).squeeze(1)
        return ce + eps * (1 - p)
    return fn


def with_z_loss(fn, coef):
    def g(z, y):
        return fn(z, y) + coef * torch.logsumexp(z, dim=1) ** 2
    return g


def spec_for(name, params):
    return name if not params else name + ":" + ",".join(f"{k}={v!r}" for k, v in params.items())


def make_case(gen, name, loss, params, shape, classes, counts=None, weight=None, ignore=-100, reduction="mean",
              z_loss=0.0, scale_logits=2.0, ignore_some=False):
    cases = []
    n = shape[0] if len(shape) > 1 else 1
    tshape = (1,) if len(shape) == 1 else (shape[0],) + tuple(shape[2:])
    z64 = torch.randn(shape, generator=gen, dtype=torch.float64) * scale_logits
    y = torch.randint(0, classes, tshape, generator=gen)
    if ignore_some:
        y.view(-1)[0] = ignore
    for dtype, tag in ((torch.float32, "float32"), (torch.float64, "float64")):
        # The float32 case's reference is float64 autograd on the float32-rounded inputs: the exact value that a
        # float32 result is then compared with (PyTorch's own float32 arithmetic is ~1e-6 off at scale 30).
        z = z64.to(dtype).to(torch.float64).clone().requires_grad_(True)
        w = None if weight is None else torch.tensor(weight, dtype=torch.float64)
        ys = safe_targets(y, ignore)
        fn = make_fn(loss, params, counts, torch.float64)
        if z_loss:
            fn = with_z_loss(fn, z_loss)
        per = per_position(z, ys, fn)
        out = reduce(per, y, w, ignore, reduction, loss == "focal")
        if reduction == "none":
            out.backward(torch.ones_like(out))
        else:
            out.backward()
        cases.append({
            "name": name,
            "loss": spec_for(loss, params),
            "input": z.detach().tolist(),
            "target": y.tolist(),
            "weight": weight,
            "ignore_index": ignore,
            "reduction": reduction,
            "z_loss": z_loss,
            "class_counts": counts,
            "dtype": tag,
            "expected_loss": out.detach().tolist(),
            "expected_grad": z.grad.tolist(),
        })
    return cases


def make_fn(loss, params, counts, dtype):
    if loss == "focal":
        return focal(params.get("gamma", 2.0))
    if loss == "logit-adjusted":
        c = torch.tensor(counts, dtype=torch.float64)
        return shifted_ce((params.get("tau", 1.0) * (c / c.sum()).log()).to(dtype))
    if loss == "balanced-softmax":
        return shifted_ce(torch.tensor(counts, dtype=torch.float64).log().to(dtype))
    if loss == "ldam":
        return ldam(counts, params.get("max-margin", 0.5), params.get("scale", 30.0))
    if loss == "gce":
        return gce(params.get("q", 0.7))
    if loss == "sce":
        return sce(params.get("alpha", 0.1), params.get("beta", 1.0), params.get("a", -4.0))
    if loss == "poly1":
        return poly1(params.get("epsilon", 1.0))
    if loss == "cross-entropy":
        return lambda z, y: F.cross_entropy(z, y, reduction="none")
    raise ValueError(loss)


def sigmoid_focal_cases(gen):
    """torchvision.ops.sigmoid_focal_loss, written out (torchvision is not packaged with Debian's torch)."""
    cases = []
    for alpha, gamma, reduction in [(0.25, 2.0, "none"), (0.25, 2.0, "mean"), (-1.0, 2.0, "sum"), (0.5, 0.0, "mean"), (0.75, 1.5, "mean")]:
        x64 = torch.randn((4, 3), generator=gen, dtype=torch.float64) * 3
        t = (torch.rand((4, 3), generator=gen, dtype=torch.float64) > 0.5).to(torch.float64)
        t[0, 0] = 0.3  # a soft target
        for dtype, tag in ((torch.float32, "float32"), (torch.float64, "float64")):
            x = x64.to(dtype).to(torch.float64).clone().requires_grad_(True)
            p = torch.sigmoid(x)
            ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
            p_t = p * t + (1 - p) * (1 - t)
            loss = ce * ((1 - p_t) ** gamma)
            if alpha >= 0:
                loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
            out = loss if reduction == "none" else loss.mean() if reduction == "mean" else loss.sum()
            out.backward(torch.ones_like(out) if reduction == "none" else None)
            cases.append({"name": f"sigmoid focal alpha {alpha} gamma {gamma} {reduction}", "loss": "sigmoid_focal", "alpha": alpha, "gamma": gamma,
                          "input": x.detach().tolist(), "target": t.tolist(), "reduction": reduction, "dtype": tag,
                          "weight": None, "ignore_index": -100, "z_loss": 0.0, "class_counts": None,
                          "expected_loss": out.detach().tolist(), "expected_grad": x.grad.tolist()})
    return cases


def main():
    gen = torch.Generator().manual_seed(20261129)
    counts5 = [500, 120, 40, 12, 3]
    counts3 = [70, 20, 10]
    cases = []
    for loss, params, counts in [
        ("focal", {"gamma": 2.0}, None), ("focal", {"gamma": 0.5}, None), ("focal", {"gamma": 0.0}, None),
        ("logit-adjusted", {"tau": 1.0}, counts5), ("logit-adjusted", {"tau": 0.5}, counts5),
        ("balanced-softmax", {}, counts5),
        ("ldam", {"max-margin": 0.5, "scale": 30.0}, counts5), ("ldam", {"max-margin": 0.3, "scale": 10.0}, counts5),
        ("gce", {"q": 0.7}, None), ("gce", {"q": 0.3}, None),
        ("sce", {"alpha": 0.1, "beta": 1.0, "a": -4.0}, None), ("sce", {"alpha": 1.0, "beta": 0.5, "a": -6.0}, None),
        ("poly1", {"epsilon": 1.0}, None), ("poly1", {"epsilon": -0.5}, None),
    ]:
        base = f"{loss} {params}"
        cases += make_case(gen, base + " (6,5)", loss, params, (6, 5), 5, counts)
        cases += make_case(gen, base + " weighted", loss, params, (6, 5), 5, counts, weight=[0.5, 1.0, 2.0, 3.0, 0.25])
        cases += make_case(gen, base + " sum", loss, params, (6, 5), 5, counts, reduction="sum")
        cases += make_case(gen, base + " none", loss, params, (4, 5), 5, counts, reduction="none")
        cases += make_case(gen, base + " K-dim (3,5,4) with an ignored position", loss, params, (3, 5, 4), 5, counts, ignore=-1, ignore_some=True)
        cases += make_case(gen, base + " unbatched (5)", loss, params, (5,), 5, counts)
        if not (loss == "focal" and params["gamma"] < 1):
            # With γ < 1, autograd of (1 − p)^γ at p = 1 is 0·∞ = NaN; Xent takes the limit, 0.
            cases += make_case(gen, base + " large logits", loss, params, (4, 5), 5, counts, scale_logits=30.0)
    cases += make_case(gen, "cross-entropy with z-loss 1e-3", "cross-entropy", {}, (6, 5), 5, z_loss=1e-3)
    cases += make_case(gen, "focal with z-loss 1e-2, weighted", "focal", {"gamma": 2.0}, (6, 5), 5, weight=[1, 2, 1, 0.5, 1], z_loss=1e-2)
    cases += make_case(gen, "gce with z-loss 1e-4, K-dim", "gce", {"q": 0.7}, (2, 3, 5), 3, z_loss=1e-4)
    cases += make_case(gen, "logit-adjusted 3 classes 70/20/10", "logit-adjusted", {"tau": 1.0}, (8, 3), 3, counts3)
    cases += sigmoid_focal_cases(gen)
    with open(OUT, "w") as f:
        json.dump({"source": "tools/generate_loss_golden.py, PyTorch " + torch.__version__, "cases": cases}, f)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
