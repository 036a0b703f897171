"""Benchmark: meson-decay generation with detector response (events/s), expectation and limit-point times.

Run: python benchmarks/bench_meson.py [n_events]
Measures warm throughput (after the numba kernels are compiled / loaded from cache) of the engine's generate
chain (Experiment.generate): the decay sampled from |M|^2 (or isotropic two-body), boost, the response chain of
the card (Gaussian resolution at rest; the in-flight tracking stage for NA62), acceptance, window, weights and the
awkward event record.  Target (issue 4): >= 4 M decays/s with detector response.  Then the time of one expected
histogram (quadrature nodes through the chain) and of one limit point (workspace + Asimov CLs limit).
"""
from __future__ import annotations

import os
import resource
import sys
import time

import numpy as np


def main(n: int = 4_000_000) -> None:
    from nudmsim.experiment import Experiment
    from nudmsim.runner import limit_curve

    t0 = time.perf_counter()
    cases = [("meson-3body", {}), ("meson-3body", {"m4": "300"}), ("meson-2body", {})]
    for det in ("e949", "na62", "e949_pnn"):
        exp = Experiment.load(det)
        for proc, over in (cases if det != "e949_pnn" else [("kaon-pi-phi", {})]):
            rng = np.random.default_rng(1)
            exp.generate(proc, over, 1000, rng)                      # warm-up: numba kernels, CDF tables
            best = best_cpu = 1e9
            for _ in range(3):
                t, tc = time.perf_counter(), time.process_time()
                exp.generate(proc, over, n, rng)
                best = min(best, time.perf_counter() - t)
                best_cpu = min(best_cpu, time.process_time() - tc)
            label = f"{proc} {' '.join(f'{k}={v}' for k, v in over.items())}"
            print(f"{det:8s} {label:24s} {n / best / 1e6:6.2f} M decays/s wall, {n / best_cpu / 1e6:6.2f} M/s per "
                  f"CPU-second (with response, n = {n:.0e})")
            t = time.perf_counter()
            exp._cache.clear()
            exp.expected(proc, over)
            print(f"{'':8s} {'':24s} expected histogram (quadrature): {1e3 * (time.perf_counter() - t):.0f} ms")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (2 cores shared)")
    for det, lim, m in (("e949", "u2", 250.0), ("e949", "y", 20.0), ("na62", "y", 20.0)):
        exp = Experiment.load(det)
        t = time.perf_counter()
        limit_curve(exp, masses=[m], limit=lim, scheduler="sync", progress=False)
        print(f"one {det} {lim} limit point (template + Asimov CLs): {time.perf_counter() - t:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB; total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 4_000_000)
