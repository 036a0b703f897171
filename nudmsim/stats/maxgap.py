"""Yellin's maximum-gap upper limit (S. Yellin, PRD 66 (2002) 032005), for unbinned data with unknown background.

Between consecutive observed events (and the ends of the analysis range) the expected signal in each gap is
x_i; the largest is x.  For a signal of total expectation mu, the probability that the maximum gap is smaller
than x is (Yellin eq. 2)

    C0(x, mu) = sum_{k=0}^{m} (k x - mu)^k e^{-k x} / k! * (1 + k / (mu - k x)),    m = floor(mu / x).

A signal normalisation is excluded at 90% CL when C0(x, mu) >= 0.90.  With no event in the range the only gap
holds all the signal (x = mu) and C0 = 1 - e^{-mu}: the limit is mu = 2.303, the zero-event Poisson limit (test).
The method never subtracts background, so it is conservative when events are background.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize


def c0(x: float, mu: float) -> float:
    """Yellin's C0(x, mu): probability that the maximum gap is < x for a Poisson signal of mean mu."""
    if x <= 0.0:
        return 0.0
    if x >= mu:
        return 1.0 - math.exp(-mu) if x == mu else 1.0
    m = int(math.floor(mu / x))
    if m > 20:  # the alternating sum cancels to many digits: evaluate it in 80-digit decimal arithmetic
        return _c0_decimal(x, mu, m)
    total = 0.0
    for k in range(m + 1):
        d = mu - k * x
        if d <= 0:  # k x == mu exactly: the term vanishes
            continue
        term = math.exp(k * math.log(d) - k * x - math.lgamma(k + 1)) if k > 0 else 1.0
        total += (-1) ** k * term * (1.0 + k / d)
    return min(max(total, 0.0), 1.0)


def _c0_decimal(x: float, mu: float, m: int) -> float:
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 80
        X, M = Decimal(repr(x)), Decimal(repr(mu))
        total = Decimal(0)
        fact = 1
        for k in range(m + 1):
            if k:
                fact *= k
            d = M - k * X
            if d <= 0:
                continue
            term = (-d) ** k * (-(k * X)).exp() / fact
            total += term * (1 + k / d)
        return min(max(float(total), 0.0), 1.0)


def gaps(cdf_at_events: np.ndarray, total: float) -> np.ndarray:
    """Expected signal in each gap, given the signal's cumulative distribution at the sorted events
    (between 0 at the lower end of the range and ``total`` at the upper end)."""
    c = np.concatenate([[0.0], np.sort(np.asarray(cdf_at_events, dtype=float)), [total]])
    return np.diff(c)


def upper_limit_scale(max_gap: float, total: float, cl: float = 0.90) -> float:
    """The factor s by which a signal (expected ``total`` events, ``max_gap`` in its largest gap) can be scaled
    before it is excluded at ``cl``: C0(s x, s mu) = cl.  inf when the signal is zero."""
    if total <= 0.0 or max_gap <= 0.0:
        return math.inf
    f = lambda s: c0(s * max_gap, s * total) - cl  # noqa: E731  (C0 grows with s)
    hi = 1.0 / max_gap
    while f(hi) < 0:
        hi *= 2.0
    return optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-10)
