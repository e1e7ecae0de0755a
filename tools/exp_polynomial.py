#!/usr/bin/env python3
"""Fits the polynomial of src/Xent/Kernels/FastExp.cs: exp(r) = 1 + r + r^2 Q(r) on |r| <= ln 2 / 16.

FastExp takes 2^(j/8) from a table, so that the reduced argument r = x - m ln 2 / 8 is at most ln 2 / 16 in magnitude;
until 2026-12-07 it reduced to |r| <= ln 2 / 2 and used Q of degree 4 (run with --half to see that fit again).

Q is fitted to (expm1(r) - r) / r^2 with weights r^2 / exp(r), so that the residual is the relative error of exp, and
refined by reweighting towards the largest errors (a cheap approximation of the minimax fit). Prints, for each degree,
the largest relative error before the coefficients are rounded to float, and the coefficients as floats. Degree 1 is
the one in use: 2^-24.8, below float's half ulp (2^-24), and exp stays within 1 ulp after float arithmetic and the
rounded table (the tests and the benchmark's exp suite measure that over [-88, 0]). Run with /usr/bin/python3 (numpy).
"""
import sys

import numpy as np

from reweighted_fit import reweighted_fit

HALF_LN2 = (np.log(2) / 2 + 1e-4) if "--half" in sys.argv else (np.log(2) / 16 + 1e-5)


def fit(degree, rounds=30):
    r = np.cos(np.linspace(0, np.pi, 4000)) * HALF_LN2
    r = r[np.abs(r) > 1e-6]
    target = (np.expm1(r) - r) / r**2
    weight = r**2 / np.exp(r)
    return reweighted_fit(r, target, weight, degree, rounds)


if __name__ == "__main__":
    for degree in ((3, 4, 5) if "--half" in sys.argv else (1, 2, 3)):
        c, e = fit(degree)
        print(f"degree {degree}: max relative error {e:.3e} (2^{np.log2(e):.1f})")
        print("   ", ", ".join(f"Q{i} = {float(np.float32(v))!r}f" for i, v in enumerate(c)))
