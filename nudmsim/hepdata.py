"""HEPData export of limit curves and figure curves (``hepdata_lib``), so a user can submit them.

:func:`write_submission` writes a HEPData submission folder: ``submission.yaml``, one YAML file per table and
``submission.tar.gz`` (the archive HEPData uploads), validated with ``hepdata-validator`` before it is kept.
Every ``nudmsim limit`` CSV gets one beside it (``limit_....hepdata/``), and every ``nudmsim figure`` gets one
with a table per computed curve.  Points without a limit (NaN: no sensitivity) are written as ``'-'``, the
HEPData convention for a missing value.  The folder appears complete or not at all (written to a temporary
folder and renamed).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import NudmsimError

_LOCK = threading.Lock()

#: units as HEPData prints them (LaTeX-ish strings are allowed there)
_UNITS = {"cm^2": "cm$^2$", "us": "$\\mu$s", "cm^-2 s^-1": "cm$^{-2}$ s$^{-1}$"}


@dataclass
class Column:
    """One variable of a table: name, unit, values (NaN -> '-'), qualifiers (e.g. {"CL": "90%"})."""

    name: str
    unit: str
    values: np.ndarray
    qualifiers: dict = field(default_factory=dict)


@dataclass
class HepTable:
    name: str
    description: str
    x: Column
    ys: list[Column]
    location: str = "nudmsim output"
    keywords: dict = field(default_factory=dict)


def _values(arr) -> list:
    return [float(v) if np.isfinite(v) else "-" for v in np.asarray(arr, dtype=float)]


def _hep_table(t: HepTable):
    from hepdata_lib import Table, Variable

    tab = Table(t.name)
    tab.description = t.description
    tab.location = t.location
    for k, v in t.keywords.items():
        tab.keywords[k] = list(v)
    x = Variable(t.x.name, is_independent=True, is_binned=False, units=_UNITS.get(t.x.unit, t.x.unit))
    x.values = _values(t.x.values)
    tab.add_variable(x)
    for col in t.ys:
        y = Variable(col.name, is_independent=False, is_binned=False, units=_UNITS.get(col.unit, col.unit))
        y.values = _values(col.values)
        for qk, qv in col.qualifiers.items():
            y.add_qualifier(qk, qv)
        tab.add_variable(y)
    return tab


@contextlib.contextmanager
def _cwd(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def write_submission(tables: list[HepTable], outdir, comment: str = "") -> Path:
    """Write (and validate) a HEPData submission folder ``outdir`` holding ``tables``."""
    if not tables:
        raise NudmsimError(f"HEPData export to {outdir}: no table to write")
    outdir = Path(outdir)
    parent = outdir.parent if str(outdir.parent) else Path(".")
    if not parent.is_dir():
        raise NudmsimError(f"cannot write '{outdir}': folder '{parent}' does not exist")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hepdata_lib imports ROOT, which warns about its alpha wheel
        from hepdata_lib import Submission

    sub = Submission()
    sub.comment = comment
    names = set()
    for t in tables:
        t.name = t.name.replace("/", " over ").replace("\\", "")  # table names become file names
        t.name = t.name if len(t.name) <= 64 else t.name[:61] + "..."
        base, k = t.name, 2
        while t.name in names:  # HEPData needs unique table names
            t.name = f"{base[:58]} ({k})"
            k += 1
        names.add(t.name)
        sub.add_table(_hep_table(t))
    with _LOCK:
        tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=parent)).resolve()
        try:
            with _cwd(tmp), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sub.create_files(str(tmp / "sub"), validate=True, remove_old=True)
                shutil.move(str(tmp / "submission.tar.gz"), str(tmp / "sub" / "submission.tar.gz"))
            if outdir.exists():
                shutil.rmtree(outdir)
            os.replace(tmp / "sub", outdir)
        except AssertionError as exc:  # the validator refused the archive
            raise NudmsimError(f"HEPData export to {outdir}: the archive did not validate ({exc})") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return outdir


def limit_curve_table(curve, name: str | None = None) -> HepTable:
    """A :class:`~nudmsim.stats.curves.LimitCurve` as one HEPData table (observed, expected, bands)."""
    cl = f"{int(round(curve.cl * 100))}%"
    ys = []
    cols = curve.columns()
    y_name = curve.y_label
    for key, arr in cols.items():
        if key == "x":
            continue
        if key == "observed" and not np.any(np.isfinite(arr)):
            continue  # projection only
        what = {"observed": "observed", "expected": "expected (Asimov median)"}.get(
            key, key.replace("expected", "expected ").replace("sigma", " sigma"))
        ys.append(Column(f"{y_name} ({what})" if curve.relation == "<" else y_name, curve.y_unit, arr,
                         {"CL": cl} if curve.relation == "<" else {}))
    desc = f"{curve.title}. {curve.provenance}".strip()
    return HepTable(name or curve.title[:60], desc, Column(curve.x_label, curve.x_unit, curve.x), ys,
                    keywords={"observables": ["SIG"]} if curve.relation == "<" else {})


def write_limit_curve(curve, outdir, name: str | None = None) -> Path:
    """HEPData folder for one limit curve (``nudmsim limit`` writes it beside the CSV)."""
    return write_submission([limit_curve_table(curve, name)], outdir,
                            comment=f"nudmsim limit curve: {curve.title}")


def hepdata_dir_for(csv_path) -> Path:
    """``limit_x.csv`` -> ``limit_x.hepdata`` (the folder written beside a CSV)."""
    p = Path(csv_path)
    return p.with_name(p.stem + ".hepdata")
