#!/usr/bin/env python3
"""Fits the polynomial of src/Xent/Kernels/FastExp.cs: exp(r) = 1 + r + r^2 Q(r) on |r| <= ln 2 / 2.

Q is fitted to (expm1(r) - r) / r^2 with weights r^2 / exp(r), so that the residual is the relative error of exp, and
refined by reweighting towards the largest errors (a cheap approximation of the minimax fit). Prints, for each degree,
the largest relative error before the coefficients are rounded to float, and the coefficients as floats. Degree 4 is
the one in use: 2^-26.9, below float's half ulp (2^-24), so that exp stays within 1 ulp after float arithmetic (the
tests measure that). Run with /usr/bin/python3 (numpy).
"""
import numpy as np

HALF_LN2 = np.log(2) / 2 + 1e-4


def fit(degree, rounds=30):
    r = np.cos(np.linspace(0, np.pi, 4000)) * HALF_LN2
    r = r[np.abs(r) > 1e-6]
    target = (np.expm1(r) - r) / r**2
    weight = r**2 / np.exp(r)
    c = np.polynomial.polynomial.polyfit(r, target, degree, w=weight)
    for _ in range(rounds):
        error = (np.polynomial.polynomial.polyval(r, c) - target) * weight
        c = np.polynomial.polynomial.polyfit(r, target, degree, w=weight * (1 + 50 * np.abs(error) / np.abs(error).max()))
    error = (np.polynomial.polynomial.polyval(r, c) - target) * weight
    return c, np.abs(error).max()


if __name__ == "__main__":
    for degree in (3, 4, 5):
        c, e = fit(degree)
        print(f"degree {degree}: max relative error {e:.3e} (2^{np.log2(e):.1f})")
        print("   ", ", ".join(f"Q{i} = {float(np.float32(v))!r}f" for i, v in enumerate(c)))
