#!/usr/bin/env python3
"""Generates the CNN training-parity cases: tests/Xent.Tests/Golden/cnn-parity.json and cnn-parity-initial.safetensors.

Run with /usr/bin/python3 (Debian's PyTorch 1.13) where Debian's dataset-fashion-mnist is installed:
    /usr/bin/python3 tools/generate_cnn_parity.py
A conv-bn-relu-pool-linear CNN (conv2d(8,3) without bias, as is usual before BatchNorm: a bias there has a gradient
that is zero but for rounding, which Adam's normalised step turns into ±lr moves that differ between any two
implementations; batchnorm2d, relu, maxpool(2), flatten, linear(10)) on the first 256
Fashion-MNIST training images (pixels / 255; the images are stored in the JSON as base64 bytes, so the test does not
need the dataset): PyTorch's initial state dict written as safetensors (float32, num_batches_tracked as int64, as
PyTorch names them), the 50 batches of 32 (each epoch's permutation, seeded), and the cross-entropy loss of every
step with SGD (lr 0.01, momentum 0.9) and with Adam (lr 1e-3), plus the running statistics after the 50 steps.
"""
import base64, gzip, json, os, struct
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(1213)
HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "tests", "Xent.Tests", "Golden")
SOURCE = "/usr/share/datasets/fashion-mnist"
N, BATCH, STEPS = 256, 32, 50

images = np.frombuffer(gzip.open(os.path.join(SOURCE, "train-images-idx3-ubyte.gz")).read()[16:], dtype=np.uint8).reshape(-1, 784)[:N]
labels = np.frombuffer(gzip.open(os.path.join(SOURCE, "train-labels-idx1-ubyte.gz")).read()[8:], dtype=np.uint8)[:N]
X = torch.from_numpy(images.astype(np.float32) / np.float32(255)).reshape(N, 1, 28, 28)
y = torch.from_numpy(labels.astype(np.int64))


def make():
    return nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 10))


model = make()
init = {k: v.detach().clone() for k, v in model.state_dict().items()}


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        a = t.numpy()
        dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


write_safetensors(os.path.join(GOLDEN, "cnn-parity-initial.safetensors"), init)
g = torch.Generator().manual_seed(7)
batches = []
while len(batches) < STEPS:
    order = torch.randperm(N, generator=g)
    batches += [order[i * BATCH:(i + 1) * BATCH].tolist() for i in range(N // BATCH)]
batches = batches[:STEPS]
runs, after = {}, {}
for name, opt_make in [("sgd", lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9)), ("adam", lambda ps: torch.optim.Adam(ps, lr=1e-3))]:
    model.load_state_dict(init)
    model.train()
    opt = opt_make(model.parameters())
    losses = []
    for b in batches:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X[b]), y[b])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    runs[name] = losses
    after[name] = {k: v.flatten().tolist() for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}
with open(os.path.join(GOLDEN, "cnn-parity.json"), "w") as f:
    json.dump(dict(generator=f"PyTorch {torch.__version__}", data="the first 256 Fashion-MNIST training images, pixels / 255",
                   model="conv2d(8,3,bias=false),batchnorm,relu,maxpool(2),flatten,linear", batch_size=BATCH,
                   images=base64.b64encode(images.tobytes()).decode(), labels=labels.tolist(), batches=batches,
                   losses=runs, state_after=after), f)
print("wrote cnn-parity.json and cnn-parity-initial.safetensors")
