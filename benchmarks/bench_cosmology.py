"""Benchmark of the cosmology analyses (seed 004 §IV, §VII): cold-process time of the kinetic-decoupling
and thermal-relic curves for 30 masses, gamma(T) and T_KD per call, one freeze-out solve, peak memory.

    python benchmarks/bench_cosmology.py

Goal: each 30-mass curve < 5 s in-process (including the one-off g*(T) table).
"""
from __future__ import annotations

import resource
import time

import numpy as np


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    t0 = time.perf_counter()
    from nudmsim import cards
    from nudmsim.analyses import cosmology as ana
    from nudmsim.cosmology import dof, kinetic, thermal
    from nudmsim.stats.curves import LimitRequest

    print(f"imports: {time.perf_counter() - t0:.2f} s")
    t = time.perf_counter()
    dof.g_eff(1.0)
    print(f"g*(T) table (one-off): {time.perf_counter() - t:.2f} s")
    card = cards.load_detector("cosmology")
    for name, fn, masses in (("kinetic-decoupling", ana.kinetic_decoupling_limit, np.geomspace(0.01, 100, 30)),
                             ("thermal-relic", ana.thermal_relic_curve, np.geomspace(1, 1000, 30))):
        for r in (3.0, 10.0):
            t = time.perf_counter()
            fn(LimitRequest(card=card, masses=masses, ratio=r, progress=False))
            print(f"{name} r = {r:g}, 30 masses: {time.perf_counter() - t:.2f} s")
    n = 50
    t = time.perf_counter()
    for _ in range(n):
        kinetic.gamma_rate(1e-3, 0.1, 1.0, 3.0)
    print(f"gamma(T) (2 channels, adaptive quadrature): {(time.perf_counter() - t) / n * 1e3:.2f} ms/call")
    t = time.perf_counter()
    for m in (0.1, 1.0, 10.0):
        kinetic.t_kd(0.1, m, 3 * m)
    print(f"T_KD root: {(time.perf_counter() - t) / 3 * 1e3:.1f} ms/call")
    t = time.perf_counter()
    thermal.omega_h2(0.01, 10.0, 3.0)
    print(f"one freeze-out solve (relic_abundance): {time.perf_counter() - t:.2f} s")
    print(f"peak RSS: {_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
