"""Writing a figure: PDF + PNG + one CSV of every curve + a HEPData folder of the computed curves.

``nudmsim figure NAME -o DIR`` writes, for figure ``NAME``:

* ``DIR/NAME.pdf`` and ``DIR/NAME.png``: the figure with a version stamp and, when published curves are drawn
  for context, a footnote saying that solid curves are computed by nudmsim and dashed grey ones are published;
* ``DIR/NAME.csv``: every curve in long format, one row per point::

      panel,curve,computed,source,kind,x_name,x_unit,y_name,y_unit,x,y

  (``computed`` = 1 for curves nudmsim computed in this run, 0 for published curves drawn for context;
  ``source`` names the analysis call or the data file);
* ``DIR/NAME.hepdata/``: a validated HEPData submission with one table per computed curve.

Every file is written atomically (no half-written output).  :func:`read_figure_csv` reads the CSV back
(``nudmsim plot`` overlays it with limit CSVs).
"""
from __future__ import annotations

import csv
import io as _io
from pathlib import Path

import numpy as np

from ..errors import NudmsimError
from ..io import atomic_output, save_figure
from . import Curve, FigureEntry, FigureResult, style

COLUMNS = ("panel", "curve", "computed", "source", "kind", "x_name", "x_unit", "y_name", "y_unit", "x", "y")


def _csv_text(entry: FigureEntry, result: FigureResult) -> str:
    from .. import __version__

    buf = _io.StringIO()
    buf.write(f"# nudmsim figure {entry.name}: seed {entry.seed} Fig. {entry.number}: {entry.title}\n")
    buf.write(f"# nudmsim {__version__}; computed = 1: curve computed by nudmsim in this run "
              "(source = the library call); computed = 0: published curve drawn for context (source = file)\n")
    for note in result.notes:
        buf.write(f"# note: {note}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for cv in result.curves:
        x = np.asarray(cv.x, dtype=float)
        y = np.asarray(cv.y, dtype=float)
        for xi, yi in zip(x, y):
            w.writerow([cv.panel, cv.label, int(cv.computed), cv.source, cv.kind, cv.x_name, cv.x_unit,
                        cv.y_name, cv.y_unit, f"{xi:.8g}", f"{yi:.8g}"])
    return buf.getvalue()


def plain(text: str) -> str:
    """Mathtext label -> plain text ('$\\sigma_{NC}$' -> 'sigma_NC') for table names."""
    import re

    t = text.replace("$", "").replace("\\", "").replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", t).strip()


def _hepdata_tables(entry: FigureEntry, result: FigureResult):
    from ..hepdata import Column, HepTable

    tables = []
    for cv in result.curves:
        if not cv.computed or len(cv.x) == 0:
            continue
        name = plain(f"{cv.label} ({cv.panel})" if cv.panel else cv.label)
        if len(name) > 64:  # HEPData's limit
            name = name[:61] + "..."
        tables.append(HepTable(
            name=name, description=f"nudmsim figure {entry.name} (seed {entry.seed} Fig. {entry.number}); "
                                        f"{cv.label}; computed by {cv.source}",
            x=Column(cv.x_name, cv.x_unit, np.asarray(cv.x, float)),
            ys=[Column(cv.y_name, cv.y_unit, np.asarray(cv.y, float))],
            location=f"nudmsim figure {entry.name}, panel {cv.panel or 'main'}"))
    return tables


def write(entry: FigureEntry, result: FigureResult, outdir, hepdata: bool = True) -> list[Path]:
    """Write PDF, PNG, CSV (and HEPData) of ``result`` into ``outdir`` (created if missing)."""
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise NudmsimError(f"-o {outdir}: not a folder (figures write several files: give a folder)")
    if not outdir.parent.is_dir():
        raise NudmsimError(f"-o {outdir}: parent folder '{outdir.parent}' does not exist")
    outdir.mkdir(exist_ok=True)
    fig = result.figure
    if fig is None:
        raise NudmsimError(f"figure {entry.name} produced no drawing")
    style.stamp(fig, entry.name)
    if any(not cv.computed for cv in result.curves):
        fig.text(0.005, 0.003, "solid: computed by nudmsim; dashed grey: published, drawn for context",
                 ha="left", va="bottom", fontsize=6, color="#777777")
    files = []
    for ext in ("pdf", "png"):
        files.append(save_figure(fig, outdir / f"{entry.name}.{ext}"))
    import matplotlib.pyplot as plt

    plt.close(fig)
    csv_path = outdir / f"{entry.name}.csv"
    with atomic_output(csv_path) as tmp:
        Path(tmp).write_text(_csv_text(entry, result))
    files.append(csv_path)
    if hepdata:
        tables = _hepdata_tables(entry, result)
        if tables:
            from ..hepdata import write_submission

            files.append(write_submission(tables, outdir / f"{entry.name}.hepdata",
                                          comment=f"nudmsim figure {entry.name}: {entry.title}"))
    result.files = files
    return files


def read_figure_csv(path) -> list[Curve]:
    """Curves of a figure CSV written by :func:`write` (in file order)."""
    path = Path(path)
    rows = [r for r in path.read_text().splitlines() if r and not r.startswith("#")]
    reader = csv.DictReader(rows)
    if reader.fieldnames is None or tuple(reader.fieldnames) != COLUMNS:
        raise NudmsimError(f"{path}: not a nudmsim figure CSV (columns {', '.join(COLUMNS)})")
    groups: dict[tuple, dict] = {}
    for r in reader:
        key = (r["panel"], r["curve"], r["kind"], r["source"])
        g = groups.setdefault(key, {"row": r, "x": [], "y": []})
        g["x"].append(float(r["x"]))
        g["y"].append(float(r["y"]))
    out = []
    for (panel, label, kind, source), g in groups.items():
        r = g["row"]
        out.append(Curve(label, np.array(g["x"]), np.array(g["y"]), r["x_name"], r["y_name"], r["x_unit"],
                         r["y_unit"], computed=r["computed"] == "1", source=source, panel=panel, kind=kind))
    return out
