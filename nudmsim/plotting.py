"""``nudmsim plot``: overlay limit and sensitivity curves from CSVs the tool wrote.

Two CSV layouts are understood:

* a limit CSV of ``nudmsim limit`` (:meth:`nudmsim.stats.curves.LimitCurve.write_csv`): a ``#`` header with the
  title and ``x = NAME [UNIT], y = NAME [UNIT]``, columns ``x, observed[, expected, expected-2sigma, ...]``;
  the observed curve is drawn solid, the expected median dashed, the +-1 sigma band shaded;
* a figure CSV of ``nudmsim figure`` (:mod:`nudmsim.figures.output`): every curve, one per label and panel.

Curves with different x or y units than the first file are refused (one-line error naming the file).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import NudmsimError

_AXES = re.compile(r"x = (?P<x>.+?)(?: \[(?P<xu>[^\]]*)\])?, y = (?P<y>.+?)(?: \[(?P<yu>[^\]]*)\])?$")


@dataclass
class LimitTable:
    """A limit CSV read back: title, axis names/units, columns."""

    path: Path
    title: str
    x_name: str
    x_unit: str
    y_name: str
    y_unit: str
    columns: dict

    def __repr__(self) -> str:
        return f"LimitTable({self.path.name!r}: {self.title!r}, {len(self.columns.get('x', []))} points)"


def read_limit_csv(path) -> LimitTable:
    path = Path(path)
    if not path.is_file():
        raise NudmsimError(f"'{path}' does not exist")
    lines = path.read_text().splitlines()
    comments = [ln[1:].strip() for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if ln and not ln.startswith("#")]
    if not body:
        raise NudmsimError(f"{path}: no data rows")
    names = [s.strip() for s in body[0].split(",")]
    if "x" not in names or not ({"observed", "expected"} & set(names)):
        raise NudmsimError(f"{path}: not a nudmsim limit CSV (needs columns x and observed/expected)")
    try:
        arr = np.array([[float(v) for v in ln.split(",")] for ln in body[1:]], dtype=float).reshape(-1, len(names))
    except ValueError:
        raise NudmsimError(f"{path}: non-numeric value in the data rows") from None
    title = comments[0] if comments else path.stem
    xn, xu, yn, yu = "x", "", "y", ""
    for cmt in comments:
        m = _AXES.search(cmt.split("; ", 1)[-1])
        if m:
            xn, xu, yn, yu = m["x"], m["xu"] or "", m["y"], m["yu"] or ""
            break
    return LimitTable(path, title, xn, xu, yn, yu, {k: arr[:, i] for i, k in enumerate(names)})


def _is_figure_csv(path: Path) -> bool:
    for ln in path.read_text().splitlines():
        if ln and not ln.startswith("#"):
            return ln.startswith("panel,curve,computed")
    return False


def overlay(paths, output, title: str | None = None, linear: str = "") -> Path:
    """Draw every curve of ``paths`` on one axes and save to ``output`` (atomic)."""
    from .figures import output as fig_output
    from .figures import style
    from .io import check_figure_path, save_figure

    out = check_figure_path(output)
    fig, ax = style.new_figure(width=7.5, height=5.0)
    units = None
    labels = None
    colors = iter(["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                   "#7f7f7f", "#bcbd22"] * 10)
    for p in map(Path, paths):
        if not p.is_file():
            raise NudmsimError(f"'{p}' does not exist")
        if _is_figure_csv(p):
            curves = fig_output.read_figure_csv(p)
            for cv in curves:
                u = (cv.x_unit, cv.y_unit)
                units = units or u
                labels = labels or (cv.x_name, cv.y_name)
                if u != units:
                    raise NudmsimError(f"{p}: curve '{cv.label}' is in {u[0] or '-'} vs {u[1] or '-'}, the first "
                                       f"file in {units[0] or '-'} vs {units[1] or '-'}: plot them separately")
                tag = f" [{cv.panel}]" if cv.panel else ""
                ax.plot(cv.x, cv.y, color=next(colors), ls="-" if cv.computed else "--",
                        label=cv.label + tag + ("" if cv.computed else " (published)"))
            continue
        t = read_limit_csv(p)
        u = (t.x_unit, t.y_unit)
        units = units or u
        labels = labels or (t.x_name, t.y_name)
        if u != units:
            raise NudmsimError(f"{p}: x/y units {u[0] or '-'} / {u[1] or '-'} differ from the first file's "
                               f"{units[0] or '-'} / {units[1] or '-'}: plot them separately")
        col = next(colors)
        x = t.columns["x"]
        name = t.title if len(t.title) < 70 else p.stem
        if "expected-1sigma" in t.columns and "expected+1sigma" in t.columns:
            ax.fill_between(x, t.columns["expected-1sigma"], t.columns["expected+1sigma"], color=col, alpha=0.15,
                            lw=0)
        obs = t.columns.get("observed")
        if obs is not None and np.any(np.isfinite(obs)):
            ax.plot(x, obs, color=col, lw=1.8, label=f"{name} (observed)")
        if "expected" in t.columns:
            ax.plot(x, t.columns["expected"], color=col, lw=1.3, ls="--", label=f"{name} (expected)")
    if "x" not in linear:
        ax.set_xscale("log")
    if "y" not in linear:
        ax.set_yscale("log")
    xu, yu = units or ("", "")
    xn, yn = labels or ("x", "y")
    ax.set_xlabel(style.label(xn, xu))
    ax.set_ylabel(style.label(yn, yu))
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    style.stamp(fig, "plot")
    save_figure(fig, out)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return out
