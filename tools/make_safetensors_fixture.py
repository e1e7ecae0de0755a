#!/usr/bin/env python3
"""A PyTorch-made safetensors fixture, written and read back with the few lines docs/training.md shows.

Run:  /usr/bin/python3 tools/make_safetensors_fixture.py
Writes tests/Xent.Tests/Golden/pytorch-mlp.safetensors (a 4-8-3 nn.Sequential's state dict, with Xent's metadata so
Xent can rebuild the architecture) and pytorch-mlp-outputs.json (the model's logits on fixed inputs).
The test loads the file with Xent and must reproduce the logits.
"""
import json, os, struct
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Xent.Tests", "Golden")


# --- the lines from docs/training.md -------------------------------------------------------------
def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {k: torch.frombuffer(bytearray(data[v["data_offsets"][0]:v["data_offsets"][1]]), dtype=torch.float32).reshape(v["shape"])
               for k, v in header.items()}
    return tensors, meta


def save_safetensors(path, tensors, meta):
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for k, t in tensors.items():
        b = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
# -------------------------------------------------------------------------------------------------


torch.manual_seed(3)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
arch = {"kind": "sequential", "in": 4, "out": 3, "layers": [
    {"kind": "linear", "in": 4, "out": 8}, {"kind": "relu", "in": 8, "out": 8}, {"kind": "linear", "in": 8, "out": 3}]}
meta = {"format": "xent-model/1", "xent.architecture": json.dumps(arch), "xent.classes": json.dumps(["a", "b", "c"]),
        "xent.features": json.dumps(["f0", "f1", "f2", "f3"]), "xent.loss": "cross-entropy"}
path = os.path.join(OUT, "pytorch-mlp.safetensors")
save_safetensors(path, model.state_dict(), meta)

# Read it back with the documented lines, into a fresh model, and check it is the same model.
tensors, meta_back = load_safetensors(path)
copy = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
copy.load_state_dict(tensors)
x = torch.randn(5, 4)
assert torch.equal(model(x), copy(x)) and meta_back["xent.loss"] == "cross-entropy"
with open(os.path.join(OUT, "pytorch-mlp-outputs.json"), "w") as f:
    json.dump({"inputs": x.tolist(), "logits": model(x).tolist()}, f)
print("wrote", path)
