"""The ``published_limit`` likelihood kind: a release's own upper limit on the signal rate, as a function of a
model parameter.

Some releases publish no spectrum, only their limit curve: E949's 90% CL upper limits on B(K+ -> pi+ X) for an
invisible X as a function of m_X (PRD 79, 092004 (2009); the experiment folded in its acceptance, backgrounds and
candidate events).  A model whose signal is such a decay is then bounded by comparing its rate per source decay
(its branching ratio) with the curve at the model's mass::

    mu_up = R_up(x) / R_ref(x),

with R_ref the interactions of the signal process before any detector response per decay of the source at the
scan's reference point (``Expected.interactions / source.n_decays``) and R_up the published curve (linear
interpolation in x; no limit between points further apart than ``max_gap``, e.g. across the K+ -> pi+ pi0 region
the E949 signal regions exclude).  This is the release's limit re-expressed, not a new statistical inference:
the kind has one method, ``published``, and no Asimov projection; its CL must be the card's ``analysis.cl``.

Card syntax::

    [analysis]
    likelihood = "published_limit"
    signal = ["kaon-pi-phi"]
    [analysis.likelihood_options]
    file = "e949/e949_Kpi_X_invisible_BR_limits_digitized.csv"
    x = "m_X_GeV"
    x_scale = 1000.0                 # GeV -> MeV (the unit of the model parameter)
    y = "BR_UL90"
    select = { tau_label = "inf" }   # rows kept
    parameter = "m_phi"              # the model parameter the curve is a function of
    max_gap = 10.0
"""
from __future__ import annotations

import csv
import math

import numpy as np

from ..errors import CardError, NudmsimError
from ..schema import Field, Section, suggest
from .kinds import LikelihoodKind, register_likelihood_kind

OPTIONS = Section("analysis.likelihood_options", "published_limit: a release's upper limit on the signal rate per "
                  "source decay, as a function of one model parameter", fields=(
    Field("file", str, doc="CSV of the published curve (a '#' provenance block, a header line)"),
    Field("x", str, doc="column of the curve's abscissa"),
    Field("x_scale", float, default=1.0, lo=0, lo_open=True,
          doc="multiplies x into the unit of `parameter` (e.g. 1000 for GeV -> MeV)"),
    Field("y", str, doc="column of the upper limit on the signal rate per source decay (a branching ratio)"),
    Field("select", dict, default={}, doc="{ column = value }: only these rows (compared as text)"),
    Field("parameter", str, doc="the model parameter the curve is a function of (e.g. m_phi)"),
    Field("max_gap", float, default=None, lo=0, lo_open=True,
          doc="no limit between curve points further apart than this (unit of `parameter`)"),
    Field("cl", float, default=0.9, lo=0, hi=1, lo_open=True, hi_open=True,
          doc="confidence level of the published curve (must equal analysis.cl)"),
))


def read_curve(path, x: str, y: str, select: dict, x_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a published curve: rows matching ``select`` with finite x and y, sorted in x (rows with an
    empty or NaN y, which digitisations use as curve breaks, are dropped)."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(line for line in fh if line.strip() and not line.lstrip().startswith("#")))
    head, body = rows[0], rows[1:]
    for col in [x, y, *select]:
        if col not in head:
            raise NudmsimError(f"{path}: no column '{col}' ({suggest(col, head) or 'columns: ' + ', '.join(head)})")
    ix, iy = head.index(x), head.index(y)
    keep = [r for r in body if all(r[head.index(k)] == str(v) for k, v in select.items())]

    def num(s):
        try:
            return float(s)
        except ValueError:
            return math.nan

    xs = np.array([num(r[ix]) for r in keep]) * x_scale
    ys = np.array([num(r[iy]) for r in keep])
    ok = np.isfinite(xs) & np.isfinite(ys)
    o = np.argsort(xs[ok], kind="stable")
    return xs[ok][o], ys[ok][o]


def interpolate_gapped(x, xs, ys, max_gap: float | None) -> np.ndarray:
    """Linear interpolation of (xs, ys) at x; NaN outside [xs[0], xs[-1]] and inside gaps wider than max_gap."""
    x = np.asarray(x, float)
    y = np.interp(x, xs, ys, left=np.nan, right=np.nan)
    if max_gap is not None and len(xs) > 1:
        j = np.clip(np.searchsorted(xs, x), 1, len(xs) - 1)
        gap = (xs[j] - xs[j - 1] > max_gap) & (x > xs[j - 1]) & (x < xs[j])
        y = np.where(gap, np.nan, y)
    return y


def prepare(opts: dict, exp, analysis: dict) -> dict:
    key = "analysis.likelihood_options"
    if abs(opts["cl"] - analysis["cl"]) > 1e-12:
        raise CardError(exp.card.path, f"{key}.cl", f"is {opts['cl']:g} but analysis.cl is {analysis['cl']:g}",
                        "a published limit is quoted at one CL: make them equal")
    for p in analysis["signal"]:
        params = exp.generator(p).params
        if opts["parameter"] not in params:
            raise CardError(exp.card.path, f"{key}.parameter", f"'{opts['parameter']}' is not a parameter of "
                            f"{p}", suggest(opts["parameter"], params) or f"parameters: {', '.join(params)}")
    path = exp.resolve_file(opts["file"], f"{key}.file")
    try:
        xs, ys = read_curve(path, opts["x"], opts["y"], opts["select"], opts["x_scale"])
    except NudmsimError as exc:
        raise CardError(exp.card.path, key, str(exc)) from None
    if len(xs) < 2 or np.any(ys <= 0):
        raise CardError(exp.card.path, f"{key}.file", f"{path.name}: needs at least two rows with a positive limit")
    return {"x": xs.tolist(), "y": ys.tolist(), "parameter": opts["parameter"], "max_gap": opts["max_gap"]}


def at_point(like: dict, exp, point: dict, process: str) -> dict:
    """The curve's limit at the point's parameter and the signal's rate per source decay there."""
    ex = exp.expected(process, point)
    x = float(ex.point[like["parameter"]])
    up = float(interpolate_gapped([x], np.asarray(like["x"]), np.asarray(like["y"]), like["max_gap"])[0])
    return {**like, "at": x, "limit": up, "rate": ex.interactions / exp.source.n_decays}


class PublishedLimit:
    """Spec-compatible evaluator of a ``published_limit`` workspace."""

    def __init__(self, ws):
        self.ws = ws
        self.like = ws.likelihood
        self.name, self.poi, self.mask, self.observed = ws.name, ws.poi, ws.mask, ws.observed

    def nominal(self, **overrides):
        out = {p.name: p.init for p in self.ws.parameters.values()}
        out.update(overrides)
        return out

    def expected(self, params):
        return sum(np.asarray(s.nominal, float) for s in self.ws.samples) * 0.0

    def upper_limit(self, *, cl: float = 0.9, method: str = "published", power_constraint=None, **_):
        from .limits import UpperLimit

        if method != "published":
            raise NudmsimError(f"{self.name}: the published_limit kind has one method, published (got {method})")
        if "limit" not in self.like:
            raise NudmsimError(f"{self.name}: the published limit needs a model point (a signal process)")
        up, rate, x = self.like["limit"], self.like["rate"], self.like["at"]
        if not np.isfinite(up):
            raise NudmsimError(f"{self.like['parameter']} = {x:g}: outside the published curve or in one of its gaps")
        if not rate > 0:
            raise NudmsimError(f"{self.like['parameter']} = {x:g}: the signal has no rate at this point")
        return UpperLimit(up / rate, math.nan, math.nan, cl, method, math.nan, 0, None,
                          note="")

    def expected_limit(self, *args, **kw):
        raise NudmsimError(f"{self.name}: a published limit has no background model, so no Asimov projection")


register_likelihood_kind(LikelihoodKind(
    "published_limit", OPTIONS, prepare, PublishedLimit, ("published",), projection=False,
    doc="a release's upper limit on the signal rate per source decay vs a model parameter (E949 B(K+ -> pi+ X)): "
        "mu_up = limit(x) / rate(x)", at_point=at_point))

__all__ = ["PublishedLimit", "read_curve", "interpolate_gapped", "OPTIONS"]
