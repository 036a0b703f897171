"""Resolution stages: a true value becomes a reconstructed one (a drawn count, a smeared value, a migrated bin).

Registered types: resolution / poisson, gaussian, migration_matrix.  In ``sample`` mode each row gets one
drawn value (numba kernels on the counter-based streams of :mod:`nudmsim.response.rngkernels`); in
``expect`` mode each row is expanded (:meth:`Batch.expand`) into the possible outcomes on a grid, weights
times probabilities, so histogramming the result gives the expected counts with no random numbers:

* poisson: the unit grid of counts (``j + 1/2`` with the dither, ``j`` without) over the observable's range
  (``ctx.observables[to]``) or, without one, over the whole distribution; one underflow and one overflow
  row carry the exact tails.  With the dither the probabilities are ``photostatistics.pe_bin_matrix``.
* gaussian: the observable's bin edges subdivided ``subdivide`` times (or ``grid``), CDF differences,
  plus underflow/overflow rows.
* migration_matrix: the reco bins (subdivided ``subdivide`` times) with the matrix row of the true bin.

Expansion probabilities below 1e-15 are dropped (``PRUNE``): the expected counts change by less than that
fraction of a row's weight.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..errors import NudmsimError
from ..schema import Field, Section
from .kernelkit import dual_kernel
from .rngkernels import new_key, next_uniform, norm_ppf, normal_draw, poisson_draw, row_state
from .stage import Batch, register_stage
from .stagekit import ParamSet, StageBase, check_edges, errors_section, load_matrix, on_field, to_field, unit_field

PRUNE = 1e-15


# ------------------------------------------------------------------------------------------------
# Poisson
# ------------------------------------------------------------------------------------------------
@dual_kernel
def _poisson_kernel(key, mu, dither, out):
    for i in prange(mu.shape[0]):
        s = row_state(key, i)
        n, s = poisson_draw(mu[i], s)
        x = float(n)
        if dither:
            u, s = next_uniform(s)
            x += u - 0.5
        out[i] = x


@dual_kernel
def _poisson_expand(mu, glo, ghi, dither, prune, out):
    """out[i] = (P(x < glo), cells, P(x >= top)) for n ~ Poisson(mu[i]) on the counts glo..ghi.

    pmf by recursion from the mode (one exp and one lgamma per row): p(j±1) from p(j).  Tails by the
    decreasing recursion away from the mode (stopped below 1e-20 of the row) or as 1 minus the rest."""
    nj = ghi - glo + 1
    for i in prange(mu.shape[0]):
        m = mu[i]
        p = np.zeros(nj)
        under = 0.0
        over = 0.0
        if m <= 0.0:                                # n = 0 for sure
            if glo == 0:
                p[0] = 1.0
            else:
                under = 1.0
        else:
            lm = math.log(m)
            mode = min(max(int(math.floor(m)), glo), ghi)
            pm = math.exp(-m + mode * lm - math.lgamma(mode + 1.0))
            p[mode - glo] = pm
            v = pm
            for j in range(mode, glo, -1):          # p(j-1) = p(j) j / m
                v = v * j / m
                p[j - 1 - glo] = v
            v = pm
            for j in range(mode, ghi):              # p(j+1) = p(j) m / (j+1)
                v = v * m / (j + 1.0)
                p[j + 1 - glo] = v
            s_in = 0.0
            for j in range(nj):
                s_in += p[j]
            # sum_{j < glo} p(j)
            if glo > 0 and glo <= m + 1.0:
                v = p[0]
                for j in range(glo, 0, -1):
                    v = v * j / m
                    under += v
                    if v < 1e-20 * (under + s_in):
                        break
            # sum_{j > ghi} p(j)
            if ghi >= m - 1.0:
                v = p[nj - 1]
                j = ghi
                while True:
                    v = v * m / (j + 1.0)
                    over += v
                    j += 1
                    if v < 1e-20 * (over + s_in) or j > ghi + 100000:
                        break
                if glo > m + 1.0:
                    under = max(1.0 - s_in - over, 0.0)
            else:
                over = max(1.0 - s_in - under, 0.0)
        if dither:
            out[i, 0] = under + 0.5 * p[0]
            for j in range(nj - 1):
                out[i, 1 + j] = 0.5 * (p[j] + p[j + 1])
            out[i, nj] = over + 0.5 * p[nj - 1]
        else:
            out[i, 0] = under
            for j in range(nj):
                out[i, 1 + j] = p[j]
            out[i, nj + 1] = over
        for j in range(out.shape[1]):
            if out[i, j] < prune:
                out[i, j] = 0.0


@register_stage
class PoissonResolution(StageBase):
    family = "resolution"
    model = "poisson"
    default_label = "res"
    doc = ("Counting statistics: n ~ Poisson(μ) with μ the column `on` (e.g. mean photoelectrons).  With "
           "`dither = true` the reconstructed value is x = n + U(-1/2, 1/2), the single-PE charge rule of "
           "COHERENT 2017 (response/photostatistics.py): the 1-PE bin [j, j+1) collects half of n = j and half of "
           "n = j+1, and the expectation puts (P(j) + P(j+1))/2 at j + 1/2 (exactly "
           "photostatistics.pe_bin_matrix).  Without the dither x = n.  μ < 0 counts as 0.")
    schema = Section("resolution/poisson", fields=(
        on_field("pe_mean", "mean-count column"),
        to_field("pe", "count column"),
        Field("dither", bool, default=False, doc="add U(-1/2, 1/2) to the count (continuous single-PE charge)"),
    ))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.dither = bool(values["dither"])
        edges = ctx.observables.get(self.to) if ctx.observables else None
        self.range = None
        if edges is not None:
            e = np.asarray(edges, dtype=float)
            self.range = (max(int(math.floor(e[0])), 0), max(int(math.ceil(e[-1])), 1))

    def _mu(self, batch):
        return np.maximum(self.column(batch, self.on), 0.0)

    def sample(self, batch, rng, values=None):
        mu = np.ascontiguousarray(self._mu(batch))
        out = np.empty_like(mu)
        _poisson_kernel(len(mu), new_key(rng), mu, self.dither, out)
        return batch.with_columns(**{self.to: out})

    def grid(self, mu: np.ndarray) -> tuple[int, int, int, int]:
        """(lo, hi, glo, ghi): the observable's unit range and the part of it the batch can reach."""
        mu_max = float(mu.max()) if len(mu) else 0.0
        mu_min = float(mu.min()) if len(mu) else 0.0
        need_hi = int(math.ceil(mu_max + 12.0 * math.sqrt(mu_max) + 12.0))
        need_lo = max(int(math.floor(mu_min - 12.0 * math.sqrt(mu_min) - 12.0)), 0)
        lo, hi = self.range if self.range is not None else (0, need_hi)
        return lo, hi, max(lo, min(need_lo, hi)), max(min(hi, need_hi), lo)

    def expansion(self, mu: np.ndarray):
        """(values, P) of the expectation: P[i, :] over underflow, the grid, overflow (rows sum to 1).

        With the dither the grid is the 1-PE bins [j, j+1) at j + 1/2 with (P(j) + P(j+1))/2 (as
        photostatistics.pe_bin_matrix); without, the counts j with P(j)."""
        lo, hi, glo, ghi = self.grid(mu)
        k = (ghi - glo) if self.dither else (ghi - glo + 1)
        P = np.empty((len(mu), k + 2))
        _poisson_expand(len(mu), np.ascontiguousarray(mu, dtype=float), glo, ghi, self.dither, PRUNE, P)
        if self.dither:
            vals = np.arange(glo, ghi, dtype=float) + 0.5
            under_val = lo - 0.5 if lo > 0 else -0.25
        else:
            vals = np.arange(glo, ghi + 1, dtype=float)
            under_val = lo - 0.5
        over_val = (hi + 0.5) if self.range is not None else ghi + 1.5
        return np.concatenate([[under_val], vals, [over_val]]), P

    def expect(self, batch, values=None):
        vals, P = self.expansion(self._mu(batch))
        return batch.expand(vals, P, self.to)


# ------------------------------------------------------------------------------------------------
# Gaussian
# ------------------------------------------------------------------------------------------------
_LOWER = {"none": 0, "clip": 1, "truncate": 2}


@njit(inline="always", cache=True)
def _tail(z):
    """min(Φ(z), 1-Φ(z)) computed without cancellation: Φ(z) for z <= 0, Q(z) for z > 0."""
    return 0.5 * math.erfc(abs(z) / math.sqrt(2.0))


@njit(cache=True)
def _cdf_lt(e, m, s):
    """P(X < e) for X ~ N(m, s^2) as (value, is_upper): is_upper = 1 means the value is 1 - P (tail form)."""
    if s > 0.0:
        z = (e - m) / s
        return _tail(z), (1 if z > 0.0 else 0)
    return 0.0, (1 if e > m else 0)


@njit(cache=True)
def _prob_between(a, ua, b, ub):
    """P(lo <= X < hi) from the tail-form CDFs at lo (a, ua) and hi (b, ub)."""
    if ua == 0 and ub == 0:
        return b - a
    if ua == 1 and ub == 1:
        return a - b
    return 1.0 - a - b      # lo below the mean, hi above


@dual_kernel
def _gauss_probs(mu, sig, edges, lower, out):
    """out[i] = (underflow, cells..., overflow) probabilities of max/truncated/plain N(mu, sig)."""
    K = edges.shape[0] - 1
    for i in prange(mu.shape[0]):
        m = mu[i]
        s = sig[i]
        if lower == 0:
            pa, ua = _cdf_lt(edges[0], m, s)
            out[i, 0] = pa if ua == 0 else 1.0 - pa
            for j in range(K):
                pb, ub = _cdf_lt(edges[j + 1], m, s)
                out[i, 1 + j] = _prob_between(pa, ua, pb, ub)
                pa, ua = pb, ub
            out[i, K + 1] = pa if ua == 1 else 1.0 - pa
            continue
        # clip (atom at 0) or truncate (renormalised to x >= 0): continuous part on x > 0
        z0, u0 = _cdf_lt(0.0, m, s)
        if s > 0.0:
            above = z0 if u0 == 1 else 1.0 - z0                  # P(X >= 0)
        else:
            above = 1.0 if m >= 0.0 else 0.0
        atom = 1.0 - above if lower == 1 else 0.0
        norm = 1.0
        if lower == 2:
            if above > 0.0:
                norm = 1.0 / above
            else:                                                # all mass below 0: a point at 0
                atom = 1.0
                above = 0.0
        prev = 0.0     # P(0 <= X < max(e, 0)), continuous part
        pz, uz = z0, u0
        for j in range(K + 1):
            e = edges[j]
            if e <= 0.0 or above == 0.0:
                cur = 0.0
            else:
                pb, ub = _cdf_lt(e, m, s)
                cur = _prob_between(pz, uz, pb, ub)
            if j == 0:
                out[i, 0] = cur * norm + (atom if e > 0.0 else 0.0)
            else:
                lo_e = edges[j - 1]
                out[i, j] = (cur - prev) * norm + (atom if (lo_e <= 0.0 < e) else 0.0)
            prev = cur
        out[i, K + 1] = (above - prev) * norm + (atom if edges[K] <= 0.0 else 0.0)


@dual_kernel
def _gauss_sample(key, mu, sig, lower, out):
    for i in prange(mu.shape[0]):
        m = mu[i]
        s = sig[i]
        st = row_state(key, i)
        if lower == 2:
            if s > 0.0:
                u, st = next_uniform(st)
                q = 0.5 * math.erfc(-(m / s) / math.sqrt(2.0))  # P(X >= 0) = Φ(m/s)
                if q > 0.0:
                    out[i] = max(m - s * norm_ppf(q * (1.0 - u)), 0.0)
                else:
                    out[i] = 0.0
            else:
                out[i] = max(m, 0.0)
            continue
        z, st = normal_draw(st)
        x = m + s * z
        if lower == 1 and x < 0.0:
            x = 0.0
        out[i] = x


def gaussian_sigma(E, a, b, c, combine: str = "quadrature"):
    """σ(E) = a·E ⊕ b·√E ⊕ c (quadrature) or a·E + b·√E + c (linear, GLoBES); E < 0 counts as 0."""
    Ep = np.maximum(np.asarray(E, dtype=float), 0.0)
    if b == 0 and c == 0:          # a relative resolution alone (e.g. a track's sigma_p/p): one multiply
        return a * Ep
    t1, t2 = a * Ep, b * np.sqrt(Ep)
    if combine == "linear":
        return t1 + t2 + c
    return np.sqrt(t1 * t1 + t2 * t2 + c * c)


def subdivided(edges, n: int) -> np.ndarray:
    """Each bin of ``edges`` cut into ``n`` equal parts."""
    e = np.asarray(edges, dtype=float)
    if n == 1:
        return e.copy()
    f = np.arange(n) / n
    inner = (e[:-1, None] + (e[1:] - e[:-1])[:, None] * f[None, :]).ravel()
    return np.append(inner, e[-1])


@register_stage
class GaussianResolution(StageBase):
    family = "resolution"
    model = "gaussian"
    default_label = "res"
    doc = ("Gaussian smearing x_reco ~ N(x, σ(x)²) of any column (energy, time, ...), σ(E) = a·E ⊕ b·√E ⊕ c "
           "(`combine = \"quadrature\"`) or a·E + b·√E + c (`\"linear\"`, as GLoBES' smearing), with E and σ in "
           "`unit` (empty: the column's own unit; a: dimensionless, b: √unit, c: unit).  `lower = \"clip\"` sets "
           "negative results to 0, `\"truncate\"` renormalises the Gaussian to x ≥ 0.  Expectation: CDF "
           "differences on the observable's bin edges (`ctx.observables[to]`, or `grid`) subdivided `subdivide` "
           "times, plus underflow/overflow rows.  `errors = {a = .., b = .., c = ..}` give nuisances `<label>_a`...")
    schema = Section("resolution/gaussian", fields=(
        on_field(None, "column to smear"),
        to_field("", "output column (default: replace `on`)"),
        Field("a", float, default=0.0, lo=0.0, doc="term proportional to E (dimensionless)"),
        Field("b", float, default=0.0, lo=0.0, doc="term proportional to √E (√unit)"),
        Field("c", float, default=0.0, lo=0.0, doc="constant term (unit)"),
        unit_field(),
        Field("combine", str, default="quadrature", choices=("quadrature", "linear"), doc="how the terms add"),
        Field("lower", str, default="none", choices=tuple(_LOWER),
              doc="negative outcomes: none, clip (set to 0), truncate (renormalise to x >= 0)"),
        Field("subdivide", int, default=5, lo=1, doc="fine cells per observable bin in the expectation"),
        Field("grid", list, default=None, length=3,
              doc="[lo, hi, width] expansion grid when `to` is not an observable (column units)"),
        Field("tabulate", bool, default=True,
              doc="false: evaluate the stage at every row instead of through the engine's tabulated transfer "
                  "matrix (log lattice, 320 points per decade, linear interpolation); needed when σ or the "
                  "observable bins are narrower than a few lattice steps (~0.7% of the value)"),
        Field("errors", errors_section(("a", "b", "c")), default=None, doc="symmetric 1σ errors {a, b, c}"),
        Field("errors_hi", errors_section(("a", "b", "c")), default=None, doc="upper 1σ errors"),
        Field("errors_lo", errors_section(("a", "b", "c")), default=None, doc="lower 1σ errors"),
    ))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.combine, self.lower = values["combine"], _LOWER[values["lower"]]
        self.tabulate = values["tabulate"]
        self.f = self.unit_scale(self.on, values["unit"])     # value_in_unit = f * column value
        self.params = ParamSet(self, {k: values[k] for k in "abc"}, values["errors"], values["errors_hi"],
                               values["errors_lo"], bounds={k: (0.0, None) for k in "abc"})
        if not any(values[k] > 0 for k in "abc") and not self.params.names:
            raise ctx.error("c", "a, b and c are all 0 (no smearing)", "give the resolution terms")
        obs = ctx.observables.get(self.to) if ctx.observables else None
        self.edges = None
        if obs is not None:
            self.edges = subdivided(check_edges(ctx, "to", obs), values["subdivide"])
        elif values["grid"] is not None:
            lo, hi, w = values["grid"]
            if not (hi > lo and w > 0):
                raise ctx.error("grid", f"is {values['grid']}", "give [lo, hi, width] with hi > lo, width > 0")
            n = max(int(round((hi - lo) / w)), 1)
            self.edges = np.linspace(lo, hi, n + 1)

    def sigma(self, x: np.ndarray, values=None) -> np.ndarray:
        """σ in the column's unit at column values x."""
        p = self.params.resolve(values)
        return gaussian_sigma(self.f * x, p["a"], p["b"], p["c"], self.combine) / self.f

    def sample(self, batch, rng, values=None):
        x = np.ascontiguousarray(self.column(batch, self.on))
        out = np.empty_like(x)
        _gauss_sample(len(x), new_key(rng), x, np.ascontiguousarray(self.sigma(x, values)), self.lower, out)
        return batch.with_columns(**{self.to: out})

    def expansion(self, x: np.ndarray, values=None):
        if self.edges is None:
            raise NudmsimError(f"{self.ctx.path}: key '{self.ctx.key}': the expectation of resolution/gaussian needs "
                               f"a grid: '{self.to}' is not an observable (add it to the observables or give "
                               "grid = [lo, hi, width])")
        e = self.edges
        P = np.empty((len(x), len(e) + 1))
        _gauss_probs(len(x), np.ascontiguousarray(x), np.ascontiguousarray(self.sigma(x, values)), e, self.lower, P)
        P[P < PRUNE] = 0.0
        under = e[0] - 0.5 * (e[1] - e[0])
        if self.lower and under < 0:
            under = 0.5 * e[0] if e[0] > 0 else under
        vals = np.concatenate([[under], 0.5 * (e[:-1] + e[1:]), [e[-1] + 0.5 * (e[-1] - e[-2])]])
        return vals, P

    def expect(self, batch, values=None):
        vals, P = self.expansion(self.column(batch, self.on), values)
        return batch.expand(vals, P, self.to)


# ------------------------------------------------------------------------------------------------
# matrices: migration (and the conditional tables of stages_axis)
# ------------------------------------------------------------------------------------------------
@dual_kernel
def _draw_rows(key, row, cdf, y_edges, sentinel, out):
    """For each event with matrix row r >= 0: a y bin drawn from cdf[r] (normalised), then uniform in it."""
    nb = cdf.shape[1]
    for i in prange(row.shape[0]):
        r = row[i]
        if r < 0:
            out[i] = sentinel
            continue
        s = row_state(key, i)
        u, s = next_uniform(s)
        lo, hi = 0, nb - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if cdf[r, mid] > u:
                hi = mid
            else:
                lo = mid + 1
        v, s = next_uniform(s)
        out[i] = y_edges[lo] + v * (y_edges[lo + 1] - y_edges[lo])


class MatrixStage(StageBase):
    """P(y bin | x bin) tables: sampling of a bin then uniform within it; expansion onto bin (sub)centres."""

    def setup_matrix(self, x_edges, y_edges, P, subdivide: int = 1):
        self.x_edges, self.y_edges, self.P = x_edges, y_edges, P
        self.row_sum = P.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cond = np.where(self.row_sum[:, None] > 0, P / self.row_sum[:, None], 0.0)
        cdf = np.cumsum(cond, axis=1)
        cdf[self.row_sum > 0, -1] = 1.0
        self.cdf = np.ascontiguousarray(cdf)
        self.subdivide = subdivide
        fine = subdivided(y_edges, subdivide)
        self.fine_centres = 0.5 * (fine[:-1] + fine[1:])
        self.sentinel = float(y_edges[0] - 0.5 * (y_edges[1] - y_edges[0]))

    def x_bin(self, x: np.ndarray) -> np.ndarray:
        """Row of each value (-1 outside the x edges)."""
        i = np.searchsorted(self.x_edges, x, side="right") - 1
        return np.where((i >= 0) & (i < len(self.x_edges) - 1), i, -1)

    def draw(self, rows: np.ndarray, rng) -> np.ndarray:
        out = np.empty(len(rows))
        _draw_rows(len(rows), new_key(rng), np.ascontiguousarray(rows, dtype=np.int64), self.cdf, self.y_edges,
                   self.sentinel, out)
        return out

    def expand_rows(self, batch: Batch, rows: np.ndarray) -> Batch:
        """Expectation: row i -> the y (sub)bins with P[rows[i], :] (rows < 0 are dropped)."""
        keep = rows >= 0
        b = batch if keep.all() else batch.take(keep)
        r = rows[keep]
        P = self.P[r]
        if self.subdivide > 1:
            P = np.repeat(P / self.subdivide, self.subdivide, axis=1)
        return b.expand(self.fine_centres, P, self.to)


@register_stage
class MigrationMatrixResolution(MatrixStage):
    family = "resolution"
    model = "migration_matrix"
    default_label = "res"
    doc = ("Migration matrix M[i, j] = P(reconstructed bin j | true bin i) of the column `on`, from a file "
           "(rows = true bins: columns `<x>_lo, <x>_hi`, then one column per reconstructed bin named "
           "`<name>_<lo>_<hi>`, the XENON1T release layout) or inline (`true_edges`, `reco_edges`, `matrix`); "
           "edges in the columns' units.  "
           "Row sums (≤ 1) are the detection efficiency: weights are multiplied by them, the reconstructed bin is "
           "drawn from the normalised row and the value is uniform in it.  True values outside the matrix get "
           "weight 0.  Expectation: reco bins (subdivided `subdivide` times) weighted by M[i, j].")
    schema = Section("resolution/migration_matrix", fields=(
        on_field(None, "true-value column"),
        to_field(None, "reconstructed-value column"),
        Field("file", str, default=None, doc="CSV matrix (rows true bins, columns reco bins)"),
        Field("true_edges", list, default=None, doc="inline true bin edges"),
        Field("reco_edges", list, default=None, doc="inline reconstructed bin edges"),
        Field("matrix", list, default=None, doc="inline matrix, one row (list) per true bin"),
        Field("subdivide", int, default=1, lo=1, doc="sub-cells per reco bin in the expectation"),
    ), one_of=(("file", "matrix"),))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        xe, ye, P = load_matrix(ctx, values, "true_edges", "reco_edges", "matrix", max_row_sum=1.0,
                                x_what="true", y_what="reco")
        self.setup_matrix(xe, ye, P, values["subdivide"])

    def sample(self, batch, rng, values=None):
        rows = self.x_bin(self.column(batch, self.on))
        eff = np.where(rows >= 0, self.row_sum[np.maximum(rows, 0)], 0.0)
        rows = np.where(eff > 0, rows, -1)
        return Batch({**batch.columns, self.to: self.draw(rows, rng)}, batch.weight * eff)

    def expect(self, batch, values=None):
        return self.expand_rows(batch, self.x_bin(self.column(batch, self.on)))


__all__ = ["PoissonResolution", "GaussianResolution", "MigrationMatrixResolution", "MatrixStage",
           "gaussian_sigma", "subdivided", "PRUNE"]
