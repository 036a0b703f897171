"""Migration matrices and the XENON binwise approximate likelihood (arXiv:2210.07231).

XENON1T released, for its 1 t x yr nuclear-recoil search (PRL 121 (2018) 111302), three tables
(``data/xenon1t_2018/``, read via the detector card):

* a migration matrix M[i, j] = P(reconstructed bin j | true-energy bin i), efficiency included
  (row sums = detection efficiency): :class:`MigrationMatrix`;
* for every reconstructed bin j, -2 ln L_j(s_j) tabulated against the expected signal s_j in that bin
  (0..3 events): :class:`BinwiseLikelihood`;
* the 90% CL critical value of the summed likelihood ratio versus the total expected signal (toy MC,
  non-asymptotic), falling back to chi2_1(0.90) = 2.706 outside its range.

A spectrum becomes expected counts by integrating dR/dE [events/(keV t yr)] over each true bin and
multiplying by M (the release folds its ~1 t yr exposure into this convention).  The limit on a signal
multiple mu follows the release's package: q(mu) = sum_j LL_j(mu s_j) - min_mu, and the upper limit is the
first mu above the minimum with q(mu) = threshold(mu s_tot).  This module re-implements that procedure
(numpy, vectorised) from the tables; the package itself is not a dependency.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import NudmsimError
from .tables import contiguous_edges, read_table  # read_table is re-exported: used by the DD analyses

CHI2_1_90 = 2.705543454095404  # scipy.stats.chi2(1).isf(0.1)


class MigrationMatrix:
    """P(reco bin | true bin).  ``true_edges`` [keV] (n_true+1), ``reco_edges`` [keV] (n_reco+1), ``P``."""

    def __init__(self, true_edges, reco_edges, P):
        self.true_edges = np.asarray(true_edges, dtype=float)
        self.reco_edges = np.asarray(reco_edges, dtype=float)
        self.P = np.asarray(P, dtype=float)
        if self.P.shape != (len(self.true_edges) - 1, len(self.reco_edges) - 1):
            raise NudmsimError(f"migration matrix shape {self.P.shape} does not match its bin edges")
        self.efficiency_per_bin = self.P.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cond = self.P / self.efficiency_per_bin[:, None]
        self._cdf = np.cumsum(np.nan_to_num(cond), axis=1)

    @classmethod
    def from_csv(cls, path) -> "MigrationMatrix":
        """Columns: true-bin low and high edges [keV], then P per reconstructed bin ``rec_<lo>_<hi>``.

        Refused: negative probabilities, a row summing above 1 (the row sum is an efficiency), true or
        reconstructed bins that are not contiguous and increasing."""
        header, arr = read_table(path)
        if len(header) < 3:
            raise NudmsimError(f"{path}: needs two true-bin edge columns and at least one rec_<lo>_<hi> column")
        read_table(path, nonnegative=header[2:], increasing=header[:1])
        true_edges = contiguous_edges(path, arr[:, 0], arr[:, 1], header[0], header[1])
        reco_edges = _header_edges(path, header[2:], "rec")
        P = arr[:, 2:]
        over = np.nonzero(P.sum(axis=1) > 1.0 + 1e-6)[0]
        if len(over):
            r = int(over[0])
            raise NudmsimError(f"{path}: data row {r + 1} (true bin {arr[r, 0]:g}-{arr[r, 1]:g}) sums to "
                               f"{P[r].sum():.6g} > 1 (a row is P(reco | true), its sum an efficiency)")
        return cls(true_edges, reco_edges, P)

    def true_bin(self, E_keV) -> np.ndarray:
        """Index of the true bin of each energy (-1 outside the matrix)."""
        idx = np.searchsorted(self.true_edges, np.asarray(E_keV, dtype=float), side="right") - 1
        return np.where((idx >= 0) & (idx < len(self.true_edges) - 1), idx, -1)

    def efficiency(self, E_keV) -> np.ndarray:
        """Detection efficiency (row sum) at true energies [keV] (0 outside)."""
        i = self.true_bin(E_keV)
        return np.where(i >= 0, self.efficiency_per_bin[np.maximum(i, 0)], 0.0)

    def fold(self, true_counts) -> np.ndarray:
        """Expected counts per reconstructed bin from counts per true bin."""
        return np.asarray(true_counts, dtype=float) @ self.P

    def sample_reco(self, E_keV, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(detected, E_reco [keV]) per event: detected with probability = efficiency, E_reco drawn from the
        normalised row (uniform within the reconstructed bin); NaN when not detected."""
        E = np.asarray(E_keV, dtype=float)
        i = self.true_bin(E)
        eff = np.where(i >= 0, self.efficiency_per_bin[np.maximum(i, 0)], 0.0)
        det = rng.random(E.shape) < eff
        u = rng.random(E.shape)
        j = np.zeros(E.shape, dtype=np.int64)
        order = np.argsort(i, kind="stable")  # group events by true bin: one searchsorted per bin
        bins, starts = np.unique(i[order], return_index=True)
        ends = np.append(starts[1:], len(order))
        for b, a, e in zip(bins, starts, ends):
            if b < 0:
                continue
            sel = order[a:e]
            j[sel] = np.searchsorted(self._cdf[b], u[sel], side="left")
        j = np.minimum(j, len(self.reco_edges) - 2)
        lo, hi = self.reco_edges[j], self.reco_edges[j + 1]
        e_rec = lo + (hi - lo) * rng.random(E.shape)
        return det, np.where(det, e_rec, np.nan)


def read_threshold(path) -> tuple[np.ndarray, np.ndarray]:
    """(total signal, critical -2 ln lambda) of a threshold table: first column increasing, both >= 0."""
    header, th = read_table(path)
    if len(header) < 2:
        raise NudmsimError(f"{path}: needs columns total signal and critical value")
    read_table(path, increasing=header[:1], nonnegative=header[:2])
    return th[:, 0], th[:, 1]


def _header_edges(path, names, prefix: str) -> np.ndarray:
    """Edges from column names ``<prefix>_<lo>_<hi>`` (contiguous, increasing)."""
    lo, hi = [], []
    for h in names:
        parts = h.split("_")
        try:
            if parts[0] != prefix or len(parts) != 3:
                raise ValueError
            lo.append(float(parts[1])), hi.append(float(parts[2]))
        except ValueError:
            raise NudmsimError(f"{path}: column '{h}': reconstructed-bin columns must be named "
                               f"{prefix}_<lo>_<hi>") from None
    lo, hi = np.array(lo), np.array(hi)
    if not (np.all(hi > lo) and np.allclose(lo[1:], hi[:-1])):
        raise NudmsimError(f"{path}: the {prefix}_<lo>_<hi> columns must be contiguous, increasing bins")
    return np.concatenate([lo, hi[-1:]])


def bin_integrals_smooth(edges, fn, order: int = 6) -> np.ndarray:
    """int of fn over each bin (Gauss-Legendre of ``order`` nodes per bin, one vectorised call)."""
    edges = np.asarray(edges, dtype=float)
    x, w = np.polynomial.legendre.leggauss(order)
    a, b = edges[:-1, None], edges[1:, None]
    E = 0.5 * (b - a) * x[None, :] + 0.5 * (b + a)
    f = np.asarray(fn(E.ravel()), dtype=float).reshape(E.shape)
    return (0.5 * (b - a)[:, 0]) * (f @ w)


class BinwiseLikelihood:
    """-2 ln L_j(s) tables per reconstructed bin and the critical-value function."""

    def __init__(self, reco_edges, s_grid, table, threshold_x=None, threshold_y=None):
        self.reco_edges = np.asarray(reco_edges, dtype=float)
        self.s = np.asarray(s_grid, dtype=float)
        self.table = np.asarray(table, dtype=float)
        self.threshold_x = None if threshold_x is None else np.asarray(threshold_x, dtype=float)
        self.threshold_y = None if threshold_y is None else np.asarray(threshold_y, dtype=float)
        self._ds = self.s[1] - self.s[0]
        if not np.allclose(np.diff(self.s), self._ds):
            raise NudmsimError("binwise likelihood: the signal grid must be uniform")

    @classmethod
    def from_csv(cls, ll_path, threshold_path=None) -> "BinwiseLikelihood":
        """Likelihood table: reconstructed-bin low and high edges, then -2 ln L at signal ``s_<value>``
        (increasing, uniform); threshold table: total signal (increasing), critical value (>= 0)."""
        header, arr = read_table(ll_path)
        if len(header) < 4:
            raise NudmsimError(f"{ll_path}: needs two bin-edge columns and at least two s_<value> columns")
        read_table(ll_path, increasing=header[:1])
        s = []
        for h in header[2:]:
            try:
                s.append(float(h.split("_", 1)[1]))
            except (IndexError, ValueError):
                raise NudmsimError(f"{ll_path}: column '{h}' must be named s_<signal>, e.g. s_0.5") from None
        s = np.array(s)
        if not (np.all(np.isfinite(s)) and np.all(np.diff(s) > 0)):
            raise NudmsimError(f"{ll_path}: the signal columns s_<value> must increase ({', '.join(header[2:])})")
        edges = contiguous_edges(ll_path, arr[:, 0], arr[:, 1], header[0], header[1])
        tx, ty = read_threshold(threshold_path) if threshold_path is not None else (None, None)
        return cls(edges, s, arr[:, 2:], tx, ty)

    def threshold(self, total_signal) -> np.ndarray:
        """Critical -2 ln(lambda) at 90% CL for a total expected signal (asymptotic 2.706 outside table)."""
        t = np.asarray(total_signal, dtype=float)
        if self.threshold_x is None:
            return np.full_like(t, CHI2_1_90)
        inside = (t >= self.threshold_x[0]) & (t <= self.threshold_x[-1])
        return np.where(inside, np.interp(t, self.threshold_x, self.threshold_y), CHI2_1_90)

    def twice_nll(self, signal_per_bin) -> np.ndarray:
        """sum_j LL_j(s_j) for signal arrays of shape (..., n_bins); +inf beyond the tabulated 3 events."""
        sig = np.asarray(signal_per_bin, dtype=float)
        pos = sig / self._ds
        k = np.floor(pos).astype(int)
        out_of_range = (k >= len(self.s) - 1) & ~np.isclose(pos, len(self.s) - 1)
        k = np.clip(k, 0, len(self.s) - 2)
        f = pos - k
        j = np.arange(self.table.shape[0])
        vals = self.table[j, k] * (1.0 - f) + self.table[j, k + 1] * f
        vals = np.where(out_of_range, np.inf, vals)
        return vals.sum(axis=-1)

    def upper_limit(self, signal_per_bin, n_grid: int = 1000, asymptotic: bool = False) -> float:
        """90% CL upper limit on the multiple mu of ``signal_per_bin`` (expected counts per reco bin).

        Returns inf when the spectrum puts no signal in the likelihood's bins."""
        sig = np.asarray(signal_per_bin, dtype=float)
        if sig.shape != (self.table.shape[0],):
            raise NudmsimError(f"signal has {sig.shape} bins, the likelihood {self.table.shape[0]}")
        s_max = sig.max()
        if not np.isfinite(s_max) or s_max <= 0:
            return math.inf
        mus = np.linspace(0.0, self.s[-1] / s_max, n_grid)
        q = self.twice_nll(mus[:, None] * sig[None, :])
        if not np.isfinite(q).any():
            return math.inf
        i_min = int(np.nanargmin(q))
        q = q - q[i_min]
        total = sig.sum()
        thr = np.full(n_grid, CHI2_1_90) if asymptotic else self.threshold(mus * total)
        g = q - thr
        above = np.nonzero((g > 0) & (np.arange(n_grid) > i_min))[0]
        if len(above) == 0:
            return float(mus[-1])
        k = above[0]
        if k == 0:
            return 0.0
        # linear interpolation between the grid points bracketing the crossing (as brentq on interp1d)
        g0, g1 = g[k - 1], g[k]
        return float(mus[k - 1] + (mus[k] - mus[k - 1]) * (-g0) / (g1 - g0))
