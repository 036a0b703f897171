"""Light collection: electron-equivalent energy -> photoelectrons (PE).

mean PE  mu = LY * E_ee  (LY in PE/keVee);  the number of photoelectrons n ~ Poisson(mu).

The reconstructed PE of a real PMT is an integrated charge in units of the single-PE mean, i.e. continuous
and spread around n.  nudmsim models it as x = n + U(-1/2, 1/2) (a uniform "SPE charge dither"), which keeps
<x> = mu and makes the 1-PE bin [j, j+1) collect half of n = j and half of n = j + 1.  The deterministic
binned version (:func:`pe_bin_matrix`) uses the same rule, so templates and events agree exactly.
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from .. import constants as c


def mean_pe(e_ee, light_yield_pe_per_keV: float):
    """mu = LY * E_ee, with E_ee in MeV (hepunits) and LY in PE/keVee."""
    return light_yield_pe_per_keV * np.asarray(e_ee, dtype=float) / c.keV


def poisson_pmf(n, mu):
    """P(n | mu), vectorised over broadcastable n (integers) and mu (>= 0)."""
    n = np.asarray(n, dtype=float)
    mu = np.asarray(mu, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = n * np.log(mu) - mu - gammaln(n + 1.0)
        p = np.exp(logp)
    return np.where(mu > 0, p, (n == 0).astype(float))


def sample_pe(mu, rng: np.random.Generator, dither: bool = True):
    """Reconstructed PE for events of mean mu: Poisson count plus (optionally) the U(-1/2, 1/2) dither."""
    n = rng.poisson(mu).astype(float)
    if dither:
        n += rng.random(len(n)) - 0.5
    return n


def pe_bin_matrix(mu, edges_1pe: np.ndarray, dither: bool = True) -> np.ndarray:
    """Probability matrix P[i, j] that an event of mean ``mu[i]`` lands in 1-PE bin j of ``edges_1pe``.

    ``edges_1pe`` must be integers with unit spacing starting at >= 0 (e.g. 0, 1, ..., 50).  With the
    dither, bin [j, j+1) gets (P(n=j) + P(n=j+1)) / 2; without, it gets P(n=j)."""
    edges = np.asarray(edges_1pe, dtype=float)
    lo = int(round(edges[0]))
    nb = len(edges) - 1
    n = np.arange(lo, lo + nb + 1)
    p = poisson_pmf(n[None, :], np.asarray(mu, dtype=float)[:, None])
    if dither:
        return 0.5 * (p[:, :-1] + p[:, 1:])
    return p[:, :-1]
