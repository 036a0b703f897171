"""Benchmark of the response stages: rows/s of each stage in sample mode, of a CsI-like chain, and the time of
the chain's expectation mode; peak memory.

    python benchmarks/bench_stages.py [-n 10000000] [--truth 10000] [--repeat 3]

The CsI-like chain (COHERENT 2021 numbers): quenching/polynomial_eee -> yield/linear -> resolution/poisson
(dither) -> efficiency/logistic -> efficiency/time_exp.  Goals (issue 8): the chain must leave room for the
COHERENT generator to reach >= 4 M weighted events/s with response in total; the expectation for ~1e4 truth
rows must answer in <= 20 ms after the first call (``predict``): timed both as a full expectation + 2-d
histogram and as the fold of a response matrix (nudmsim.response.matrix) built once per nuisance point.
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


CSI_CHAIN = [
    dict(stage="quenching", model="polynomial_eee", coefficients=[0.0554628, 4.30681, -111.707, 840.384], unit="MeV",
         coefficients_up=[0.0613632, 3.51547, -85.5548, 595.562],
         coefficients_down=[0.0495624, 5.09815, -137.858, 1085.2]),
    dict(stage="yield", model="linear", value=13.35),
    dict(stage="resolution", model="poisson", dither=True),
    dict(stage="efficiency", model="logistic", a=1.32045, b=0.285979, c=10.8646, d=-0.333322),
    dict(stage="efficiency", model="time_exp", t0=0.52, rate=0.0494, name="teff"),
]

SINGLE = {
    "quenching/constant": (dict(stage="quenching", model="constant", value=0.0878, error=0.0166), "E_R_keV"),
    "quenching/polynomial_eee": (CSI_CHAIN[0], "E_R_keV"),
    "quenching/lindhard": (dict(stage="quenching", model="lindhard", Z=32, A=72.6), "E_R_keV"),
    "quenching/birks": (dict(stage="quenching", model="birks", kB_cm_per_MeV=0.0109,
                             composition={"C": 9, "H": 12}, density_g_cm3=0.88), "E_R_keV"),
    "yield/linear": (dict(stage="yield", model="linear", value=13.35), "E_ee_keV"),
    "resolution/poisson (dither)": (dict(stage="resolution", model="poisson", dither=True), "pe_mean"),
    "resolution/gaussian": (dict(stage="resolution", model="gaussian", on="E_ee_keV", a=0.02, b=0.3, c=0.1,
                                 to="E_rec_keV"), "E_ee_keV"),
    "efficiency/logistic": (CSI_CHAIN[3], "pe"),
    "efficiency/time_exp": (CSI_CHAIN[4], "t_us"),
    "cut/window": (dict(stage="cut", model="window", on="pe", lo=0.0, hi=60.0), "pe"),
}


def _timed(fn, repeat):
    """(best wall time, best CPU time) of ``fn()`` over ``repeat`` runs (the result is dropped)."""
    best = best_cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best, best_cpu = min(best, time.perf_counter() - t0), min(best_cpu, time.process_time() - c0)
        del out
    return best, best_cpu


def _batch(n, rng):
    from nudmsim.response.stage import Batch

    e_r = rng.exponential(8.0, n) + 0.5
    return Batch({"E_R_keV": e_r, "E_ee_keV": 0.08 * e_r, "pe_mean": 13.35 * 0.08 * e_r,
                  "pe": rng.uniform(0, 60, n), "t_us": rng.uniform(0, 6, n)}, np.ones(n))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000_000)
    ap.add_argument("--truth", type=int, default=10_000, help="truth rows of the expectation benchmark")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    import numba

    from nudmsim.response.stage import StageContext, build_stage, run_chain

    obs = {"pe": np.arange(0.0, 61.0, 2.0), "t_us": np.arange(0.0, 6.01, 0.5), "E_rec_keV": np.linspace(0, 10, 41)}

    def ctx(i):
        return StageContext("bench.toml", f"response[{i}]", observables=obs)

    rng = np.random.default_rng(1)
    print(f"numba threads {numba.get_num_threads()}, cpus {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; "
          f"{args.n:.3g} rows; best of {args.repeat}")
    small = _batch(1000, rng)
    for name, (card, _) in SINGLE.items():           # warm-up (numba load/compile)
        build_stage(card, ctx(0)).sample(small, rng)
    big = _batch(args.n, rng)
    print(f"{'stage (sample mode)':32s} {'M rows/s':>9s} {'M rows/CPU-s':>13s}")
    for name, (card, _) in SINGLE.items():
        st = build_stage(card, ctx(0))
        best, best_cpu = _timed(lambda st=st, b=big: st.sample(b, rng), args.repeat)
        print(f"{name:32s} {args.n / best / 1e6:9.1f} {args.n / best_cpu / 1e6:13.1f}")

    chain = [build_stage(c, ctx(i)) for i, c in enumerate(CSI_CHAIN)]
    truth = {"E_R_keV": big["E_R_keV"], "t_us": big["t_us"]}
    from nudmsim.response.stage import Batch

    tb = Batch(truth, big.weight)
    del big
    best, best_cpu = _timed(lambda: run_chain(chain, tb, rng=rng), args.repeat)
    print(f"CsI-like chain, sample mode: {args.n / best / 1e6:.1f} M rows/s wall ({best:.2f} s for {args.n:.3g} rows; "
          f"load {os.getloadavg()[0]:.1f}); {args.n / best_cpu / 1e6:.1f} M rows per CPU-second")

    nt = args.truth
    e_nodes = np.geomspace(0.5, 100.0, nt)
    et = Batch({"E_R_keV": e_nodes, "t_us": np.linspace(0.0, 6.0, nt)}, np.full(nt, 1.0))
    run_chain(chain, et)
    times, cpu = [], []
    for _ in range(20):
        t0, c0 = time.perf_counter(), time.process_time()
        ex = run_chain(chain, et)
        np.histogram2d(ex["pe"], ex["t_us"], bins=(obs["pe"], obs["t_us"]), weights=ex.weight)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(f"CsI-like chain, expectation of {nt} truth rows -> {len(ex)} expanded rows + 2-d histogram: "
          f"median {np.median(times) * 1e3:.1f} ms, best {min(times) * 1e3:.1f} ms wall; "
          f"best {min(cpu) * 1e3:.1f} ms CPU")
    from nudmsim.response.matrix import response_matrix

    edges = {"pe": obs["pe"], "t_us": obs["t_us"]}
    t0 = time.perf_counter()
    R = response_matrix(chain, et, edges)
    t_build = time.perf_counter() - t0
    w = np.random.default_rng(2).uniform(0.5, 2.0, nt)
    t0 = time.perf_counter()
    for _ in range(1000):
        R.fold(w)
    t_fold = (time.perf_counter() - t0) / 1000
    print(f"response matrix of the chain ({nt} truth rows x {R.matrix.shape[1]} bins, {R.matrix.nnz} non-zeros): "
          f"built in {t_build * 1e3:.1f} ms (once per nuisance point), fold (predict at fixed nodes) "
          f"{t_fold * 1e6:.0f} µs")
    print(f"peak RSS {_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
