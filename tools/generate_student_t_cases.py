#!/usr/bin/env python3
"""Reference values for Xent's Student t distribution and paired t-test (Xent.Metrics.StudentT, PairedTTest), from SciPy.

Run:  /usr/bin/python3 tools/generate_student_t_cases.py
Writes tests/Xent.Tests/Golden/student-t-cases.json:

  log_gamma    x, scipy.special.gammaln(x)
  betainc      a, b, x, scipy.special.betainc(a, b, x)           (the regularised incomplete beta I_x(a, b))
  t_cdf        t, df, scipy.stats.t.cdf(t, df)
  t_two_sided  t, df, 2 * scipy.stats.t.sf(|t|, df)              (the two-sided p-value)
  paired       a, b, scipy.stats.ttest_rel(a, b): statistic, pvalue, with the mean and sample std (ddof=1) of a - b

The paired cases are drawn with NumPy (seed 10) at the sizes compare uses (2 to 30 repeats), plus hand-written
ones; SciPy's zero-variance answers (NaN, or an infinite t) are not included, since Xent defines them (see PairedTTest).
Every number is written with repr(), so the test reads the same doubles.
"""
import json, os
import numpy as np
import scipy
from scipy import special, stats

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "Xent.Tests", "Golden", "student-t-cases.json")

log_gamma = [{"x": x, "value": float(special.gammaln(x))}
             for x in [1e-8, 0.001, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.7, 10.0, 33.3, 100.5, 1234.5, 1e6]]

betainc = []
for a in [0.5, 1.0, 2.5, 4.5, 10.0, 50.0, 500.0]:
    for b in [0.5, 1.0, 3.0, 20.0]:
        for x in [1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 0.999999]:
            betainc.append({"a": a, "b": b, "x": x, "value": float(special.betainc(a, b, x))})

t_cdf, t_two = [], []
for df in [1, 2, 3, 4, 5, 9, 19, 29, 100, 1000, 2.5]:
    for t in [-40.0, -6.0, -2.262, -1.0, -0.1, 0.0, 1e-9, 0.5, 1.96, 2.262, 3.5, 8.0, 25.0, 300.0]:
        t_cdf.append({"t": t, "df": df, "value": float(stats.t.cdf(t, df))})
        t_two.append({"t": t, "df": df, "value": float(2 * stats.t.sf(abs(t), df))})

rng = np.random.default_rng(10)
paired = []
for n in [2, 3, 5, 10, 10, 10, 20, 30]:
    for shift in [0.0, 0.01, 0.05]:
        a = np.round(rng.normal(0.8, 0.05, n), 6)
        b = np.round(a - shift + rng.normal(0, 0.02, n), 6)
        paired.append((a.tolist(), b.tolist()))
paired.append(([0.9, 0.95, 0.85, 0.9, 0.92], [0.88, 0.95, 0.84, 0.91, 0.9]))
paired.append(([1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.5, 4.0]))
cases = []
for a, b in paired:
    r = stats.ttest_rel(a, b)
    d = np.array(a) - np.array(b)
    cases.append({"a": a, "b": b, "t": float(r.statistic), "p": float(r.pvalue),
                  "mean": float(d.mean()), "std": float(d.std(ddof=1))})

with open(OUT, "w") as f:
    json.dump({"scipy": scipy.__version__, "log_gamma": log_gamma, "betainc": betainc, "t_cdf": t_cdf,
               "t_two_sided": t_two, "paired": cases}, f, indent=1)
    f.write("\n")
print(f"{OUT}: {len(log_gamma)} log-gamma, {len(betainc)} betainc, {len(t_cdf)} cdf, {len(cases)} paired cases")
