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
