"""Seed 002 (thermal neutrino-portal DM) figures 1 and 2, recomputed from the library.

* ``seed002-fig1``: Y = y_L^4 |U_l4|^4 (m_chi/m_phi)^4 vs m_chi for l = e (top) and mu (bottom), m_phi = 3 m_chi,
  m4 = 10 m_chi (left) and m4 = 400 GeV (right):

  - the thermal target: <sigma v> = 1 pb (the seed's grey line, seed eq. 7 with (1 + m_chi^2/m_phi^2)^-2) and
    nudmsim's freeze-out solution Omega h^2 = 0.12 for a symmetric Dirac relic
    (:func:`nudmsim.cosmology.thermal.thermal_Y_neutrino_portal`), the region below 1 pb shaded;
  - E949 (calibrated card, Asimov median) and the NA62 projection of K+ -> mu+ chi phi (``meson-3body``;
    mu row only -- the electron channel has no three-body analysis);
  - the limit on Y implied by the published |U_l4|^2 limits of an invisible nu4 (peak searches and PMNS
    unitarity from ``data/hnl_limits``; their lower envelope at m4) with y_L = 4 pi (solid) and with the
    fine-tuning bound y_L = 4 pi m_phi/m4 (dashed) -- the seed's blue lines, derived by nudmsim from the
    published inputs;
  - N_eff: thermal chi lighter than m_chi^min is excluded (dash-dotted; the seed quotes ~10 MeV).
* ``seed002-fig2``: |U_e4|^2 and |U_mu4|^2 vs m4 for an invisible nu4: the W-kink reach of ``atlas-w``
  (7 TeV, Asimov, e and mu), the E949 two-body limit of ``meson-2body`` (mu) over the published peak-search
  and unitarity limits (context, dashed grey), and the N_eff bound m4 > 10 MeV the seed draws.
"""
from __future__ import annotations

import math

import numpy as np

from .. import constants as c
from ..errors import NudmsimError
from ..progress import progress
from . import Curve, FigureOptions, FigureResult, compute, figure, style

R_PHI = 3.0                  # m_phi = 3 m_chi (seed 002 Fig. 1)
M4_HEAVY_MEV = 400_000.0     # m4 = 400 GeV (right column)
SIGMA_V_1PB_CM3_S = 3e-26    # seed 002 §II B: 3e-26 cm^3/s ~ 1 pb
Y_L_MAX = 4.0 * math.pi

#: invisible-nu4 limits drawn in Fig. 2 and used for the Fig. 1 |U|^2 envelope: (file, label)
HNL_LIMITS = {
    "e": [("Ue4/pienu_2017_curve.csv", r"PIENU $\pi \to e\nu$"), ("Ue4/triumf_curve.csv", r"TRIUMF $\pi \to e\nu$"),
          ("Ue4/na62_curve.csv", r"NA62 $K \to e\nu$"), ("Ue4/kenu_curve.csv", "K universality"),
          ("Ue4/pienu_lowmass_curve.csv", r"$\pi$ universality"),
          ("Ue4/f_decay_curve.csv", r"$^{20}$F $\beta$ decay"),
          ("Ue4/pmns_unitarity_curve.csv", "PMNS unitarity")],
    "mu": [("Umu4/psi_curve.csv", r"PSI $\pi \to \mu\nu$"), ("Umu4/pienu_he_curve.csv", r"PIENU $\pi \to \mu\nu$"),
           ("Umu4/pienu_le_curve.csv", r"PIENU (low $E_\mu$)"), ("Umu4/kek_curve.csv", r"KEK $K \to \mu\nu$"),
           ("Umu4/na62_curve.csv", r"NA62 $K \to \mu\nu$"), ("Umu4/e949_curve.csv", r"E949 $K \to \mu\nu$"),
           ("Umu4/pmns_unitarity_curve.csv", "PMNS unitarity")],
}
#: mass unit of each file (index column "mass_unit" of data/hnl_limits/hnl_limits_index.csv)
_GEV_FILES = {"Ue4/pmns_unitarity_curve.csv", "Umu4/pmns_unitarity_curve.csv"}


def _tex(flavour: str) -> str:
    return "e" if flavour == "e" else r"\mu"


def published_u2(flavour: str, panel: str = "") -> list[Curve]:
    """The published invisible-nu4 |U_l4|^2 limits (context curves; x = m4 in MeV)."""
    out = []
    for rel, label in HNL_LIMITS[flavour]:
        scale = 1000.0 if rel in _GEV_FILES else 1.0
        out.append(compute.published(f"hnl_limits/curves/{rel}", label, panel=panel, x_scale=scale, x_name="m4",
                                     y_name=f"|U_{flavour}4|^2", x_unit="MeV", y_unit=""))
    return out


def u2_envelope(curves: list[Curve], m4) -> np.ndarray:
    """Lower envelope (strongest limit) of the published curves at m4 [MeV]; NaN where none applies."""
    m4 = np.atleast_1d(np.asarray(m4, dtype=float))
    best = np.full(m4.shape, np.inf)
    for cv in curves:
        x, y = np.asarray(cv.x), np.asarray(cv.y)
        ok = np.isfinite(x) & np.isfinite(y) & (y > 0)
        x, y = x[ok], y[ok]
        if x.size < 2:
            continue
        order = np.argsort(x)
        x, y = x[order], y[order]
        inside = (m4 >= x[0]) & (m4 <= x[-1])
        val = np.exp(np.interp(np.log(m4), np.log(x), np.log(y)))
        best = np.where(inside, np.minimum(best, val), best)
    return np.where(np.isfinite(best), best, np.nan)


def y_one_pb(m_chi, r: float = R_PHI) -> np.ndarray:
    """Y at which <sigma v> = 1 pb (3e-26 cm^3/s), from the model's own <sigma v> (seed eq. 7)."""
    from ..models.neutrino_portal import NeutrinoPortal

    out = []
    for m in np.atleast_1d(m_chi):
        p = NeutrinoPortal(m_chi=float(m), m_phi=r * float(m), m4=10.0 * r * float(m), y_L=1.0, U_mu4=1.0)
        out.append(p.Y * SIGMA_V_1PB_CM3_S / p.sigma_v_cm3_s())  # <sigma v> is linear in Y at fixed masses
    return np.array(out)


@figure("seed002-fig1", seed="002", number="1",
        title="Y vs m_chi (e, mu; m4 = 10 m_chi and 400 GeV): E949/NA62 three-body, thermal target, N_eff")
def build_fig1(opts: FigureOptions) -> FigureResult:
    from ..cosmology import thermal

    curves, notes = [], []
    m_chi = compute.masses(1.0, 1e5, opts, n=60, n_quick=15)            # MeV
    m_k = compute.masses(1.0, 95.0, opts, n=30, n_quick=8)             # K -> mu chi phi needs m_chi < 97 MeV
    m_neff = float(thermal.neff_mass_bound())
    columns = (("10x", "m4 = 10 m_chi"), (f"{M4_HEAVY_MEV / 1000:g}GeV", "m4 = 400 GeV"))
    y_1pb = y_one_pb(m_chi)
    y_th = np.asarray(thermal.thermal_Y_neutrino_portal(m_chi, R_PHI), dtype=float)
    with progress(2 * len(columns) + 1, "seed002-fig1 curves", quiet=not opts.progress, unit="curve") as bar:
        for m4opt, col in columns:
            for flavour in ("e", "mu"):
                panel = f"{flavour}, {col}"
                curves.append(Curve(r"$\langle\sigma v\rangle$ = 1 pb (seed)", m_chi, y_1pb, "m_chi", f"Y_{flavour}",
                                    "MeV", "", panel=panel, source="NeutrinoPortal.sigma_v_cm3_s (seed eq. 7)"))
                curves.append(Curve(r"$\Omega h^2$ = 0.12 (Dirac, freeze-out)", m_chi, y_th, "m_chi",
                                    f"Y_{flavour}", "MeV", "", panel=panel,
                                    source="cosmology.thermal.thermal_Y_neutrino_portal(m_chi, r=3)"))
                pub = published_u2(flavour)
                m4 = 10.0 * m_chi if m4opt == "10x" else np.full_like(m_chi, M4_HEAVY_MEV)
                u2 = u2_envelope(pub, m4)
                r4 = R_PHI**4
                curves.append(Curve(r"published $|U|^2$ limits, $y_L = 4\pi$", m_chi, Y_L_MAX**4 * u2**2 / r4,
                                    "m_chi", f"Y_{flavour}", "MeV", "", panel=panel,
                                    source="envelope of data/hnl_limits (peak searches, PMNS unitarity) -> Y"))
                y_ft = Y_L_MAX * R_PHI * m_chi / m4
                curves.append(Curve(r"published $|U|^2$ limits, $y_L = 4\pi m_\phi/m_4$", m_chi,
                                    y_ft**4 * u2**2 / r4, "m_chi", f"Y_{flavour}", "MeV", "", panel=panel,
                                    source="envelope of data/hnl_limits -> Y with the fine-tuning bound on y_L"))
            panel = f"mu, {col}"
            for card, label in (("e949", "E949 (calibrated, Asimov)"), ("na62", "NA62 projection")):
                bar.set_description(f"fig1 {card} {m4opt}")
                try:
                    lc = compute.limit("meson-3body", opts, masses=m_k, ratio=R_PHI, card=card,
                                       options={"m4": m4opt})
                except NudmsimError as exc:
                    notes.append(f"{label} ({col}) not drawn: {exc}")
                    bar.update()
                    continue
                curves.append(compute.to_curve(lc, label + r", $K^+ \to \mu^+ \chi \phi$", panel=panel,
                                               which="expected", source=compute.call_text(
                                                   "meson-3body", card=card, ratio=R_PHI, options={"m4": m4opt})))
                bar.update()
        bar.update()
    notes.append(f"N_eff: thermal Dirac chi needs m_chi > {m_neff:.1f} MeV (nudmsim; the seed quotes ~10 MeV)")
    notes.append("not drawn (no analysis yet): the orange visible-BR 1e-3 lines, direct detection through the "
                 "Z coupling, the small-scale-structure lines and the tau row of the seed's figure")
    fig, axes = style.new_figure(ncols=2, nrows=2, width=11.5, height=4.0, sharex=True, sharey=True)
    keys = {"E949": "e949", "NA62": "na62", "published $|U|^2$ limits, $y_L = 4\\pi$": "context"}
    for i, flavour in enumerate(("e", "mu")):
        for j, (_, col) in enumerate(columns):
            ax = axes[i, j]
            panel = f"{flavour}, {col}"
            for cv in (cv for cv in curves if cv.panel == panel):
                if cv.label.startswith(r"$\langle"):
                    ax.plot(cv.x, cv.y, color="#555555", lw=2.0, label=cv.label)
                    ax.fill_between(cv.x, 1e-30, cv.y, color="#999999", alpha=0.15, lw=0)
                elif cv.label.startswith(r"$\Omega"):
                    ax.plot(cv.x, cv.y, color="k", lw=1.2, ls="-.", label=cv.label)
                elif cv.label.startswith("published"):
                    ls = "-" if "4\\pi$" in cv.label else "--"
                    ax.plot(cv.x, cv.y, color="#1f4fb4", lw=1.5, ls=ls, label=cv.label)
                else:
                    key = next((v for k, v in keys.items() if cv.label.startswith(k)), "e949")
                    ax.plot(cv.x, cv.y, color=style.color(key) if key != "e949" else "#d62728", lw=2.0,
                            ls="-" if key == "e949" else ":", label=cv.label)
            ax.axvline(m_neff, color=style.color("neff"), ls="-.", lw=1.2,
                       label=rf"$N_{{eff}}$: $m_\chi >$ {m_neff:.1f} MeV")
            style.log_axes(ax)
            ax.set_xlim(1.0, 1e5)
            ax.set_ylim(1e-16, 1e2)
            ax.set_title(f"$\\ell = {_tex(flavour)}$, "
                         + (r"$m_4 = 10\,m_\chi$" if j == 0 else r"$m_4$ = 400 GeV")
                         + r", $m_\phi = 3\,m_\chi$", fontsize=9)
            if j == 0:
                ax.set_ylabel("$Y_{" + _tex(flavour) + "}$")
            if i == 1:
                ax.set_xlabel(style.label(r"$m_\chi$", "MeV"))
    style.bottom_legend(fig, axes.ravel(), ncol=3, height=0.12)
    return FigureResult("seed002-fig1", curves, fig, notes)


@figure("seed002-fig2", seed="002", number="2",
        title="|U_e4|^2 and |U_mu4|^2 vs m4 (invisible nu4): W-kink reach, E949 two-body, published limits")
def build_fig2(opts: FigureOptions) -> FigureResult:
    curves, notes = [], []
    with progress(3, "seed002-fig2 curves", quiet=not opts.progress, unit="curve") as bar:
        for flavour in ("e", "mu"):
            panel = f"|U_{flavour}4|^2"
            bar.set_description(f"fig2 atlas-w {flavour}")
            options = {"lepton": flavour}
            if opts.quick:
                options["events"] = "400000"
            ms = compute.masses(5_000.0, 150_000.0, opts, n=30, n_quick=8)
            lc = compute.limit("atlas-w", opts, masses=ms, options=options)
            curves.append(compute.to_curve(lc, f"W $\\to {_tex(flavour)}$ + inv. "
                                               "(ATLAS 7 TeV, Asimov)", panel=panel, which="expected",
                                           x_scale=1000.0 if lc.x_unit == "GeV" else 1.0, x_unit="MeV",
                                           x_name="m4", y_name=f"|U_{flavour}4|^2",
                                           source=compute.call_text("atlas-w", options=options)))
            bar.update()
            curves += published_u2(flavour, panel=panel)
        bar.set_description("fig2 meson-2body")
        try:
            lc = compute.limit("meson-2body", opts, options={"reference": "no"})
            curves.append(compute.to_curve(lc, r"E949 $K^+ \to \mu^+ \nu_4$ (nudmsim)", panel="|U_mu4|^2",
                                           x_name="m4", y_name="|U_mu4|^2", x_unit="MeV",
                                           x_scale=1000.0 if lc.x_unit == "GeV" else 1.0,
                                           source=compute.call_text("meson-2body", options={"reference": "no"})))
        except NudmsimError as exc:
            notes.append(f"E949 two-body (meson-2body) not drawn: {exc}")
        bar.update()
    m_neff_4 = 10.0  # seed 002 §III D: BBN N_eff bound m4 >~ 10 MeV [19]
    fig, axes = style.new_figure(ncols=2, width=11.5, height=4.8, sharey=True)
    ctx_colors = ["#bbbbbb", "#999999", "#777777", "#aaaaaa", "#888888", "#666666", "#cccccc"]
    for ax, flavour in zip(axes, ("e", "mu")):
        panel = f"|U_{flavour}4|^2"
        k = 0
        placed: list[tuple[float, float]] = []
        for cv in (cv for cv in curves if cv.panel == panel):
            if cv.computed:
                col = style.color("atlas") if cv.label.startswith("W") else "#d62728"
                compute.draw(ax, cv, color=col, lw=2.2)
                continue
            ok = np.isfinite(cv.y) & (cv.y > 0)
            ax.plot(cv.x[ok], cv.y[ok], color=ctx_colors[k % len(ctx_colors)], lw=1.0, ls="--",
                    label="published limits (context; labelled in the plot)")
            k += 1
            if ok.any():  # label at the curve's strongest point, nudged down away from earlier labels
                i = int(np.argmin(np.where(ok, cv.y, np.inf)))
                lx, ly = math.log10(cv.x[i]), math.log10(cv.y[i]) - 0.25
                while any(abs(lx - px) < 0.5 and abs(ly - py) < 0.3 for px, py in placed):
                    ly -= 0.3
                placed.append((lx, ly))
                ax.text(10**lx, 10**ly, cv.label, fontsize=6, color="#444444", ha="center", va="top")
        ax.axvspan(0.1, m_neff_4, color=style.color("neff"), alpha=0.12, lw=0)
        ax.text(m_neff_4 * 0.8, 3e-2, r"$N_{eff}$", ha="right", fontsize=8, color=style.color("neff"))
        style.log_axes(ax)
        ax.set_xlim(1.0, 2e5)
        ax.set_ylim(1e-10, 1.0)
        ax.set_xlabel(style.label(r"$m_4$", "MeV"))
        ax.set_ylabel("$|U_{" + _tex(flavour) + "4}|^2$")
        ax.set_title(("electron" if flavour == "e" else "muon") + r" mixing, invisible $\nu_4$ (90% CL)", fontsize=9)
    style.bottom_legend(fig, axes, ncol=2, height=0.12)
    notes.append("context curves: published invisible-nu4 limits from data/hnl_limits (peak searches, PMNS "
                 "unitarity; mostly digitised by the HNLimits maintainers); Z- and Higgs-invisible and tau-sector "
                 "limits of the seed's figure are not drawn")
    return FigureResult("seed002-fig2", curves, fig, notes)
