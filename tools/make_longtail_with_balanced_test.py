#!/usr/bin/env python3
"""Makes a long-tailed training file and a balanced test file from digits, with no row in both:

  data/digits_balanced_test.csv    30 rows of every digit (300 rows), drawn first with a fixed seed
  data/digits_longtail50_train.csv the remaining rows subsampled to the long-tailed profile of tools/make_long_tail.py,
                                   n_c = floor(n_max * 50^(-c/9)) for digit c (n_max = the largest remaining class)

data/digits_longtail50.csv cannot be paired with a balanced test file: it keeps all 178 rows of digit 0, so no digit 0
is left to test on. Use these two for `xent compare --data data/digits_longtail50_train.csv --test-data
data/digits_balanced_test.csv`.

Run:  python3 tools/make_longtail_with_balanced_test.py    (standard library only)
"""
import csv, math, os, random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
RATIO, SEED, TEST_PER_CLASS = 50, 10, 30
with open(os.path.join(ROOT, "data", "digits.csv"), newline="") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
by_class = {}
for r in rows:
    by_class.setdefault(int(r[-1]), []).append(r)
classes = sorted(by_class)
rng = random.Random(SEED)
test, rest = [], {}
for c in classes:
    picked = set(rng.sample(range(len(by_class[c])), TEST_PER_CLASS))
    test += [r for i, r in enumerate(by_class[c]) if i in picked]
    rest[c] = [r for i, r in enumerate(by_class[c]) if i not in picked]
n_max = max(len(v) for v in rest.values())
train = []
for c in classes:
    n = max(1, math.floor(n_max * RATIO ** (-c / (len(classes) - 1))))
    train += rng.sample(rest[c], min(n, len(rest[c])))


def write(name, data):
    with open(os.path.join(ROOT, "data", name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(data)


write("digits_longtail50_train.csv", train)
write("digits_balanced_test.csv", test)
count = lambda data: [sum(1 for r in data if int(r[-1]) == c) for c in classes]
print("train", count(train), "test", count(test))
