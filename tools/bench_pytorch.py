#!/usr/bin/env python3
"""The cross-entropy benchmark shapes on PyTorch CPU, for comparison with `bench/Xent.Benchmarks -- ce`.

Run:  /usr/bin/python3 tools/bench_pytorch.py [--threads N] [--elements M] [--small-elements M]
Each case times F.cross_entropy(x, y) forward + backward (torch.autograd.grad, so nothing accumulates), float32, mean,
as the median of 9 runs after 3 warm-ups, with torch.set_num_threads(N). It prints the time and the ratio to a copy of
the same logits in the same process (dst.copy_(src)), the baseline Xent's harness uses, so the two tables compare ratio to ratio.
"""
import argparse, statistics, time
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--elements", type=int, default=64 << 20)
p.add_argument("--small-elements", type=int, default=4 << 20)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)


def median_ms(fn, runs=9, warm=3):
    for _ in range(warm):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def case(name, shape, y, weight=None, ignore_index=-100, label_smoothing=0.0):
    x = (torch.rand(*shape) * 8 - 4).requires_grad_(True)
    dst = torch.empty(shape)

    def step():
        loss = F.cross_entropy(x, y, weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing)
        torch.autograd.grad(loss, x)

    copy = median_ms(lambda: dst.copy_(x.detach()))
    t = median_ms(step)
    print(f"| {name} | {'x'.join(map(str, shape))} | {t / copy:.2f}x | memcpy | {t:.3f} | {copy:.3f} |")
    return t


print(f"PyTorch {torch.__version__}, {a.threads} threads")
print("| case | shape | ratio | baseline | PyTorch ms | memcpy ms |")
print("|---|---|---|---|---|---|")
for c in (1000, 4096, 32000, 128256):
    n = a.elements // c
    case(f"P1 CE fwd+bwd C={c}", (n, c), torch.randint(0, c, (n,)))
for c in (2, 10, 64):
    n = a.small_elements // c
    case(f"P2 CE fwd+bwd C={c}", (n, c), torch.randint(0, c, (n,)))
y4 = torch.randint(0, 21, (8, 512, 512))
y4.view(-1)[::17] = 255
case("P4 CE fwd+bwd K-dim, weights, ignore", (8, 21, 512, 512), y4, weight=torch.rand(21) + 0.5, ignore_index=255)
