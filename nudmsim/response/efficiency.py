"""Detection efficiencies / analysis acceptances as functions of an observable (PE, keVee, keVnr...).

* :func:`coherent_logistic`: the COHERENT 2017 CsI[Na] released acceptance
  f(x) = a / (1 + exp(-k (x - x0))) * H(x - 5), with the release's modified step H = 0 (x < 5),
  1/2 (5 <= x < 6), 1 (x >= 6), x in PE.  The release says it is applied to 1-PE bins and evaluated at the
  bin centre (0.5, 1.5, ...).  Step edges are parameters (``step_start``, ``step_full``).
* :func:`table`: linear interpolation in (x, efficiency) points, 0 outside (or clamped).
* :class:`Acceptance` wraps either; ``binned(edges)`` gives the per-bin value with its evaluation rule.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def coherent_logistic(x, a, k, x0, step_start: float = 5.0, step_full: float = 6.0):
    """a / (1 + exp(-k (x - x0))) * H(x), H = 0 below step_start, 1/2 up to step_full, 1 above."""
    x = np.asarray(x, dtype=float)
    step = np.where(x < step_start, 0.0, np.where(x < step_full, 0.5, 1.0))
    return a / (1.0 + np.exp(-k * (x - x0))) * step


def table(x, xs, effs, clamp: bool = False):
    """Linear interpolation of an efficiency table; 0 outside unless ``clamp``."""
    x = np.asarray(x, dtype=float)
    if clamp:
        return np.interp(x, xs, effs)
    return np.interp(x, xs, effs, left=0.0, right=0.0)


@dataclass(frozen=True)
class Acceptance:
    """An acceptance function of the observable with its parameters (and their errors, for nuisances)."""

    model: str
    params: dict
    errors_hi: dict
    errors_lo: dict
    eval_bin_width: float = 1.0        # evaluate on bins of this width at their centres (COHERENT rule)

    def __call__(self, x, **override):
        p = {**self.params, **override}
        if self.model == "coherent_logistic":
            return coherent_logistic(x, p["a"], p["k"], p["x0"], p.get("step_start", 5.0), p.get("step_full", 6.0))
        return table(x, p["x"], p["efficiency"])

    def fine_bins(self, lo: float, hi: float) -> np.ndarray:
        """Edges of the evaluation bins (width ``eval_bin_width``) covering [lo, hi]."""
        n = int(round((hi - lo) / self.eval_bin_width))
        return lo + self.eval_bin_width * np.arange(n + 1)
