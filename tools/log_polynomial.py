#!/usr/bin/env python3
"""Fits the polynomial and picks the table of FastLog.LogOneToTwo (src/Xent/Kernels/FastLog.cs): log u, u in [1, 2].

u is rounded to an eighth, j = 0..7 (c_j = 1 + j/8; the last entry also takes u up to 2), and
r = u * R_j - 1 (one fused multiply-add) with R_j = round(32 / c_j) / 32, so that |r| <= 0.07 and log u = T_j + log1p(r)
with T_j = -log(R_j) held as two floats, T_hi + T_lo. R_j's five bits make r exact: u has 23 fractional bits, u * R_j
28, and r, at least 2^-5 where it is not smaller, needs at most 24 of them. R_0 = 1 and T_0 = 0, so that near 1, where
log u is tiny, r = u - 1 and the precision is relative. The rounding to an eighth is not quite to the nearest: j = 1
starts at OFFSET's u (1.0649), above e^(1/16), so that log u there is in a higher binade than log1p(r), whose rounding
then costs at most a quarter of the result's ulp (from 1.0625 it could cost half). With the final addition's half ulp
and the polynomial's error, the result is within 0.8 ulp (the tests measure it over every float in [1, 2]).

log1p(r) = r + r^2 Q(r): Q is fitted to (log1p(r) - r) / r^2 with weights r^2 / log1p(r), so that the residual is the
relative error of log1p(r), and refined by reweighting towards the largest errors (a cheap approximation of the
minimax fit). Prints, for each degree, that error before rounding the coefficients to float, the coefficients as
floats, and the table. Degree 4 is the one in use. Run with /usr/bin/python3 (numpy).
"""
import numpy as np

from reweighted_fit import reweighted_fit

OFFSET = 0x7B000  # added to u's bits less those of 1 before the shift by 20 (half an eighth would be 0x80000)


def table():
    rs = [np.float32(1.0)] + [np.float32(round(32 / (1 + j / 8)) / 32) for j in range(1, 8)]
    t = [0.0] + [-np.log(np.float64(v)) for v in rs[1:]]
    hi = [np.float32(v) for v in t]
    lo = [np.float32(v - np.float64(h)) for v, h in zip(t, hi)]
    return rs, hi, lo


def r_range(rs):
    low, high = 0.0, 0.0
    for j, rj in enumerate(rs):
        left = 1.0 if j == 0 else 1 + (j * 0x100000 - OFFSET) / 2**23
        right = 2.0 if j == 7 else 1 + ((j + 1) * 0x100000 - OFFSET) / 2**23
        low = min(low, left * float(rj) - 1)
        high = max(high, right * float(rj) - 1)
    return low, high


def fit(degree, low, high, rounds=30):
    r = (np.cos(np.linspace(0, np.pi, 4000)) + 1) / 2 * (high - low) + low
    r = r[np.abs(r) > 1e-7]
    target = (np.log1p(r) - r) / r**2
    weight = r**2 / np.abs(np.log1p(r))
    return reweighted_fit(r, target, weight, degree, rounds)


if __name__ == "__main__":
    rs, hi, lo = table()
    low, high = r_range(rs)
    print(f"r in [{low:.5f}, {high:.5f}]; j = 1 from u = {1 + (0x100000 - OFFSET) / 2**23:.5f} (e^(1/16) = {np.exp(1 / 16):.5f})")
    for degree in (2, 3, 4):
        c, e = fit(degree, low, high)
        print(f"degree {degree}: max relative error {e:.3e} (2^{np.log2(e):.1f})")
        print("   ", ", ".join(f"Q{i} = {float(np.float32(v))!r}f" for i, v in enumerate(c)))
    print("R:", ", ".join(f"{float(v)!r}f" for v in rs))
    print("T_hi:", ", ".join(f"{float(v)!r}f" for v in hi))
    print("T_lo:", ", ".join(f"{float(v)!r}f" for v in lo))
