#!/usr/bin/env python3
"""Makes data/digits_longtail50.csv: digits subsampled to a long-tailed profile, n_c = floor(n_max * r^(-c/(C-1)))
with r = 50, classes in label order 0..9, rows drawn with a fixed seed (Python's random, seed 50). The profile is the
one of the long-tailed CIFAR benchmarks (Cui et al., CVPR 2019), and Xent's LongTail.Subsample uses the same formula.

Run:  python3 tools/make_long_tail.py    (standard library only)
"""
import csv, math, os, random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
RATIO, SEED = 50, 50
with open(os.path.join(ROOT, "data", "digits.csv"), newline="") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
by_class = {}
for r in rows:
    by_class.setdefault(int(r[-1]), []).append(r)
classes = sorted(by_class)
n_max = max(len(v) for v in by_class.values())
rng = random.Random(SEED)
kept = []
for c in classes:
    n = max(1, math.floor(n_max * RATIO ** (-c / (len(classes) - 1))))
    kept += rng.sample(by_class[c], min(n, len(by_class[c])))
with open(os.path.join(ROOT, "data", "digits_longtail50.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    w.writerows(kept)
print({c: sum(1 for r in kept if int(r[-1]) == c) for c in classes})
