"""Reading the CSV tables of ``data/`` (a ``#`` provenance block, then a header line, then numbers)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import NudmsimError


@lru_cache(maxsize=64)
def _read(path: str, mtime: float) -> tuple[list[str], np.ndarray]:
    header, rows = None, []
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if header is None:
                header = [h.strip() for h in s.split(",")]
                continue
            try:
                row = [float(x) for x in s.split(",")]
            except ValueError:
                raise NudmsimError(f"{path}: line {lineno}: non-numeric row {s!r}") from None
            if len(row) != len(header):
                raise NudmsimError(f"{path}: line {lineno} has {len(row)} values but the header names "
                                   f"{len(header)} columns (ragged table)")
            rows.append(row)
    if header is None or not rows:
        raise NudmsimError(f"{path}: no header or no data rows")
    arr = np.asarray(rows, dtype=float)
    if arr.shape[1] != len(header):
        raise NudmsimError(f"{path}: {arr.shape[1]} columns but header names {len(header)}")
    arr.setflags(write=False)
    return header, arr


def _resolved(path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise NudmsimError(f"data file '{p}' does not exist")
    return p.resolve()


def read_table(path) -> tuple[list[str], np.ndarray]:
    """(header, rows) of a data CSV with a ``#`` provenance block; rows is a read-only 2-d array (cached)."""
    p = _resolved(path)
    header, arr = _read(str(p), p.stat().st_mtime)
    return list(header), arr


def read_csv_table(path) -> dict[str, np.ndarray]:
    """Columns of a nudmsim data CSV by header name (copies; cached parse)."""
    header, arr = read_table(path)
    return {h: arr[:, i].copy() for i, h in enumerate(header)}
