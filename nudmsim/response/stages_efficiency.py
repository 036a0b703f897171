"""Efficiency and cut stages: weights are multiplied by ε(x) ∈ [0, 1] of a column (deterministic).

Registered types: efficiency / logistic, table, step, constant, time_exp; cut / window.  ``sample`` and
``expect`` are the same function (the weight of every row times ε at its value), so a weighted event
sample and the expectation carry the same efficiency.  An optional ``to`` column records ε per row (e.g.
``acceptance`` in generated events).  Conventions (units, nuisance names, variants, tables):
:mod:`nudmsim.response.stagekit`.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..schema import Field, Section
from .kernelkit import PARALLEL_MIN, dual_kernel
from .stage import Batch, register_stage
from .stagekit import (
    ParamSet,
    StageBase,
    bin_centre,
    check_xy,
    errors_section,
    increasing_pair,
    interpolate,
    on_field,
    out_of_range_field,
    pick_column,
    read_columns,
    species_index,
    target_nuclei,
    unit_field,
    variant_section,
)


# ------------------------------------------------------------------------------------------------
# kernels
# ------------------------------------------------------------------------------------------------
@njit(inline="always", cache=True)
def _logistic_one(x, a, b, c, d, clo, chi, s0, s1, has_step, binw):
    if binw > 0.0:
        x = (math.floor(x / binw) + 0.5) * binw
    if has_step:
        if x < s0:
            return 0.0
        h = 0.5 if x < s1 else 1.0
    else:
        h = 1.0
    e = a / (1.0 + math.exp(-b * (x - c))) + d
    e = min(max(e, clo), chi)
    return h * e


@dual_kernel
def _logistic_kernel(x, w, a, b, c, d, clo, chi, s0, s1, has_step, binw, eff, w_out):
    for i in prange(x.shape[0]):
        e = _logistic_one(x[i], a, b, c, d, clo, chi, s0, s1, has_step, binw)
        eff[i] = e
        w_out[i] = w[i] * e


@dual_kernel
def _time_exp_kernel(t, w, t0, rate, eff, w_out):
    for i in prange(t.shape[0]):
        e = 1.0 if t[i] < t0 else math.exp(-rate * (t[i] - t0))
        eff[i] = e
        w_out[i] = w[i] * e


def logistic(x, a, b, c, d=0.0, clip=(0.0, 1.0), step=None, evaluate_on_bins=None):
    """ε(x) = clip(a / (1 + exp(-b (x - c))) + d) × H(x) (numpy form of the stage's kernel).

    H = 0 below step[0], 1/2 in [step[0], step[1]), 1 above (the COHERENT 2017 rule); with
    ``evaluate_on_bins = w`` everything is evaluated at the centre of the width-w bin containing x."""
    x = np.asarray(x, dtype=float)
    if evaluate_on_bins:
        x = bin_centre(x, evaluate_on_bins)
    e = np.clip(a / (1.0 + np.exp(-b * (x - c))) + d, *clip)
    if step is not None:
        e = e * np.where(x < step[0], 0.0, np.where(x < step[1], 0.5, 1.0))
    return e


def time_exp(t, t0, rate):
    """ε(t) = 1 for t < t0, exp(-rate (t - t0)) above (numpy form of the stage's kernel)."""
    t = np.asarray(t, dtype=float)
    return np.exp(-rate * np.maximum(t - t0, 0.0))


# ------------------------------------------------------------------------------------------------
# base
# ------------------------------------------------------------------------------------------------
class _Efficiency(StageBase):
    family = "efficiency"
    default_label = "eff"

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.to = values.get("to") or ""

    def efficiency(self, x: np.ndarray, values) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def weights(self, batch: Batch, values) -> tuple[np.ndarray, np.ndarray]:
        """(ε per row, new weights)."""
        eff = self.efficiency(self.column(batch, self.on), values)
        return eff, batch.weight * eff

    def _apply(self, batch, values):
        eff, w = self.weights(batch, values)
        cols = dict(batch.columns)
        if self.to:
            cols[self.to] = eff
        return Batch(cols, w)

    def sample(self, batch, rng=None, values=None):
        return self._apply(batch, values)

    def expect(self, batch, values=None):
        return self._apply(batch, values)


_TO_EFF = Field("to", str, default="", doc="optional column recording ε per row (e.g. acceptance)")
_EVAL_BINS = Field("evaluate_on_bins", float, default=None, lo=0.0, lo_open=True,
                   doc="evaluate at the centre of the bin of this width (aligned at 0) containing x "
                       "(COHERENT 2017: 1.0, 1-PE bins)")


def _clip_check(v):
    if len(v) != 2 or not 0.0 <= v[0] <= v[1] <= 1.0:
        return "must be [lo, hi] with 0 <= lo <= hi <= 1"
    return None


_LOGISTIC_PARAMS = ("a", "b", "c", "d")


@register_stage
class LogisticEfficiency(_Efficiency):
    model = "logistic"
    doc = ("ε(x) = clip(a / (1 + exp(-b (x - c))) + d, `clip`) × H(x); x in the column's unit (b in 1/unit, c in "
           "unit).  COHERENT 2021 CsI[Na] (arXiv:2110.07730 release, x in PE): a = 1.32045, b = 0.285979, "
           "c = 10.8646, d = -0.333322, negative below ≈ 3 PE, hence clip = [0, 1].  Optional `step = [s0, s1]`: "
           "H = 0 below s0, 1/2 in [s0, s1), 1 above, and `evaluate_on_bins = w` (evaluate at the centre of the "
           "width-w bin containing x): together the COHERENT 2017 release rule (a/(1+exp(-k(x-x0))), step [5, 6], "
           "1-PE bins).  Nuisances: `errors`/`errors_hi`/`errors_lo` = {a, b, c, d} give `<label>_a`...; "
           "`variants_up`/`variants_down` (lists of {a, b, c, d} rows) give `<label>_shape`.")
    schema = Section("efficiency/logistic", fields=(
        on_field("pe", "observable column x"), _TO_EFF,
        Field("a", float, doc="amplitude (dimensionless)"),
        Field("b", float, doc="slope (1/unit of x)"),
        Field("c", float, doc="midpoint (unit of x)"),
        Field("d", float, default=0.0, doc="offset (dimensionless)"),
        Field("clip", list, default=[0.0, 1.0], check=_clip_check, doc="[lo, hi] the efficiency is clipped to"),
        Field("step", list, default=None, check=increasing_pair,
              doc="[s0, s1]: 0 below s0, 1/2 in [s0, s1), 1 above (unit of x)"),
        _EVAL_BINS,
        Field("errors", errors_section(_LOGISTIC_PARAMS), default=None, doc="symmetric 1σ errors {a, b, c, d}"),
        Field("errors_hi", errors_section(_LOGISTIC_PARAMS), default=None, doc="upper 1σ errors"),
        Field("errors_lo", errors_section(_LOGISTIC_PARAMS), default=None, doc="lower 1σ errors"),
        Field("variants_up", list, item=variant_section(_LOGISTIC_PARAMS), default=None,
              doc="+1σ alternative parameter rows [{a = .., b = .., c = .., d = ..}, ...]"),
        Field("variants_down", list, item=variant_section(_LOGISTIC_PARAMS), default=None,
              doc="-1σ alternative parameter rows (one per up row)"),
    ))

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.params = ParamSet(self, {k: values[k] for k in _LOGISTIC_PARAMS}, values["errors"],
                               values["errors_hi"], values["errors_lo"], values["variants_up"],
                               values["variants_down"])
        self.clip = tuple(values["clip"])
        self.step = tuple(values["step"]) if values["step"] else None
        self.binw = values["evaluate_on_bins"] or 0.0

    def efficiency(self, x, values):
        e, _ = self._kernel(x, np.ones(len(x)), values)
        return e

    def _kernel(self, x, w, values):
        p = self.params.resolve(values)
        if len(x) < PARALLEL_MIN:      # numpy's SIMD exp beats a single-threaded kernel
            eff = logistic(x, p["a"], p["b"], p["c"], p["d"], self.clip, self.step, self.binw or None)
            return eff, w * eff
        eff, w_out = np.empty(len(x)), np.empty(len(x))
        s0, s1 = self.step if self.step else (0.0, 0.0)
        _logistic_kernel(len(x), np.ascontiguousarray(x, dtype=float), np.ascontiguousarray(w, dtype=float),
                         p["a"], p["b"], p["c"], p["d"], self.clip[0], self.clip[1], s0, s1,
                         self.step is not None, self.binw, eff, w_out)
        return eff, w_out

    def weights(self, batch, values):
        return self._kernel(self.column(batch, self.on), batch.weight, values)


@register_stage
class TableEfficiency(_Efficiency):
    model = "table"
    doc = ("ε(x) linearly interpolated in a table of (x, ε) points, from a file (`file`, columns `x_column`, "
           "`column`) or inline (`x`, `efficiency`); ε in [0, 1], x strictly increasing, in the column's unit.  "
           "`out_of_range` is explicit: clamp = the end value, zero = 0, error = refuse.  Optional "
           "`evaluate_on_bins` as in logistic.  `scale_error` (relative) makes an overall scale s of the table "
           "(nominal 1; ε → min(s ε, 1)) the nuisance `<label>_scale`.  Per recoiling isotope: `per_isotope = "
           "{ O = \"...csv\", Ca = \"...csv\", W = \"...csv\" }` gives each row the table of its target isotope "
           "(index in `species_column`, default `target_id`); a key is an element (all its isotopes) or an "
           "isotope (e.g. \"O16\", overriding its element), and every isotope of the target needs a table "
           "(CRESST-III's per-element signal-survival probabilities, arXiv:1905.07335).")
    schema = Section("efficiency/table", fields=(
        on_field(None, "observable column x"), _TO_EFF,
        Field("file", str, default=None, doc="CSV table (data/ layout)"),
        Field("x_column", str, default=None, doc="column of x in the file(s) (default: the first)"),
        Field("column", str, default=None, doc="column of ε in the file(s) (default: the second)"),
        Field("x", list, default=None, doc="inline x values"),
        Field("efficiency", list, default=None, doc="inline ε values in [0, 1]"),
        Field("per_isotope", dict, default=None,
              doc="element or isotope of the target -> CSV table (columns x_column, column): one table per "
                  "recoiling isotope, selected by species_column"),
        Field("species_column", str, default="target_id",
              doc="per_isotope: column holding the index of the recoiling isotope in the target"),
        out_of_range_field(),
        _EVAL_BINS,
        Field("scale_error", float, default=0.0, lo=0.0,
              doc="relative 1σ error of the whole table (> 0: nuisance `<label>_scale`, nominal 1)"),
    ), one_of=(("file", "x", "per_isotope"),))

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.species_column = values["species_column"]
        self.tables = None            # per_isotope: (x, ε) per target isotope
        if values["per_isotope"] is not None:
            if values["efficiency"] is not None:
                raise ctx.error("efficiency", "is given together with per_isotope", "give tables per isotope only")
            self.tables = self._per_isotope(values, ctx)
            self.x, self.y = self.tables[0]
        elif values["file"]:
            if values["efficiency"] is not None:
                raise ctx.error("efficiency", "is given together with file", "use column = \"...\" with a file")
            self.x, self.y = self._file_table(values, ctx, "file", values["file"])
        else:
            if values["efficiency"] is None:
                raise ctx.error("efficiency", "is missing", "give efficiency = [...] with x = [...]")
            self.x, self.y = check_xy(ctx, "efficiency", values["x"], values["efficiency"], lo=0.0, hi=1.0,
                                      what="efficiency")
        self.rule = values["out_of_range"]
        self.binw = values["evaluate_on_bins"]
        self.scale_error = values["scale_error"]
        # where the efficiency jumps (to 0 outside a table with out_of_range = "zero"): truth quadrature breaks
        tabs = self.tables if self.tables is not None else [(self.x, self.y)]
        self.breaks = (np.unique([v for x, _ in tabs for v in (x[0], x[-1])])
                       if self.rule == "zero" and not self.binw else None)
        if self.scale_error > 0:
            self.add_nuisance("scale", 1.0, self.scale_error, doc="scale of the efficiency table",
                              bounds=(0.0, None))

    @staticmethod
    def _file_table(values, ctx, key, name):
        path, header, arr = read_columns(ctx, key, name)
        xc = values["x_column"] or header[0]
        yc = values["column"] or (header[1] if len(header) > 1 else header[0])
        x = pick_column(ctx, key, path, header, arr, xc, "x_column")
        y = pick_column(ctx, key, path, header, arr, yc, "column")
        return check_xy(ctx, key, x, y, lo=0.0, hi=1.0, what="efficiency")

    def _per_isotope(self, values, ctx) -> list:
        """(x, ε) for each isotope of the target: its own key, else its element's."""
        from ..schema import suggest

        nuclei = target_nuclei(ctx.target)
        if not nuclei:
            raise ctx.error("per_isotope", "needs the experiment's target (its isotopes)", "use file = ... instead")
        names = {n.name for n in nuclei} | {n.symbol for n in nuclei}
        spec = values["per_isotope"]
        for k, v in spec.items():
            if k not in names:
                raise ctx.error(f"per_isotope.{k}", "is not an element or isotope of the target",
                                suggest(k, names) or f"the target has {', '.join(sorted(names))}")
            if not isinstance(v, str):
                raise ctx.error(f"per_isotope.{k}", f"is {v!r}", "give the name of a CSV table file")
        loaded, out, missing = {}, [], []
        for n in nuclei:
            k = n.name if n.name in spec else n.symbol
            if k not in spec:
                missing.append(n.name)
                continue
            if k not in loaded:
                loaded[k] = self._file_table(values, ctx, f"per_isotope.{k}", spec[k])
            out.append(loaded[k])
        if missing:
            raise ctx.error("per_isotope", f"has no table for {', '.join(missing)}",
                            "give one per element (or per isotope) of the target")
        return out

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.on, self.species_column) if self.tables is not None else (self.on,)

    def _table_eff(self, x, xs, ys, values):
        if self.binw:
            x = bin_centre(x, self.binw)
        e = interpolate(self, x, xs, ys, self.rule)
        if self.scale_error > 0:
            e = np.clip(e * self.value(values, "scale", 1.0), 0.0, 1.0)
        return e

    def efficiency(self, x, values):
        return self._table_eff(x, self.x, self.y, values)

    def weights(self, batch, values):
        if self.tables is None:
            return super().weights(batch, values)
        x = self.column(batch, self.on)
        sp = species_index(self, batch, self.species_column, len(self.tables))
        eff = np.zeros(len(x))
        for i in np.unique(sp):
            sel = sp == i
            eff[sel] = self._table_eff(x[sel], *self.tables[i], values)
        return eff, batch.weight * eff


@register_stage
class StepEfficiency(_Efficiency):
    model = "step"
    doc = ("A threshold: ε = `value` (default 1) for `threshold` ≤ x (< `upper` when given), 0 elsewhere; x in the "
           "column's unit.")
    schema = Section("efficiency/step", fields=(
        on_field(None, "observable column x"), _TO_EFF,
        Field("threshold", float, doc="x at which ε switches on (column unit)"),
        Field("upper", float, default=None, doc="x from which ε is 0 again (optional)"),
        Field("value", float, default=1.0, lo=0.0, hi=1.0, doc="efficiency above threshold"),
    ))

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.lo, self.hi, self.v = values["threshold"], values["upper"], values["value"]
        if self.hi is not None and self.hi <= self.lo:
            raise ctx.error("upper", f"is {self.hi:g} <= threshold {self.lo:g}", "give upper > threshold")

    def efficiency(self, x, values):
        inside = x >= self.lo
        if self.hi is not None:
            inside &= x < self.hi
        return np.where(inside, self.v, 0.0)


@register_stage
class ConstantEfficiency(_Efficiency):
    model = "constant"
    doc = ("ε = `value` for every row (e.g. a live-time or selection efficiency); `error` makes it the nuisance "
           "`<label>`.")
    schema = Section("efficiency/constant", fields=(
        on_field("", "unused (a constant needs no column)"), _TO_EFF,
        Field("value", float, lo=0.0, hi=1.0, doc="efficiency"),
        Field("error", float, default=0.0, lo=0.0, doc="1σ error"),
    ))

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.v = values["value"]
        if values["error"] > 0:
            self.add_nuisance(None, self.v, values["error"], doc="efficiency", bounds=(0.0, 1.0))

    def weights(self, batch, values):
        e = min(max(self.value(values, None, self.v), 0.0), 1.0)
        return np.full(len(batch), e), batch.weight * e


@register_stage
class TimeExpEfficiency(_Efficiency):
    model = "time_exp"
    doc = ("ε(t) = 1 for t < t0, exp(-rate (t - t0)) above; t0 in `unit` and rate in 1/`unit` (empty: the column's "
           "unit).  COHERENT 2021 CsI[Na] timing efficiency: t0 = 0.52 µs, rate = 0.0494 /µs on t_us.  "
           "`errors = {t0 = .., rate = ..}` give `<label>_t0`, `<label>_rate`.")
    schema = Section("efficiency/time_exp", fields=(
        on_field("t_us", "time column"), _TO_EFF,
        Field("t0", float, doc="start of the exponential (unit)"),
        Field("rate", float, lo=0.0, doc="decay rate (1/unit)"),
        unit_field(),
        Field("errors", errors_section(("t0", "rate")), default=None, doc="symmetric 1σ errors {t0, rate}"),
        Field("errors_hi", errors_section(("t0", "rate")), default=None, doc="upper 1σ errors"),
        Field("errors_lo", errors_section(("t0", "rate")), default=None, doc="lower 1σ errors"),
    ))

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.f = self.unit_scale(self.on, values["unit"])
        self.params = ParamSet(self, {"t0": values["t0"], "rate": values["rate"]}, values["errors"],
                               values["errors_hi"], values["errors_lo"], bounds={"rate": (0.0, None)})

    def _kernel(self, t, w, values):
        p = self.params.resolve(values)
        if len(t) < PARALLEL_MIN:
            eff = time_exp(t, p["t0"] / self.f, p["rate"] * self.f)
            return eff, w * eff
        eff, w_out = np.empty(len(t)), np.empty(len(t))
        # in column units: t0_col = t0 / f, rate_col = rate * f
        _time_exp_kernel(len(t), np.ascontiguousarray(t, dtype=float), np.ascontiguousarray(w, dtype=float),
                         p["t0"] / self.f, p["rate"] * self.f, eff, w_out)
        return eff, w_out

    def efficiency(self, x, values):
        return self._kernel(x, np.ones(len(x)), values)[0]

    def weights(self, batch, values):
        return self._kernel(self.column(batch, self.on), batch.weight, values)


# ------------------------------------------------------------------------------------------------
# cuts
# ------------------------------------------------------------------------------------------------
@register_stage
class WindowCut(StageBase):
    family = "cut"
    model = "window"
    default_label = "cut"
    doc = ("Keep lo ≤ x < hi (either end optional), or x inside any of `windows = [[lo, hi], ...]` (a union, e.g. "
           "the two pion-momentum regions of E949); rows outside get weight 0 (or are removed with `drop = true`, "
           "which makes later stages cheaper).  x in the column's unit.")
    schema = Section("cut/window", fields=(
        on_field(None, "column x"),
        Field("lo", float, default=None, doc="lowest kept value (column unit)"),
        Field("hi", float, default=None, doc="first value no longer kept (column unit)"),
        Field("windows", list, default=None, doc="[[lo, hi], ...]: keep rows inside any window (instead of lo/hi)"),
        Field("drop", bool, default=False, doc="remove rows outside instead of zeroing their weight"),
    ))

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.to = ""
        self.lo, self.hi, self.drop = values["lo"], values["hi"], values["drop"]
        self.windows = None
        if values["windows"] is not None:
            if self.lo is not None or self.hi is not None:
                raise ctx.error("windows", "is given with lo/hi", "give either lo/hi or windows")
            w = values["windows"]
            ok = bool(w) and all(isinstance(r, list) and len(r) == 2 and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in r) and r[0] < r[1] for r in w)
            if not ok:
                raise ctx.error("windows", f"is {w!r}", "give [[lo, hi], ...] with lo < hi in each window")
            self.windows = [(float(a), float(b)) for a, b in w]
            return
        if self.lo is None and self.hi is None:
            raise ctx.error("lo", "and hi are both missing (the cut keeps everything)", "give lo and/or hi")
        if self.lo is not None and self.hi is not None and self.hi <= self.lo:
            raise ctx.error("hi", f"is {self.hi:g} <= lo {self.lo:g}", "give hi > lo")

    def keep(self, x: np.ndarray) -> np.ndarray:
        if self.windows is not None:
            k = np.zeros(len(x), dtype=bool)
            for a, b in self.windows:
                k |= (x >= a) & (x < b)
            return k
        k = np.ones(len(x), dtype=bool)
        if self.lo is not None:
            k &= x >= self.lo
        if self.hi is not None:
            k &= x < self.hi
        return k

    def _apply(self, batch, values):
        k = self.keep(self.column(batch, self.on))
        if self.drop:
            return batch.take(k)
        return Batch(batch.columns, np.where(k, batch.weight, 0.0))

    def sample(self, batch, rng=None, values=None):
        return self._apply(batch, values)

    def expect(self, batch, values=None):
        return self._apply(batch, values)


__all__ = ["LogisticEfficiency", "TableEfficiency", "StepEfficiency", "ConstantEfficiency", "TimeExpEfficiency",
           "WindowCut", "logistic", "time_exp"]
