"""Calibrations: background parameters of a card set from a published result, by a named procedure any card may
use (``[analysis.calibration.NAME]``; ``nudmsim fit ANALYSIS`` of an analysis registered with
``calibration = "NAME"`` runs it and prints the values to write into the card).

Procedure ``limit_curve`` (E949's K+ -> mu+ nu_H search publishes its |U_mu4|^2 limit but not its muon spectrum;
the seed calibrated the background on that limit): the card's *expected* (Asimov) limit along one of its limit
planes is matched to a published limit curve by choosing

* the level parameter ``scale`` in closed form: in the background-dominated asymptotic regime the expected limit
  scales as sqrt(scale) (tested), so for any shape the best level makes the log-deviations from the reference
  symmetric: log(scale) moves by twice the mid-range of log(reference / ours);
* the shape parameter ``shape`` by a bounded one-dimensional minimisation (scipy, ``tolerance`` in the
  parameter) of the *maximum* |log(ours / reference)| over ``masses`` (minimax: the acceptance criterion of
  issue 4 is a maximum factor);
* ``passes`` times (default 2), each pass at the level the previous one found: the sqrt scaling is asymptotic,
  so a pass started far from the answer leaves a small level/shape trade-off that the next pass removes.

The reference is the published curve (``reference = { file, x, y, select, x_scale }``); with ``smoothing = w``
it is the running geometric mean of all its rows within ±w (in x): a published observed limit oscillates with
the data's fluctuations, which a smooth background model can only follow on average.  With several
digitisations of one figure in one file (a ``group`` column), the report also gives the median ratio to each
and the fraction of raw points within a factor 2.

Card syntax::

    [analysis.calibration.e949]
    procedure = "limit_curve"
    limit = "u2"                                 # the [analysis.limit.NAME] whose expected curve is matched
    reference = { file = "e949/e949_HNL_Umu4_limit_digitized.csv", x = "m_N_MeV", y = "Umu4_sq_UL90" }
    group = "source"
    smoothing = 10.0
    masses = [180.0, 185.0, ..., 300.0]
    scale = "bkg_norm"
    shape = "bkg_index"
    shape_bounds = [-25.0, 5.0]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import CardError, NudmsimError
from ..schema import Field, Section, suggest, validate

CALIBRATION = Section("analysis.calibration.<name>", "a calibration of background parameters on a published "
                      "result", fields=(
    Field("procedure", str, choices=("limit_curve",), doc="registered procedure (limit_curve: match the expected "
                                                           "limit curve to a published one)"),
    Field("limit", str, default=None, doc="the [analysis.limit.NAME] whose expected curve is matched"),
    Field("reference", dict, doc="{ file, x, y, select, x_scale }: the published curve"),
    Field("group", str, default=None, doc="column naming independent digitisations of the reference (report)"),
    Field("smoothing", float, default=0.0, lo=0, doc="running geometric mean of the reference within ± this (x "
                                                      "unit); 0 = interpolate the rows"),
    Field("masses", list, doc="x points where the curves are compared (the plane's x unit)"),
    Field("scale", str, doc="parameter setting the background level (expected limit ∝ sqrt(scale))"),
    Field("shape", str, default=None, doc="parameter fitted by minimax (e.g. a power-law index)"),
    Field("shape_bounds", list, default=None, length=2, doc="[low, high] of the shape parameter"),
    Field("tolerance", float, default=0.05, lo=0, lo_open=True, doc="absolute tolerance of the shape fit"),
    Field("passes", int, default=2, lo=1, hi=5, doc="shape fits, each at the level the previous one found (the "
                                                     "sqrt scaling of the level is asymptotic; pass 2 is within "
                                                     "+-1 of pass 1)"),
    Field("pass_factor", float, default=2.0, lo=1.0, doc="criterion: max factor vs the smoothed reference below this"),
))


@dataclass
class CalibrationResult:
    """Values of the calibrated parameters and the agreement they reach."""

    name: str
    values: dict
    masses: np.ndarray
    limit: np.ndarray
    reference: np.ndarray
    max_factor: float
    rms_log: float
    by_group: dict = field(default_factory=dict)
    frac_within_2: float = math.nan
    pass_factor: float = 2.0

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.max_factor) and self.max_factor < self.pass_factor)


def settings(exp, name: str | None) -> dict:
    """The validated [analysis.calibration.NAME] table (the only one when ``name`` is None)."""
    tabs = exp.analysis.values["calibration"] if exp.analysis is not None else {}
    if not tabs:
        raise NudmsimError(f"experiment '{exp.name}' has no [analysis.calibration] section")
    if name is None:
        if len(tabs) != 1:
            raise NudmsimError(f"experiment '{exp.name}' has calibrations {', '.join(tabs)}: name one")
        name = next(iter(tabs))
    if name not in tabs:
        hint = suggest(name, tabs)
        raise NudmsimError(f"experiment '{exp.name}' has no calibration '{name}' ({hint + ' ' if hint else ''}"
                           f"calibrations: {', '.join(tabs)})")
    cfg = validate(tabs[name], CALIBRATION, path=exp.card.path, prefix=f"analysis.calibration.{name}")
    cfg["name"] = name
    key = f"analysis.calibration.{name}"
    params = _parameters(exp, cfg)
    for k in ("scale", "shape"):
        if cfg[k] is not None and cfg[k] not in params:
            raise CardError(exp.card.path, f"{key}.{k}", f"'{cfg[k]}' is not a parameter of the limit's workspace",
                            suggest(cfg[k], params) or f"parameters: {', '.join(params)}")
    if cfg["shape"] is not None and cfg["shape_bounds"] is None:
        raise CardError(exp.card.path, f"{key}.shape_bounds", "is missing", "give [low, high] for the shape fit")
    ref = cfg["reference"]
    bad = set(ref) - {"file", "x", "y", "select", "x_scale"}
    if bad or not {"file", "x", "y"} <= set(ref):
        raise CardError(exp.card.path, f"{key}.reference", f"has keys {sorted(ref)}",
                        "give { file, x, y, select, x_scale }")
    return cfg


def _parameters(exp, cfg) -> dict:
    from ..runner import limit_settings

    lim = limit_settings(exp, {}, cfg["limit"])
    return _signal_workspace(exp, lim, float(cfg["masses"][0])).parameters


def _signal_workspace(exp, lim, x):
    from ..models import planes

    plane = planes.get(lim["plane"])
    pt = plane.point(x, lim["ratio"] or plane.default_ratio, {}, lim["plane_options"])
    return exp.workspace(lim["measurement"], point=pt, process=lim["process"])


def reference_points(exp, cfg) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(x, y, group) rows of the reference curve (all digitisations)."""
    import csv

    ref = cfg["reference"]
    path = exp.resolve_file(ref["file"], f"analysis.calibration.{cfg['name']}.reference.file")
    with open(path, newline="") as fh:
        rows = list(csv.reader(line for line in fh if line.strip() and not line.lstrip().startswith("#")))
    head, body = rows[0], rows[1:]
    for k in [ref["x"], ref["y"], *(ref.get("select") or {})] + ([cfg["group"]] if cfg["group"] else []):
        if k not in head:
            raise CardError(exp.card.path, f"analysis.calibration.{cfg['name']}.reference",
                            f"{path.name} has no column '{k}'", suggest(k, head) or f"columns: {', '.join(head)}")
    sel = ref.get("select") or {}
    body = [r for r in body if all(r[head.index(k)] == str(v) for k, v in sel.items())]
    def num(text):
        try:
            return float(text)
        except ValueError:
            return math.nan

    x = np.array([num(r[head.index(ref["x"])]) for r in body]) * float(ref.get("x_scale", 1.0))
    y = np.array([num(r[head.index(ref["y"])]) for r in body])
    g = np.array([r[head.index(cfg["group"])] for r in body]) if cfg["group"] else None
    ok = np.isfinite(x) & np.isfinite(y) & (y > 0)
    return x[ok], y[ok], (g[ok] if g is not None else None)


def smoothed_reference(xs, ys, grid, window: float) -> np.ndarray:
    """Running geometric mean of (xs, ys) within ±window of each grid point (NaN where no row is that close);
    window 0: log-linear interpolation of the rows sorted in x."""
    grid = np.asarray(grid, float)
    if window <= 0:
        o = np.argsort(xs)
        return np.exp(np.interp(grid, xs[o], np.log(ys[o]), left=np.nan, right=np.nan))
    out = np.full(len(grid), np.nan)
    for i, m in enumerate(grid):
        sel = np.abs(xs - m) <= window
        if sel.any():
            out[i] = math.exp(np.mean(np.log(ys[sel])))
    return out


def expected_curve(exp, cfg, overrides: dict | None = None) -> np.ndarray:
    """Median expected limits (the plane's y) at the calibration masses with parameter inits ``overrides``."""
    from ..models import planes
    from ..runner import limit_settings
    from .asimov import expected_limit

    lim = limit_settings(exp, {}, cfg["limit"])
    plane = planes.get(lim["plane"])
    ratio = lim["ratio"] or plane.default_ratio
    out = []
    for x in np.asarray(cfg["masses"], float):
        pt = plane.point(x, ratio, {}, lim["plane_options"])
        ws = exp.workspace(lim["measurement"], point=pt, process=lim["process"])
        if overrides:
            ws = ws.with_parameters(**{k: {"init": float(v)} for k, v in overrides.items()})
        el = expected_limit(ws.spec(), cl=exp.analysis.values["cl"], method=lim["method"],
                            truncation=lim["truncation"])
        out.append(float(plane.scale(el.median, plane.y(pt))))
    return np.array(out)


def report(exp, cfg, limit: np.ndarray | None = None, values: dict | None = None) -> CalibrationResult:
    """Agreement of the card's expected curve (at its parameter values, or ``limit``) with the reference."""
    masses = np.asarray(cfg["masses"], float)
    if limit is None:
        limit = expected_curve(exp, cfg)
    xs, ys, groups = reference_points(exp, cfg)
    ref = smoothed_reference(xs, ys, masses, cfg["smoothing"])
    d = np.log(limit / ref)
    fac = float(np.nanmax(np.exp(np.abs(d))))
    res = CalibrationResult(cfg["name"], dict(values or {}), masses, limit, ref, fac,
                            float(np.sqrt(np.nanmean((d - np.nanmean(d)) ** 2))), pass_factor=cfg["pass_factor"])
    if groups is not None:
        n_ok = n_all = 0
        lo, hi = masses.min(), masses.max()
        for gname in dict.fromkeys(groups):
            sel = (groups == gname) & (xs >= lo) & (xs <= hi)
            ours = np.exp(np.interp(xs[sel], masses, np.log(limit)))
            r = ours / ys[sel]
            n_ok += int(np.sum((r <= 2) & (r >= 0.5)))
            n_all += int(sel.sum())
            res.by_group[str(gname)] = float(np.median(r)) if sel.any() else math.nan
        res.frac_within_2 = n_ok / max(n_all, 1)
    return res


def limit_curve_procedure(exp, cfg) -> CalibrationResult:
    """Fit ``shape`` (minimax in log space) with ``scale`` solved in closed form (see the module docstring)."""
    from scipy import optimize

    params = _parameters(exp, cfg)
    level = params[cfg["scale"]].init
    xs, ys, _ = reference_points(exp, cfg)
    target = np.log(smoothed_reference(xs, ys, cfg["masses"], cfg["smoothing"]))
    if not np.all(np.isfinite(target)):
        raise NudmsimError(f"calibration {cfg['name']}: the reference has no point near some of the masses")
    lo, hi = map(float, cfg["shape_bounds"]) if cfg["shape"] is not None else (0.0, 0.0)
    k_best = None
    for _ in range(cfg["passes"] if cfg["shape"] is not None else 1):
        cache: dict = {}

        def curve(k, level=level, cache=cache):
            key = None if k is None else round(float(k), 12)
            if key not in cache:
                over = {cfg["scale"]: level} if k is None else {cfg["scale"]: level, cfg["shape"]: k}
                cache[key] = np.log(expected_curve(exp, cfg, over))
            return cache[key]

        def cost(k, curve=curve):
            d = target - curve(k)
            shift = 0.5 * (d.max() + d.min())
            return float(0.5 * (d.max() - d.min())), shift

        if cfg["shape"] is not None:
            res = optimize.minimize_scalar(lambda k: cost(k)[0], bounds=(lo, hi), method="bounded",
                                           options={"xatol": cfg["tolerance"]})
            k_best = float(res.x)
            lo, hi = max(lo, k_best - 1.0), min(hi, k_best + 1.0)
        _, shift = cost(k_best)
        best_curve = np.exp(curve(k_best) + shift)
        level = level * math.exp(2.0 * shift)
    values = {cfg["scale"]: level}
    if k_best is not None:
        values[cfg["shape"]] = k_best
    return report(exp, cfg, best_curve, values)


PROCEDURES: dict[str, Callable] = {"limit_curve": limit_curve_procedure}


def calibrate(exp, name: str | None = None) -> CalibrationResult:
    """Run the card's calibration ``name`` and return the calibrated values (not written to the card)."""
    cfg = settings(exp, name)
    return PROCEDURES[cfg["procedure"]](exp, cfg)


def check(exp, name: str | None = None) -> CalibrationResult:
    """The agreement of the card *as written* with its calibration's reference (validation checks)."""
    return report(exp, settings(exp, name))


__all__ = ["CALIBRATION", "CalibrationResult", "calibrate", "check", "report", "expected_curve",
           "smoothed_reference", "reference_points", "PROCEDURES"]
