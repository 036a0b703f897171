"""``nudmsim demo``: the main job on embedded defaults, in under two minutes on 2 cores.

1. SM CEvNS and nu -> X events at COHERENT CsI[Na] (default model points) -> ROOT files;
2. the 2017 fit of the released PE x arrival-time data (iminuit);
3. a few points of the 90% CL limit on sigma_NC vs m_X (r = m_phi/m_X = 3) on a Dask local cluster;
4. one PNG with the spectra and the limit; a printed summary.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import cards, registry
from ..errors import NudmsimError
from ..generate import make_rng, run_metadata
from ..io import save_figure, transaction, write_root

DEMO_EVENTS = 200_000
DEMO_MASSES = np.array([1.0, 3.0, 10.0, 20.0, 40.0])  # MeV


def _step(msg: str) -> float:
    print(f"==> {msg}", flush=True)
    return time.perf_counter()


def run_demo(outdir: Path, seed: int = 1) -> int:
    from ..generate import check_seed

    check_seed(seed)
    t_start = time.perf_counter()
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NudmsimError(f"cannot create demo folder '{outdir}': {exc.strerror} (choose another --outdir)") from None
    summary: list[str] = []
    names = ("cevns.root", "nu-to-x.root", "coherent2017_fit.png", "limit_coherent2017_r3.csv", "demo.png")
    # every output checked before any work, written to temporaries, renamed together at the end (or none)
    with transaction(*(outdir / nm for nm in names), what="--outdir file") as tmps:
        out = dict(zip(names, tmps))
        _demo(outdir, out, seed, summary)
    print("\nnudmsim demo summary")
    print("--------------------")
    for line in summary:
        print(line)
    print(f"total time {time.perf_counter() - t_start:.1f} s")
    return 0


def _demo(outdir, out, seed, summary):
    from ..stats.curves import LimitRequest

    # 1. events -> ROOT
    samples = {}
    for name in ("cevns", "nu-to-x"):
        entry = registry.get_process(name)
        card = cards.load_detector(entry.default_detector)
        params = registry.resolve_params(entry.params, {}, name)
        t0 = _step(f"generate {name} on {card.name} ({DEMO_EVENTS} weighted events, seed {seed})")
        sample = entry.generate(params, card, DEMO_EVENTS, make_rng(seed))
        path = outdir / f"{name}.root"
        write_root(out[path.name], sample.events, run_metadata(name, params, card, seed, DEMO_EVENTS, sample,
                                                               command=f"nudmsim demo --seed {seed}"))
        dt = time.perf_counter() - t0
        samples[name] = (sample, params, card)
        pars = ", ".join(f"{k}={v:g}{entry.params[k].unit}" for k, v in params.items())
        acc = _accepted_weights(sample.events)
        truth = float(np.sum(sample.events["weight_truth"]))
        summary.append(f"{name:<8} ({pars or 'SM'}): {truth:7.1f} interactions, "
                       f"{acc.sum():6.1f} after acceptance in the 2017 exposure -> {path} [{dt:.1f} s]")

    # 2. fit to the released data
    fit_entry = registry.get_analysis("coherent2017")
    card = cards.load_detector(fit_entry.default_detector)
    t0 = _step("fit the COHERENT 2017 released PE x arrival-time data (iminuit)")
    fit = fit_entry.fit(card, {}, plot=str(out["coherent2017_fit.png"]))
    rep = fit.get("_report")
    if rep is None:
        raise NudmsimError("the coherent2017 fit returned no fitted CEvNS count (internal error)")
    val = rep.value
    summary.append(f"2017 fit: fitted CEvNS count {val:.1f} (published best fit 134 ± 22) "
                   f"[{time.perf_counter() - t0:.1f} s] -> {outdir / 'coherent2017_fit.png'}")

    # 3. limit points on Dask
    t0 = _step(f"90% CL limit on sigma_NC for m_X = {', '.join(f'{m:g}' for m in DEMO_MASSES)} MeV, r = 3 "
               "(Dask local cluster)")
    req = LimitRequest(card=card, masses=DEMO_MASSES, ratio=3.0, progress=True, scheduler="local")  # show Dask
    curve = fit_entry.limit(req)
    curve.write_csv(out["limit_coherent2017_r3.csv"])
    summary.append(f"limit ({len(curve.x)} points) [{time.perf_counter() - t0:.1f} s] -> "
                   f"{outdir / 'limit_coherent2017_r3.csv'}")
    for m, y in zip(curve.x, curve.observed):
        summary.append(f"    m_X = {m:5.1f} MeV: sigma_NC < {y:.2e} {curve.y_unit}")

    # 4. one picture
    _step("plot")
    png = outdir / "demo.png"
    _plot(samples, curve, out["demo.png"])
    summary.append(f"figure: {png}")


def _accepted_weights(events) -> np.ndarray:
    """Per-event expected counts after the detector response (the weight includes the efficiencies)."""
    import awkward as ak

    return ak.to_numpy(events["weight"]).astype(float)


def _plot(samples, curve, png):
    import matplotlib

    matplotlib.use("Agg")
    import awkward as ak
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, (sample, params, card) in samples.items():
        ev = sample.events
        fields = ev.fields
        obs = next((f for f in ("pe", "n_pe", "PE") if f in fields), None)
        w = _accepted_weights(ev)
        if obs is None:
            continue
        a1.hist(ak.to_numpy(ev[obs]), bins=np.arange(0, 51, 2), weights=w, histtype="step", lw=2,
                label=f"{name}: {w.sum():.1f} events")
    a1.set_xlabel("photoelectrons")
    a1.set_ylabel("events / 2 PE (2017 exposure, after acceptance)")
    a1.set_title("COHERENT CsI[Na]: weighted events", fontsize=10)
    a1.legend()
    curve.plot(ax=a2)
    fig.tight_layout()
    save_figure(fig, png)
    plt.close(fig)
