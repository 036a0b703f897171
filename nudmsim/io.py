"""Event I/O: ROOT files written with uproot (TTree ``events`` + TTree ``run`` + JSON metadata).

Layout of a nudmsim ROOT file
-----------------------------
* ``events`` (TTree): one entry per event, one branch per field of the event record (truth kinematics,
  observables after response, ``weight`` = expected events per generated event, ``process_id``,
  ``target_id``).  Written with ``file.mktree`` + ``extend`` (uproot >= 5.7 writes an RNTuple for
  ``file[name] = ...``, which older ROOT cannot read as a TTree).
* ``run`` (TTree, one entry): numeric run metadata (seed, n_generated, expected_total, each numeric model
  parameter as ``par_<name>``), readable as ``run->Scan()`` in ROOT.
* ``metadata`` (TObjString): the whole metadata as JSON (model point, card name and sha256, seed,
  version, ...), ``TObjString* s; f->GetObject("metadata", s)``.

Files are written to a temporary file in the target folder and renamed when complete, so a failure
never leaves a partial file behind.  Default compression ZSTD level 1 (ZLIB, uproot's default, is
about 10x slower than generating the events).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from .errors import NudmsimError

COMPRESSION = {"zstd": uproot.ZSTD(1), "lz4": uproot.LZ4(1), "zlib": uproot.ZLIB(1), "none": None}


def _columns(events) -> dict[str, np.ndarray]:
    if isinstance(events, ak.Array):
        return {f: ak.to_numpy(events[f]) for f in events.fields}
    return {k: np.asarray(v) for k, v in events.items()}


def check_writable(path) -> Path:
    """Raise NudmsimError (before any work is done) when ``path`` cannot be written."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise NudmsimError(f"output '{path}' is a directory (give a file name, e.g. {path}/events.root)")
    if not parent.is_dir():
        raise NudmsimError(f"cannot write '{path}': folder '{parent}' does not exist (create it or choose another -o)")
    if not os.access(parent, os.W_OK):
        raise NudmsimError(f"cannot write '{path}': folder '{parent}' is not writable (choose another -o)")
    return path


def check_figure_path(path) -> Path:
    """check_writable, plus a suffix matplotlib can save (none = PNG), before any work is done."""
    path = check_writable(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt:
        from matplotlib.backend_bases import FigureCanvasBase

        known = FigureCanvasBase.get_supported_filetypes()
        if fmt not in known:
            raise NudmsimError(f"cannot write figure '{path}': format '{fmt}' is not supported "
                               f"(use .png, .pdf or .svg)")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class atomic_output:
    """Context manager yielding a temporary path next to ``path``; renamed onto it on success."""

    def __init__(self, path, suffix=""):
        self.path = check_writable(path)
        self.suffix = suffix or self.path.suffix

    def __enter__(self) -> Path:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=self.suffix + ".part",
                                   dir=self.path.parent if str(self.path.parent) else ".")
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            os.chmod(self.tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the mode open() would
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
        return False


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_root(path, events, metadata: dict, compression: str = "zstd", chunk: int = 2_000_000) -> Path:
    """Write ``events`` (awkward record array or dict of 1-d arrays) and ``metadata`` to ROOT atomically."""
    if compression not in COMPRESSION:
        raise NudmsimError(f"unknown compression '{compression}' (choose {', '.join(COMPRESSION)})")
    cols = _columns(events)
    meta = _jsonable(metadata)
    with atomic_output(path) as tmp:
        with uproot.recreate(tmp, compression=COMPRESSION[compression]) as f:
            tree = f.mktree("events", {k: v.dtype for k, v in cols.items()}, title="nudmsim events")
            n = len(next(iter(cols.values()))) if cols else 0
            for start in range(0, max(n, 1), chunk):
                tree.extend({k: v[start:start + chunk] for k, v in cols.items()})
            run = {k: np.asarray([v], dtype=np.float64 if isinstance(v, float) else np.int64)
                   for k, v in meta.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            for k, v in (meta.get("model") or {}).items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    run[f"par_{k}"] = np.asarray([float(v)])
            if run:
                rt = f.mktree("run", {k: v.dtype for k, v in run.items()}, title="nudmsim run metadata")
                rt.extend(run)
            f["metadata"] = json.dumps(meta, sort_keys=True)
    return Path(path)


def read_root(path) -> tuple[ak.Array, dict]:
    """Read a nudmsim ROOT file back: (events as an awkward Array, metadata dict)."""
    path = Path(path)
    if not path.is_file():
        raise NudmsimError(f"'{path}' does not exist")
    with uproot.open(path) as f:
        events = f["events"].arrays(library="ak")
        meta = json.loads(str(f["metadata"])) if "metadata" in f else {}
    return events, meta


def write_csv(path, header: str, columns: dict[str, np.ndarray]) -> Path:
    """Write a CSV with a ``#`` header block (provenance/units) atomically."""
    names = list(columns)
    data = np.column_stack([np.asarray(columns[k], dtype=float) for k in names])
    with atomic_output(path) as tmp:
        comment = "".join(f"# {line}\n" for line in header.strip().splitlines())
        with open(tmp, "w") as fh:
            fh.write(comment)
            fh.write(",".join(names) + "\n")
            np.savetxt(fh, data, delimiter=",", fmt="%.8g")
    return Path(path)


def save_figure(fig, path) -> Path:
    """Save a matplotlib figure atomically (PNG/PDF by suffix)."""
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight")
    return Path(path)
