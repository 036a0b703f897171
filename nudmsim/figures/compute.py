"""How figures obtain their curves: only through the library's public API.

* :func:`limit` calls an analysis' limit entry, ``registry.get_analysis(NAME).limit(LimitRequest(...))`` --
  exactly what ``nudmsim limit NAME`` runs -- so a figure curve and the command's CSV are the same numbers;
* :func:`to_curve` turns the returned :class:`~nudmsim.stats.curves.LimitCurve` into a figure
  :class:`~nudmsim.figures.Curve` with its provenance (``source``);
* :func:`published` reads a published curve from ``data/`` (provenance header kept) as a context curve.

Scans inside a figure run in the command's Dask session (:func:`nudmsim.scan.session`): in-process while
that is faster, one shared local cluster otherwise.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import cards, registry
from ..errors import NudmsimError
from ..stats.curves import LimitRequest
from . import Curve, FigureOptions


def masses(lo: float, hi: float, opts: FigureOptions, n: int = 50, n_quick: int = 10) -> np.ndarray:
    """Log-spaced mass grid [MeV]: ``n`` points (``n_quick`` with ``--quick``)."""
    return np.geomspace(lo, hi, n_quick if opts.quick else n)


def limit(analysis: str, opts: FigureOptions, *, masses=None, ratio=None, card: str | None = None,
          options: dict | None = None, params: dict | None = None, projected: bool = False,
          scheduler: str | None = None):
    """The analysis' LimitCurve, as ``nudmsim limit`` computes it (card = the analysis default if None;
    ``scheduler`` as for :func:`nudmsim.scan.map_points`, e.g. "sync" inside a Dask task)."""
    entry = registry.get_analysis(analysis)
    if entry.limit is None:
        raise NudmsimError(f"analysis {analysis} has no limit")
    c = cards.load_detector(card or entry.default_detector)
    req = LimitRequest(card=c, masses=None if masses is None else np.asarray(masses, float), ratio=ratio,
                       projected=projected, params={k: str(v) for k, v in (params or {}).items()},
                       scheduler=scheduler, progress=bool(opts.progress),
                       options={k: str(v) for k, v in (options or {}).items()})
    return entry.limit(req)


def call_text(analysis: str, *, ratio=None, card=None, options=None, projected=False) -> str:
    """The equivalent command line (the ``source`` of a computed curve)."""
    parts = [f"nudmsim limit {analysis}"]
    if card:
        parts.append(f"-d {card}")
    if ratio is not None:
        parts.append(f"--ratio {ratio:g}")
    for k, v in (options or {}).items():
        parts.append(f"--option {k}={v}")
    if projected:
        parts.append("--projected")
    return " ".join(parts)


def to_curve(lc, label: str, *, panel: str = "", source: str = "", x_scale: float = 1.0, y_fn=None,
             which: str = "auto", x_name: str | None = None, y_name: str | None = None,
             x_unit: str | None = None, y_unit: str | None = None, kind: str = "line") -> Curve:
    """Figure curve from a LimitCurve: observed if it has any finite value, else the expected median
    (``which`` = "observed" | "expected" forces one).  ``y_fn`` maps (x, y) -> y (e.g. sigma_NC -> y_X)."""
    if which == "auto":
        which = "observed" if np.any(np.isfinite(lc.observed)) else "expected"
    y = np.asarray(lc.observed if which == "observed" else lc.expected, dtype=float)
    x = np.asarray(lc.x, dtype=float) * x_scale
    if y_fn is not None:
        y = np.asarray(y_fn(np.asarray(lc.x, float), y), dtype=float)
    return Curve(label, x, y, x_name or lc.x_label, y_name or lc.y_label, x_unit if x_unit is not None else
                 lc.x_unit, y_unit if y_unit is not None else lc.y_unit, computed=True,
                 source=source or lc.title, panel=panel, kind=kind)


def read_table(path: Path) -> tuple[list[str], np.ndarray]:
    """(column names, float array) of a ``#``-commented CSV from data/."""
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    names = [s.strip() for s in lines[0].split(",")]
    arr = np.array([[float(v) for v in ln.split(",")[:len(names)]] for ln in lines[1:]], dtype=float)
    return names, arr


def published(rel_path: str, label: str, *, panel: str = "", x_scale: float = 1.0, x_name: str = "",
              y_name: str = "", x_unit: str = "", y_unit: str = "", columns=(0, 1)) -> Curve:
    """A published curve from ``data/REL_PATH`` drawn for context (computed=False)."""
    from ..paths import data_file

    path = data_file(*rel_path.split("/"))
    if not path.is_file():
        raise NudmsimError(f"published curve {rel_path} not found in data/")
    _, arr = read_table(path)
    order = np.argsort(arr[:, columns[0]], kind="stable")
    return Curve(label, arr[order, columns[0]] * x_scale, arr[order, columns[1]], x_name, y_name, x_unit, y_unit,
                 computed=False, source=f"data/{rel_path}", panel=panel)


def draw(ax, cv: Curve, **kw):
    """Plot a curve with the house conventions (context curves dashed grey unless told otherwise)."""
    from . import style

    if not cv.computed:
        base = style.context_kw()
        base.update(kw)
        kw = base
    lbl = cv.label + ("" if cv.computed else " (published)")
    ok = np.isfinite(cv.y) & np.isfinite(cv.x)
    if kw.pop("points_only", False):
        return ax.plot(cv.x[ok], cv.y[ok], label=lbl, **kw)
    return ax.plot(cv.x, np.where(ok, cv.y, np.nan), label=lbl, **kw)
