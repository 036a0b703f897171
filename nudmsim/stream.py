"""Streaming event generation: any number of events in bounded memory, written while they are produced.

The layer is generic: it takes a *producer* ``(n, rng) -> EventSample`` (a bound ``ProcessEntry.generate``, or
any engine with that signature) and a *sink* (ROOT via uproot, HepMC3 via pyhepmc).

Seeding: same seed, same events, whatever the chunking
    Events are generated in fixed blocks of :data:`BLOCK_EVENTS` = 65536 (the last block is shorter).  Block
    ``b`` draws all its random numbers from its own stream ``PCG64(SeedSequence(seed, spawn_key=(b,)))``, the
    ``b``-th child of ``SeedSequence(seed).spawn()``.  Event ``i`` therefore depends only on the seed, the
    producer and ``i``, never on the chunk size (chosen from the free memory), the number of threads or the
    output format.  (A file made by ``nudmsim generate`` is *not* the sample ``entry.generate(n,
    make_rng(seed))`` returns in one call: that one is a single block of n events.)
Weights
    For a block of ``n_b`` events the producer returns weights normalised to ``n_b`` generated events (their sum
    estimates the expected events in the exposure).  Each weight is multiplied by ``n_b / N``, so the weights in
    the file sum to the expected events: the ``n_b``-weighted mean of the block estimates (unbiased).
Chunks and threads
    A chunk is a run of whole blocks, queued to a writer thread, which copies it once into big-endian arrays
    (the copy uproot would make anyway, here with the byte swap folded in, so uproot writes them as they are),
    compresses and writes it while the next chunk is generated (numba kernels release the GIL, so do numpy
    copies and cramjam's ZSTD).  At most :data:`QUEUE_DEPTH` chunks wait, so memory is bounded for any N;
    chunks hold at most 2^20 events and fewer when memory is short (:func:`chunk_events_for`).
Interrupts
    The main thread returns to Python after every block (tens of milliseconds for COHERENT), so Ctrl-C ends a
    run within a second: the writer (a daemon thread) is abandoned and the temporary file removed.
Unweighted samples
    Each event is kept ``k_i ~ Poisson(w_i)`` times (``w_i`` its file weight; numbers from the block's stream
    after the producer's): the total is ``Poisson(sum w)`` and the kept events are drawn with probability
    ``w_i / sum w``, the same distribution as :func:`nudmsim.generate.unweighted`.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .errors import NudmsimError
from .generate import event_columns
from .io import COMPRESSED_FRACTION, big_endian, check_disk_space

#: events per seed block (the unit of reproducibility; part of the file format: stored as ``seed_block``)
BLOCK_EVENTS = 1 << 16
#: most events per chunk (one ROOT basket per branch per chunk: 1 MB for a float64 branch).  Measured (CPU
#: seconds per 4e6 COHERENT events, under load): 2^16-2^17 events cost ~25% less than 2^20, whose 8 MB arrays
#: are returned to the kernel and faulted back in for every chunk.
CHUNK_EVENTS_MAX = 1 << 17
#: chunks waiting for the writer
QUEUE_DEPTH = 2
#: columns written whatever ``--columns`` says
ALWAYS = ("weight", "process_id")

Producer = Callable[[int, np.random.Generator], object]


def tune_allocator() -> None:
    """Keep freed chunk-sized arrays in the process heap (glibc: mmap threshold 64 MB, trim threshold 256 MB)
    instead of unmapping and faulting them in again for every chunk (measured: a third of the writing time in
    the kernel).  A no-op off glibc.  Call once per process, before streaming (the CLI does)."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 64 << 20)   # M_MMAP_THRESHOLD
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The random stream of block ``block``: ``PCG64(SeedSequence(seed, spawn_key=(block,)))``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(int(block),))))


@dataclass
class Block:
    """One generated block: columns with file-normalised weights (native byte order) and the producer's sample."""

    index: int
    n_generated: int
    columns: dict
    expected_total: float
    info: dict


def iter_blocks(producer: Producer, n: int, seed: int, *, block: int = BLOCK_EVENTS, start_block: int = 0,
                unweighted: bool = False) -> Iterator[Block]:
    """Blocks ``start_block, ...`` of an ``n``-event run (see the module docstring for seeding and weights)."""
    n_blocks = -(-n // block)
    for b in range(start_block, n_blocks):
        n_b = min(block, n - b * block)
        rng = block_rng(seed, b)
        sample = producer(n_b, rng)
        cols = dict(event_columns(sample.events))
        if "weight" not in cols:
            raise NudmsimError("internal error: the generator returned events without a 'weight' column")
        total = float(sample.expected_total)
        w = np.asarray(cols["weight"], dtype=np.float64)
        if not (np.isfinite(total) and np.all(np.isfinite(w))):
            raise NudmsimError("the event weights are not finite at this model point (a coupling or mass is too "
                               "large for double precision: choose a smaller value)")
        if len(w) != n_b:
            raise NudmsimError(f"internal error: asked for {n_b} events, the generator returned {len(w)}")
        scale = n_b / n
        if unweighted and total > max(10 * n, 10_000_000):  # before drawing: k_i would hold ~total/n copies each
            raise NudmsimError(f"cannot unweight: the exposure holds {total:.3g} events, more than 10x the {n} "
                               "generated (drop --unweighted, or use a card with a smaller exposure)")
        if unweighted:
            k = rng.poisson(w * scale)
            cols = {c: np.repeat(v, k) for c, v in cols.items() if c != "weight"}
            cols["weight"] = np.ones(int(k.sum()))
        else:
            cols["weight"] = w * scale
        yield Block(b, n_b, cols, total, dict(sample.info))


def select_columns(spec: str | None, available, observables=()) -> list[str]:
    """Columns for ``--columns`` = all | truth | observables | a comma-separated list (``weight`` and
    ``process_id`` are always kept)."""
    from .registry import did_you_mean

    available = list(available)
    spec = (spec or "all").strip()
    always = [c for c in ALWAYS if c in available]
    if spec == "all":
        return available
    obs = [c for c in observables if c in available]
    if spec in ("truth", "observables"):
        if not obs:
            raise NudmsimError(f"--columns {spec}: this process declares no detector-level columns (use all or "
                               f"a list from: {', '.join(available)})")
        keep = obs if spec == "observables" else [c for c in available if c not in obs]
        return [c for c in available if c in keep or c in always]
    wanted = [c.strip() for c in spec.split(",") if c.strip()]
    for c in wanted:
        if c not in available:
            raise NudmsimError(f"--columns: no column '{c}'{did_you_mean(c, available)} (columns: "
                               f"{', '.join(available)}; or all, truth, observables)")
    return [c for c in available if c in wanted or c in always]


def chunk_events_for(bytes_per_event: float, block: int = BLOCK_EVENTS, available: float | None = None) -> int:
    """Events per chunk: whole blocks, at most :data:`CHUNK_EVENTS_MAX`, such that the chunks in flight
    (queue + one being filled + the writer's working copies) use at most 1/8 of the available memory."""
    if available is None:
        try:
            import psutil

            available = float(psutil.virtual_memory().available)
        except Exception:  # noqa: BLE001 - no psutil / no /proc: assume a small machine
            available = 1e9
    budget = available / 8.0
    per_chunk = budget / (QUEUE_DEPTH + 3)
    k = int(per_chunk // max(bytes_per_event * block, 1.0))
    return block * max(1, min(k, max(CHUNK_EVENTS_MAX // block, 1)))


def _to_chunk(blocks: list[dict], names: list[str], dtypes: dict) -> dict:
    """Copy the blocks' columns (one dict of columns per block) into one big-endian array per column (the byte
    swap is done by the copy).  Runs in the writer thread, which has CPU to spare while the main thread
    generates (measured: 1.3 s of the main thread's 31 s CPU at 1e8 COHERENT events)."""
    rows = sum(len(b["weight"]) for b in blocks)
    out = {c: np.empty(rows, dtype=dtypes[c]) for c in names}
    for c in names:
        dst, a = out[c], 0
        for b in blocks:
            src = b[c]
            np.copyto(dst[a:a + len(src)], src, casting="same_kind")
            a += len(src)
    return out


class _CtrlC:
    """Ctrl-C while streaming: the handler records it and raises KeyboardInterrupt; the main loop re-raises it
    between blocks, so an interrupt swallowed inside a C callback (numba compiling, "Exception ignored on
    calling ctypes callback function") still ends the run.  Installed only in the main thread and only when
    SIGINT has Python's default handler (an inherited SIG_IGN, e.g. ``nohup``, is respected)."""

    def __init__(self):
        self.hit = False
        self.old = None

    def __enter__(self):
        import signal

        from . import interrupts

        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) in (signal.default_int_handler, interrupts.handler):
            self.old = signal.signal(signal.SIGINT, self._handler)
        interrupts.check()      # a Ctrl-C during start-up that a library swallowed
        return self

    def _handler(self, signum, frame):
        self.hit = True
        raise KeyboardInterrupt

    def check(self):
        from . import interrupts

        if self.hit:
            raise KeyboardInterrupt
        interrupts.check()

    def __exit__(self, *exc):
        import signal

        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        return False


class _WriterThread(threading.Thread):
    """Writes queued chunks with ``sink.write``; errors are re-raised in the main thread by ``put``/``finish``."""

    def __init__(self, sink, names=None, dtypes=None):
        super().__init__(name="nudmsim-writer", daemon=True)
        self.sink = sink
        self.names, self.dtypes = names, dtypes
        self.q: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self.error: BaseException | None = None
        self.abandoned = False
        self.busy_s = 0.0

    def run(self):
        while True:
            item = self.q.get()
            if item is None or self.abandoned:
                return
            try:
                t0 = time.perf_counter()
                if isinstance(item, list):  # columns of whole blocks: one big-endian chunk
                    item = _to_chunk(item, self.names, self.dtypes)
                self.sink.write(item)
                self.busy_s += time.perf_counter() - t0
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                self.error = exc
                return

    def _check(self):
        if self.error is not None:
            raise self.error

    def put(self, item, ctrl_c=None):
        while True:  # short timeouts: the main thread stays responsive to Ctrl-C and writer errors
            if ctrl_c is not None:
                ctrl_c.check()
            self._check()
            try:
                self.q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def finish(self, ctrl_c=None):
        self.put(None, ctrl_c)
        while self.is_alive():
            if ctrl_c is not None:
                ctrl_c.check()
            self.join(timeout=0.1)
        self._check()


@dataclass
class StreamResult:
    """What a streamed run produced."""

    n_generated: int
    n_written: int
    expected_total: float
    info: dict
    columns: list
    seed: int
    block: int
    chunk_events: int
    seconds: float
    writer_busy_s: float = 0.0
    extra: dict = field(default_factory=dict)


def _merge_info(infos: list[tuple[int, dict]], n: int) -> dict:
    """Block infos -> file info: equal values kept, numeric values that differ -> n_b-weighted mean."""
    first = infos[0][1]
    out = {}
    for k, v in first.items():
        vals = [i.get(k) for _, i in infos]
        if all(_equal(x, v) for x in vals):
            out[k] = v
        elif all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vals):
            out[k] = float(sum(nb * x for (nb, _), x in zip(infos, vals)) / n)
        else:
            out[k] = v
    return out


def _equal(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays etc.: compare elementwise
        return bool(np.array_equal(a, b))


def run(producer: Producer, n: int, seed: int, sink, path, *, columns: str | None = "all", observables=(),
        unweighted: bool = False, block: int = BLOCK_EVENTS, chunk_events: int | None = None,
        metadata: Callable[[StreamResult], dict] | None = None, progress=None,
        bytes_per_event_on_disk: Callable[[dict], float] | None = None) -> StreamResult:
    """Generate ``n`` events with ``producer`` and stream them into ``sink`` (opened on a temporary of
    ``path``; renamed onto ``path`` only when everything succeeded).

    ``sink`` has ``open(tmp, dtypes, first_block)``, ``write(columns)`` (called from the writer thread),
    ``close(metadata)`` and ``abort()``; ``metadata(result)`` builds the run metadata at the end;
    ``progress`` is a :mod:`nudmsim.progress` bar (updated with generated events)."""
    if block <= 0 or n <= 0:
        raise NudmsimError("internal error: block and n must be positive")
    with _CtrlC() as ctrl_c, _core_for_writer():
        return _run(producer, n, seed, sink, path, columns, observables, unweighted, block, chunk_events,
                    metadata, progress, bytes_per_event_on_disk, ctrl_c)


class _core_for_writer:
    """While streaming, the producer's numba parallel kernels (launched from this thread) use one thread fewer
    than the machine has (at least one), leaving a core to the writer thread.  A parallel loop is split evenly
    between its threads, so a thread sharing a core with the writer holds up the others: measured on 2 cores,
    3e7 COHERENT events to ROOT (start-up included), three alternating pairs: 9.7-11.1 s with one kernel
    thread, 10.9-11.5 s with two, and ~1 s less CPU (the same events: the kernels' results do not depend on the
    number of threads).  ``numba.set_num_threads`` is per calling thread, so the setting is local to this run
    and restored after it."""

    def __enter__(self):
        self.old = None
        try:
            import numba

            self.old = numba.get_num_threads()
            numba.set_num_threads(max(1, min(self.old, numba.config.NUMBA_NUM_THREADS - 1)))
        except Exception:  # noqa: BLE001 - no numba threading layer: nothing to leave free
            self.old = None
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            import numba

            numba.set_num_threads(self.old)
        return False


def _run(producer, n, seed, sink, path, columns, observables, unweighted, block, chunk_events, metadata,
         progress, bytes_per_event_on_disk, ctrl_c) -> StreamResult:
    from .io import atomic_output

    t_start = time.perf_counter()
    blocks = iter_blocks(producer, n, seed, block=block, unweighted=unweighted)
    first = next(blocks)
    ctrl_c.check()
    names = select_columns(columns, list(first.columns), observables)
    dtypes = {c: big_endian(np.asarray(first.columns[c]).dtype) for c in names}
    row_bytes = sum(dtypes[c].itemsize for c in names)
    expected_rows = (first.expected_total * 1.05 + 10.0 * np.sqrt(first.expected_total + 1)) if unweighted else n
    on_disk = (bytes_per_event_on_disk(dtypes) if bytes_per_event_on_disk else
               row_bytes * COMPRESSED_FRACTION.get(getattr(sink, "compression", "zstd"), 1.0))
    check_disk_space(path, on_disk * expected_rows,
                     fix="choose another folder, fewer events (-n) or fewer columns (--columns observables)")
    if chunk_events is None:
        chunk_events = chunk_events_for(max(row_bytes, 8) * 2.5, block)
    per_chunk = max(1, chunk_events // block)

    infos = [(first.n_generated, first.info)]
    totals = [(first.n_generated, first.expected_total)]
    n_written = 0
    with atomic_output(path) as tmp:
        sink.open(tmp, dtypes, first)
        writer = _WriterThread(sink, names, dtypes)
        writer.start()
        done = False
        try:
            pending = [first]
            if progress is not None:
                progress.update(first.n_generated)
            for blk in blocks:
                ctrl_c.check()
                if len(pending) >= per_chunk:
                    n_written += sum(len(b.columns["weight"]) for b in pending)
                    writer.put([{c: b.columns[c] for c in names} for b in pending], ctrl_c)
                    pending = []
                pending.append(blk)
                infos.append((blk.n_generated, blk.info))
                totals.append((blk.n_generated, blk.expected_total))
                if progress is not None:
                    progress.update(blk.n_generated)
            if pending:
                n_written += sum(len(b.columns["weight"]) for b in pending)
                writer.put([{c: b.columns[c] for c in names} for b in pending], ctrl_c)
            del pending
            writer.finish(ctrl_c)
            expected = float(sum(nb * t for nb, t in totals) / n)
            if len(set(t for _, t in totals)) == 1:
                expected = totals[0][1]  # the same quadrature total in every block: keep it exactly
            result = StreamResult(n, n_written, expected, _merge_info(infos, n), names, seed, block,
                                  per_chunk * block, time.perf_counter() - t_start, writer.busy_s)
            sink.close(metadata(result) if metadata else {})
            done = True
        finally:
            if not done:
                writer.abandoned = True
                if writer.is_alive():
                    try:
                        writer.q.put_nowait(None)
                    except queue.Full:
                        pass
                if not writer.is_alive():
                    sink.abort()
    result.seconds = time.perf_counter() - t_start
    return result


def output_format(path) -> str:
    """'root' or 'hepmc' from the suffix of ``path``; anything else is a NudmsimError."""
    suffix = Path(path).suffix.lower()
    if suffix == ".root":
        return "root"
    if suffix in (".hepmc", ".hepmc3"):
        return "hepmc"
    stem = Path(path).with_suffix("").name or "events"
    raise NudmsimError(f"-o {path}: give a name ending in .root (ROOT) or .hepmc / .hepmc3 (HepMC3 ASCII), "
                       f"e.g. -o {stem}.root")


class RootSink:
    """:class:`nudmsim.io.RootWriter` as a stream sink."""

    def __init__(self, compression: str = "zstd"):
        self.compression = compression
        self.w = None

    def open(self, tmp, dtypes, first):
        from .io import RootWriter

        self.w = RootWriter(tmp, dtypes, self.compression)

    def write(self, cols):
        self.w.write(cols)

    def close(self, metadata):
        self.w.close(metadata)

    def abort(self):
        if self.w is not None:
            self.w.abort()
