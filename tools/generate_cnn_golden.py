#!/usr/bin/env python3
"""Generates tests/Xent.Tests/Golden/pytorch-1.13-cnn-layers.json: forward and backward of each image/sequence layer.

Run with /usr/bin/python3 (Debian's PyTorch 1.13, CPU):  /usr/bin/python3 tools/generate_cnn_golden.py
Each case holds a Xent layer description ("spec", the LayerSpec JSON that Xent stores in model files), the batch
size, the input x, the layer's state dict before the forward ("state", flat values by PyTorch name), a probe
dy = d loss / d output, and for float64 and float32 ("float64", "float32") the output y, dx, the parameter
gradients ("grads") and the state dict after the forward ("state_after": BatchNorm's running statistics).
"training" says whether the forward runs in training mode. Seeds are fixed, so the file is reproducible.
"""
import json, os
import torch
import torch.nn as nn

torch.manual_seed(20260512)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Xent.Tests", "Golden", "pytorch-1.13-cnn-layers.json")


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


cases = []


def add(name, spec, make, x, training=True, state=None):
    """make() builds the torch module (float64); state overrides its state dict entries before the forward."""
    base = make().double()
    with torch.no_grad():
        for k, v in base.state_dict().items():
            if k.endswith("weight") or k.endswith("bias"):
                v.copy_(torch.randn_like(v) * 0.5 + (1.0 if k == "weight" and isinstance(base, nn.modules.batchnorm._BatchNorm) else 0.0))
        if state:
            for k, v in state.items():
                base.state_dict()[k].copy_(v)
    before = {k: flat(v) for k, v in base.state_dict().items()}
    dy = None
    case = {"name": name, "spec": spec, "batch": x.shape[0], "input_shape": list(x.shape), "training": training, "x": flat(x), "state": before}
    for dtype, key in ((torch.float64, "float64"), (torch.float32, "float32")):
        m = make().to(dtype)
        m.load_state_dict({k: v.to(v.dtype if not v.is_floating_point() else dtype) for k, v in base.state_dict().items()})
        m.train(training)
        xx = x.clone().to(dtype).requires_grad_(True)
        y = m(xx)
        if dy is None:
            dy = torch.randn(y.shape, dtype=torch.float64)
            case["dy"] = flat(dy)
            case["output_shape"] = list(y.shape)
        y.backward(dy.to(dtype))
        case[key] = {
            "y": flat(y),
            "dx": flat(xx.grad),
            "grads": {n: flat(p.grad) for n, p in m.named_parameters()},
            "state_after": {k: flat(v) for k, v in m.state_dict().items()},
        }
    cases.append(case)


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float64)


# Convolutions.
add("conv2d_k3", {"kind": "conv2d", "shape": [3, 7, 6], "channels": 4, "kernel": [3, 3]}, lambda: nn.Conv2d(3, 4, 3), randn(2, 3, 7, 6))
add("conv2d_stride2_pad1", {"kind": "conv2d", "shape": [3, 7, 6], "channels": 4, "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1]},
    lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), randn(2, 3, 7, 6))
add("conv2d_dilation2_nobias", {"kind": "conv2d", "shape": [2, 8, 7], "channels": 3, "kernel": [3, 3], "dilation": [2, 2], "bias": False},
    lambda: nn.Conv2d(2, 3, 3, dilation=2, bias=False), randn(3, 2, 8, 7))
add("conv2d_rect", {"kind": "conv2d", "shape": [2, 6, 9], "channels": 5, "kernel": [2, 3], "stride": [1, 2], "padding": [1, 0]},
    lambda: nn.Conv2d(2, 5, (2, 3), stride=(1, 2), padding=(1, 0)), randn(2, 2, 6, 9))
add("conv2d_1x1", {"kind": "conv2d", "shape": [4, 3, 3], "channels": 2, "kernel": [1, 1]}, lambda: nn.Conv2d(4, 2, 1), randn(2, 4, 3, 3))
add("conv1d_k3", {"kind": "conv1d", "shape": [3, 11], "channels": 4, "kernel": [3]}, lambda: nn.Conv1d(3, 4, 3), randn(2, 3, 11))
add("conv1d_stride2_pad1_dil2", {"kind": "conv1d", "shape": [3, 11], "channels": 4, "kernel": [3], "stride": [2], "padding": [1], "dilation": [2]},
    lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2), randn(2, 3, 11))

# Pooling.
add("maxpool2d_k2", {"kind": "maxpool2d", "shape": [3, 6, 7], "kernel": [2, 2]}, lambda: nn.MaxPool2d(2), randn(2, 3, 6, 7))
add("maxpool2d_k3_s2_p1", {"kind": "maxpool2d", "shape": [2, 7, 7], "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1]},
    lambda: nn.MaxPool2d(3, stride=2, padding=1), randn(2, 2, 7, 7))
add("maxpool1d_k3_s2_p1", {"kind": "maxpool1d", "shape": [2, 10], "kernel": [3], "stride": [2], "padding": [1]},
    lambda: nn.MaxPool1d(3, stride=2, padding=1), randn(2, 2, 10))
add("avgpool2d_k2", {"kind": "avgpool2d", "shape": [3, 6, 7], "kernel": [2, 2]}, lambda: nn.AvgPool2d(2), randn(2, 3, 6, 7))
add("avgpool2d_k3_s2_p1", {"kind": "avgpool2d", "shape": [2, 7, 7], "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1]},
    lambda: nn.AvgPool2d(3, stride=2, padding=1), randn(2, 2, 7, 7))
add("avgpool1d_k3_s2_p1", {"kind": "avgpool1d", "shape": [2, 10], "kernel": [3], "stride": [2], "padding": [1]},
    lambda: nn.AvgPool1d(3, stride=2, padding=1), randn(2, 2, 10))
add("global_avgpool_2d", {"kind": "global_avgpool", "shape": [3, 4, 5]}, lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), randn(2, 3, 4, 5))
add("global_avgpool_1d", {"kind": "global_avgpool", "shape": [3, 9]}, lambda: nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten()), randn(2, 3, 9))
add("flatten", {"kind": "flatten", "in": 60}, lambda: nn.Flatten(), randn(2, 3, 4, 5))

# BatchNorm: training (batch statistics, running statistics updated) and evaluation (running statistics).
add("batchnorm2d_train", {"kind": "batchnorm2d", "shape": [3, 4, 5]}, lambda: nn.BatchNorm2d(3), randn(4, 3, 4, 5) * 2 + 1)
add("batchnorm2d_eval", {"kind": "batchnorm2d", "shape": [3, 4, 5]}, lambda: nn.BatchNorm2d(3), randn(4, 3, 4, 5) * 2 + 1, training=False,
    state={"running_mean": torch.tensor([0.5, -1.0, 2.0]), "running_var": torch.tensor([0.7, 2.0, 1.3]), "num_batches_tracked": torch.tensor(7)})
add("batchnorm1d_features_train", {"kind": "batchnorm1d", "shape": [5]}, lambda: nn.BatchNorm1d(5), randn(6, 5) * 3 - 2)
add("batchnorm1d_sequence_train", {"kind": "batchnorm1d", "shape": [3, 7]}, lambda: nn.BatchNorm1d(3), randn(4, 3, 7))
add("batchnorm1d_eval", {"kind": "batchnorm1d", "shape": [3, 7]}, lambda: nn.BatchNorm1d(3), randn(4, 3, 7), training=False,
    state={"running_mean": torch.tensor([0.1, 0.2, -0.3]), "running_var": torch.tensor([1.5, 0.4, 2.2]), "num_batches_tracked": torch.tensor(3)})

with open(OUT, "w") as f:
    json.dump({"generator": "tools/generate_cnn_golden.py", "torch": torch.__version__, "cases": cases}, f)
print(f"wrote {len(cases)} cases to {OUT}")
