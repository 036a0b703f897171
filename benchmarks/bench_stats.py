"""Benchmark of the statistics machinery on the COHERENT 2017 analysis (engine card coherent_csi_2017).

Prints: workspace build time, -2lnL evaluation time (compiled numba kernel vs the reference Spec built from the
same plain data), the 2017 2D fit, one observed limit point and one Asimov expected point "before" (reference
likelihood, response chain re-run for every template) and "after" (compiled likelihood with its gradient,
tabulated response tail), the limit-scan time for 20 masses, a toy-MC cross-check of the asymptotic p-value at one
limit, and peak memory.

    python benchmarks/bench_stats.py [--scheduler sync|ADDRESS] [--toys 200] [--skip-scan]
"""
from __future__ import annotations

import argparse
import os
import resource
import time


def _limit_point_seconds(exp, m_x, ratio, projected, reference: bool) -> tuple[float, float]:
    """(seconds, limit) of one limit point; ``reference`` = the before path."""
    from nudmsim.models import planes
    from nudmsim.stats import workspace as wsmod
    from nudmsim.stats.asimov import expected_limit
    from nudmsim.stats.limits import upper_limit

    exp._cache.clear()
    split = exp._tails.split
    spec_fn = wsmod.Workspace.spec
    if reference:
        exp._tails.split = lambda *a: None
        wsmod.Workspace.spec = lambda self, compiled=False: spec_fn(self, compiled=False)
    try:
        t0 = time.perf_counter()
        pt = planes.get("sigma_nc").point(m_x, ratio, {})
        spec = exp.workspace("limit", point=pt, process="nu-to-x").spec()
        if projected:
            val = expected_limit(spec).median
        else:
            val = upper_limit(spec, power_constraint=-1.0).mu_up
        return time.perf_counter() - t0, val
    finally:
        exp._tails.split = split
        wsmod.Workspace.spec = spec_fn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scheduler", default="sync", help="Dask scheduler for the scan ('sync' = in-process; "
                    "'local' = a LocalCluster)")
    ap.add_argument("--toys", type=int, default=200)
    ap.add_argument("--skip-scan", action="store_true")
    args = ap.parse_args()

    import numpy as np

    from nudmsim.experiment import Experiment
    from nudmsim.runner import fit_measurement, limit_curve
    from nudmsim.stats.likelihood import NLL, fit
    from nudmsim.stats.limits import toy_pvalue, upper_limit

    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    exp = Experiment.load("coherent_csi_2017")
    ws = exp.workspace("fit")
    print(f"experiment + fit workspace (templates at every nuisance knot), first call: {time.perf_counter() - t0:.2f} s")

    for compiled in (False, True):
        spec = ws.spec(compiled=compiled)
        cost = NLL(spec)
        vals = [p.value for p in spec.parameters]
        n = 2000
        t0 = time.perf_counter()
        for i in range(n):
            vals[1] = 1e-6 * i
            cost(*vals)
        print(f"-2lnL evaluation (600 bins, on/off profiled), {'compiled (numba)' if compiled else 'reference'}: "
              f"{1e6 * (time.perf_counter() - t0) / n:.0f} us")

    for minos in (False, True):
        rep = fit_measurement(exp, "fit", minos=minos, cross_checks=False)
        print(f"2017 2D fit{' + MINOS' if minos else ''}: {rep.time_s:.3f} s, nfcn {rep.nfcn}, "
              f"n_cevns = {rep.value:.1f} +- {rep.error:.1f} (published 134 +- 22)")

    for projected in (False, True):
        what = "Asimov expected" if projected else "observed (PCL -1 sigma)"
        for m_x in (5.0, 20.0):
            tb, vb = _limit_point_seconds(exp, m_x, 3.0, projected, reference=True)
            ta, va = _limit_point_seconds(exp, m_x, 3.0, projected, reference=False)
            print(f"limit point {what}, m_X = {m_x} MeV, r = 3: before {tb:.2f} s, after {ta:.3f} s "
                  f"(x{tb / ta:.0f}); mu_up {vb:.5g} vs {va:.5g} ({va / vb - 1:+.1e})")

    from nudmsim.models import planes

    lspec = exp.workspace("limit", point=planes.get("sigma_nc").point(5.0, 3.0, {}), process="nu-to-x").spec()
    ul = upper_limit(lspec)
    if args.toys > 0:
        t0 = time.perf_counter()
        tr = toy_pvalue(lspec, ul.mu_up, n_toys=args.toys, seed=1)
        dt = time.perf_counter() - t0
        print(f"toy cross-check at the asymptotic 90% limit: p(toys) = {tr.p:.3f} +- {tr.p_err:.3f} "
              f"(asymptotic 0.100), {args.toys} toys, {tr.n_failed} failed fits, {dt:.1f} s "
              f"({1e3 * dt / args.toys:.0f} ms/toy)")

    if not args.skip_scan:
        masses = np.geomspace(1.0, 50.0, 20)
        t0 = time.perf_counter()
        curve = limit_curve(exp, masses=masses, ratio=3.0, scheduler=None if args.scheduler == "local" else
                            args.scheduler, progress=False)
        dt = time.perf_counter() - t0
        print(f"limit scan, 20 masses 1-50 MeV (observed, r = 3): {dt:.1f} s ({dt / 20:.3f} s per point) on "
              f"{args.scheduler}; {int((curve.observed > 0).sum())} finite points")
    fit(lspec)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
