"""Event I/O: ROOT files written with uproot (TTree ``events`` + TTree ``run`` + JSON metadata), and the
all-or-nothing output discipline every nudmsim writer follows.

Layout of a nudmsim ROOT file
-----------------------------
* ``events`` (TTree): one entry per event, one branch per field of the event record (truth kinematics,
  observables after response, ``weight`` = expected events per generated event, ``process_id``,
  ``target_id``).  Written with ``file.mktree`` + ``extend`` (uproot >= 5.7 writes an RNTuple for
  ``file[name] = ...``, which older ROOT cannot read as a TTree); one basket per branch per ``extend``.
* ``run`` (TTree, one entry): numeric run metadata (seed, n_generated, expected_total, each numeric model
  parameter as ``par_<name>``), readable as ``run->Scan()`` in ROOT.
* ``metadata`` (TObjString): the whole metadata as JSON (model point with units, card name and sha256,
  seed, command line, UTC time, code tables, version, ...), ``TObjString* s; f->GetObject("metadata", s)``.

Output discipline
-----------------
* :func:`check_writable` runs before any work: it refuses a folder, a name ending in ``/``, a missing or
  read-only folder, a symbolic link and anything that is not a regular file (``/dev/null``, a FIFO): nudmsim
  replaces regular files only, it never writes through or replaces a link or a device.
* Every file is written to a temporary ``.NAME.nudmsim-PID-K@HOST.part<suffix>`` in the target folder and
  renamed onto ``NAME`` when complete (:class:`atomic_output`), so a failure, Ctrl-C or a full disk never
  leaves a partial file.  Temporaries of killed runs (``kill -9``: no cleanup possible) are recognised by that
  name and removed by the next nudmsim run writing into the same folder once their PID is gone on this host
  (:func:`clean_stale_parts`).
* Several files that belong together (CSV + PNG + YAML of one command) go through :class:`transaction`:
  all are written to temporaries and renamed at the end, or all are removed.

Default compression ZSTD level 1 (ZLIB, uproot's default, is about 10x slower than generating the events).
"""
from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
import stat
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from .errors import NudmsimError

COMPRESSION = {"zstd": uproot.ZSTD(1), "lz4": uproot.LZ4(1), "zlib": uproot.ZLIB(1), "none": None}
#: compressed/raw size used for the free-space check (ZSTD-1 gives 0.64 for COHERENT events; 0.75 is a margin)
COMPRESSED_FRACTION = {"zstd": 0.75, "lz4": 0.8, "zlib": 0.75, "none": 1.0}


def _columns(events) -> dict[str, np.ndarray]:
    from .generate import event_columns

    return event_columns(events)


# ------------------------------------------------------------------------------------------------
# checks before any work
# ------------------------------------------------------------------------------------------------
def check_writable(path, what: str = "output") -> Path:
    """Raise NudmsimError (before any work is done) when ``path`` cannot or must not be written.

    Refused: a folder, a name ending in '/', a missing or read-only folder, a symbolic link and an existing
    path that is not a regular file (device node, FIFO, socket)."""
    text = os.fspath(path)
    if not text.strip():
        raise NudmsimError(f"{what}: empty file name (give e.g. events.root)")
    if text.endswith(("/", os.sep)) or text in (".", ".."):
        raise NudmsimError(f"{what} '{text}' names a folder; give a file name (e.g. {text.rstrip('/')}/out.png "
                           "for a file inside it)")
    path = Path(text)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_symlink():
        raise NudmsimError(f"{what} '{path}' is a symbolic link (to '{os.readlink(path)}'); nudmsim does not "
                           "replace links: give the target's own path or another name")
    if path.is_dir():
        raise NudmsimError(f"{what} '{path}' is a directory (give a file name, e.g. {path}/events.root)")
    if path.exists() and not path.is_file():
        kind = _kind(path)
        raise NudmsimError(f"{what} '{path}' is a {kind}, not a regular file; nudmsim writes regular files only "
                           "(give a file name)")
    if parent.exists() and not parent.is_dir():
        raise NudmsimError(f"cannot write '{path}': '{parent}' is a file, not a folder (choose another name)")
    if not parent.is_dir():
        raise NudmsimError(f"cannot write '{path}': folder '{parent}' does not exist (create it or choose "
                           "another name)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NudmsimError(f"cannot write '{path}': folder '{parent}' is not writable (choose another folder)")
    return path


def _kind(path: Path) -> str:
    mode = path.stat().st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device node"
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def check_figure_path(path, what: str = "figure") -> Path:
    """check_writable, plus a suffix matplotlib can save (none = PNG), before any work is done."""
    path = check_writable(path, what)
    fmt = path.suffix.lstrip(".").lower()
    if fmt:
        from matplotlib.backend_bases import FigureCanvasBase

        known = FigureCanvasBase.get_supported_filetypes()
        if fmt not in known:
            raise NudmsimError(f"cannot write figure '{path}': format '{fmt}' is not supported "
                               f"(use .png, .pdf or .svg)")
    return path


def check_disk_space(path, n_bytes: float, fix: str = "") -> None:
    """Raise NudmsimError when the folder of ``path`` has less than ``n_bytes`` (+ 1% + 64 MB) free."""
    parent = Path(path).parent if str(Path(path).parent) else Path(".")
    free = shutil.disk_usage(parent).free
    need = 1.01 * n_bytes + 64e6
    if need > free:
        raise NudmsimError(f"cannot write '{path}': it needs about {_size(n_bytes)} and '{parent}' has "
                           f"{_size(free)} free" + (f" ({fix})" if fix else ""))


def _size(n: float) -> str:
    for unit, f in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= f:
            v = n / f
            return f"{v:.3g} {unit}" if v < 1000 else f"{v:,.0f} {unit}"
    return f"{n:.0f} B"


# ------------------------------------------------------------------------------------------------
# temporaries, stale parts, atomic single and multi-file outputs
# ------------------------------------------------------------------------------------------------
_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0]) or "host"
_SEQ = itertools.count()
_PART_RE = re.compile(r"^\..+\.nudmsim-(?P<pid>\d+)-\d+@(?P<host>[A-Za-z0-9_-]+)\.part(\.[^.]*)?$")


def temp_path(path) -> Path:
    """Create (exclusively, mode as open() would give) and return the temporary for target ``path``:
    ``.NAME.nudmsim-PID-K@HOST.part<suffix>`` in the same folder (the suffix keeps format detection)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    while True:
        tmp = folder / f".{path.name}.nudmsim-{os.getpid()}-{next(_SEQ)}@{_HOST}.part{path.suffix}"
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)  # umask applies
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_stale_parts(folder) -> list[Path]:
    """Remove temporaries left in ``folder`` by killed nudmsim runs on this host (their PID is gone).
    Returns the removed paths.  Temporaries of other hosts (shared file systems) are left alone."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _PART_RE.match(name)
        if not m or m["host"] != _HOST or int(m["pid"]) == os.getpid() or _pid_alive(int(m["pid"])):
            continue
        p = Path(folder) / name
        try:
            if p.is_symlink():
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


class atomic_output:
    """Context manager yielding a temporary path next to ``path``; renamed onto it on success, removed on
    any failure (including KeyboardInterrupt)."""

    def __init__(self, path, suffix="", what: str = "output"):
        self.path = check_writable(path, what)

    def __enter__(self) -> Path:
        clean_stale_parts(self.path.parent if str(self.path.parent) else ".")
        self.tmp = temp_path(self.path)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                os.replace(self.tmp, self.path)
            except BaseException:
                self.tmp.unlink(missing_ok=True)
                raise
        else:
            self.tmp.unlink(missing_ok=True)
        return False


def check_replaceable_dir(path, what: str = "output folder") -> Path:
    """A folder output (e.g. a HEPData submission) may replace an existing folder, never a file or a link."""
    text = os.fspath(path)
    path = Path(text)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_symlink():
        raise NudmsimError(f"{what} '{path}' is a symbolic link; nudmsim does not replace links (give another name)")
    if path.exists() and not path.is_dir():
        raise NudmsimError(f"{what} '{path}' exists and is not a folder (remove it or choose another name)")
    if not parent.is_dir():
        raise NudmsimError(f"cannot write '{path}': folder '{parent}' does not exist (create it or choose "
                           "another name)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NudmsimError(f"cannot write '{path}': folder '{parent}' is not writable (choose another folder)")
    return path


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


class transaction:
    """All-or-nothing output of several files (and folders)::

        with transaction(csv, png, hepdata_dir, dirs=[hepdata_dir]) as (tmp_csv, tmp_png, tmp_dir):
            curve.write_csv(tmp_csv)
            curve.plot(tmp_png)
            write_folder(tmp_dir)          # a folder target: the body creates tmp_dir

    Every target is checked first (:func:`check_writable`, :func:`check_replaceable_dir` for ``dirs``; the same
    path twice is refused); the body writes temporaries; on success all are renamed onto their targets at the
    end (an existing target folder is replaced), on any failure (or Ctrl-C) all are removed and no target is
    touched.  (The final renames are not one atomic step: a rename failing half-way, e.g. a folder removed
    under our feet, leaves the earlier targets renamed.)"""

    def __init__(self, *paths, dirs=(), what: str = "output"):
        dirs = {os.path.realpath(d) for d in dirs}
        self.is_dir = [os.path.realpath(p) in dirs for p in paths]
        self.paths = [check_replaceable_dir(p) if d else check_writable(p, what) for p, d in zip(paths, self.is_dir)]
        real = [os.path.realpath(p) for p in self.paths]
        if len(set(real)) != len(real):
            dup = next(p for p, r in zip(self.paths, real) if real.count(r) > 1)
            raise NudmsimError(f"'{dup}' is given for two outputs of the same command (give different names)")

    def __enter__(self) -> list[Path]:
        for folder in {p.parent if str(p.parent) else Path(".") for p in self.paths}:
            clean_stale_parts(folder)
        self.tmps = []
        try:
            for p, d in zip(self.paths, self.is_dir):
                t = temp_path(p)
                if d:  # a reserved name: the body creates the folder
                    t.unlink()
                self.tmps.append(t)
        except BaseException:
            self._remove()
            raise
        return list(self.tmps)

    def _remove(self):
        for t in self.tmps:
            _remove(t)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._remove()
            return False
        try:
            for t, p, d in zip(self.tmps, self.paths, self.is_dir):
                if d and p.is_dir():  # replace a folder: move the old one aside, then remove it
                    old = temp_path(p)
                    old.unlink()
                    os.replace(p, old)
                    os.replace(t, p)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.replace(t, p)
        except BaseException:
            self._remove()
            raise
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


# ------------------------------------------------------------------------------------------------
# ROOT
# ------------------------------------------------------------------------------------------------
def big_endian(dtype) -> np.dtype:
    """The on-disk (ROOT, big-endian) version of ``dtype``."""
    dtype = np.dtype(dtype)
    return dtype if dtype.itemsize == 1 else dtype.newbyteorder(">")


class PageRecycler:
    """Hand the page cache of a file being streamed back to the kernel as the file grows (Linux; a no-op
    elsewhere).  Every :data:`STEP` bytes the new range is queued for write-back (``sync_file_range``, which does
    not wait for the disk), and everything more than :data:`LAG` bytes behind the end of the file is dropped from
    the cache (``posix_fadvise(DONTNEED)``: clean pages only; a page still being written stays and is dropped at a
    later step), so the kernel reuses the same few hundred MB of pages instead of taking fresh ones for every byte
    of a multi-GB file.  Nothing here waits for the disk: on a disk slower than the stream the dirty pages simply
    stay, as without this.  Measured (2-core VM, 6 GB written in 1 MB pieces): 15.7 s wall, 13.8 s system time
    as plain writes, where copying into never-touched pages costs ~8 us per 4 kB page; 3.8 s, 2.1 s with
    recycling; 1e8 COHERENT events through ``nudmsim generate``: 3.8-4.2 s system time instead of 9-18 s.  Files
    under ``LAG`` are left to the kernel entirely.  Only the cache is affected: the file's contents are whatever
    was written (uproot's later in-place updates of earlier pages are ordinary writes; a dropped page is read
    back when touched)."""

    STEP = 64 << 20
    LAG = 256 << 20

    def __init__(self, fd: int):
        self.fd = fd
        self.queued = 0   # bytes [0, queued) have had write-back started
        self.dropped = 0  # bytes [0, dropped) have been offered back to the kernel (DONTNEED)
        self._sync = _sync_file_range()

    def written(self) -> None:
        if self._sync is None:
            return
        try:
            end = os.fstat(self.fd).st_size
            while end - self.queued >= self.STEP:
                self._sync(self.fd, self.queued, self.STEP, 2)             # SYNC_FILE_RANGE_WRITE
                self.queued += self.STEP
            if self.queued - self.dropped >= self.LAG:
                self.dropped = self.queued - self.LAG + self.STEP
                os.posix_fadvise(self.fd, 0, self.dropped, os.POSIX_FADV_DONTNEED)
        except OSError:  # a file system without these calls: leave the cache to the kernel
            self._sync = None


def _sync_file_range():
    """libc's ``sync_file_range(fd, offset, nbytes, flags)`` (Linux), or None."""
    import sys

    if not sys.platform.startswith("linux") or not hasattr(os, "posix_fadvise"):
        return None
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int

    def call(fd, offset, nbytes, flags):
        if fn(fd, offset, nbytes, flags) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    return call


#: a branch whose first basket keeps more than this fraction of its size under compression is stored
#: uncompressed (random doubles: ZSTD-1 keeps 95% of them, at the full cost of compressing)
INCOMPRESSIBLE = 0.9


class RootWriter:
    """Streamed ROOT writer on an already-created temporary ``tmp``: ``write(columns)`` appends one basket per
    branch, ``close(metadata)`` adds the ``run`` tree and the JSON metadata.

    Give big-endian arrays (:func:`big_endian`) to avoid uproot's conversion copy (it converts anything else);
    ``write`` may run in a worker thread (uproot's compression with cramjam releases the GIL).

    ``adaptive`` (default): on the first basket each branch is test-compressed (first 64 kB); branches that keep
    more than :data:`INCOMPRESSIBLE` of their size (random doubles: energies, times, weights of a continuous
    spectrum) are stored uncompressed from then on, through uproot's per-branch compression.  Measured on COHERENT
    events: 7 of 13 branches, about 60% of the ZSTD time saved, the file about 3% larger; ROOT reads both kinds of
    basket transparently."""

    def __init__(self, tmp, branches: dict[str, np.dtype], compression: str = "zstd", adaptive: bool = True):
        if compression not in COMPRESSION:
            raise NudmsimError(f"unknown compression '{compression}' (choose {', '.join(COMPRESSION)})")
        self.codec = COMPRESSION[compression]
        self.fh = open(tmp, "r+b")  # noqa: SIM115 - closed by close()/abort(); PageRecycler needs its fd
        try:
            self.file = uproot.recreate(self.fh, compression=self.codec)
            self.tree = self.file.mktree("events", {k: big_endian(v) for k, v in branches.items()},
                                         title="nudmsim events")
        except BaseException:
            self.fh.close()
            raise
        self.pages = PageRecycler(self.fh.fileno())
        self.adaptive = adaptive and self.codec is not None
        self.stored_raw: list[str] = []
        self.n = 0

    def _choose(self, cols: dict[str, np.ndarray]) -> None:
        per = {}
        for k, v in cols.items():
            raw = memoryview(np.ascontiguousarray(v)).cast("B")[: 1 << 16]
            comp = uproot.compression.compress(bytes(raw), self.codec) if len(raw) else raw
            keep = len(comp) / max(len(raw), 1)
            per[k] = None if keep > INCOMPRESSIBLE else self.codec
        self.stored_raw = [k for k, c in per.items() if c is None]
        self.tree.compression = per

    def write(self, cols: dict[str, np.ndarray]) -> None:
        if self.adaptive and self.n == 0 and cols and len(next(iter(cols.values()))):
            self._choose(cols)
        self.tree.extend(cols)
        self.n += len(next(iter(cols.values()))) if cols else 0
        self.pages.written()

    def close(self, metadata: dict) -> None:
        meta = _jsonable(metadata)
        run = {k: np.asarray([v], dtype=np.float64 if isinstance(v, float) else np.int64)
               for k, v in meta.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
               and (isinstance(v, float) or -2**63 <= v < 2**63)}
        for k, v in (meta.get("model") or {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                run[f"par_{k}"] = np.asarray([float(v)])
        if run:
            rt = self.file.mktree("run", {k: v.dtype for k, v in run.items()}, title="nudmsim run metadata")
            rt.extend(run)
        try:
            text = json.dumps(meta, sort_keys=True, allow_nan=False)
        except ValueError:
            bad = [k for k, v in meta.items() if isinstance(v, float) and not np.isfinite(v)]
            raise NudmsimError(f"run metadata {', '.join(bad) or 'entry'} is not finite; nothing was written "
                               "(check the model point)") from None
        self.file["metadata"] = text
        self.file.close()
        self.fh.close()

    def abort(self) -> None:
        for obj in (self.file, self.fh):
            try:
                obj.close()
            except Exception:  # noqa: BLE001 - the temporary is removed anyway
                pass


def write_root(path, events, metadata: dict, compression: str = "zstd", chunk: int = 1 << 20) -> Path:
    """Write ``events`` (awkward record array or dict of 1-d arrays) and ``metadata`` to ROOT atomically
    (for samples in memory; :mod:`nudmsim.stream` writes any number of events in bounded memory)."""
    if compression not in COMPRESSION:
        raise NudmsimError(f"unknown compression '{compression}' (choose {', '.join(COMPRESSION)})")
    cols = _columns(events)
    with atomic_output(path) as tmp:
        w = RootWriter(tmp, {k: v.dtype for k, v in cols.items()}, compression)
        try:
            n = len(next(iter(cols.values()))) if cols else 0
            for start in range(0, max(n, 1), chunk):
                w.write({k: v[start:start + chunk] for k, v in cols.items()})
            w.close(metadata)
        except BaseException:
            w.abort()
            raise
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
