"""The ``binwise_table`` likelihood kind: a release's per-bin -2 ln L tables (XENON's approximate binwise
likelihood, arXiv:2210.07231) with toy-MC critical values.

XENON1T released, for its 1 t x yr nuclear-recoil search (PRL 121 (2018) 111302), instead of its data and
background model:

* for every reconstructed bin j, -2 ln L_j(s_j) tabulated against the expected signal s_j in that bin
  (0..3 events, uniform grid), the data and the backgrounds folded in;
* the 90% CL critical value of the summed likelihood ratio versus the total expected signal (toy Monte
  Carlo, non-asymptotic), falling back to the chi2_1 quantile (2.706) outside its range.

The limit on a signal multiple mu follows the release's package: q(mu) = sum_j LL_j(mu s_j) - min_mu on a
grid of 1000 mu up to the table's end (3 events in the brightest bin), and the upper limit is the first mu
above the minimum with q(mu) = threshold(mu s_tot), linearly interpolated between grid points
(``method = "table"``); ``method = "delta-chi2"`` uses the chi2_1 quantile everywhere (the release's
asymptotic option).  The observables of the card must be the table's bins; its signal sample carries a
normfactor (the POI) and nothing else (the tables have no nuisance parameters).  No background model is
released, so there is no Asimov projection.

Card syntax::

    [analysis]
    likelihood = "binwise_table"
    likelihood_options = { table = "xenon1t_2018/..._binwise_loglikelihood_official.csv",
                           threshold = "xenon1t_2018/..._binwise_llr_threshold_90pct.csv" }
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from ..errors import CardError, NudmsimError
from ..response.tables import contiguous_edges, read_table
from ..schema import Field, Section
from .kinds import LikelihoodKind, PoissonBacked, register_likelihood_kind

OPTIONS = Section("analysis.likelihood_options", "binwise_table: per-bin -2 ln L tables of a release", fields=(
    Field("table", str, doc="CSV: bin low and high edges (the observable's unit), then -2 ln L_j at the expected "
                            "signal s_<value> (uniform, increasing columns, e.g. s_0.00 ... s_3.00)"),
    Field("threshold", str, default=None, doc="CSV: total expected signal (increasing) and the critical value "
                                               "of -2 ln lambda at threshold_cl (toy MC); needed by method table"),
    Field("threshold_cl", float, default=0.9, lo=0, hi=1, lo_open=True, hi_open=True,
          doc="confidence level of the threshold table"),
    Field("grid", int, default=1000, lo=10, doc="points of the mu scan (the release's package: 1000)"),
))


# ------------------------------------------------------------------------------------------------
# tables
# ------------------------------------------------------------------------------------------------
def read_ll_table(path):
    """(bin edges, signal grid s, table[j, k] = -2 ln L_j(s_k)) of a binwise likelihood CSV."""
    header, arr = read_table(path)
    if len(header) < 4:
        raise NudmsimError(f"{path}: needs two bin-edge columns and at least two s_<value> columns")
    read_table(path, increasing=header[:1])
    s = []
    for h in header[2:]:
        try:
            s.append(float(h.split("_", 1)[1]))
        except (IndexError, ValueError):
            raise NudmsimError(f"{path}: column '{h}' must be named s_<signal>, e.g. s_0.5") from None
    s = np.array(s)
    if not (np.all(np.isfinite(s)) and np.all(np.diff(s) > 0)):
        raise NudmsimError(f"{path}: the signal columns s_<value> must increase ({', '.join(header[2:])})")
    if not np.allclose(np.diff(s), s[1] - s[0]):
        raise NudmsimError(f"{path}: the signal grid s_<value> must be uniform")
    edges = contiguous_edges(path, arr[:, 0], arr[:, 1], header[0], header[1])
    return edges, s, arr[:, 2:]


def read_threshold(path) -> tuple[np.ndarray, np.ndarray]:
    """(total signal, critical -2 ln lambda) of a threshold table: first column increasing, both >= 0."""
    header, th = read_table(path)
    if len(header) < 2:
        raise NudmsimError(f"{path}: needs columns total signal and critical value")
    read_table(path, increasing=header[:1], nonnegative=header[:2])
    return th[:, 0], th[:, 1]


def twice_nll(s_grid, table, signal_per_bin) -> np.ndarray:
    """sum_j LL_j(s_j) for signal arrays of shape (..., n_bins), linear in s; +inf beyond the table's end."""
    ds = s_grid[1] - s_grid[0]
    sig = np.asarray(signal_per_bin, dtype=float)
    pos = sig / ds
    k = np.floor(pos).astype(int)
    out_of_range = (k >= len(s_grid) - 1) & ~np.isclose(pos, len(s_grid) - 1)
    k = np.clip(k, 0, len(s_grid) - 2)
    f = pos - k
    j = np.arange(table.shape[0])
    vals = table[j, k] * (1.0 - f) + table[j, k + 1] * f
    return np.where(out_of_range, np.inf, vals).sum(axis=-1)


def binwise_upper_limit(s_grid, table, signal_per_bin, critical, n_grid: int = 1000) -> tuple[float, float, float]:
    """(mu_up, mu_hat, q at the limit) of the release's procedure; ``critical(total_signal) -> value``.

    mu_up = inf when the signal puts nothing in the table's range."""
    sig = np.asarray(signal_per_bin, dtype=float)
    s_max = sig.max()
    if not np.isfinite(s_max) or s_max <= 0:
        return math.inf, math.nan, math.nan
    mus = np.linspace(0.0, s_grid[-1] / s_max, n_grid)
    q = twice_nll(s_grid, table, mus[:, None] * sig[None, :])
    if not np.isfinite(q).any():
        return math.inf, math.nan, math.nan
    i_min = int(np.nanargmin(q))
    q = q - q[i_min]
    g = q - critical(mus * sig.sum())
    above = np.nonzero((g > 0) & (np.arange(n_grid) > i_min))[0]
    if len(above) == 0:
        return float(mus[-1]), float(mus[i_min]), float(q[-1])
    k = above[0]
    if k == 0:
        return 0.0, float(mus[i_min]), float(q[0])
    g0, g1 = g[k - 1], g[k]   # linear interpolation of the crossing (as brentq on the package's interp1d)
    mu = float(mus[k - 1] + (mus[k] - mus[k - 1]) * (-g0) / (g1 - g0))
    return mu, float(mus[i_min]), float(np.interp(mu, mus, q))


# ------------------------------------------------------------------------------------------------
# the kind
# ------------------------------------------------------------------------------------------------
def prepare(opts: dict, exp, analysis: dict) -> dict:
    path = exp.card.path
    ll_path = exp.resolve_file(opts["table"], "analysis.likelihood_options.table")
    try:
        edges, s, table = read_ll_table(ll_path)
    except NudmsimError as exc:
        raise CardError(path, "analysis.likelihood_options.table", str(exc)) from None
    obs = exp.observables
    if len(obs.axes) != 1 or len(obs.axes[0].edges) != len(edges) or not np.allclose(obs.axes[0].edges, edges):
        raise CardError(path, "analysis.likelihood_options.table", f"its {len(edges) - 1} bins "
                        f"[{edges[0]:g}, {edges[-1]:g}] are not the observables {obs!r}",
                        "give one observable axis with the table's bin edges")
    out = {"s_grid": s.tolist(), "table": table.tolist(), "threshold_x": None, "threshold_y": None,
           "threshold_cl": opts["threshold_cl"], "grid": opts["grid"]}
    if opts["threshold"] is not None:
        th_path = exp.resolve_file(opts["threshold"], "analysis.likelihood_options.threshold")
        try:
            tx, ty = read_threshold(th_path)
        except NudmsimError as exc:
            raise CardError(path, "analysis.likelihood_options.threshold", str(exc)) from None
        out["threshold_x"], out["threshold_y"] = tx.tolist(), ty.tolist()
    return out


def observed(opts, exp, data) -> np.ndarray:
    """The data are folded into the tables: the workspace's observed counts are zeros (unused)."""
    return np.zeros(exp.observables.shape)


class BinwiseTable(PoissonBacked):
    """Spec-compatible evaluator of a ``binwise_table`` workspace."""

    NO_NUISANCES = "the binwise tables have no nuisance parameters"
    NO_PROJECTION = "the binwise tables carry no background model"

    def __init__(self, ws):
        super().__init__(ws)
        d = ws.likelihood
        self.s = np.asarray(d["s_grid"], float)
        self.table = np.asarray(d["table"], float)
        self.tx = None if d.get("threshold_x") is None else np.asarray(d["threshold_x"], float)
        self.ty = None if d.get("threshold_y") is None else np.asarray(d["threshold_y"], float)
        self.threshold_cl = float(d.get("threshold_cl", 0.9))
        self.grid = int(d.get("grid", 1000))

    def twice_nll(self, params) -> float:
        return float(twice_nll(self.s, self.table, np.where(self.mask, self.expected(params), 0.0).ravel()))

    def critical(self, cl: float, method: str):
        chi2 = float(sps.chi2.ppf(cl, 1))
        if method == "delta-chi2":
            return lambda total: np.full(np.shape(total), chi2)
        if method != "table":
            raise NudmsimError(f"{self.name}: limit method '{method}' is not one of the binwise_table kind "
                               "(table: the release's toy-MC critical values; delta-chi2: the chi2_1 quantile)")
        if self.tx is None:
            raise NudmsimError(f"{self.name}: method table needs likelihood_options.threshold (a critical-value table)")
        if abs(cl - self.threshold_cl) > 1e-9:
            raise NudmsimError(f"{self.name}: the critical-value table is for {self.threshold_cl:.0%} CL, not "
                               f"{cl:.0%} (use method delta-chi2 or the table's CL)")
        tx, ty = self.tx, self.ty

        def crit(total):
            t = np.asarray(total, dtype=float)
            inside = (t >= tx[0]) & (t <= tx[-1])
            return np.where(inside, np.interp(t, tx, ty), chi2)

        return crit

    def upper_limit(self, *, cl: float = 0.9, method: str = "table", power_constraint=None, **_):
        from .limits import UpperLimit

        sig = self.signal(masked=True)
        rows = self.table.any(axis=1)
        if not np.any(sig[rows] > 0):
            raise NudmsimError(f"{self.name}: no expected signal in the bins the tables constrain")
        mu, mu_hat, q = binwise_upper_limit(self.s, self.table, sig, self.critical(cl, method), self.grid)
        return UpperLimit(mu, mu_hat, math.nan, cl, method, q, 0, None,
                          note="" if mu < self.s[-1] / sig.max() else "limit at the end of the tables")


register_likelihood_kind(LikelihoodKind(
    "binwise_table", OPTIONS, prepare, BinwiseTable, ("table", "delta-chi2"), projection=False, observed=observed,
    doc="a release's per-bin -2 ln L tables vs expected signal with toy-MC critical values (XENON1T 2018, "
        "arXiv:2210.07231)"))

__all__ = ["BinwiseTable", "read_ll_table", "read_threshold", "twice_nll", "binwise_upper_limit", "OPTIONS"]
