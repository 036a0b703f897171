"""Seed 004 Fig. 4: neutrinos from X + N -> nu + N in the Earth and the Sun vs the Super-K nu_tau bound (§V).

Left: the neutrino flux at Super-Kamiokande for sigma = 1e-43 cm^2 (the seed's example), from the PREM Earth,
from the seed's estimate (eq. 17: mean density, r = R_Earth) and from the Sun, with the total solar 8B flux the
seed compares with (SNO) and the seed's m_X = 10 MeV point.  Right: the 90% CL bound on the per-nucleon
conversion cross section from SK's nu_tau appearance (``superk-x2nu``) for the Earth (exact and seed kinematics),
the seed's estimate and the Sun, over the seed's window 4-200 GeV.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from ..progress import progress
from . import Curve, FigureOptions, FigureResult, compute, figure, style

SIGMA_EXAMPLE_CM2 = 1e-43                     # seed §V: "m_chi ~ 10 MeV, sigma ~ 1e-43 cm^2"
SEED_WINDOW_GEV = (4.0, 200.0)                # seed §V: 4 GeV < m_chi < 200 GeV
#: total 8B solar-neutrino flux from the SNO neutral-current measurement, 5.25e6 cm^-2 s^-1
#: (SNO, PRC 88 (2013) 025501, combined three-phase analysis)
PHI_B8_CM2_S = 5.25e6


@figure("seed004-fig4", seed="004", number="4",
        title="nu flux from X N -> nu N in the Earth and Sun; Super-K nu_tau bound on the conversion cross section")
def build_fig4(opts: FigureOptions) -> FigureResult:
    from ..processes import x_to_nu_flux as xf

    curves, notes = [], []
    m_flux = np.geomspace(10.0, 1e6, 9 if opts.quick else 60)        # MeV
    for fn, label in ((xf.flux_earth, "Earth (PREM, 1 km deep)"), (xf.flux_earth_seed, "Earth (seed eq. 17)"),
                      (xf.flux_sun, "Sun (1 AU)")):
        curves.append(Curve(label, m_flux / c.GeV, fn(SIGMA_EXAMPLE_CM2, m_flux), "m_X", "flux", "GeV",
                            "cm^-2 s^-1", panel="flux", source=f"processes.x_to_nu_flux.{fn.__name__}"
                                                                f"(sigma = {SIGMA_EXAMPLE_CM2:g} cm^2)"))
    f10 = float(xf.flux_earth(SIGMA_EXAMPLE_CM2, 10.0))
    notes.append(f"m_X = 10 MeV, sigma = 1e-43 cm^2: Earth flux {f10:.3g} /cm^2/s = {PHI_B8_CM2_S / f10:.2g} x below "
                 f"the 8B flux (the seed says ~6 orders of magnitude); Earth/Sun = "
                 f"{float(xf.flux_earth(1.0, 1e4) / xf.flux_sun(1.0, 1e4)):.3g}")
    ms = compute.masses(3.0e3, 3.0e5, opts, n=50, n_quick=12)
    runs = [({"source": "earth"}, "Earth (PREM), exact kinematics", "earth"),
            ({"source": "earth", "kinematics": "seed"}, r"Earth (PREM), $E_\nu = m_X$", "earth-seedkin"),
            ({"source": "earth-seed", "kinematics": "seed"}, r"Earth (seed eq. 17), $E_\nu = m_X$", "context"),
            ({"source": "sun"}, "Sun, exact kinematics", "sun")]
    with progress(len(runs), "seed004-fig4", quiet=not opts.progress, unit="curve") as bar:
        for options, label, _ in runs:
            lc = compute.limit("superk-x2nu", opts, masses=ms, options=options)
            curves.append(compute.to_curve(lc, label, panel="limit", y_name="sigma_XN->nuN",
                                           source=compute.call_text("superk-x2nu", options=options)))
            bar.update()
    fig, (ax1, ax2) = style.new_figure(ncols=2, width=11.5, height=4.8)
    cols = {"Earth (PREM, 1 km deep)": style.color("earth"), "Earth (seed eq. 17)": "#7f7f7f",
            "Sun (1 AU)": style.color("sun")}
    for cv in (cv for cv in curves if cv.panel == "flux"):
        compute.draw(ax1, cv, color=cols[cv.label], ls="--" if "seed" in cv.label else "-")
    ax1.axhline(PHI_B8_CM2_S, color="#2ca02c", lw=1.2, ls="-.")
    ax1.text(0.015, PHI_B8_CM2_S * 2, r"solar $^8$B flux (SNO NC)", fontsize=7, color="#2ca02c")
    ax1.plot([0.01], [f10], "o", color="k", ms=5, label=r"seed's example: $m_X$ = 10 MeV")
    style.log_axes(ax1)
    ax1.set_xlim(0.01, 1000.0)
    ax1.set_xlabel(style.label(r"$m_X$", "GeV"))
    ax1.set_ylabel(style.label(r"$\nu$ flux at Super-K", "cm^-2 s^-1"))
    ax1.set_title(rf"$X N \to \nu N$, $\sigma$ = {SIGMA_EXAMPLE_CM2:g} cm$^2$ per nucleon, "
                  r"$\rho_X$ = 0.3 GeV/cm$^3$", fontsize=8)
    ax1.legend(fontsize=7, loc="center right")
    lcols = [r[2] for r in runs]
    for cv in (cv for cv in curves if cv.panel == "limit"):
        key = lcols[[r[1] for r in runs].index(cv.label)]
        compute.draw(ax2, cv, color={"context": "#7f7f7f", "earth-seedkin": style.color("earth")}.get(
            key, style.color(key)), ls="--" if key in ("earth-seedkin", "context") else "-")
    ax2.axvspan(*SEED_WINDOW_GEV, color="#e377c2", alpha=0.08, lw=0)
    ax2.text(SEED_WINDOW_GEV[0] * 1.05, 0.96, "seed's window 4-200 GeV", transform=ax2.get_xaxis_transform(),
             fontsize=7, va="top", color="#a0407f")
    style.log_axes(ax2)
    ax2.set_xlim(3.0, 300.0)
    ax2.set_xlabel(style.label(r"$m_X$", "GeV"))
    ax2.set_ylabel(style.label(r"$\sigma(X N \to \nu_\tau N)$ per nucleon", "cm^2"))
    ax2.set_title(r"Super-K $\nu_\tau$ appearance (5326 d): 90% CL (nudmsim)", fontsize=9)
    ax2.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    notes.append("bound assumes X couples to nu_tau and taus from the line are selected like atmospheric ones; "
                 "sigma_CC(nu_tau) from the parton model (conservative below ~10 GeV); see docs/superk.md")
    return FigureResult("seed004-fig4", curves, fig, notes)
