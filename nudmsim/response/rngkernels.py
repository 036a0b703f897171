"""Counter-based random numbers for the response stages (numba), and the draws built on them.

Every stochastic stage draws one 64-bit ``key`` from the caller's :class:`numpy.random.Generator` and then
row ``i`` uses its own stream ``s_0 = mix(key + i * golden)``, ``u_m = mix(s_0 + m * golden) / 2^64``
(splitmix64, Steele, Lea & Flood, OOPSLA 2014).  A row's numbers depend only on (key, i), so results are
identical for any number of threads and reproducible per seed, and rejection samplers may take as many
numbers as they need.

Draws:

* :func:`poisson_draw`: inversion by sequential search for mu < 10; for mu >= 10 the transformed rejection
  with squeeze "PTRS" of W. Hörmann, Insurance: Mathematics and Economics 12 (1993) 39 (the algorithm numpy
  uses).  Both are exact.
* :func:`normal_draw`: Box-Muller.
* :func:`norm_ppf`: inverse of the standard normal CDF (P. J. Acklam's rational approximation, relative
  error 1.2e-9, refined by one Halley step on ``math.erfc``, which brings it to double precision).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0
_SQRT2 = math.sqrt(2.0)
_INV_K = 1.0 / np.arange(1, 202, dtype=np.float64)   # 1/k: no division in the inversion loop


def new_key(rng: np.random.Generator) -> np.uint64:
    """A 64-bit stream key from the caller's generator (one per stage call)."""
    return np.uint64(rng.integers(0, 2**63 - 1, dtype=np.int64))


@njit(inline="always", cache=True)
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(inline="always", cache=True)
def row_state(key, i):
    """Start of row ``i``'s stream."""
    return _mix(key + np.uint64(i) * GOLDEN)


@njit(inline="always", cache=True)
def next_uniform(state):
    """(u in [0, 1), new state)."""
    state = state + GOLDEN
    return (_mix(state) >> np.uint64(11)) * _INV53, state


@njit(inline="always", cache=True)
def normal_draw(state):
    """(z ~ N(0, 1), new state) by Box-Muller (two uniforms, one normal)."""
    u1, state = next_uniform(state)
    u2, state = next_uniform(state)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2), state


@njit(inline="always", cache=True)
def poisson_draw(mu, state):
    """(n ~ Poisson(mu), new state); mu <= 0 gives 0."""
    if not mu > 0.0:
        return 0, state
    if mu < 10.0:
        u, state = next_uniform(state)
        p = math.exp(-mu)
        cum = p
        k = 0
        while u > cum and k < 200:
            p *= mu * _INV_K[k]
            k += 1
            cum += p
        return k, state
    slam = math.sqrt(mu)
    loglam = math.log(mu)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u, state = next_uniform(state)
        v, state = next_uniform(state)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + mu + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k), state
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                <= -mu + k * loglam - math.lgamma(k + 1.0)):
            return int(k), state


@njit(inline="always", cache=True)
def norm_cdf(z):
    """Standard normal CDF (via erfc, accurate in both tails)."""
    return 0.5 * math.erfc(-z / _SQRT2)


@njit(cache=True)
def norm_ppf(p):
    """Inverse standard normal CDF for p in (0, 1) (Acklam + one Halley step)."""
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    a0, a1, a2, a3, a4, a5 = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                              1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b0, b1, b2, b3, b4 = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                          6.680131188771972e+01, -1.328068155288572e+01)
    c0, c1, c2, c3, c4, c5 = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                              -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d0, d1, d2, d3 = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                      3.754408661907416e+00)
    plow = 0.02425
    if p < plow:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0)
    elif p <= 1.0 - plow:
        q = p - 0.5
        r = q * q
        x = ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q
             / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1.0))
    else:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        x = -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0)
    # one Halley step: e = Phi(x) - p
    e = 0.5 * math.erfc(-x / _SQRT2) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


__all__ = ["new_key", "row_state", "next_uniform", "normal_draw", "poisson_draw", "norm_cdf", "norm_ppf"]
