#!/usr/bin/env python3
"""Generates tests/Xent.Tests/Golden/xent-extra-cases.json with PyTorch (Debian python3-torch, CPU).

Run with /usr/bin/python3 (Debian's PyTorch 1.13):  /usr/bin/python3 tools/generate_golden.py
The output uses the golden format of ../shared/golden: each case has input, target, target_dtype, weight,
pos_weight, ignore_index, reduction, label_smoothing, dtype, input_shape and target_shape (needed when a
dimension is 0, which nested JSON arrays cannot show), and either loss + grad (grad is d(sum of the
loss outputs)/d(input)) or the exact PyTorch error. "function" names the loss: cross_entropy, nll or
bce_with_logits. NaN and infinities are written as the strings "nan", "inf", "-inf".
"""
import itertools, json, math, os, sys
import torch
import torch.nn.functional as F

torch.manual_seed(20261122)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Xent.Tests", "Golden", "xent-extra-cases.json")


def nanfix(v):
    if isinstance(v, list):
        return [nanfix(a) for a in v]
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return str(v)
    return v


cases = []


def add(name, function, x, target, weight=None, pos_weight=None, **kw):
    for dtype in (torch.float64, torch.float32):
        xx = x.clone().to(dtype).requires_grad_(True)
        tgt = target.to(dtype) if target.is_floating_point() else target
        args = dict(kw)
        if weight is not None:
            args["weight"] = weight.to(dtype)
        if pos_weight is not None:
            args["pos_weight"] = pos_weight.to(dtype)
        try:
            if function == "cross_entropy":
                out = F.cross_entropy(xx, tgt, **args)
            elif function == "nll":
                out = F.nll_loss(xx, tgt, **args)
            else:
                out = F.binary_cross_entropy_with_logits(xx, tgt, **args)
            out.sum().backward()
            res = dict(loss=nanfix(out.detach().tolist()), grad=nanfix(xx.grad.tolist()))
        except Exception as e:  # the exact PyTorch error
            res = dict(error=f"{type(e).__name__}: {e}")
        cases.append(dict(
            name=name, function=function, dtype=str(dtype).replace("torch.", ""),
            input=nanfix(x.tolist()), input_shape=list(x.shape), target=nanfix(target.tolist()), target_shape=list(target.shape),
            target_dtype=str(target.dtype).replace("torch.", ""),
            weight=None if weight is None else weight.tolist(),
            pos_weight=None if pos_weight is None else pos_weight.tolist(),
            ignore_index=kw.get("ignore_index", -100), reduction=kw.get("reduction", "mean"),
            label_smoothing=kw.get("label_smoothing", 0.0), **res))


# 1. The full matrix on (N, C) and on a 3-D K-dim input: reduction x weight x ignore x smoothing x target kind.
for layout, (shape, tshape) in {"2d": ((6, 4), (6,)), "3d": ((3, 4, 5), (3, 5))}.items():
    x = torch.randn(*shape, dtype=torch.float64)
    c = shape[1]
    y = torch.randint(0, c, tshape)
    y_ign = y.clone().flatten()
    y_ign[::3] = -100
    y_ign = y_ign.view(tshape)
    probs = torch.softmax(torch.randn(*shape, dtype=torch.float64), 1)
    w = torch.rand(c, dtype=torch.float64) * 2 + 0.25
    for red, weighted, ignore, ls, kind in itertools.product(["none", "sum", "mean"], [False, True], [False, True], [0.0, 0.2], ["index", "prob"]):
        if kind == "prob" and ignore:
            continue  # ignore_index is not supported with probability targets (covered by an error case)
        target = probs if kind == "prob" else (y_ign if ignore else y)
        add(f"matrix_{layout}_{kind}_{red}_w{int(weighted)}_ign{int(ignore)}_ls{ls}", "cross_entropy", x, target,
            weight=w if weighted else None, reduction=red, label_smoothing=ls)

# 2. K-dim up to 5-D (N, C, d1, d2, d3), with weights, ignore and smoothing, and probability targets.
x4 = torch.randn(2, 3, 2, 3, dtype=torch.float64)
y4 = torch.randint(0, 3, (2, 2, 3)); y4[0, 1, 2] = -100
add("kdim4_w_ign_ls_mean", "cross_entropy", x4, y4, weight=torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64), label_smoothing=0.15)
add("kdim4_none", "cross_entropy", x4, y4, reduction="none")
x5 = torch.randn(2, 3, 2, 2, 3, dtype=torch.float64)
y5 = torch.randint(0, 3, (2, 2, 2, 3)); y5[1, 0, 1, 0] = -100
add("kdim5_w_ign_mean", "cross_entropy", x5, y5, weight=torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64))
add("kdim5_ls_sum", "cross_entropy", x5, y5, label_smoothing=0.3, reduction="sum")
add("kdim5_none", "cross_entropy", x5, y5, reduction="none")
add("kdim5_prob_w_mean", "cross_entropy", x5, torch.softmax(torch.randn(2, 3, 2, 2, 3, dtype=torch.float64), 1), weight=torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64))
# The user's case: 16 sequences x 2 classes x 140 segments at 3:137, weighted.
xs = torch.randn(16, 2, 140, dtype=torch.float64)
ys = (torch.rand(16, 140) < 3 / 140).long()
add("kdim_16x2x140_weighted_mean", "cross_entropy", xs, ys, weight=torch.tensor([3 / 140, 137 / 140], dtype=torch.float64) ** -1)

# 3. Extreme logits and special values.
xe = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [1e30, 0.0, -1e30], [88.0, -88.0, 0.0]], dtype=torch.float64)
add("extreme_idx_mean", "cross_entropy", xe, torch.tensor([1, 1, 2, 0]))
add("extreme_idx_ls_none", "cross_entropy", xe, torch.tensor([0, 2, 1, 1]), reduction="none", label_smoothing=0.1)
add("extreme_prob_sum", "cross_entropy", xe, torch.softmax(torch.randn(4, 3, dtype=torch.float64), 1), reduction="sum")
ninf = float("-inf")
xm = torch.tensor([[0.5, ninf, 1.0], [ninf, 2.0, ninf], [0.1, 0.2, 0.3]], dtype=torch.float64)
add("neginf_mask_idx_none", "cross_entropy", xm, torch.tensor([0, 1, 2]), reduction="none")
add("neginf_mask_ls_none", "cross_entropy", xm, torch.tensor([0, 1, 2]), reduction="none", label_smoothing=0.1)
add("neginf_mask_ls_ignored_row", "cross_entropy", xm, torch.tensor([0, -100, 2]), reduction="sum", label_smoothing=0.1)
add("neginf_on_target", "cross_entropy", xm, torch.tensor([1, 1, 2]), reduction="none")
add("neginf_prob_zero_target", "cross_entropy", xm, torch.tensor([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], dtype=torch.float64), reduction="none")
xn = torch.tensor([[ninf, ninf, ninf], [0.3, float("nan"), 0.1], [0.2, 0.4, 0.6]], dtype=torch.float64)
add("ignored_rows_with_nan_or_all_neginf", "cross_entropy", xn, torch.tensor([-100, -100, 1]), reduction="sum")
add("empty_batch_mean", "cross_entropy", torch.zeros(0, 4, dtype=torch.float64), torch.zeros(0, dtype=torch.long))
add("empty_batch_sum", "cross_entropy", torch.zeros(0, 4, dtype=torch.float64), torch.zeros(0, dtype=torch.long), reduction="sum")
add("ls_one_uniform", "cross_entropy", torch.randn(3, 4, dtype=torch.float64), torch.tensor([0, 3, 1]), label_smoothing=1.0)
add("ls_negative_is_zero", "cross_entropy", torch.randn(3, 4, dtype=torch.float64), torch.tensor([0, 3, 1]), label_smoothing=-0.1)
add("ignore_index_in_range_ls_w", "cross_entropy", torch.randn(4, 3, dtype=torch.float64), torch.tensor([0, 1, 2, 1]), weight=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64), ignore_index=1, label_smoothing=0.2)
add("unbatched_ls_w_sum", "cross_entropy", torch.randn(5, dtype=torch.float64), torch.tensor(2), weight=torch.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=torch.float64), reduction="sum", label_smoothing=0.2)
add("unbatched_none", "cross_entropy", torch.randn(5, dtype=torch.float64), torch.tensor(4), reduction="none")
add("unbatched_prob_w_mean", "cross_entropy", torch.randn(5, dtype=torch.float64), torch.softmax(torch.randn(5, dtype=torch.float64), 0), weight=torch.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=torch.float64))
add("large_c_1000_ls_w", "cross_entropy", torch.randn(3, 1000, dtype=torch.float64) * 5, torch.tensor([0, 999, 500]), weight=torch.rand(1000, dtype=torch.float64) + 0.5, label_smoothing=0.1)

# 4. Errors with their exact messages.
xb = torch.randn(4, 5, dtype=torch.float64)
add("err_batch_mismatch", "cross_entropy", xb, torch.tensor([0, 1, 2]))
add("err_multi_target", "cross_entropy", xb, torch.tensor([[0], [1], [2], [3]]))
add("err_kdim3_target_size", "cross_entropy", torch.randn(2, 3, 4, dtype=torch.float64), torch.zeros(2, 5, dtype=torch.long))
add("err_kdim4_target_dim", "cross_entropy", torch.randn(2, 5, 3, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.long))
add("err_kdim4_size_mismatch", "cross_entropy", torch.randn(2, 5, 3, 3, dtype=torch.float64), torch.zeros(2, 3, 4, dtype=torch.long))
add("err_kdim_weight", "cross_entropy", torch.randn(2, 3, 4, dtype=torch.float64), torch.zeros(2, 4, dtype=torch.long), weight=torch.ones(2, dtype=torch.float64))
add("err_prob_weight", "cross_entropy", xb, torch.softmax(xb, 1), weight=torch.ones(4, dtype=torch.float64))
add("err_ls_2_batch_mismatch", "cross_entropy", xb, torch.tensor([0, 1]), label_smoothing=2.0)
add("err_oob_ls", "cross_entropy", xb, torch.tensor([0, 1, 7, 2]), label_smoothing=0.1)
add("err_oob_kdim", "cross_entropy", torch.randn(2, 3, 4, dtype=torch.float64), torch.tensor([[0, 1, 2, 3], [0, 0, 0, 0]]))

# 5. NLL on log-probabilities.
lp = torch.log_softmax(torch.randn(5, 4, dtype=torch.float64), 1)
yn = torch.tensor([3, 0, -100, 2, 1])
for red in ["none", "sum", "mean"]:
    add(f"nll_{red}", "nll", lp, yn, reduction=red)
    add(f"nll_w_{red}", "nll", lp, yn, weight=torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64), reduction=red)
add("nll_kdim", "nll", torch.log_softmax(torch.randn(2, 3, 4, dtype=torch.float64), 1), torch.tensor([[0, 1, 2, -100], [2, 2, 1, 0]]), weight=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
add("nll_err_oob", "nll", lp, torch.tensor([3, 0, 4, 2, 1]))

# 6. BCE with logits, weight and pos_weight with broadcasting, large logits.
xl = torch.randn(4, 3, dtype=torch.float64) * 3
tl = torch.rand(4, 3, dtype=torch.float64).round()
for red in ["none", "sum", "mean"]:
    add(f"bce_{red}", "bce_with_logits", xl, tl, reduction=red)
    add(f"bce_posw_{red}", "bce_with_logits", xl, tl, pos_weight=torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64), reduction=red)
    add(f"bce_w_posw_{red}", "bce_with_logits", xl, tl, weight=torch.tensor([[2.0], [1.0], [0.5], [1.5]], dtype=torch.float64), pos_weight=torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64), reduction=red)
add("bce_soft_targets", "bce_with_logits", xl, torch.rand(4, 3, dtype=torch.float64), weight=torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64))
add("bce_large_logits", "bce_with_logits", torch.tensor([100.0, -100.0, 50.0, -50.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64), weight=torch.tensor([1.0, 2.0, 1.0, 1.0, 1.0], dtype=torch.float64), reduction="none")
add("bce_4d_posw_c11", "bce_with_logits", torch.randn(2, 3, 2, 2, dtype=torch.float64), torch.rand(2, 3, 2, 2, dtype=torch.float64).round(), pos_weight=torch.tensor([[[2.0]], [[0.5]], [[4.0]]], dtype=torch.float64))
add("bce_err_target_size", "bce_with_logits", torch.randn(3, dtype=torch.float64), torch.rand(4, dtype=torch.float64))

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(dict(generator=f"PyTorch {torch.__version__} (Debian python3-torch), CPU, tools/generate_golden.py", cases=cases), f, indent=None, separators=(",", ":"))
print(len(cases), "cases written to", os.path.normpath(OUT), file=sys.stderr)
