"""Seed 004 (scalar-portal nu-DM conversion) figures 2, 3 and 5, recomputed from the library.

* ``seed004-fig2``: sigma_NC vs m_X for m_phi = 10 m_X (left) and 3 m_X (right): COHERENT CsI 2017 (and a
  ``coherent_csi_2021`` card when one exists), XENON1T and Borexino down-scattering, kinetic decoupling
  (Lyman-alpha, y_q at the kaon bound), the thermal-relic line (y_q = 1e-9, dotted where N_eff excludes it),
  the seed's quoted windows (XENON1T 30-100 MeV, Borexino m_X > 40 MeV; seed eq. 19 and Sec. VI) and the
  N_eff mass bound.  CRESST and DarkSide: drawn when an analysis for them is registered; otherwise the
  figure notes that no public sigma_NC curve or low-mass release is wired in.
* ``seed004-fig3``: true nuclear-recoil spectra and detected-PE spectra at COHERENT: SM CEvNS and
  nu -> X for several m_X at one coupling point (weighted events from the generators).
* ``seed004-fig5``: y_X vs m_X at y_q = 1e-9: the thermal-relic y_X, the experiments' sigma_NC limits
  turned into y_X, kinetic decoupling, perturbativity (y_X = sqrt(4 pi)) and the N_eff bound.

Every experiment curve comes from ``registry.get_analysis(NAME).limit(LimitRequest(...))``
(:mod:`nudmsim.figures.compute`), the same call as ``nudmsim limit``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import cards, registry
from .. import constants as c
from ..errors import NudmsimError
from ..progress import progress
from . import Curve, FigureOptions, FigureResult, compute, figure, style

#: seed 004 eq. 19: XENON1T (4-40 keVnr) sees 30 <~ m_X <~ 100 MeV; Sec. VI: Borexino m_X >~ 40 MeV
XENON_WINDOW_MEV = (30.0, 100.0)
BOREXINO_MIN_MEV = 40.0
#: seed 004 eq. 2 (E787/E949 K+ -> pi+ invisible)
Y_Q_KAON = 1.58e-4
#: seed 004 Fig. 5 / Sec. VII
Y_Q_RELIC = 1e-9
X_RANGE_MEV = (1e-2, 1e3)

SIGMA_LABEL = style.label(r"$\sigma_{NC}$", "cm^2")
MX_LABEL = style.label(r"$m_X$", "MeV")


def _coherent_2021():
    """(analysis, card) for a COHERENT 2021 card if one is installed, else None."""
    if "coherent_csi_2021" not in cards.available("detector"):
        return None
    registry.load_all()
    for name, e in registry.ANALYSES.items():
        if e.default_detector == "coherent_csi_2021" and e.limit is not None:
            return name, None
    return "coherent2017", "coherent_csi_2021"


def _optional(names):
    registry.load_all()
    return [n for n in names if n in registry.ANALYSES and registry.ANALYSES[n].limit is not None]


def fig2_specs(opts: FigureOptions):
    """(key, label, analysis, card, masses, options) of every sigma_NC curve of Fig. 2."""
    specs = [("coherent", "COHERENT CsI 2017", "coherent2017", None, compute.masses(0.1, 50.0, opts), {})]
    c21 = _coherent_2021()
    if c21 is not None:
        specs.append(("coherent2021", "COHERENT CsI 2021", c21[0], c21[1], compute.masses(0.1, 50.0, opts), {}))
    specs += [
        ("xenon1t", "XENON1T (X N -> nu N)", "xenon1t-x2nu", None, compute.masses(20.0, 200.0, opts), {}),
        ("borexino", "Borexino (X p, X C -> nu)", "borexino-x2nu", None, compute.masses(20.0, 1000.0, opts), {}),
    ]
    ranges = {"cresst3-x2nu": (0.8, 80.0), "darkside50-x2nu": (3.0, 40.0)}   # where their lines can be seen
    for name in _optional(tuple(ranges)):
        key = "cresst" if name.startswith("cresst") else "darkside"
        label = "CRESST-III det. A (public release)" if key == "cresst" else "DarkSide-50 S2 (DDCalc bins)"
        specs.append((key, label, name, None, compute.masses(*ranges[name], opts), {}))
    specs.append(("kinetic", r"kinetic decoupling (Ly-$\alpha$, $y_q$ = 1.58e-4)", "kinetic-decoupling", None,
                  compute.masses(0.01, 1000.0, opts), {}))
    return specs


def split_at(x, y, x0):
    """(x_lo, y_lo), (x_hi, y_hi): the curve below and above x0, both ending at x0 (log interpolation)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(y) & (y > 0)
    x, y = x[ok], y[ok]
    if x.size == 0 or x0 <= x[0] or x0 >= x[-1]:
        lo = x < x0
        return (x[lo], y[lo]), (x[~lo], y[~lo])
    y0 = float(np.exp(np.interp(np.log(x0), np.log(x), np.log(y))))
    lo = x < x0
    return (np.append(x[lo], x0), np.append(y[lo], y0)), (np.insert(x[~lo], 0, x0), np.insert(y[~lo], 0, y0))


def _relic(ax, cv, m_neff, lw=1.6):
    (xl, yl), (xh, yh) = split_at(cv.x, cv.y, m_neff)
    ax.plot(xh, yh, color=style.color("relic"), lw=lw, label=cv.label)
    ax.plot(xl, yl, color=style.color("relic"), lw=lw * 0.7, ls=":", label=r"thermal relic, excluded by $N_{eff}$")


def _window_marks(ax):
    """The windows the seed quotes, as bars along the top of the panel."""
    import matplotlib.transforms as mtrans

    tr = mtrans.blended_transform_factory(ax.transData, ax.transAxes)
    lo, hi = XENON_WINDOW_MEV
    ax.plot([lo, hi], [0.965, 0.965], transform=tr, color=style.color("xenon1t"), lw=4, alpha=0.6,
            solid_capstyle="butt")
    ax.text(math.sqrt(lo * hi), 0.93, "XENON1T window\n(seed eq. 19)", transform=tr, ha="center", va="top",
            fontsize=6.5, color=style.color("xenon1t"))
    ax.annotate("", xy=(X_RANGE_MEV[1], 0.84), xytext=(BOREXINO_MIN_MEV, 0.84), xycoords=tr,
                arrowprops=dict(arrowstyle="->", color=style.color("borexino"), lw=1.5))
    ax.text(BOREXINO_MIN_MEV * 0.95, 0.84, "Borexino\n$m_X \\gtrsim$ 40 MeV\n(seed Sec. VI)", transform=tr,
            fontsize=6.5, color=style.color("borexino"), va="center", ha="right")


def _neff_line(ax, m_neff):
    ax.axvline(m_neff, color=style.color("neff"), ls="-.", lw=1.2)
    ax.text(m_neff * 0.9, 0.78, rf"$N_{{eff}}$: thermal $X$ needs $m_X >$ {m_neff:.1f} MeV",
            transform=ax.get_xaxis_transform(), rotation=90, ha="right", va="top", fontsize=6.5,
            color=style.color("neff"))


RELIC_LABEL = r"thermal relic ($y_q$ = 1e-9)"
#: relative cost of one Fig. 2 curve (seconds per curve on an idle core, measured): the heaviest go first
FIG2_COST = {"coherent2017": 12.0, "coherent2021": 12.0, "thermal-relic": 4.0, "borexino-x2nu": 4.0,
             "kinetic-decoupling": 3.0, "cresst3-x2nu": 2.0, "darkside50-x2nu": 1.0, "xenon1t-x2nu": 1.0}


def _fig2_curve(task):
    """One curve of Fig. 2 (module level, so that Dask can ship it): (LimitCurve, None) or (None, note)."""
    panel, label, analysis, card, ms, options, r, quick = task
    try:
        lc = compute.limit(analysis, FigureOptions(quick=quick), masses=ms, ratio=r, card=card, options=options,
                           scheduler="sync")
    except NudmsimError as exc:
        return None, f"{label} (r = {r:g}) not drawn: {exc}"
    return lc, None


@figure("seed004-fig2", seed="004", number="2",
        title="sigma_NC vs m_X, m_phi = 10 m_X and 3 m_X: COHERENT, XENON1T, Borexino, kinetic decoupling, relic")
def build_fig2(opts: FigureOptions) -> FigureResult:
    from ..cosmology import thermal
    from ..scan import current_session, map_points

    curves, notes = [], []
    specs = fig2_specs(opts)
    ratios = (10.0, 3.0)
    m_neff = float(thermal.neff_mass_bound())
    # every curve is one task, heaviest first (longest-processing-time order balances the workers); each task
    # scans its masses in-process.  The full figure is ~75 s of serial work: a local cluster pays from the start
    # (unless --quick, or the command was given a --scheduler, which the scan then uses)
    tasks = []
    for r in ratios:           # the panel's experiments, then its relic line (the CSV's order)
        tasks += [(f"m_phi = {r:g} m_X", label, analysis, card, ms, options, r, bool(opts.quick))
                  for key, label, analysis, card, ms, options in specs]
        tasks.append((f"m_phi = {r:g} m_X", RELIC_LABEL, "thermal-relic", None, compute.masses(*X_RANGE_MEV, opts),
                      {}, r, bool(opts.quick)))
    order = sorted(range(len(tasks)), key=lambda i: -FIG2_COST.get(tasks[i][2], 1.0))
    sess = current_session()
    sched = None if opts.quick or (sess is not None and sess.scheduler is not None) else "local"
    done = map_points(_fig2_curve, [tasks[i] for i in order], scheduler=sched, progress=bool(opts.progress),
                      label="seed004-fig2 curves")
    results = [None] * len(tasks)
    for i, res in zip(order, done):
        results[i] = res
    for (panel, label, analysis, card, ms, options, r, _q), (lc, note) in zip(tasks, results):
        if lc is None:
            notes.append(note)
            continue
        curves.append(compute.to_curve(lc, label, panel=panel,
                                       source=compute.call_text(analysis, ratio=r, card=card, options=options)))
    if not _optional(("cresst3-x2nu", "darkside50-x2nu")):
        notes.append("CRESST and DarkSide (seed Fig. 2) are not drawn: no CRESST-III / DarkSide-50 analysis is "
                     "registered and no sigma_NC curve of theirs is published as numbers")
    else:
        notes.append("CRESST-III and DarkSide-50 are nudmsim estimates from their public releases (maximum gap on "
                     "the released events; DDCalc's DarkSide bins), not the collaborations' likelihoods")
    fig, axes = style.new_figure(ncols=2, sharey=True, width=11.5, height=5.6)
    for ax, r in zip(axes, ratios):
        panel = f"m_phi = {r:g} m_X"
        for cv in (cv for cv in curves if cv.panel == panel):
            key = next((s[0] for s in specs if s[1] == cv.label), "relic")
            if key == "relic":
                _relic(ax, cv, m_neff)
            else:
                compute.draw(ax, cv, color=style.color(key), ls="--" if key == "kinetic" else "-")
                ok = np.isfinite(cv.y)
                if ok.sum() == 1:  # a single finite point (narrow window): show it
                    ax.plot(cv.x[ok], cv.y[ok], "o", ms=3, color=style.color(key))
        style.log_axes(ax)
        ax.set_xlim(*X_RANGE_MEV)
        ax.set_ylim(1e-52, 1e-28)
        ax.set_xlabel(MX_LABEL)
        ax.set_title(rf"$m_\phi$ = {r:g} $m_X$ (90% CL; nudmsim)")
        _window_marks(ax)
        _neff_line(ax, m_neff)
    axes[0].set_ylabel(SIGMA_LABEL)
    style.bottom_legend(fig, axes, ncol=4)
    return FigureResult("seed004-fig2", curves, fig, notes)


# ------------------------------------------------------------------------------------------------
# Fig. 3: recoil spectra
# ------------------------------------------------------------------------------------------------
FIG3_MASSES_MEV = (1.0, 10.0, 25.0, 40.0)
FIG3_POINT = {"y_X": 3e-6, "y_q": 1e-4}  # the nu-to-x default couplings (below the kaon bound)


def _spectrum(process: str, params: dict, card, n: int, seed: int, field: str, edges, accepted: bool):
    entry = registry.get_process(process)
    p = registry.resolve_params(entry.params, {k: str(v) for k, v in params.items()}, entry.name)
    s = entry.generate(p, card, n, np.random.default_rng(seed))
    # weight: expected detected events per event (the card's efficiencies applied); weight_truth: interactions
    w = np.asarray(s.events["weight" if accepted else "weight_truth"], dtype=float)
    h, _ = np.histogram(np.asarray(s.events[field], dtype=float), bins=edges, weights=w)
    return h / np.diff(edges)


@figure("seed004-fig3", seed="004", number="3",
        title="COHERENT CsI recoil spectra: SM CEvNS and nu -> X for several m_X")
def build_fig3(opts: FigureOptions) -> FigureResult:
    card = cards.load_detector("coherent_csi_2017")
    n = 40_000 if opts.quick else 400_000
    er_edges = np.linspace(0.0, 50.0, 51)   # keVnr
    pe_edges = np.arange(0.0, 52.0, 2.0)     # PE (release binning width)
    curves = []
    runs = [("cevns", {}, "SM CEvNS")] + [
        ("nu-to-x", dict(FIG3_POINT, m_X=m, m_phi=3.0 * m), rf"$\nu \to X$, $m_X$ = {m:g} MeV")
        for m in FIG3_MASSES_MEV]
    with progress(len(runs), "seed004-fig3 spectra", quiet=not opts.progress, unit="spectrum") as bar:
        for i, (proc, params, label) in enumerate(runs):
            src = f"nudmsim generate {proc} -d coherent_csi_2017 -n {n} --seed {i + 1}" + "".join(
                f" --set {k}={v:g}" for k, v in params.items())
            h = _spectrum(proc, params, card, n, i + 1, "E_R_keV", er_edges, accepted=False)
            ctr = 0.5 * (er_edges[1:] + er_edges[:-1])
            curves.append(Curve(label, ctr, h, "E_R", "dN/dE_R", "keV", "events/keV", panel="recoil energy",
                                source=src, kind="step"))
            h = _spectrum(proc, params, card, n, i + 1, "pe", pe_edges, accepted=True)
            ctr = 0.5 * (pe_edges[1:] + pe_edges[:-1])
            curves.append(Curve(label, ctr, h, "PE", "dN/dPE (accepted)", "", "events/PE", panel="detected PE",
                                source=src, kind="step"))
            bar.update()
    fig, (ax1, ax2) = style.new_figure(ncols=2, width=11.0)
    colors = ["k", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    for cv in curves:
        ax = ax1 if cv.panel == "recoil energy" else ax2
        col = colors[[r[2] for r in runs].index(cv.label)]
        edges = er_edges if cv.panel == "recoil energy" else pe_edges
        ax.stairs(cv.y, edges, color=col, lw=1.6, label=cv.label)
    ax1.set_yscale("log")
    ax1.set_ylim(1e-3, None)
    ax1.set_xlabel(style.label(r"$E_R$ (nuclear recoil)", "keV"))
    ax1.set_ylabel(r"$dN/dE_R$ [events / keV]")
    ax2.set_xlabel("photoelectrons (PE)")
    ax2.set_ylabel(r"$dN/dPE$ after acceptance [events / PE]")
    ax2.set_yscale("log")
    ax2.set_ylim(1e-3, None)
    pt = f"$y_X$ = {FIG3_POINT['y_X']:g}, $y_q$ = {FIG3_POINT['y_q']:g}, $m_\\phi$ = 3 $m_X$"
    from ..experiment import Experiment

    pot = Experiment(card).source.n_pot          # the card's exposure, not a number written here
    ax1.set_title(f"COHERENT CsI 2017 exposure ({pot:.3g} protons on target); {pt}", fontsize=8)
    ax2.set_title("same, detected (Poisson PE, release acceptance)", fontsize=8)
    ax1.legend(fontsize=7)
    fig.tight_layout()
    notes = [f"weighted events, {n} per spectrum (seeds 1-{len(runs)}), coupling point {FIG3_POINT}, "
             "m_phi = 3 m_X"]
    return FigureResult("seed004-fig3", curves, fig, notes)


# ------------------------------------------------------------------------------------------------
# Fig. 5: coupling plane
# ------------------------------------------------------------------------------------------------
def sigma_per_yx2(m_X, r, y_q):
    """sigma_NC [cm^2] at y_X = 1 (sigma_NC scales as y_X^2): converts sigma_NC curves into y_X."""
    from ..models import scalar_portal as sp

    y_p, _ = sp.nucleon_couplings(y_q)
    m = np.asarray(m_X, dtype=float)
    return np.asarray(sp.sigma_nc(1.0, y_p, m, r * m)) * c.INV_MEV2_TO_CM2


@figure("seed004-fig5", seed="004", number="5",
        title="y_X vs m_X at y_q = 1e-9: thermal relic, experiments, kinetic decoupling, N_eff")
def build_fig5(opts: FigureOptions) -> FigureResult:
    from ..cosmology import thermal

    ratios = (3.0, 10.0)
    curves, notes = [], []
    m_neff = float(thermal.neff_mass_bound())
    runs = [("xenon1t", "XENON1T", "xenon1t-x2nu", compute.masses(20.0, 200.0, opts), {}),
            ("borexino", "Borexino", "borexino-x2nu", compute.masses(20.0, 1000.0, opts), {}),
            ("coherent", "COHERENT CsI 2017", "coherent2017", compute.masses(0.1, 50.0, opts), {}),
            ("cresst", "CRESST-III", "cresst3-x2nu", compute.masses(0.8, 80.0, opts), {}),
            ("darkside", "DarkSide-50", "darkside50-x2nu", compute.masses(3.0, 40.0, opts), {}),
            ("kinetic", r"kinetic decoupling (Ly-$\alpha$)", "kinetic-decoupling",
             compute.masses(0.01, 1000.0, opts), {"y_q": Y_Q_RELIC}),
            ("relic", "thermal relic", "thermal-relic", compute.masses(*X_RANGE_MEV, opts), {"y_q": Y_Q_RELIC})]
    with progress(len(runs) * len(ratios), "seed004-fig5 curves", quiet=not opts.progress, unit="curve") as bar:
        for r in ratios:
            panel = f"m_phi = {r:g} m_X"
            for key, label, analysis, ms, options in runs:
                bar.set_description(f"fig5 r={r:g} {analysis}")
                lc = compute.limit(analysis, opts, masses=ms, ratio=r, options=options)
                # sigma_NC at y_q = 1e-9 -> y_X; kinetic decoupling and the relic were asked at y_q = 1e-9 too
                cv = compute.to_curve(lc, label, panel=panel, y_name="y_X", y_unit="",
                                      y_fn=lambda x, y, r=r: np.sqrt(y / sigma_per_yx2(x, r, Y_Q_RELIC)),
                                      source=compute.call_text(analysis, ratio=r, options=options)
                                      + " (sigma_NC -> y_X at y_q = 1e-9)")
                curves.append(cv)
                bar.update()
    y_pert = math.sqrt(4.0 * math.pi)
    for r in ratios:
        panel = f"m_phi = {r:g} m_X"
        coh = next(cv for cv in curves if cv.panel == panel and cv.label.startswith("COHERENT"))
        if np.all(~np.isfinite(coh.y) | (coh.y > y_pert)):
            notes.append(f"r = {r:g}: COHERENT's y_X bound is weaker than perturbativity everywhere (as the seed "
                         "says for Fig. 5)")
        else:
            lo = np.nanmin(coh.y)
            notes.append(f"r = {r:g}: COHERENT's y_X bound at y_q = 1e-9 reaches y_X < {lo:.3g} (below "
                         f"sqrt(4 pi) = {y_pert:.2f}); the seed calls it weaker than perturbativity and omits it")
    fig, axes = style.new_figure(ncols=2, sharey=True, width=11.5, height=5.6)
    for ax, r in zip(axes, ratios):
        panel = f"m_phi = {r:g} m_X"
        for cv in (cv for cv in curves if cv.panel == panel):
            key = next(k for k, lab, *_ in runs if lab == cv.label)
            if key == "relic":
                _relic(ax, cv, m_neff, lw=2.0)
            else:
                compute.draw(ax, cv, color=style.color(key), ls="--" if key == "kinetic" else "-")
        ax.axhline(y_pert, color=style.color("perturbative"), lw=1.0)
        ax.text(X_RANGE_MEV[0] * 1.5, y_pert * 1.3, r"perturbativity $y_X = \sqrt{4\pi}$", fontsize=7,
                color=style.color("perturbative"))
        ax.axvspan(X_RANGE_MEV[0], m_neff, color=style.color("neff"), alpha=0.12, lw=0)
        ax.text(m_neff * 0.8, 2e-6, rf"$N_{{eff}}$ ($m_X <$ {m_neff:.1f} MeV)", ha="right", fontsize=7,
                color=style.color("neff"))
        style.log_axes(ax)
        ax.set_xlim(*X_RANGE_MEV)
        ax.set_ylim(1e-6, 1e3)
        ax.set_xlabel(MX_LABEL)
        ax.set_title(rf"$y_q = 10^{{-9}}$, $m_\phi$ = {r:g} $m_X$ (90% CL; nudmsim)")
    axes[0].set_ylabel(r"$y_X$")
    style.bottom_legend(fig, axes, ncol=4)
    return FigureResult("seed004-fig5", curves, fig, notes)
