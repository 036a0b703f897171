"""Parameter scans on Dask (``dask.distributed``): one client per command, in-process when that is faster.

:func:`map_points` evaluates a pure function over a list of points and returns the results in input order.
Where the points run is decided by ``scheduler``:

* ``"sync"``: in-process, one after the other (tests, tiny scans, debugging);
* ``"local"``: a :class:`~dask.distributed.LocalCluster` (processes = cores, one thread each);
* ``"tcp://host:8786"`` (any Dask address): an existing scheduler, e.g. one started on a batch farm with
  dask-jobqueue (README, "Scans on a cluster");
* ``None`` (default, "auto"): the first two points run in-process and are timed; a local cluster is started
  only when the rest of the scan is expected to finish sooner on it, i.e. when
  ``remaining * (1 - 1/workers) > startup + first point`` (startup measured on this 2-core machine:
  about 3 s for two worker processes, 4-6 s under load; :data:`CLUSTER_STARTUP_S`).  A kinetic-decoupling
  curve (ms per point) therefore never starts a cluster; a 50-point COHERENT curve (~0.5 s per point) does.

A command that runs several scans (``nudmsim figure``, ``nudmsim scan``, ``nudmsim report``) wraps them in
:func:`session`: the first scan that wants a cluster starts it, later scans reuse it, and it is closed when
the command ends -- one client per command instead of one per curve.

Progress goes through :func:`nudmsim.progress.progress` (a bar with ETA on a terminal, silent otherwise).
"""
from __future__ import annotations

import contextlib
import os
import time
from typing import Any, Callable, Sequence

from .errors import NudmsimError
from .progress import progress as _progress

#: measured cost of starting a 2-process LocalCluster and importing nudmsim in the workers [s]
#: (2.0 s start + 0.8 s first task + 0.4 s close on an idle 2-core machine; 5 s allows for load)
CLUSTER_STARTUP_S = 5.0

#: environment of local-cluster worker processes (set before they import numba)
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_SESSIONS: list["Session"] = []


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Session:
    """The Dask client of one command: created on first use, reused by every scan, closed at the end."""

    def __init__(self, scheduler: str | None = None, n_workers: int | None = None):
        self.scheduler = scheduler
        self.n_workers = n_workers
        self._stack: contextlib.ExitStack | None = None
        self.client = None
        self.started_s: float | None = None  # how long the cluster took to start (None: not started)

    @property
    def active(self) -> bool:
        return self.client is not None

    def get_client(self):
        if self.client is None:
            t0 = time.perf_counter()
            self._stack = contextlib.ExitStack()
            self.client = self._stack.enter_context(dask_client(
                None if self.scheduler in (None, "local") else self.scheduler, self.n_workers))
            self.started_s = time.perf_counter() - t0
        return self.client

    def workers(self) -> int:
        if self.client is not None:
            try:
                return max(1, len(self.client.scheduler_info().get("workers", {})))
            except Exception:  # pragma: no cover - scheduler gone
                return 1
        return self.n_workers or min(_cores(), 4)

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self.client = None, None


@contextlib.contextmanager
def session(scheduler: str | None = None, n_workers: int | None = None):
    """Context for one command: scans inside share one Dask client (started lazily, closed on exit).

    ``scheduler`` as for :func:`map_points`; a scan inside may still pass its own ``scheduler="sync"``."""
    s = Session(scheduler, n_workers)
    _SESSIONS.append(s)
    try:
        yield s
    finally:
        _SESSIONS.remove(s)
        s.close()


def current_session() -> Session | None:
    return _SESSIONS[-1] if _SESSIONS else None


#: seconds to wait for a scheduler to answer (a port that accepts but is not Dask used to hang for minutes)
PROBE_TIMEOUT_S = 4.0


def probe_scheduler(address: str, timeout: float = PROBE_TIMEOUT_S) -> dict:
    """Connect to ``address`` and ask for its identity; a NudmsimError within ``timeout`` seconds unless a Dask
    scheduler answers (``dask.distributed.Client`` alone waits forever on a silent port)."""
    import asyncio

    from distributed.comm import connect

    async def ask():
        comm = await asyncio.wait_for(connect(address, timeout=f"{max(timeout - 1.0, 1.0)}s"), timeout)
        try:
            await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    fix = "start one with `dask scheduler`, check the address, or use --scheduler sync"
    try:
        ident = asyncio.run(asyncio.wait_for(ask(), timeout + 1.0))
    except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
        raise NudmsimError(f"--scheduler {address}: no Dask scheduler answered within {timeout:g} s "
                           f"({type(exc).__name__}{': ' + str(exc) if str(exc) else ''}; {fix})") from None
    except Exception as exc:  # noqa: BLE001 - garbage from a non-Dask server
        raise NudmsimError(f"--scheduler {address}: the server there is not a Dask scheduler ({exc}; {fix})") from None
    if not isinstance(ident, dict) or ident.get("type") != "Scheduler":
        raise NudmsimError(f"--scheduler {address}: the server there is not a Dask scheduler ({fix})")
    return ident


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, n_workers: int | None = None):
    """A dask.distributed Client: connected to ``scheduler`` if given (checked first by
    :func:`probe_scheduler`), else a fresh LocalCluster."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        probe_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise NudmsimError(f"cannot reach Dask scheduler '{scheduler}': {exc} "
                               "(start one with `dask scheduler` or omit --scheduler)") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = n_workers or min(_cores(), 4)
    # one thread per worker process, numba's included: with numba's default (one thread per core) in every
    # worker, n workers on n cores oversubscribe and a single worker already uses every core
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40, env=WORKER_ENV) as cluster, Client(cluster) as client:
        yield client


def worth_a_cluster(remaining: int, seconds_per_point: float, workers: int,
                    startup_s: float = CLUSTER_STARTUP_S, warmup_s: float | None = None) -> bool:
    """True when ``remaining`` points of ``seconds_per_point`` finish sooner on ``workers`` processes after
    paying ``startup_s`` (0 for a running cluster) plus ``warmup_s`` in the workers (imports, caches, JIT;
    default one point)."""
    if workers < 2 or remaining < 2:
        return False
    serial = remaining * seconds_per_point
    warm = seconds_per_point if warmup_s is None else warmup_s
    parallel = startup_s + warm + serial / workers
    return parallel < serial


def free_workers(workers: int) -> int:
    """Worker processes that would really run in parallel: ``workers`` capped by the cores not already
    busy with other people's jobs (1-minute load average minus this process)."""
    try:
        busy = max(0.0, os.getloadavg()[0] - 1.0)
    except OSError:  # pragma: no cover
        busy = 0.0
    return max(1, min(workers, int(round(_cores() - busy))))


def _run_on(client, fn, points, out, todo, bar, on_result):
    from dask.distributed import as_completed

    futures = client.map(fn, [points[i] for i in todo], pure=False)
    index = {f.key: i for f, i in zip(futures, todo)}
    for fut in as_completed(futures):
        i = index[fut.key]
        out[i] = fut.result()
        if on_result is not None:
            on_result(i, out[i])
        bar.update()


def map_points(fn: Callable[[Any], Any], points: Sequence[Any], scheduler: str | None = None,
               progress: bool = True, label: str = "scan",
               on_result: Callable[[int, Any], None] | None = None) -> list[Any]:
    """[fn(p) for p in points] on Dask or in-process (see the module docstring); results in input order.

    ``progress``: show a bar (only on a terminal).  ``on_result(i, value)`` is called as each point finishes
    (in completion order), e.g. to write results as they arrive."""
    points = list(points)
    out: list[Any] = [None] * len(points)
    sess = current_session()
    with _progress(len(points), desc=label, quiet=not progress) as bar:
        if scheduler is None and sess is not None and sess.scheduler not in (None, "local", "sync"):
            scheduler = sess.scheduler  # the command's --scheduler address
        if scheduler == "sync" or (sess is not None and sess.scheduler == "sync" and scheduler is None) \
                or len(points) <= 1:
            for i, p in enumerate(points):
                out[i] = fn(p)
                if on_result is not None:
                    on_result(i, out[i])
                bar.update()
            return out
        if scheduler not in (None, "local"):  # an address: the session's client if it is the same one
            if sess is not None and sess.scheduler == scheduler:
                _run_on(sess.get_client(), fn, points, out, list(range(len(points))), bar, on_result)
            else:
                with dask_client(scheduler) as client:
                    _run_on(client, fn, points, out, list(range(len(points))), bar, on_result)
            return out
        todo = list(range(len(points)))
        if scheduler is None:
            # auto: time two points in-process, then decide whether (starting) a cluster pays
            times = []
            while todo and len(times) < 2:
                i = todo.pop(0)
                t0 = time.perf_counter()
                out[i] = fn(points[i])
                times.append(time.perf_counter() - t0)
                if on_result is not None:
                    on_result(i, out[i])
                bar.update()
            running = sess is not None and sess.active
            workers = free_workers(sess.workers() if sess is not None else min(_cores(), 4))
            steady = min(times) if times else 0.0
            if not worth_a_cluster(len(todo), steady, workers, startup_s=0.0 if running else CLUSTER_STARTUP_S,
                                   warmup_s=steady if running else max(times, default=0.0)):
                for i in todo:
                    out[i] = fn(points[i])
                    if on_result is not None:
                        on_result(i, out[i])
                    bar.update()
                return out
        if not todo:
            return out
        if sess is not None:
            _run_on(sess.get_client(), fn, points, out, todo, bar, on_result)
        else:
            with dask_client(None) as client:
                _run_on(client, fn, points, out, todo, bar, on_result)
    return out
