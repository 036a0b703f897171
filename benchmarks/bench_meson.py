"""Benchmark: meson-decay generation with detector response (events/s), limit-point time, peak memory.

Run: python benchmarks/bench_meson.py [n_events]
Measures warm throughput (after the numba kernels are compiled / loaded from cache) of the full
generate_* chain: rest-frame decay sampled from |M|^2, boost, tracking response, acceptance, weights and
the awkward event record.  Target (issue 4): >= 4 M decays/s with detector response.
"""
from __future__ import annotations

import os
import resource
import sys
import time

import numpy as np


def main(n: int = 4_000_000) -> None:
    from nudmsim import cards, registry
    from nudmsim.analyses import _meson_limits as ml
    from nudmsim.analyses import meson as am

    t0 = time.perf_counter()
    cases = [("meson-3body", am.generate_3body, am.PARAMS_3BODY, {}),
             ("meson-3body m4=300MeV", am.generate_3body, am.PARAMS_3BODY, {"m4": "300"}),
             ("meson-2body", am.generate_2body, am.PARAMS_2BODY, {}),
             ("kaon-pi-phi", am.generate_kpiphi, am.PARAMS_KPIPHI, {})]
    for det in ("e949", "na62"):
        card = cards.load_detector(det)
        for name, gen, pars, over in cases:
            params = registry.resolve_params(pars, over, name)
            rng = np.random.default_rng(1)
            gen(params, card, 1000, rng)                      # warm-up: numba kernels, CDF tables
            best = best_cpu = 1e9
            for _ in range(3):
                t, tc = time.perf_counter(), time.process_time()
                gen(params, card, n, rng)
                best = min(best, time.perf_counter() - t)
                best_cpu = min(best_cpu, time.process_time() - tc)
            print(f"{det:5s} {name:24s} {n / best / 1e6:6.2f} M decays/s wall, {n / best_cpu / 1e6:6.2f} M/s per "
                  f"CPU-second (with response, n = {n:.0e})")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (2 cores shared)")
    card = cards.load_detector("e949")
    t = time.perf_counter()
    ml.u2_limit(card, 250.0)
    print(f"one |U_mu4|^2 limit point (1e6-event template + profile likelihood): {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    ml._limit_point_3body((str(card.path), 20.0, 3.0, 200.0, 4 * np.pi, ml.background_params(card)))
    print(f"one Y_mu limit point: {time.perf_counter() - t:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB; total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 4_000_000)
