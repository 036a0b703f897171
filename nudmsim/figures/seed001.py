"""Seed 001 (Babu, Dev, Thapa) Fig. 4: Model 1 in the (m_H0, y) plane for m_chi = m_H0/3 (electron flavour),
recomputed with nudmsim: the relic-density coupling (existing freeze-out solver) and the BBN / N_eff, K and D
meson, Z invisible and direct-detection bounds of :mod:`nudmsim.models.model1_constraints`.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import constants as c
from . import Curve, FigureOptions, FigureResult, figure
from ._style import finish, pyplot

RATIO = 3.0
M_A = 1.0e6      # m_A = m_H+ = 1 TeV (heavy inert states; LHC: m_H+ >~ 700 GeV for e, mu couplings)
Y_TOP = 4.0


def allowed_window(m_med, y_relic, bounds: dict):
    """(m_chi_min, m_chi_max) [MeV] where the relic coupling lies below every bound (None if nowhere)."""
    ok = np.ones_like(m_med, bool)
    for yb in bounds.values():
        ok &= y_relic < yb
    if not ok.any():
        return None
    idx = np.where(ok)[0]
    return m_med[idx[0]] / RATIO, m_med[idx[-1]] / RATIO


def fig4_data(n: int = 40):
    """Curves of Fig. 4 on a log grid of m_H0 [MeV]: dict name -> array (y values; inf = no bound)."""
    from ..models import model1 as M1
    from ..models import model1_constraints as K

    m_med = np.geomspace(3.0, 1.0e5, n)
    m_chi = m_med / RATIO
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y_seed = M1.relic_coupling_vectorised(m_chi, RATIO, convention="seed")
        out = {"m_med": m_med,
               "relic": np.sqrt(2.0) * y_seed,          # derived normalisation: y_eff = y/sqrt2 (model1 docstring)
               "relic (seed eq. 39)": y_seed,
               "BBN": np.array([K.bbn_y_max(a, b) for a, b in zip(m_chi, m_med)]),
               "K": np.array([K.meson_y_max(a, b, "K") for a, b in zip(m_chi, m_med)]),
               "K (3 nu search)": np.array([K.meson_y_max(a, b, "K", bound="3nu") for a, b in zip(m_chi, m_med)]),
               "D": np.array([K.meson_y_max(a, b, "D") for a, b in zip(m_chi, m_med)]),
               "Z": np.array([K.z_y_max(a, b) for a, b in zip(m_chi, m_med)]),
               "direct": np.array([K.dd_y_max(a, b, M_A) for a, b in zip(m_chi, m_med)])}
    neff = K.neff_m_chi_min()
    out["N_eff"] = np.where(m_chi < neff, 0.0, np.inf)
    return out


@figure("seed001-fig4", seed="001", number="4", title="Model 1 (pseudo-Dirac DM, inert doublet): relic coupling and constraints, m_chi = m_H0/3")
def fig4(opts: FigureOptions) -> FigureResult:
    plt = pyplot()
    d = fig4_data(22 if opts.quick else 44)
    m = d["m_med"] / c.GeV
    curves = []
    fig, ax = plt.subplots(figsize=(7.2, 5.2))
    shade = {"BBN": ("tab:purple", "BBN (rates < H at 1 MeV)"), "N_eff": ("mediumpurple", r"$N_{\rm eff}$ (thermal $\chi$)"),
             "K": ("tab:blue", r"$K^+\to e^+\chi H_2^0$ ($R_K$)"), "D": ("tab:red", r"$D^+\to e^+\chi H_2^0$"),
             "Z": ("0.5", r"$Z\to$ invisible"), "direct": ("tab:orange", "direct detection")}
    for key, (color, label) in shade.items():
        yb = np.minimum(d[key], Y_TOP)
        fin = np.isfinite(d[key]) & (d[key] < Y_TOP)
        if not fin.any():
            continue
        ax.fill_between(m, np.where(fin, yb, Y_TOP), Y_TOP, where=fin, color=color, alpha=0.35, lw=0,
                        label=f"{label} (nudmsim)")
        curves.append(Curve(f"{key} bound", m[fin], d[key][fin], "m_H0", "y_max", "GeV", "", panel="main",
                            kind="band_lo"))
    ax.plot(m, np.minimum(d["K (3 nu search)"], 1e3), ":", color="tab:blue", lw=1.1,
            label=r"$K^+\to e^+3\nu$ search bound (nudmsim)")
    curves.append(Curve("K (3 nu search) bound", m, d["K (3 nu search)"], "m_H0", "y_max", "GeV", "", panel="main"))
    ax.plot(m, d["relic"], "-", color="darkgreen", lw=2.2, label=r"relic density, $\Omega h^2=0.120$ (nudmsim)")
    ax.plot(m, d["relic (seed eq. 39)"], "--", color="darkgreen", lw=1.2,
            label=r"relic with seed eq. (39) normalisation (nudmsim)")
    curves += [Curve("relic density y (derived, y_eff = y/sqrt2)", m, d["relic"], "m_H0", "y", "GeV", "", panel="main"),
               Curve("relic density y (seed eq. 39)", m, d["relic (seed eq. 39)"], "m_H0", "y", "GeV", "", panel="main")]
    ax.plot([0.05], [0.01], "k*", ms=9, label=r"seed benchmark $m_{H_2^0}=50$ MeV, $y=0.01$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(m[0], m[-1])
    ax.set_ylim(1e-4, Y_TOP)
    ax.set_xlabel(r"$m_{\rm med}\equiv m_{H_2^0}$ [GeV]   ($m_\chi=m_{H_2^0}/3$)")
    ax.set_ylabel(r"$|y_\chi^{13}|$")
    finish(ax, legend_title="shaded: excluded", fontsize=6, loc="lower right")
    bounds = {k: d[k] for k in ("BBN", "N_eff", "K", "D", "Z", "direct")}
    win = allowed_window(d["m_med"], d["relic"], bounds)
    notes = [f"allowed window (relic, derived normalisation): m_chi = {win[0] / c.MeV:.3g} MeV - {win[1] / c.GeV:.3g} GeV"
             if win else "no allowed window", "m_A = m_H+ = 1 TeV; electron flavour; direct detection: XENON1T (nudmsim) "
             "+ DarkSide-50 2018, CRESST-III 2019 (digitised)"]
    fig.tight_layout()
    return FigureResult("seed001-fig4", curves, fig, notes)
