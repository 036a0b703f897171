"""Yellin's maximum-gap upper limit (S. Yellin, PRD 66 (2002) 032005), for unbinned data with unknown background.

Between consecutive observed events (and the ends of the analysis range) the expected signal in each gap is
x_i; the largest is x.  For a signal of total expectation mu, the probability that the maximum gap is smaller
than x is (Yellin eq. 2)

    C0(x, mu) = sum_{k=0}^{m} (k x - mu)^k e^{-k x} / k! * (1 + k / (mu - k x)),    m = floor(mu / x).

A signal normalisation is excluded at 90% CL when C0(x, mu) >= 0.90.  With no event in the range the only gap
holds all the signal (x = mu) and C0 = 1 - e^{-mu}: the limit is mu = 2.303, the zero-event Poisson limit (test).
The method never subtracts background, so it is conservative when events are background.

The likelihood kind ``maximum_gap`` applies it to an experiment card (CRESST-III detector A, the method CRESST
uses): the card's unbinned events (``[analysis] data = { events = ... }``) and one observable axis with a bin
edge at every event inside its range (``[observables] X = { edges = [low, high], edges_at = { file, column } }``),
so that the expected signal between consecutive events is a sum of whole bins (exact, no interpolation)::

    [analysis]
    likelihood = "maximum_gap"
    data = { events = "cresst3/cresst3_detA_events_AR.csv", columns = { E_rec_keV = "E_keV" } }

The limit on the POI multiple mu of the signal sample is ``upper_limit_scale``; the range of the maximum gap is
the axis (``[analysis] range`` is refused), and there is no fit, no nuisance parameter and no Asimov projection.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from ..errors import CardError, NudmsimError
from .kinds import LikelihoodKind, PoissonBacked, register_likelihood_kind


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
    frac = max_gap / total
    # solved for the scaled total mu = s total in events (O(1-100)), so that the tolerance is relative to it
    f = lambda mu: c0(mu * frac, mu) - cl  # noqa: E731  (C0 grows with mu)
    hi = 1.0 / frac
    while f(hi) < 0:
        hi *= 2.0
    return optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-12) / total


# ------------------------------------------------------------------------------------------------
# the likelihood kind
# ------------------------------------------------------------------------------------------------
def event_bounds(edges, events) -> np.ndarray | None:
    """Indices of the bin edges at the events inside [edges[0], edges[-1]], with 0 and the last index (the gap
    boundaries), or None if an event inside the range is not a bin edge."""
    e = np.asarray(edges, float)
    x = np.asarray(events, float)
    x = x[(x >= e[0]) & (x <= e[-1])]
    i = np.clip(np.searchsorted(e, x), 0, len(e) - 1)
    j = np.clip(i - 1, 0, len(e) - 1)
    near = np.where(np.abs(e[i] - x) <= np.abs(e[j] - x), i, j)
    if not np.allclose(e[near], x, rtol=1e-12, atol=0.0):
        return None
    return np.unique(np.concatenate([[0], near, [len(e) - 1]]))


def bin_gaps(signal_per_bin, bounds) -> np.ndarray:
    """Expected signal in each gap: the bins between consecutive boundaries summed."""
    c = np.concatenate([[0.0], np.cumsum(np.asarray(signal_per_bin, float))])
    return np.diff(c[np.asarray(bounds, int)])


def prepare(opts: dict, exp, analysis: dict) -> dict:
    from ..analysis_files import _columns, _table

    path = exp.card.path
    obs = exp.observables
    if len(obs.axes) != 1:
        raise CardError(path, "analysis.likelihood", "maximum_gap needs exactly one observable axis")
    ax = obs.axes[0]
    data = analysis["data"]
    if data is None or data["events"] is None:
        raise CardError(path, "analysis.data", "maximum_gap needs the unbinned events",
                        "give data = { events = \"FILE\", columns = { OBSERVABLE = \"COLUMN\" } }")
    if analysis["range"]:
        raise CardError(path, "analysis.range", "is not used by maximum_gap (the gaps run over the whole axis)",
                        f"drop it and give the axis {ax.name} the analysis range as its edges")
    cols = _columns(data, obs, path, "analysis.data")
    tab = _table(exp, data["events"], "analysis.data.events", cols.values())
    events = np.asarray(tab[cols[ax.name]], float)
    bounds = event_bounds(ax.edges, events)
    if bounds is None:
        raise CardError(path, f"observables.{ax.name}", "has no bin edge at some events of analysis.data",
                        "give the axis edges_at = { file = ..., column = ... } with the events file")
    inside = int(np.sum((events >= ax.edges[0]) & (events <= ax.edges[-1])))
    return {"bounds": bounds.tolist(), "n_events": inside}


class MaximumGap(PoissonBacked):
    """Spec-compatible evaluator of a ``maximum_gap`` workspace."""

    NO_NUISANCES = "the maximum gap has no nuisance parameters"
    NO_PROJECTION = "the maximum gap uses no background model"

    def __init__(self, ws):
        super().__init__(ws)
        self.bounds = np.asarray(ws.likelihood["bounds"], int)
        self.n_events = int(ws.likelihood.get("n_events", 0))

    def gaps(self) -> np.ndarray:
        return bin_gaps(self.signal(), self.bounds)

    def upper_limit(self, *, cl: float = 0.9, method: str = "maximum_gap", power_constraint=None, **_):
        from .limits import UpperLimit

        if method != "maximum_gap":
            raise NudmsimError(f"{self.name}: the maximum_gap kind has one method, maximum_gap (got {method})")
        g = self.gaps()
        total = float(g.sum())
        if not total > 0:
            raise NudmsimError(f"{self.name}: no expected signal in the analysis range")
        mu = upper_limit_scale(float(g.max()), total, cl)
        return UpperLimit(mu, math.nan, math.nan, cl, method, math.nan, 0, None)


register_likelihood_kind(LikelihoodKind(
    "maximum_gap", None, prepare, MaximumGap, ("maximum_gap",), projection=False,
    doc="Yellin's maximum gap (PRD 66 (2002) 032005) on the card's unbinned events, no background subtracted; "
        "the observable's bin edges must include the events (edges_at)"))

__all__ = ["c0", "gaps", "upper_limit_scale", "event_bounds", "bin_gaps", "MaximumGap"]
