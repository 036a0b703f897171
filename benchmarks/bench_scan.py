"""Benchmark of scans: seconds per limit point through the public API, and Dask 2 workers vs 1.

1. Seconds per limit point, in-process, for every sigma_NC analysis of seed 004 Fig. 2 (the figure's cost):
   ``registry.get_analysis(NAME).limit(LimitRequest(masses=[m], ...))`` after one warm-up call.
2. A >= 100-point scan (default: 100 COHERENT 2017 limit points, r = 3) on a LocalCluster with 1 and with 2 worker
   processes (one thread each): wall time from submission to the last result, after every worker has run one
   warm-up point (imports, model setup, numba), and the cluster start-up time.  Target: 2 workers >= 1.6x 1 worker.
3. The ``nudmsim.scan`` auto rule: where in-process and a fresh cluster break even for that point cost.

    python benchmarks/bench_scan.py [--points 100] [--analysis coherent2017] [--skip-dask]

The machine is shared: numbers measured under load are upper bounds on the time and lower bounds on the speed-up.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _point(args):
    """One limit point (module-level: picklable for the workers)."""
    from nudmsim.scanfile import run_point

    return run_point(args)


def _points(analysis: str, n: int, ratio: float):
    from nudmsim import registry

    entry = registry.get_analysis(analysis)
    lo, hi = {"coherent2017": (0.5, 50.0), "coherent2021": (0.5, 50.0), "coherent-lar2020": (0.5, 50.0),
              "xenon1t-x2nu": (25.0, 150.0), "borexino-x2nu": (30.0, 500.0),
              "kinetic-decoupling": (0.01, 50.0)}.get(analysis, (1.0, 100.0))
    return [{"index": i, "key": f"b{i}", "block": "bench", "kind": "limit", "analysis": analysis,
             "card": entry.default_detector, "ratio": ratio, "m_MeV": float(m), "options": {}, "projected": False}
            for i, m in enumerate(np.geomspace(lo, hi, n))]


def per_point_costs(ratio: float = 3.0) -> None:
    from nudmsim.scanfile import run_point

    print("seconds per limit point (in-process, after one warm-up point):")
    for analysis in ("coherent2017", "coherent2021", "coherent-lar2020", "xenon1t-x2nu", "borexino-x2nu",
                     "kinetic-decoupling", "superk-x2nu"):
        pts = _points(analysis, 6, ratio) if analysis != "superk-x2nu" else [
            dict(p, ratio=None, card="superk_nutau", m_MeV=m) for p, m in
            zip(_points(analysis, 6, ratio), np.geomspace(7e3, 2e5, 6))]
        run_point(pts[0])
        t0 = time.perf_counter()
        rows = [run_point(p) for p in pts[1:]]
        dt = (time.perf_counter() - t0) / len(rows)
        bad = sum(r["status"] != "ok" for r in rows)
        print(f"  {analysis:<20} {dt:8.3f} s/point" + (f"  ({bad} failed)" if bad else ""))


def dask_scaling(analysis: str, n: int, ratio: float) -> None:
    from dask.distributed import as_completed

    from nudmsim.scan import dask_client

    pts = _points(analysis, n, ratio)
    times = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        with dask_client(None, n_workers=workers) as client:
            start = time.perf_counter() - t0
            warm = client.map(_point, pts[:workers], pure=False, workers=None)
            client.gather(warm)  # every worker has imported nudmsim and set the model up
            t1 = time.perf_counter()
            futs = client.map(_point, pts, pure=False)
            rows = [f.result() for f in as_completed(futs)]
            times[workers] = time.perf_counter() - t1
        ok = sum(r["status"] == "ok" for r in rows)
        print(f"  {workers} worker(s): {len(rows)} points in {times[workers]:.1f} s "
              f"({times[workers] / len(rows):.3f} s/point), cluster start {start:.1f} s, {ok} ok")
    print(f"  speed-up 2 workers / 1 worker: {times[1] / times[2]:.2f}x (target >= 1.6x; "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def crossover(seconds_per_point: float) -> None:
    from nudmsim.scan import CLUSTER_STARTUP_S, worth_a_cluster

    n = next((k for k in range(2, 100000) if worth_a_cluster(k, seconds_per_point, 2)), None)
    print(f"  auto rule: at {seconds_per_point:.3f} s/point a fresh 2-worker cluster (start-up {CLUSTER_STARTUP_S:g} s) "
          f"pays from {n} remaining points ({n * seconds_per_point:.0f} s of serial work)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--analysis", default="coherent2017")
    ap.add_argument("--ratio", type=float, default=3.0)
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    per_point_costs(args.ratio)
    for spp in (0.01, 0.1, 0.5, 1.0):
        crossover(spp)
    if not args.skip_dask:
        print(f"Dask scaling, {args.points} {args.analysis} limit points (r = {args.ratio:g}):")
        dask_scaling(args.analysis, args.points, args.ratio)


if __name__ == "__main__":
    main()
