"""The polynomial fit that tools/exp_polynomial.py and tools/log_polynomial.py share.

A weighted least-squares fit of `target` on the points `r`, refined by reweighting towards the largest weighted errors:
a cheap approximation of the minimax fit. Returns the coefficients (lowest degree first) and the largest weighted error.
"""
import numpy as np


def reweighted_fit(r, target, weight, degree, rounds=30):
    c = np.polynomial.polynomial.polyfit(r, target, degree, w=weight)
    for _ in range(rounds):
        error = (np.polynomial.polynomial.polyval(r, c) - target) * weight
        c = np.polynomial.polynomial.polyfit(r, target, degree, w=weight * (1 + 50 * np.abs(error) / np.abs(error).max()))
    error = (np.polynomial.polynomial.polyval(r, c) - target) * weight
    return c, np.abs(error).max()
