"""Shared pieces of the built-in response stages: base class, units of columns, files and tables, nuisances.

Conventions every built-in stage follows (documented once here and in docs/response_stages.md):

* **Columns carry their unit in the name.**  The suffix after the last ``_`` is read as a unit when it is
  one of ``eV keV MeV GeV TeV`` (energy) or ``ns us ms s`` (time): ``E_R_keV`` is in keV, ``t_us`` in µs.
  A stage with a ``unit`` key converts between that unit and its columns' units; a column without a
  unit suffix (``pe``, ``psd``) is used as it is, and a ``unit`` on it is an error.
* **Nuisance names.**  Each stage has a *label*: its ``name`` key, or the family's default (``qf``
  quenching, ``yield``, ``res`` resolution, ``eff`` efficiency, ``axis``).  A parameter ``p`` with an error
  gives the nuisance ``<label>_<p>`` (``eff_a``, ``qf_k``, ``qf_kB``); a model whose only uncertain
  parameter is its value (quenching/constant, yield/linear, efficiency/constant) names it ``<label>``
  (``qf``); up/down variants (alternative coefficient sets or parameter rows) give ``<label>_shape``
  (``<label>_shape0``, ``_shape1``, ... when there are several).  Two stages with the same nuisance name
  are an error (:func:`~nudmsim.response.stage.nominal_values`): give one a ``name``.
* **Variants** are interpolated as HistFactory's histosys: the shape nuisance θ has nominal 0 and ±1
  errors; parameters are ``p0 + θ (p_up - p0)`` for θ >= 0 and ``p0 + |θ| (p_down - p0)`` for θ < 0, so
  θ = ±1 reproduces the up/down sets exactly.
* **Tables** are validated on load (NaN, negative probabilities, non-monotonic x or edges, ragged rows,
  wrong shapes) and name the card file and key; ``out_of_range`` is always explicit.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar, Mapping

import hepunits as hu
import numpy as np

from .. import constants as c
from ..errors import NudmsimError
from ..schema import Field, Section
from .stage import Batch, Nuisance, StageContext

ENERGY_UNITS = {"eV": c.eV, "keV": c.keV, "MeV": c.MeV, "GeV": c.GeV, "TeV": c.TeV}
TIME_UNITS = {"ns": c.ns, "us": hu.microsecond, "ms": hu.millisecond, "s": c.s}
UNITS = {**ENERGY_UNITS, **TIME_UNITS}
OUT_OF_RANGE = ("clamp", "zero", "error")


def column_unit(name: str) -> str | None:
    """The unit named by a column's suffix (``E_R_keV`` -> ``keV``), or None."""
    if "_" not in name:
        return None
    suffix = name.rsplit("_", 1)[1]
    return suffix if suffix in UNITS else None


def _dimension(unit: str) -> str:
    return "energy" if unit in ENERGY_UNITS else "time"


# ------------------------------------------------------------------------------------------------
# common schema fields
# ------------------------------------------------------------------------------------------------
def on_field(default, doc="input column (its unit in its name, e.g. E_R_keV)"):
    return Field("on", str, default=default, doc=doc)


def to_field(default, doc="output column"):
    return Field("to", str, default=default, doc=doc)


def unit_field(default="", doc="unit of the formula's variable (empty: the column's own unit)", choices=None):
    return Field("unit", str, default=default, doc=doc,
                 choices=choices if choices is not None else ("",) + tuple(UNITS))


def out_of_range_field(doc="outside the table: clamp = hold the end value, zero = 0, error = refuse"):
    return Field("out_of_range", str, doc=doc, choices=OUT_OF_RANGE)


def errors_section(params, unit_of=None) -> Section:
    """A sub-table {param = error} (every key optional, >= 0)."""
    unit_of = unit_of or {}
    return Section("errors", "1σ errors of the parameters",
                   fields=tuple(Field(p, float, default=None, lo=0.0, unit=unit_of.get(p, ""),
                                      doc=f"1σ error of {p}") for p in params))


def variant_section(params) -> Section:
    """A sub-table of alternative parameter values (missing keys keep the nominal value)."""
    return Section("variant", "alternative parameter values (missing keys: nominal)",
                   fields=tuple(Field(p, float, default=None, doc=f"{p} in this variant") for p in params))


def increasing_pair(value) -> str | None:
    if len(value) != 2 or not value[0] <= value[1]:
        return "must be [lo, hi] with lo <= hi"
    return None


# ------------------------------------------------------------------------------------------------
# base class
# ------------------------------------------------------------------------------------------------
class StageBase:
    """Common machinery: ``on``/``to``, the label, the card context for errors, nuisances and their values."""

    family: ClassVar[str]
    model: ClassVar[str]
    schema: ClassVar[Section]
    doc: ClassVar[str]
    default_label: ClassVar[str] = ""

    def __init__(self, values: dict, ctx: StageContext):
        self.on = values.get("on", "")
        self.to = values.get("to", "") or self.on
        self.label = values.get("name") or self.default_label
        self.ctx = ctx
        self._nuisances: list[Nuisance] = []

    # --- nuisances ---------------------------------------------------------------------------
    def nuisance_name(self, param: str | None) -> str:
        return self.label if param is None else f"{self.label}_{param}"

    def add_nuisance(self, param: str | None, nominal: float, error_hi: float, error_lo: float | None = None,
                     *, unit: str = "", doc: str = "", bounds=(None, None)) -> str:
        name = self.nuisance_name(param)
        self._nuisances.append(Nuisance(name, float(nominal), float(error_hi),
                                        float(error_hi if error_lo is None else error_lo), unit, doc,
                                        bounds=bounds))
        return name

    def nuisances(self) -> tuple[Nuisance, ...]:
        return tuple(self._nuisances)

    @property
    def reads(self) -> tuple[str, ...]:
        """Every column the stage reads (the engine tabulates a chain tail that reads one column only)."""
        return (self.on,)

    def value(self, values: Mapping[str, float] | None, param: str | None, nominal: float) -> float:
        """The physical value of ``param`` at ``values`` (nominal when not given)."""
        if not values:
            return nominal
        return float(values.get(self.nuisance_name(param), nominal))

    # --- errors at run time --------------------------------------------------------------------
    def error(self, key: str, problem: str, fix: str = ""):
        return self.ctx.error(key, problem, fix)

    def column(self, batch: Batch, name: str) -> np.ndarray:
        if name not in batch:
            raise self.error("on", f"column '{name}' is not in the events (columns: {', '.join(batch.columns)})",
                             "put a stage that makes it earlier in the chain, or fix the name")
        return np.asarray(batch[name], dtype=float)

    def __repr__(self) -> str:
        return f"<{self.family}/{self.model} {self.on!r} -> {self.to!r}>"

    # --- units ---------------------------------------------------------------------------------
    def unit_scale(self, column: str, unit: str, key: str = "unit", need_unit: bool = False) -> float:
        """Factor f with value_in_unit = f * value_in_column_unit ('' unit: 1)."""
        cu = column_unit(column)
        if not unit:
            if need_unit and cu is None:
                raise self.error(key, f"column '{column}' carries no unit in its name and no unit is given",
                                 "name the column with a unit suffix, e.g. E_R_keV, or give unit =")
            return 1.0
        if cu is None:
            if need_unit:
                raise self.error("on", f"column '{column}' carries no energy unit in its name",
                                 "name it with a unit suffix, e.g. E_R_keV or E_ee_keV")
            raise self.error(key, f"is '{unit}' but column '{column}' carries no unit in its name",
                             "drop unit (the formula is then in the column's own unit) or rename the column")
        if _dimension(cu) != _dimension(unit):
            raise self.error(key, f"is '{unit}' ({_dimension(unit)}) but column '{column}' is in {cu}",
                             f"use a {_dimension(cu)} unit")
        return UNITS[cu] / UNITS[unit]


def energy_scale(stage: StageBase, column: str, key: str) -> float:
    """Factor to keV of an energy column (its name must end in an energy unit)."""
    cu = column_unit(column)
    if cu is None or cu not in ENERGY_UNITS:
        raise stage.error(key, f"column '{column}' carries no energy unit in its name",
                          "name it with an energy suffix, e.g. E_R_keV or E_ee_keV")
    return ENERGY_UNITS[cu] / c.keV


# ------------------------------------------------------------------------------------------------
# parameters with errors and variants
# ------------------------------------------------------------------------------------------------
class ParamSet:
    """Named parameters with optional (asymmetric) errors and up/down variant rows.

    ``errors`` / ``errors_hi`` / ``errors_lo``: {param: error}; ``variants_up`` / ``variants_down``: lists
    of {param: value} (same length).  Registers the nuisances on ``stage``; :meth:`resolve` gives the
    parameter values at a nuisance point."""

    def __init__(self, stage: StageBase, nominal: dict, errors=None, errors_hi=None, errors_lo=None,
                 variants_up=None, variants_down=None, units=None, bounds=None):
        self.stage = stage
        self.nominal = {k: float(v) for k, v in nominal.items()}
        units, bounds = units or {}, bounds or {}
        errors = {k: v for k, v in (errors or {}).items() if v is not None}
        hi = {k: v for k, v in (errors_hi or {}).items() if v is not None}
        lo = {k: v for k, v in (errors_lo or {}).items() if v is not None}
        for k in set(hi) | set(lo):
            if k in errors:
                raise stage.error("errors", f"gives {k} both a symmetric and an asymmetric error",
                                  "give errors or errors_hi/errors_lo for it, not both")
            if (k in hi) != (k in lo):
                raise stage.error("errors_hi" if k not in hi else "errors_lo", f"has no {k} to match the other side",
                                  "give both errors_hi and errors_lo for an asymmetric error")
        self.names: dict[str, str] = {}
        for k in self.nominal:
            eh, el = (errors[k], errors[k]) if k in errors else (hi.get(k), lo.get(k))
            if eh is None or (eh == 0 and el == 0):
                continue
            self.names[k] = stage.add_nuisance(k, self.nominal[k], eh, el, unit=units.get(k, ""),
                                               doc=f"{stage.family}/{stage.model} parameter {k}",
                                               bounds=bounds.get(k, (None, None)))
        up, down = list(variants_up or []), list(variants_down or [])
        if len(up) != len(down):
            raise stage.error("variants_down", f"has {len(down)} rows but variants_up has {len(up)}",
                              "give one down row per up row (the ±1σ alternatives)")
        self.variants = []
        for i, (u, d) in enumerate(zip(up, down)):
            du = {k: float(v) - self.nominal[k] for k, v in u.items() if v is not None}
            dd = {k: float(v) - self.nominal[k] for k, v in d.items() if v is not None}
            name = stage.add_nuisance("shape" if len(up) == 1 else f"shape{i}", 0.0, 1.0, 1.0,
                                      doc=f"{stage.family}/{stage.model} variant {i}: 0 nominal, ±1 the up/down row")
            self.variants.append((name, du, dd))

    def resolve(self, values: Mapping[str, float] | None) -> dict:
        p = dict(self.nominal)
        if not values:
            return p
        for k, name in self.names.items():
            if name in values:
                p[k] = float(values[name])
        for name, du, dd in self.variants:
            th = float(values.get(name, 0.0))
            delta = du if th >= 0 else dd
            for k, v in delta.items():
                p[k] += abs(th) * v
        return p


class VectorVariants:
    """A coefficient vector with up/down alternative vectors (one shape nuisance per pair)."""

    def __init__(self, stage: StageBase, nominal, up, down, key_up: str, key_down: str):
        self.nominal = np.asarray(nominal, dtype=float)
        up = _as_rows(up)
        down = _as_rows(down)
        if len(up) != len(down):
            raise stage.error(key_down, f"has {len(down)} sets but {key_up} has {len(up)}",
                              f"give one {key_down} set per {key_up} set")
        self.pairs = []
        for i, (u, d) in enumerate(zip(up, down)):
            for k, v in ((key_up, u), (key_down, d)):
                if len(v) != len(self.nominal):
                    raise stage.error(k, f"has {len(v)} entries, the nominal set {len(self.nominal)}",
                                      "give the same number of coefficients")
            name = stage.add_nuisance("shape" if len(up) == 1 else f"shape{i}", 0.0, 1.0, 1.0,
                                      doc=f"{stage.family}/{stage.model} variant {i}: "
                                          f"0 nominal, ±1 {key_up}/{key_down}")
            self.pairs.append((name, np.asarray(u) - self.nominal, np.asarray(d) - self.nominal))

    def resolve(self, values) -> np.ndarray:
        v = self.nominal.copy()
        if values:
            for name, du, dd in self.pairs:
                th = float(values.get(name, 0.0))
                v += abs(th) * (du if th >= 0 else dd)
        return v


def _as_rows(v):
    if not v:
        return []
    if isinstance(v[0], list):
        return [np.asarray(r, dtype=float) for r in v]
    return [np.asarray(v, dtype=float)]


# ------------------------------------------------------------------------------------------------
# files and tables
# ------------------------------------------------------------------------------------------------
def resolve_file(ctx: StageContext, key: str, name: str) -> Path:
    """A file named in the card, through ``ctx.resolve_file`` or (without it) relative to the card / data/."""
    if ctx.resolve_file is not None:
        try:
            p = ctx.resolve_file(name)
        except NudmsimError as exc:
            raise ctx.error(key, str(exc)) from None
        if p is not None and Path(p).is_file():
            return Path(p)
        raise ctx.error(key, f"names file '{name}', which does not exist",
                        "give a path relative to the card, to data/ or to fluxes/")
    from ..paths import resource_dir

    bases = [Path(ctx.path).parent] if ctx.path else []
    bases += [resource_dir("data"), resource_dir("fluxes")]
    for base in bases:
        p = Path(base) / name
        if p.is_file():
            return p
    if Path(name).is_absolute() and Path(name).is_file():
        return Path(name)
    raise ctx.error(key, f"names file '{name}', which does not exist",
                    "give a path relative to the card, to data/ or to fluxes/")


def read_columns(ctx: StageContext, key: str, name: str) -> tuple[Path, list[str], np.ndarray]:
    """(path, header, rows) of a CSV table named by card key ``key`` (errors name the card and key)."""
    from .tables import read_table

    path = resolve_file(ctx, key, name)
    try:
        header, arr = read_table(path)
    except NudmsimError as exc:
        raise ctx.error(key, str(exc), "fix the file") from None
    return path, header, arr


def pick_column(ctx, key, path, header, arr, column: str, key_col: str) -> np.ndarray:
    if column not in header:
        from ..schema import suggest

        hint = suggest(column, header)
        raise ctx.error(key_col, f"names column '{column}', which {Path(path).name} does not have",
                        hint or f"columns: {', '.join(header)}")
    return np.array(arr[:, header.index(column)], dtype=float)


def check_xy(ctx: StageContext, key: str, x, y, *, lo=None, hi=None, what="values", min_points=2):
    """Validate a 1-d table: finite, x strictly increasing, y within [lo, hi]."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or y.shape != x.shape:
        raise ctx.error(key, f"x has {x.size} entries but the {what} {y.size}", "give one value per x")
    if len(x) < min_points:
        raise ctx.error(key, f"has {len(x)} points", f"give at least {min_points}")
    for arr, nm in ((x, "x"), (y, what)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if len(bad):
            raise ctx.error(key, f"{nm} is not finite at row {bad[0]} ({arr[bad[0]]})", "fix the table")
    d = np.flatnonzero(np.diff(x) <= 0)
    if len(d):
        raise ctx.error(key, f"x is not strictly increasing at row {d[0] + 1} ({x[d[0]]:g} then {x[d[0] + 1]:g})",
                        "sort the table and remove duplicate x")
    if lo is not None and np.any(y < lo):
        i = int(np.argmin(y))
        raise ctx.error(key, f"{what} below {lo:g} at row {i} ({y[i]:g})", "fix the table")
    if hi is not None and np.any(y > hi):
        i = int(np.argmax(y))
        raise ctx.error(key, f"{what} above {hi:g} at row {i} ({y[i]:g})", "fix the table")
    return x, y


def check_edges(ctx: StageContext, key: str, edges) -> np.ndarray:
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or len(e) < 2:
        raise ctx.error(key, "needs at least two bin edges")
    if not np.all(np.isfinite(e)):
        raise ctx.error(key, "has a non-finite bin edge", "give finite edges")
    d = np.flatnonzero(np.diff(e) <= 0)
    if len(d):
        raise ctx.error(key, f"bin edges are not increasing at {d[0] + 1} ({e[d[0]]:g} then {e[d[0] + 1]:g})",
                        "give strictly increasing edges")
    return e


def interpolate(stage: StageBase, x, xs, ys, rule: str, key: str = "out_of_range") -> np.ndarray:
    """Linear interpolation with an explicit out-of-range rule."""
    x = np.asarray(x, dtype=float)
    if rule == "clamp":
        return np.interp(x, xs, ys)
    if rule == "zero":
        return np.interp(x, xs, ys, left=0.0, right=0.0)
    out = (x < xs[0]) | (x > xs[-1])
    if np.any(out):
        bad = x[out][0]
        raise NudmsimError(f"{stage.ctx.path}: key '{stage.ctx.key}.{key}': an event has {stage.on} = {bad:g}, "
                           f"outside the table [{xs[0]:g}, {xs[-1]:g}] and out_of_range = \"error\" "
                           "(extend the table or choose clamp/zero)")
    return np.interp(x, xs, ys)


def load_matrix(ctx: StageContext, values: dict, x_key: str, y_key: str, m_key: str, *,
                max_row_sum: float | None, x_what: str, y_what: str):
    """(x_edges, y_edges, P) from ``file`` or inline keys, validated.

    File layout (as the XENON1T release): columns ``<x>_lo, <x>_hi`` then one column per y bin named
    ``<anything>_<lo>_<hi>``; rows are x bins.  P must be finite and >= 0; edges contiguous and increasing;
    row sums <= ``max_row_sum`` (when given, + 1e-6 rounding)."""
    if values.get("file"):
        path, header, arr = read_columns(ctx, "file", values["file"])
        from .tables import read_table

        try:    # x edges increase, probabilities >= 0: errors name the file, line and column
            read_table(path, increasing=tuple(header[:1]), nonnegative=tuple(header[2:]))
        except NudmsimError as exc:
            raise ctx.error("file", str(exc), "fix the file") from None
        if arr.shape[1] < 3:
            raise ctx.error("file", f"{path.name} has {arr.shape[1]} columns",
                            f"give {x_what}_lo, {x_what}_hi and one column per {y_what} bin named <name>_<lo>_<hi>")
        lo, hi = arr[:, 0], arr[:, 1]
        if np.any(np.abs(hi[:-1] - lo[1:]) > 1e-9 * np.maximum(1.0, np.abs(lo[1:]))):
            i = int(np.flatnonzero(np.abs(hi[:-1] - lo[1:]) > 1e-9 * np.maximum(1.0, np.abs(lo[1:])))[0])
            raise ctx.error("file", f"{path.name}: {x_what} bins are not contiguous at row {i + 1} "
                            f"({hi[i]:g} then {lo[i + 1]:g})", "rows must be consecutive bins")
        x_edges = np.concatenate([lo, hi[-1:]])
        yl, yh = [], []
        for h in header[2:]:
            parts = h.rsplit("_", 2)
            try:
                yl.append(float(parts[1]))
                yh.append(float(parts[2]))
            except (IndexError, ValueError):
                raise ctx.error("file", f"{path.name}: column '{h}' is not named <name>_<lo>_<hi>",
                                f"name the {y_what}-bin columns like rec_0_0.75") from None
        yl, yh = np.array(yl), np.array(yh)
        if np.any(np.abs(yh[:-1] - yl[1:]) > 1e-9 * np.maximum(1.0, np.abs(yl[1:]))):
            raise ctx.error("file", f"{path.name}: {y_what} bin columns are not contiguous",
                            "columns must be consecutive bins")
        y_edges = np.concatenate([yl, yh[-1:]])
        P = np.array(arr[:, 2:], dtype=float)
        where = "file"
        x_edges = check_edges(ctx, "file", x_edges)
        y_edges = check_edges(ctx, "file", y_edges)
    else:
        missing = [k for k in (x_key, y_key, m_key) if values.get(k) is None]
        if missing:
            raise ctx.error(missing[0], "is missing", f"give file = \"...\" or {x_key}, {y_key} and {m_key}")
        x_edges = check_edges(ctx, x_key, values[x_key])
        y_edges = check_edges(ctx, y_key, values[y_key])
        rows = values[m_key]
        lens = {len(r) if isinstance(r, list) else -1 for r in rows}
        if len(lens) != 1 or -1 in lens:
            raise ctx.error(m_key, "is ragged (rows of different lengths)", "give one row per bin, equal lengths")
        P = np.array(rows, dtype=float)
        where = m_key
    if P.shape != (len(x_edges) - 1, len(y_edges) - 1):
        raise ctx.error(where, f"matrix has shape {P.shape} but the edges give "
                        f"({len(x_edges) - 1} {x_what} bins, {len(y_edges) - 1} {y_what} bins)",
                        "one row per x bin, one column per y bin")
    bad = np.argwhere(~np.isfinite(P))
    if len(bad):
        raise ctx.error(where, f"is not finite at row {bad[0][0]}, column {bad[0][1]}", "fix the table")
    bad = np.argwhere(P < 0)
    if len(bad):
        raise ctx.error(where, f"has a negative probability at row {bad[0][0]}, column {bad[0][1]} "
                        f"({P[tuple(bad[0])]:g})", "probabilities must be >= 0")
    if max_row_sum is not None:
        s = P.sum(axis=1)
        if np.any(s > max_row_sum + 1e-6):
            i = int(np.argmax(s))
            raise ctx.error(where, f"row {i} sums to {s[i]:.6g} > {max_row_sum:g}",
                            "rows are probabilities P(y bin | x bin): their sum is an efficiency <= 1")
    return x_edges, y_edges, P


def bin_centre(x, width: float) -> np.ndarray:
    """Centre of the bin of ``width`` (aligned at 0) containing x."""
    return (np.floor(np.asarray(x, dtype=float) / width) + 0.5) * width


def finite_or_error(stage: StageBase, arr: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(arr)):
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise NudmsimError(f"{stage.ctx.path}: key '{stage.ctx.key}': {what} is not finite for an event "
                           f"({stage.on} = {arr[i]!r})")


def isfinite_number(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


__all__ = ["StageBase", "ParamSet", "VectorVariants", "column_unit", "UNITS", "ENERGY_UNITS", "TIME_UNITS",
           "resolve_file", "read_columns", "pick_column", "check_xy", "check_edges", "interpolate",
           "load_matrix", "bin_centre", "on_field", "to_field", "unit_field", "out_of_range_field",
           "errors_section", "variant_section", "energy_scale"]
