"""Benchmark of the statistics machinery on the COHERENT 2017 analysis.

Prints: model setup time, likelihood evaluation time, the 2017 2D fit time (MIGRAD + HESSE, and with MINOS),
one observed limit point and one Asimov expected point (factorised steady state, the limit default), the limit-scan time for 20 masses (observed, on a
local Dask cluster unless --scheduler sync), a toy-MC cross-check of the asymptotic p-value at one limit,
and peak memory (tracemalloc for Python allocations in this process, ru_maxrss for the process).

    python benchmarks/bench_stats.py [--scheduler sync|ADDRESS] [--toys 200] [--skip-scan]
"""
from __future__ import annotations

import argparse
import resource
import time
import tracemalloc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scheduler", default=None, help="Dask scheduler (default: local cluster; 'sync')")
    ap.add_argument("--toys", type=int, default=200)
    ap.add_argument("--skip-scan", action="store_true")
    args = ap.parse_args()

    from nudmsim import cards
    from nudmsim.analyses import coherent_fit as cf
    from nudmsim.stats.asimov import expected_limit
    from nudmsim.stats.likelihood import NLL, fit
    from nudmsim.stats.limits import toy_pvalue, upper_limit

    card = cards.load_detector("coherent_csi_2017")
    tracemalloc.start()  # only around setup + one fit: tracemalloc slows numpy allocations several-fold
    t0 = time.perf_counter()
    model = cf.model_for(card)
    fit(cf.fit_spec(model))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak Python memory of model setup + 2017 fit (tracemalloc): {peak / 2**20:.1f} MiB")
    print(f"model setup (CEvNS templates at {len(model.templates.qf_knots)} QF knots) + first fit: "
          f"{time.perf_counter() - t0:.2f} s (under tracemalloc)")

    spec = cf.fit_spec(model)
    cost = NLL(spec)
    vals = list(spec.nominal().values())
    n = 2000
    t0 = time.perf_counter()
    for i in range(n):
        vals[1] = model.qf0 * (1 + 1e-6 * i)
        cost(*vals)
    print(f"-2lnL evaluation (600 bins, on/off profiled): {1e6 * (time.perf_counter() - t0) / n:.0f} us")

    for minos in (False, True):
        t0 = time.perf_counter()
        res = fit(spec, minos=["n_cevns"] if minos else False)
        dt = time.perf_counter() - t0
        print(f"2017 2D fit{' + MINOS' if minos else ''}: {dt:.3f} s, nfcn {res.nfcn}, "
              f"n_cevns = {res.values['n_cevns']:.1f} +- {res.errors['n_cevns']:.1f} (published 134 +- 22)")

    m_x, ratio = 5.0, 3.0
    t0 = time.perf_counter()
    lspec = cf.limit_spec(model, m_x, ratio)
    t_tmpl = time.perf_counter() - t0
    t0 = time.perf_counter()
    ul = upper_limit(lspec)
    t_ul = time.perf_counter() - t0
    t0 = time.perf_counter()
    el = expected_limit(lspec)
    t_el = time.perf_counter() - t0
    print(f"nu->X m_X = {m_x} MeV, r = {ratio}: template grid {t_tmpl:.2f} s; observed limit mu < {ul.mu_up:.4g} "
          f"({ul.n_fits} fits, {t_ul:.2f} s); Asimov median {el.median:.4g} [{el.bands['-1']:.3g}, "
          f"{el.bands['+1']:.3g}] ({t_el:.2f} s)")

    if args.toys > 0:
        t0 = time.perf_counter()
        tr = toy_pvalue(lspec, ul.mu_up, n_toys=args.toys, seed=1)
        dt = time.perf_counter() - t0
        print(f"toy cross-check at the asymptotic 90% limit: p(toys) = {tr.p:.3f} +- {tr.p_err:.3f} "
              f"(asymptotic 0.100), {args.toys} toys, {tr.n_failed} failed fits, {dt:.1f} s "
              f"({1e3 * dt / args.toys:.0f} ms/toy)")

    if not args.skip_scan:
        from nudmsim.stats.curves import LimitRequest

        masses = __import__("numpy").geomspace(1.0, 50.0, 20)
        t0 = time.perf_counter()
        curve = cf._limit_entry(LimitRequest(card=card, masses=masses, ratio=3.0, scheduler=args.scheduler,
                                             progress=False))
        dt = time.perf_counter() - t0
        where = args.scheduler or "local Dask cluster (incl. its start-up)"
        print(f"limit scan, 20 masses 1-50 MeV (observed, r = 3): {dt:.1f} s on {where}; "
              f"{int((curve.observed > 0).sum())} finite points")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
