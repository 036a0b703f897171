"""Parameter scans on Dask (``dask.distributed``).

:func:`map_points` evaluates a pure function over a list of points, on a local cluster by default
(processes = cores, one thread each) or on an existing scheduler (``scheduler="tcp://host:8786"``),
reporting progress on stderr.  ``scheduler="sync"`` runs in-process (for tests and tiny scans).
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, Callable, Sequence

from .errors import NudmsimError


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, n_workers: int | None = None):
    """A dask.distributed Client: connected to ``scheduler`` if given, else a fresh LocalCluster."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
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
    n = n_workers or min(os.cpu_count() or 1, 4)
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        yield client


def map_points(fn: Callable[[Any], Any], points: Sequence[Any], scheduler: str | None = None,
               progress: bool = True, label: str = "scan") -> list[Any]:
    """[fn(p) for p in points], in parallel on Dask; results in input order."""
    points = list(points)
    t0 = time.perf_counter()

    tty = sys.stderr.isatty()

    def report(done):
        if progress:
            el = time.perf_counter() - t0
            print(f"{chr(13) if tty else ''}{label}: {done}/{len(points)} points, {el:.1f} s",
                  end="" if tty else "\n", file=sys.stderr, flush=True)

    if scheduler == "sync" or len(points) <= 1:
        out = []
        for i, p in enumerate(points):
            out.append(fn(p))
            report(i + 1)
    else:
        from dask.distributed import as_completed

        with dask_client(scheduler) as client:
            futures = client.map(fn, points, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            out = [None] * len(points)
            for done, fut in enumerate(as_completed(futures), 1):
                out[index[fut.key]] = fut.result()
                report(done)
    if progress and tty:
        print(file=sys.stderr)
    return out
