"""The response chain as a matrix: expected observable histogram = truth weights @ R.

Every stage multiplies a row's weight by a factor that does not depend on the weight (efficiencies,
expansion probabilities), so the expectation of a chain is linear in the truth weights.  For fixed truth
rows (quadrature nodes in E_R, flavour, isotope, time, ...) the chain needs to run once per nuisance point:

    R = response_matrix(chain, truth, {"pe": pe_edges, "t_us": t_edges})
    hist = R.fold(weights)        # (n_pe, n_t) expected counts, a sparse mat-vec (µs)

``R.fold(w)`` equals histogramming ``run_chain(chain, truth with weights w)`` (numpy's bin convention: each
bin [lo, hi), the last one closed); rows that land outside every bin are dropped.  A model point that only
changes the truth weights (a coupling, a normalisation, reweighting in mass at fixed nodes) then costs a
mat-vec instead of the chain's expansions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from .stage import Batch, run_chain

_ROW = "__truth_row"


@dataclass(frozen=True)
class ResponseMatrix:
    """R[i, k]: expected entries in flattened observable bin k per unit weight of truth row i."""

    matrix: sp.csr_matrix
    edges: dict
    shape: tuple
    transposed: sp.csr_matrix = None

    def __post_init__(self):
        if self.transposed is None:
            object.__setattr__(self, "transposed", self.matrix.T.tocsr())

    def fold(self, weights) -> np.ndarray:
        """Expected histogram (shape ``self.shape``) for truth weights ``weights``."""
        w = np.asarray(weights, dtype=float)
        return (self.transposed @ w).reshape(self.shape)

    @property
    def efficiency(self) -> np.ndarray:
        """Per truth row: the fraction of its weight that lands in the observable bins."""
        return np.asarray(self.matrix.sum(axis=1)).ravel()


def bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value with numpy.histogram's convention ([lo, hi), last bin closed); -1 outside."""
    e = np.asarray(edges, dtype=float)
    j = np.searchsorted(e, x, side="right") - 1
    j = np.where(x == e[-1], len(e) - 2, j)
    return np.where((j >= 0) & (j < len(e) - 1), j, -1)


def response_matrix(stages, truth: Batch, edges: Mapping[str, np.ndarray],
                    values: Mapping[str, float] | None = None) -> ResponseMatrix:
    """Run ``stages`` in expectation mode on ``truth`` (weights set to 1) and collect R (sparse)."""
    n = len(truth)
    b = Batch({**truth.columns, _ROW: np.arange(n, dtype=float)}, np.ones(n))
    out = run_chain(stages, b, values=values)
    flat = np.zeros(len(out), dtype=np.int64)
    inside = np.ones(len(out), dtype=bool)
    shape = []
    for col, e in edges.items():
        e = np.asarray(e, dtype=float)
        j = bin_index(out[col], e)
        inside &= j >= 0
        flat = flat * (len(e) - 1) + np.maximum(j, 0)
        shape.append(len(e) - 1)
    rows = out[_ROW][inside].astype(np.int64)
    R = sp.csr_matrix((out.weight[inside], (rows, flat[inside])), shape=(n, int(np.prod(shape))))
    R.sum_duplicates()
    return ResponseMatrix(R, {k: np.asarray(v, dtype=float) for k, v in edges.items()}, tuple(shape))


__all__ = ["ResponseMatrix", "response_matrix", "bin_index"]
