"""File readers of an experiment card's ``[analysis]`` section: binned counts and unbinned events on the
observables (``histogram_from_file``), products of 1-D shapes (``shapes_rows``), and the table reader behind
them (``_table``: a CSV named by a card key, its columns checked; errors name the card, the key and the file).

Split from :mod:`nudmsim.analysis_card` (which re-exports the public names); behaviour unchanged.
"""
from __future__ import annotations

import numpy as np

from .errors import CardError, NudmsimError
from .response.stage import Batch
from .response.tables import read_csv_table
from .schema import Field, Section, suggest, validate

SHAPE = Section("analysis.sample.shapes.<observable>", "a 1-D shape on one observable from a file", fields=(
    Field("file", str, doc="CSV with the x column and the value column"),
    Field("x", str, doc="column of bin centres (observable's unit)"),
    Field("value", str, doc="column of bin contents"),
    Field("normalise", bool, default=True, doc="divide by the sum (a shape) or keep the values (a rate)"),
))


# ------------------------------------------------------------------------------------------------
# files -> histograms
# ------------------------------------------------------------------------------------------------
def _columns(v: dict, obs, path, key) -> dict:
    cols = dict(v.get("columns") or {})
    for k in cols:
        if k not in obs:
            hint = suggest(k, obs.names)
            raise CardError(path, f"{key}.columns.{k}", "is not an observable", hint or f"observables: {obs.names}")
    return {a: cols.get(a, a) for a in obs.names}


def _table(exp, name: str, key: str, need, nonnegative=()) -> dict:
    path = exp.resolve_file(name, key)
    try:
        tab = read_csv_table(path)
        checks = [c for c in nonnegative if c in tab]
        if checks:
            read_csv_table(path, nonnegative=checks)    # cached parse: counts may not be negative
    except CardError:
        raise
    except NudmsimError as exc:        # a bad table: name the card and key as well as the file, line, column
        raise CardError(exp.card.path, key, str(exc)) from None
    for col in need:
        if col not in tab:
            hint = suggest(col, tab)
            raise CardError(exp.card.path, key, f"file {path.name} has no column '{col}'",
                            hint or f"columns: {', '.join(tab)}")
    return tab


def histogram_from_file(exp, v: dict, key: str) -> np.ndarray:
    """Counts on the observables from a binned (``counts``) or unbinned (``events``) CSV (validated DATA)."""
    obs = exp.observables
    cols = _columns(v, obs, exp.card.path, key)
    if v["events"] is not None:
        tab = _table(exp, v["events"], f"{key}.events", cols.values())
        rows = Batch({a: tab[c] for a, c in cols.items()}, np.ones(len(next(iter(tab.values())))))
        return obs.histogram(rows) * v["scale"]
    if not v["value"]:
        raise CardError(exp.card.path, f"{key}.value", "is missing", "name the column with the counts")
    tab = _table(exp, v["counts"], f"{key}.counts", list(cols.values()) + [v["value"]], nonnegative=[v["value"]])
    for a, c in cols.items():
        e = obs[a].edges
        x = tab[c]
        on_edge = np.isin(x, e[1:-1])
        if np.any(on_edge):
            raise CardError(exp.card.path, f"{key}.counts", f"column '{c}' has values on bin edges of '{a}' "
                            f"(e.g. {x[on_edge][0]:g}): give bin centres", "or change the observable binning")
    rows = Batch({a: tab[c] for a, c in cols.items()}, tab[v["value"]])
    return obs.histogram(rows) * v["scale"]


def shapes_rows(exp, shapes: dict, key: str) -> Batch:
    """The outer product of 1-D shapes as weighted rows (one row per combination of bin centres)."""
    obs = exp.observables
    axes, weights = [], []
    for a, t in shapes.items():
        if a not in obs:
            hint = suggest(a, obs.names)
            raise CardError(exp.card.path, f"{key}.shapes.{a}", "is not an observable", hint or f"{obs.names}")
        v = validate(t, SHAPE, path=exp.card.path, prefix=f"{key}.shapes.{a}")
        tab = _table(exp, v["file"], f"{key}.shapes.{a}.file", (v["x"], v["value"]))
        w = np.asarray(tab[v["value"]], float)
        if np.any(w < 0):
            raise CardError(exp.card.path, f"{key}.shapes.{a}", f"column '{v['value']}' has negative contents")
        if v["normalise"]:
            if not w.sum() > 0:
                raise CardError(exp.card.path, f"{key}.shapes.{a}", "sums to zero: cannot normalise")
            w = w / w.sum()
        axes.append((a, np.asarray(tab[v["x"]], float)))
        weights.append(w)
    missing = [a for a in obs.names if a not in shapes]
    if missing:
        raise CardError(exp.card.path, f"{key}.shapes", f"has no shape for observable(s) {', '.join(missing)}",
                        "give one shape per observable")
    grids = np.meshgrid(*[x for _, x in axes], indexing="ij")
    wgrid = weights[0]
    for w in weights[1:]:
        wgrid = np.multiply.outer(wgrid, w)
    return Batch({a: g.ravel() for (a, _), g in zip(axes, grids)}, np.asarray(wgrid, float).ravel())


__all__ = ["SHAPE", "histogram_from_file", "shapes_rows"]
