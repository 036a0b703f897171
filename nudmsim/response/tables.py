"""Reading the CSV tables of ``data/`` and ``fluxes/`` (a ``#`` provenance block, a header line, numbers).

Every table is validated when it is read, and a problem is a one-line :class:`~nudmsim.errors.NudmsimError`
naming the file, the line and the column:

* a row with more or fewer cells than the header (a ragged row), a cell that is not a number, NaN or inf;
* columns the caller declares ``nonnegative`` (densities, probabilities, counts) holding a negative value;
* columns the caller declares ``increasing`` (bin edges, abscissae) that do not strictly increase;
* ``columns`` the caller needs that the header does not name;
* a file that is missing, a directory, or not UTF-8 text.

Example::

    tab = read_csv_table(path, columns=("t_us", "pdf"), nonnegative=("pdf",), increasing=("t_us",))
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import NudmsimError


@lru_cache(maxsize=64)
def _read(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(header, rows, line number of each row); parse errors name the line and the column."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise NudmsimError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise NudmsimError(f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                           f"save the table as UTF-8") from None
    header: tuple[str, ...] | None = None
    rows: list[list[float]] = []
    lines: list[int] = []
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        cells = [x.strip() for x in s.split(",")]
        if header is None:
            if any(not h for h in cells):
                raise NudmsimError(f"{path}: line {n}: the header has an empty column name")
            if len(set(cells)) != len(cells):
                dup = sorted({h for h in cells if cells.count(h) > 1})
                raise NudmsimError(f"{path}: line {n}: the header names column '{dup[0]}' twice")
            header = tuple(cells)
            continue
        if len(cells) != len(header):
            raise NudmsimError(f"{path}: line {n}: {len(cells)} cells but the header names {len(header)} "
                               f"columns (a ragged row)")
        row = []
        for h, x in zip(header, cells):
            try:
                v = float(x)
            except ValueError:
                raise NudmsimError(f"{path}: line {n}, column '{h}': {x!r} is not a number") from None
            row.append(v)
        rows.append(row)
        lines.append(n)
    if header is None or not rows:
        raise NudmsimError(f"{path}: no header or no data rows")
    arr = np.asarray(rows, dtype=float)
    arr.setflags(write=False)
    ln = np.asarray(lines)
    ln.setflags(write=False)
    return header, arr, ln


def _resolved(path) -> Path:
    p = Path(path)
    if p.is_dir():
        raise NudmsimError(f"data file '{p}' is a directory, not a table")
    if not p.is_file():
        raise NudmsimError(f"data file '{p}' does not exist")
    return p.resolve()


def _check(path, header: Sequence[str], arr: np.ndarray, lines: np.ndarray, *, columns, nonnegative,
           increasing, finite: bool) -> None:
    index = {h: i for i, h in enumerate(header)}
    for col in (*columns, *nonnegative, *increasing):
        if col not in index:
            raise NudmsimError(f"{path}: no column '{col}' (columns: {', '.join(header)})")
    if finite:
        bad = ~np.isfinite(arr)
        if bad.any():
            r, j = map(int, np.argwhere(bad)[0])
            raise NudmsimError(f"{path}: line {lines[r]}, column '{header[j]}': is {arr[r, j]} "
                               f"(every cell must be a finite number)")
    for col in nonnegative:
        v = arr[:, index[col]]
        neg = np.nonzero(v < 0)[0]
        if len(neg):
            r = int(neg[0])
            raise NudmsimError(f"{path}: line {lines[r]}, column '{col}': is {v[r]:g}, must be >= 0 "
                               f"(a density, probability or count)")
    for col in increasing:
        v = arr[:, index[col]]
        down = np.nonzero(~(np.diff(v) > 0))[0]
        if len(down):
            r = int(down[0]) + 1
            raise NudmsimError(f"{path}: line {lines[r]}, column '{col}': {v[r]:g} does not increase "
                               f"(previous row {v[r - 1]:g}; bin edges and abscissae must be strictly increasing)")


def read_table(path, *, columns: Sequence[str] = (), nonnegative: Sequence[str] = (),
               increasing: Sequence[str] = (), finite: bool = True) -> tuple[list[str], np.ndarray]:
    """(header, rows) of a data CSV with a ``#`` provenance block; rows is a read-only 2-d array (cached).

    ``columns``: names that must be present; ``nonnegative``: columns that may not be negative;
    ``increasing``: columns that must strictly increase row by row; ``finite``: refuse NaN and inf cells."""
    p = _resolved(path)
    st = p.stat()
    header, arr, lines = _read(str(p), st.st_mtime_ns, st.st_size)
    _check(path, header, arr, lines, columns=tuple(columns), nonnegative=tuple(nonnegative),
           increasing=tuple(increasing), finite=finite)
    return list(header), arr


def read_csv_table(path, **checks) -> dict[str, np.ndarray]:
    """Columns of a nudmsim data CSV by header name (copies; cached parse; ``checks`` as in :func:`read_table`)."""
    header, arr = read_table(path, **checks)
    return {h: arr[:, i].copy() for i, h in enumerate(header)}


def contiguous_edges(path, lo: np.ndarray, hi: np.ndarray, lo_name: str, hi_name: str) -> np.ndarray:
    """Bin edges from per-row (lo, hi) columns: each bin must be non-empty and start where the previous ends."""
    if np.any(hi <= lo):
        r = int(np.nonzero(hi <= lo)[0][0])
        raise NudmsimError(f"{path}: data row {r + 1}: {hi_name} = {hi[r]:g} is not above {lo_name} = {lo[r]:g}")
    gap = np.nonzero(~np.isclose(lo[1:], hi[:-1], rtol=1e-9, atol=1e-12))[0]
    if len(gap):
        r = int(gap[0]) + 1
        raise NudmsimError(f"{path}: data row {r + 1}: {lo_name} = {lo[r]:g} does not continue the previous "
                           f"bin's {hi_name} = {hi[r - 1]:g} (bins must be contiguous and in order)")
    return np.concatenate([lo, hi[-1:]])

