"""Tabulated chain tails: the single-column tail of a response chain as a transfer matrix on a fixed log lattice.

In expectation mode a chain such as quenching -> light yield -> Poisson photo-electron resolution -> efficiency maps
one column (the recoil energy) to the observables.  :class:`TailTables` runs that tail once on a lattice of the
column, 10^(i/P) for integer i (P = :attr:`TailTables.POINTS_PER_DECADE`), giving a matrix R[lattice point,
observable bin] per value of the tail's nuisances, and histograms any rows by linear interpolation between the
two lattice neighbours of each value.  Relative error ~ mu delta^2/8 for a Poisson of mean mu with delta =
ln(10)/P: 1e-4 at mu = 50 PE.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
from numba import njit

from .stage import Batch, run_chain

__all__ = ["TailTables"]


@njit(cache=True, nogil=True)
def _weighted_row_sum(w, R, rows, out):
    """out[b] += sum_k w[k] R[rows[k], b], rows in order (a fixed summation order in every process)."""
    for k in range(rows.shape[0]):
        r = rows[k]
        wk = w[k]
        for b in range(R.shape[1]):
            out[b] += wk * R[r, b]


class TailTables:
    """The tabulated tails of one experiment's chain (cached per tail, column, nuisance values and observables)."""

    def __init__(self):
        self._matrices: OrderedDict = OrderedDict()
        self._splits: dict = {}

    #: grid points per decade of the tabulated column (linear interpolation between them: relative error
    #: ~ mu delta^2 / 8 for a Poisson of mean mu, delta = ln(10) / points: 1e-4 at mu = 50 PE)
    POINTS_PER_DECADE = 320
    #: tabulated tails kept (least recently used dropped): one per nuisance variation of a workspace (COHERENT
    #: 2017: 31), in their own cache so that the per-point expectations of a scan do not push them out
    CACHE = 128

    def split(self, stages, obs):
        """Index of the tabulated tail of ``stages`` for ``obs`` (see :meth:`_find_tail_split`), or None."""
        key = (tuple(id(st) for st in stages), tuple(obs.names))
        if key not in self._splits:
            self._splits[key] = self._find_tail_split(stages, obs)
        return self._splits[key]

    def _find_tail_split(self, stages, obs):
        """Index i of the longest tail stages[i:] that reads one column (stages[i].on) and columns made
        inside the tail, makes every observable of ``obs``, and holds an expanding (resolution) stage; or
        None.  Such a tail is a transfer matrix from that column to the observables, tabulated once.  A tail
        whose input column feeds a binned stage (a migration matrix: piecewise constant in it) is not tabulated:
        interpolating across its bin edges would blur them, and the matrix is itself the exact transfer.  Nor is a
        tail holding a stage with ``tabulate = False`` (a resolution narrower than a few lattice steps, ~0.7% of
        the value: the linear interpolation would blur it; e.g. CRESST-III's 4.6 eV with a bin per event gap)."""
        for i in range(len(stages)):
            tail = stages[i:]
            have = {tail[0].on}
            ok = not any(getattr(st, "x_edges", None) is not None and st.on == tail[0].on for st in tail)
            ok = ok and all(getattr(st, "tabulate", True) for st in tail)     # a stage may refuse the lattice
            for st in tail:
                if any(c not in have for c in getattr(st, "reads", (st.on,))):
                    ok = False
                    break
                have.add(st.to)
            if ok and all(a in have for a in obs.names) and any(st.family == "resolution" for st in tail):
                return i
        return None

    def histogram(self, rows: Batch, stages, obs, vals: dict) -> np.ndarray:
        """Histogram of rows pushed through ``stages`` (expectation mode); a single-column tail of the chain is
        applied as a tabulated transfer matrix (interpolated linearly in the column, log-spaced grid).

        The lattice weights of the rows (which lattice points each value falls between, and how much weight each
        point gets) depend only on the head of the chain and its nuisances: they are kept on the batch, so the
        nuisance variations of a workspace (31 for COHERENT 2017) each cost one sum over the touched rows of
        their own tail matrix."""
        i = self.split(stages, obs)
        if i is None or len(rows) < 64:
            return obs.histogram(run_chain(stages, rows, values=vals))
        head, tail = stages[:i], tuple(stages[i:])
        col = tail[0].on
        h_nu = {nu.name for st in head for nu in st.nuisances()}
        t_nu = {nu.name for st in tail for nu in st.nuisances()}
        hvals = tuple(sorted((k, v) for k, v in vals.items() if k in h_nu))
        tvals = tuple(sorted((k, v) for k, v in vals.items() if k in t_nu))
        memo = rows.__dict__.setdefault("_lattice_weights", {})
        mkey = (tuple(id(st) for st in head), col, hvals)
        if mkey not in memo:
            b = run_chain(head, rows, values=vals)
            x = np.asarray(b[col], float)
            w = np.asarray(b.weight, float)
            pos = x[x > 0]
            lo, hi = (float(pos.min()), float(pos.max())) if len(pos) else (1.0, 1.0)
            P = self.POINTS_PER_DECADE
            i0 = int(np.floor(P * np.log10(lo))) - P
            i1 = int(np.ceil(P * np.log10(hi))) + P // 2
            grid = np.concatenate([[0.0], 10.0 ** (np.arange(i0, i1 + 1) / P)])
            xc = np.clip(x, 0.0, grid[-1])
            j = np.clip(np.searchsorted(grid, xc, side="right") - 1, 0, len(grid) - 2)
            f = (xc - grid[j]) / (grid[j + 1] - grid[j])
            wg = np.bincount(j, weights=w * (1.0 - f), minlength=len(grid)) + \
                np.bincount(j + 1, weights=w * f, minlength=len(grid))
            nz = np.flatnonzero(wg)     # only the lattice points next to a value carry weight
            memo[mkey] = (i0, i1, nz, wg[nz])
        i0, i1, nz, wgnz = memo[mkey]
        R, r0 = self.matrix(tail, col, i0, i1, tvals, obs)
        rows_r = np.where(nz == 0, 0, nz + (i0 - r0))   # grid position -> row of R (row 0: the value 0)
        # a fixed-order loop, not BLAS: a threaded BLAS sums in an order that depends on its thread count, and a
        # Dask worker (1 thread) must give the bit-identical numbers of the parent process
        out = np.zeros(R.shape[1])
        _weighted_row_sum(wgnz, R, rows_r, out)
        return out.reshape(obs.shape)

    def matrix(self, tail, col: str, i0: int, i1: int, tvals: tuple, obs):
        """(R[g, flat observable bin], r0) of a chain tail, cached per nuisance values: row 0 is the value 0, row
        g >= 1 the lattice point 10^((r0 + g - 1)/P) (P points per decade), covering at least lattice indices
        i0..i1.  One fixed lattice: any two matrices interpolate a value between the same lattice neighbours,
        so results do not depend on which model points were evaluated before (nor on the process that evaluated
        them).  Rows are independent (one lattice point each), so a cached matrix whose range falls short is
        extended by the missing lattice points only (a scan over masses widens the range now and then: a full
        rebuild of every nuisance variation's matrix cost 0.3 s of a 0.05 s limit point)."""
        P = self.POINTS_PER_DECADE
        key = (tuple(id(s) for s in tail), col, tvals, tuple(obs.names))
        cached = self._matrices.get(key)
        if cached is not None:
            self._matrices.move_to_end(key)
            R0, c0, c1 = cached
            if c0 <= i0 and c1 >= i1:
                return R0, c0
            below = 10.0 ** (np.arange(min(i0, c0), c0) / P)
            above = 10.0 ** (np.arange(c1 + 1, max(i1, c1) + 1) / P)
            Rn = self._rows(tail, col, np.concatenate([below, above]), tvals, obs)
            R = np.concatenate([R0[:1], Rn[:len(below)], R0[1:], Rn[len(below):]])
            i0, i1 = min(i0, c0), max(i1, c1)
        else:
            R = self._rows(tail, col, np.concatenate([[0.0], 10.0 ** (np.arange(i0, i1 + 1) / P)]), tvals, obs)
        self._matrices[key] = (R, i0, i1)
        if len(self._matrices) > self.CACHE:
            self._matrices.popitem(last=False)
        return R, i0

    def _rows(self, tail, col: str, grid: np.ndarray, tvals: tuple, obs) -> np.ndarray:
        """R[g, flat observable bin]: the tail run (expectation mode) on one unit-weight row per value of ``grid``."""
        g = Batch({col: grid, "_row": np.arange(len(grid), dtype=float)}, np.ones(len(grid)))
        out = run_chain(tail, g, values=dict(tvals))
        size = int(np.prod(obs.shape))
        flat = np.zeros(len(out), np.int64)
        ok = np.ones(len(out), bool)
        for a in obs.axes:
            ix = a.index(np.asarray(out[a.name], float))
            ok &= ix >= 0
            flat = flat * a.nbins + np.maximum(ix, 0)
        R = np.zeros((len(grid), size))
        np.add.at(R, (np.asarray(out["_row"], np.int64)[ok], flat[ok]), np.asarray(out.weight)[ok])
        return R
