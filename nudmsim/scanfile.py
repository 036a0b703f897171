"""``nudmsim scan SCAN.toml``: grids over masses, ratios, couplings and analyses, written as results arrive.

A scan file declares blocks (schema: :data:`SCAN`, strict keys with did-you-mean, like every card)::

    [scan]
    name = "fig2-grid"                      # default output: <name>.parquet (or give output = "x.csv")

    [[limit]]                               # 90% CL limits, one point per (mass, ratio)
    analysis = "kinetic-decoupling"
    masses = { from = "10keV", to = "100MeV", n = 20 }    # or a list: ["1MeV", "3MeV", 10]
    ratios = [3, 10]
    options = { channels = "nu,nubar" }     # --option of `nudmsim limit`
    # card = "cosmology"; projected = false

    [[predict]]                             # expected events of a process over a parameter grid (--set)
    process = "nu-to-x"
    grid = { m_X = ["1MeV", "10MeV"], y_X = { from = 1e-6, to = 1e-4, n = 3 } }
    set = { y_q = 1e-4 }                    # fixed parameters
    phi_ratio = 3                           # optional: m_phi = phi_ratio * m_X at every point

Every point has a key (a hash of its definition).  Rows are appended to ``<output>.journal.csv`` the moment they
finish, so an interrupted scan loses nothing; at the end the table (one row per point, grid order) is written
atomically as Parquet (pyarrow) or CSV.  ``--resume`` skips points whose key already has an ``ok`` row (in the
journal or the output) and re-runs failed ones; failed points (an exception in one point does not stop the scan)
are listed at the end with their error.  Points run through :func:`nudmsim.scan.map_points` in one Dask session
per command: in-process for small scans, a local cluster when it pays, or ``--scheduler ADDRESS``.
"""
from __future__ import annotations

import csv
import hashlib
import io as _io
import json
import math
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CardError, NudmsimError
from .schema import Field, Section, validate

RANGE = Section("range", "a log- or linearly spaced grid", fields=[
    Field("from", (float, str), doc="first value (a number, or a mass with a unit like '10keV')"),
    Field("to", (float, str), doc="last value"),
    Field("n", int, lo=1, doc="number of points"),
    Field("spacing", str, default="log", choices=("log", "linear"), doc="log (default) or linear spacing"),
])

SCAN_META = Section("scan", "the scan as a whole", fields=[
    Field("name", str, doc="name of the scan (default output <name>.parquet)"),
    Field("output", str, default=None, doc="output table (.parquet or .csv); default <name>.parquet"),
])

LIMIT = Section("limit", "90% CL limits of one analysis over masses (MeV unless a unit is given) and ratios", fields=[
    Field("analysis", str, doc="analysis name (nudmsim list analyses)"),
    Field("masses", (list, dict), item=Any, doc="list of masses or a {from, to, n, spacing} range"),
    Field("ratios", list, default=None, lo=0, lo_open=True, doc="second curve parameter(s), e.g. r = m_phi/m_X"),
    Field("card", str, default=None, doc="detector card (default: the analysis' own)"),
    Field("options", dict, default={}, doc="analysis options (--option KEY=VALUE)"),
    Field("projected", bool, default=False, doc="Asimov sensitivity instead of the observed limit"),
])

PREDICT = Section("predict", "expected events of a process over a grid of model parameters", fields=[
    Field("process", str, doc="process name (nudmsim list processes)"),
    Field("grid", dict, doc="parameter -> list of values or {from, to, n, spacing} range"),
    Field("set", dict, default={}, doc="fixed parameters (--set NAME=VALUE)"),
    Field("card", str, default=None, doc="detector card (default: the process' own)"),
    Field("phi_ratio", float, default=None, lo=0, lo_open=True, doc="if given, m_phi = phi_ratio * m_X"),
])

SCAN = Section("", "a nudmsim scan file", fields=[
    Field("scan", SCAN_META, doc="name and output"),
    Field("limit", list, default=[], item=LIMIT, doc="limit blocks"),
    Field("predict", list, default=[], item=PREDICT, doc="prediction blocks"),
])


def _mass(text, what: str, path) -> float:
    from .registry import Param, parse_value
    from .errors import ParameterError

    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    try:
        return parse_value("m", str(text), Param(1.0, "MeV"))
    except ParameterError:
        raise CardError(path, what, f"'{text}' is not a number or a mass with a unit (e.g. 30MeV)") from None


def _values(spec, what: str, path, mass: bool) -> list[float]:
    """A list or a {from, to, n, spacing} range -> floats (masses in MeV when ``mass``)."""
    conv = (lambda v, w: _mass(v, w, path)) if mass else (lambda v, w: _number(v, w, path))
    if isinstance(spec, dict):
        r = validate(spec, RANGE, path=path, prefix=what)
        lo, hi = conv(r["from"], f"{what}.from"), conv(r["to"], f"{what}.to")
        if r["spacing"] == "log":
            if lo <= 0 or hi <= 0:
                raise CardError(path, what, "a log range needs from > 0 and to > 0", "use spacing = \"linear\"")
            return [float(v) for v in np.geomspace(lo, hi, r["n"])]
        return [float(v) for v in np.linspace(lo, hi, r["n"])]
    if not isinstance(spec, list) or not spec:
        raise CardError(path, what, "must be a non-empty list or a {from, to, n} table")
    return [conv(v, f"{what}[{i}]") for i, v in enumerate(spec)]


def _number(v, what, path) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        return v  # a --set string with a unit, parsed by the process' parameter table
    raise CardError(path, what, f"must be a number, got {v!r}")


def point_key(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load(path) -> dict:
    """Parse and validate a scan file; returns the validated dict plus ``path``."""
    path = Path(path)
    if not path.is_file():
        raise NudmsimError(f"scan file '{path}' does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CardError(path, "", f"not valid TOML ({exc})") from None
    spec = validate(data, SCAN, path=path, prefix="")
    if not spec["limit"] and not spec["predict"]:
        raise CardError(path, "", "no [[limit]] or [[predict]] block: nothing to scan")
    spec["path"] = path
    return spec


def expand(spec: dict) -> list[dict]:
    """The points of a validated scan, in grid order (each a plain dict with its ``key``)."""
    from . import registry

    path = spec["path"]
    points = []
    for b, blk in enumerate(spec["limit"]):
        where = f"limit[{b}]"
        entry = registry.get_analysis(blk["analysis"])
        if entry.limit is None:
            raise CardError(path, f"{where}.analysis", f"'{blk['analysis']}' has no limit")
        masses = _values(blk["masses"], f"{where}.masses", path, mass=True)
        ratios = blk["ratios"] if blk["ratios"] is not None else [None]
        for r in ratios:
            for m in masses:
                p = {"block": where, "kind": "limit", "analysis": blk["analysis"],
                     "card": blk["card"] or entry.default_detector, "ratio": r, "m_MeV": m,
                     "options": {k: str(v) for k, v in blk["options"].items()}, "projected": blk["projected"]}
                points.append(p)
    for b, blk in enumerate(spec["predict"]):
        where = f"predict[{b}]"
        entry = registry.get_process(blk["process"])
        grid = {}
        for name, vals in blk["grid"].items():
            if name not in entry.params:
                raise CardError(path, f"{where}.grid.{name}", "is not a parameter of " + entry.name,
                                f"parameters: {', '.join(entry.params)}")
            grid[name] = _values(vals, f"{where}.grid.{name}", path, mass=entry.params[name].unit in ("MeV", "GeV",
                                                                                                     "keV"))
        names = list(grid)
        for combo in np.array(np.meshgrid(*[np.arange(len(grid[n])) for n in names], indexing="ij")).reshape(
                len(names), -1).T:
            params = {k: str(v) for k, v in blk["set"].items()}
            for n, i in zip(names, combo):
                params[n] = grid[n][int(i)] if not isinstance(grid[n][int(i)], str) else grid[n][int(i)]
            if blk["phi_ratio"] is not None:
                if "m_X" not in params or "m_phi" not in entry.params:
                    raise CardError(path, f"{where}.phi_ratio", "needs m_X in the grid and a process with m_phi")
                params["m_phi"] = float(blk["phi_ratio"]) * float(params["m_X"])
            points.append({"block": where, "kind": "predict", "process": blk["process"],
                           "card": blk["card"] or entry.default_detector, "params": params})
    for i, p in enumerate(points):
        p["key"] = point_key({k: v for k, v in p.items() if k != "key"})
        p["index"] = i
    return points


def run_point(p: dict) -> dict:
    """Evaluate one point (in a worker or in-process); never raises: failures become ``status = failed``."""
    from . import cards, registry

    t0 = time.perf_counter()
    row = {"index": p["index"], "key": p["key"], "block": p["block"], "kind": p["kind"], "card": p["card"]}
    try:
        if p["kind"] == "limit":
            from .stats.curves import LimitRequest

            row.update(analysis=p["analysis"], ratio=p["ratio"] if p["ratio"] is not None else math.nan,
                       m_MeV=p["m_MeV"], options=json.dumps(p["options"], sort_keys=True), projected=p["projected"])
            entry = registry.get_analysis(p["analysis"])
            lc = entry.limit(LimitRequest(card=cards.load_detector(p["card"]), masses=np.array([p["m_MeV"]]),
                                          ratio=p["ratio"], projected=p["projected"], scheduler="sync",
                                          progress=False, options=dict(p["options"])))
            cols = lc.columns()
            row.update(x=float(lc.x[0]), x_unit=lc.x_unit, y_name=lc.y_label, y_unit=lc.y_unit)
            for k in ("observed", "expected", "expected-2sigma", "expected-1sigma", "expected+1sigma",
                      "expected+2sigma"):
                row[k] = float(cols[k][0]) if k in cols else math.nan
        else:
            entry = registry.get_process(p["process"])
            params = registry.resolve_params(entry.params, {k: str(v) for k, v in p["params"].items()}, entry.name)
            row.update(process=p["process"], **{f"par_{k}": v for k, v in params.items()})
            pred = entry.predict(params, cards.load_detector(p["card"]))
            for k, v in pred.items():
                if not k.startswith("_") and isinstance(v, tuple) and isinstance(v[0], (int, float)) \
                        and not isinstance(v[0], bool) and v[1] == "events":
                    row[f"events: {k}"] = float(v[0])
        row.update(status="ok", error="")
    except NudmsimError as exc:
        msg = str(exc)
        if p["kind"] == "limit" and ("blind" in msg or "kinematic reach" in msg or "no sensitivity" in msg):
            # the analysis cannot see this mass: a result (no limit), not a failure
            row.update(observed=math.nan, status="ok", error=f"no sensitivity: {msg}"[:500])
        else:
            row.update(status="failed", error=f"{type(exc).__name__}: {msg}"[:500])
    except Exception as exc:  # a failed point is recorded and re-runnable, never fatal for the scan
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
    row["seconds"] = time.perf_counter() - t0
    return row


# ------------------------------------------------------------------------------------------------
# journal and output
# ------------------------------------------------------------------------------------------------
def output_path(spec: dict, override=None) -> Path:
    out = Path(override or spec["scan"]["output"] or f"{spec['scan']['name']}.parquet")
    if out.suffix not in (".parquet", ".csv"):
        raise NudmsimError(f"scan output '{out}': give a name ending in .parquet or .csv")
    return out


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal.csv")


class Journal:
    """Append-only CSV of finished points (one JSON object per row, flushed at once)."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = open(path, "a", buffering=1)

    def write(self, row: dict) -> None:
        self.fh.write(json.dumps(row, default=_json_default, allow_nan=True) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


def _json_default(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return str(v)


def read_rows(path: Path) -> list[dict]:
    """Rows of a journal (malformed last line of an interrupted write is skipped) or of an output table."""
    if not path.is_file():
        return []
    if path.name.endswith(".journal.csv"):
        rows = []
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a kill
        return rows
    import pandas as pd

    df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, comment="#")
    return df.to_dict("records")


def done_keys(rows: list[dict]) -> set[str]:
    return {r["key"] for r in rows if r.get("status") == "ok"}


def write_table(rows: list[dict], out: Path, points: list[dict]) -> "object":
    """One row per point of this scan (latest result wins), grid order; Parquet or CSV, atomically."""
    import pandas as pd

    from .io import atomic_output

    index = {p["key"]: p["index"] for p in points}
    latest: dict[str, dict] = {}
    for r in rows:
        if r.get("key") in index:
            if r.get("status") == "ok" or latest.get(r["key"], {}).get("status") != "ok":
                latest[r["key"]] = dict(r, index=index[r["key"]])  # grid order of the current scan file
    df = pd.DataFrame(sorted(latest.values(), key=lambda r: r["index"]))
    with atomic_output(out) as tmp:
        if out.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            buf = _io.StringIO()
            df.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
            Path(tmp).write_text(buf.getvalue())
    return df


def run(spec: dict, *, out: Path, resume: bool = False, scheduler: str | None = None, progress: bool = True,
        n_workers: int | None = None):
    """Run a validated scan; returns (table as a DataFrame, list of failed rows, points run now)."""
    from .scan import map_points, session

    points = expand(spec)
    jpath = journal_path(out)
    previous = (read_rows(out) + read_rows(jpath)) if resume else []
    if not resume and jpath.exists():
        jpath.unlink()  # a fresh run starts a fresh journal
    skip = done_keys(previous)
    todo = [p for p in points if p["key"] not in skip]
    journal = Journal(jpath)
    fresh: list[dict] = []

    def on_result(i, row):
        journal.write(row)
        fresh.append(row)

    try:
        with session(scheduler, n_workers=n_workers):
            map_points(run_point, todo, scheduler=scheduler, progress=progress, label=spec["scan"]["name"],
                       on_result=on_result)
    finally:
        journal.close()
    df = write_table(previous + fresh, out, points)
    failed = [r for r in df.to_dict("records") if r.get("status") != "ok"]
    return df, failed, len(todo)
