"""Seed 003 (Cline, Puel, Toma, JHEP 05 (2020) 039) Figs. 1-4, recomputed with nudmsim.

* fig1: Omega_N' contours in the (g_s, m_N') plane for m_s << m_N' (N'N'bar -> s s), m_s = 2.6 and 2.8 m_N'
  (N'N'bar -> s*, pole resolved; the narrow-width eq. 3.16 contour of 0.265 dashed for comparison)
  -- :mod:`nudmsim.models.hnl_dm_relic`, :mod:`nudmsim.cosmology.asymmetric`.
* fig2: model predictions |U_ei|^2(M_N) (NH, IH) against the laboratory limits of data/hnl_limits.
* fig3: minimum mu_bar(M_N) and r(M_N) (NH) -- :mod:`nudmsim.models.hnl_dm`.
* fig4: minimum lifetimes and decay lengths (E = 25 GeV) of N_2, N_3 (NH), weak decays (M_N < m_s) and with
  N -> nu s open (g_s = 0.14, m_s << M_N); branching ratios of the weak decays -- :mod:`nudmsim.processes.hnl_widths`.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import constants as c
from . import Curve, FigureOptions, FigureResult, figure
from ._style import draw, finish, limit_curves, pyplot

LEVELS = (0.1, 0.2, 0.265, 0.3, 0.4, 0.5, 1.0)
PANELS = ((0.0, (0.02, 0.22), "m_s \\simeq 0,\\ N'\\bar N'\\to ss"),
          (2.6, (0.05, 0.55), "m_s = 2.6\\,m_{N'},\\ N'\\bar N'\\to s^*"),
          (2.8, (0.15, 1.5), "m_s = 2.8\\,m_{N'},\\ N'\\bar N'\\to s^*"))


def _contour_curves(cs, levels, panel, label_fmt, x_name, y_name, computed=True, source="nudmsim"):
    out = []
    for lev, segs in zip(levels, cs.allsegs):
        for k, seg in enumerate(segs):
            if len(seg) < 2:
                continue
            label = label_fmt(lev) + (f" [segment {k + 1}]" if k else "")
            out.append(Curve(label, seg[:, 0], seg[:, 1], x_name, y_name, "", "GeV",
                             computed=computed, source=source, panel=panel, kind="contour"))
    return out


@figure("seed003-fig1", seed="003", number="1", title="N' relic density contours in the (g_s, m_N') plane")
def fig1(opts: FigureOptions) -> FigureResult:
    from ..models import hnl_dm_relic as R

    plt = pyplot()
    n = 9 if opts.quick else 16
    m_vals = np.linspace(0.5, 5.2, n) * c.GeV
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    curves, notes = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ax, (rel, (g_lo, g_hi), title) in zip(axes, PANELS):
            g_vals = np.linspace(g_lo, g_hi, n)
            om, _ = R.omega_grid(m_vals, g_vals, rel)
            G, Mg = np.meshgrid(g_vals, m_vals / c.GeV)
            panel = f"m_s/m_N'={rel:g}"
            cs = ax.contour(G, Mg, om, levels=list(LEVELS), colors="k",
                            linewidths=[2.4 if lv == R.OMEGA_OBS else 0.9 for lv in LEVELS])
            ax.clabel(cs, fmt="%g", fontsize=7)
            curves += _contour_curves(cs, LEVELS, panel, lambda lv: f"Omega_N'={lv:g}", "g_s", "m_N'")
            if rel > 0:
                om_nwa, _ = R.omega_grid(m_vals, g_vals, rel, nwa=True)
                cn = ax.contour(G, Mg, om_nwa, levels=[R.OMEGA_OBS], colors="tab:red", linestyles="--",
                                linewidths=1.2)
                curves += _contour_curves(cn, [R.OMEGA_OBS], panel, lambda lv: "Omega_N'=0.265 (narrow width, eq. 3.16)",
                                          "g_s", "m_N'")
                ax.plot([], [], "--", color="tab:red", label=r"$\Omega=0.265$, narrow width (eq. 3.16)")
            ax.plot([], [], "k-", lw=2.4, label=r"$\Omega_{N'}=0.265$ (nudmsim)")
            ax.set_xlabel(r"$g_s$")
            ax.set_ylabel(r"$m_{N'}$ [GeV]")
            ax.set_title(rf"${title}$", fontsize=9)
            finish(ax, legend_title="computed by nudmsim", loc="lower right")
    notes.append(f"grid {n}x{n} per panel; asymmetry eta_N' = (123/112) x 8.8e-11; Omega = Omega h^2/0.674^2")
    fig.tight_layout()
    return FigureResult("seed003-fig1", curves, fig, notes)


@figure("seed003-fig2", seed="003", number="2", title="HNL mixings with nu_e predicted by the model vs laboratory limits")
def fig2(opts: FigureOptions) -> FigureResult:
    from ..models import hnl_dm as D

    plt = pyplot()
    M = np.geomspace(0.1, 5.0, 40 if opts.quick else 120) * c.GeV
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
    curves = []
    lim_names = [("ps191_gambit_curve", "PS191 (digitised)"), ("charm_curve", "CHARM"), ("belle_bottom", "Belle"),
                 ("delphi_short_curve", "DELPHI"), ("delphi_long_curve", "DELPHI (long)"),
                 ("pienu_2017_curve", "PIENU"), ("triumf_curve", "TRIUMF")]
    for ax, order in zip(axes, D.ORDERINGS):
        panel = order
        cols = (1, 2) if order == "NH" else (0, 1)
        mu_ref = D.mu_bar_delphi(order)
        for mu, color, tag in ((mu_ref, "k", rf"\bar\mu_\nu={mu_ref / c.MeV:.1f}\,{{\rm MeV}}"),
                               (100 * mu_ref, "tab:red", rf"\bar\mu_\nu={100 * mu_ref / c.GeV:.2f}\,{{\rm GeV}}")):
            u2 = D.U2(M, mu, order)
            for col, ls in zip(cols, ("-", "-.")):
                cv = Curve(f"|U_e{col + 1}|^2 ({order}, mu_bar={mu / c.MeV:.3g} MeV)", M / c.GeV, u2[:, 0, col],
                           "M_N", "|U_ei|^2", "GeV", "", panel=panel)
                curves.append(cv)
                ax.plot(cv.x, cv.y, ls, color=color, lw=1.6, label=rf"$|U_{{e{col + 1}}}|^2$, ${tag}$ (nudmsim)")
        mu_ew = D.mu_bar_min_ewpd(M, order)
        ew = Curve(f"EWPD bound on Ubar_e^2 ({order})", M / c.GeV, D.ubar(M, mu_ew, order)[:, 0] ** 2, "M_N",
                   "|U_e|^2", "GeV", "", panel=panel)
        curves.append(ew)
        ax.plot(ew.x, ew.y, color="saddlebrown", lw=1.6, label=r"EWPD ($\epsilon_{ee}+\epsilon_{\mu\mu}$, nudmsim)")
        lims = limit_curves("e", lim_names, panel, y_name="|U_e|^2")
        for cv in lims:
            ax.plot(cv.x, cv.y, color="0.55", lw=0.9)
            ax.annotate(cv.label, (cv.x[len(cv.x) // 2], cv.y[len(cv.y) // 2]), fontsize=6, color="0.35")
        curves += lims
        ax.plot([], [], color="0.55", lw=0.9, label="laboratory limits (published)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(0.1, 5.0)
        ax.set_ylim(1e-12, 1e-1)
        ax.set_xlabel(r"$M_N$ [GeV]")
        ax.set_ylabel(r"$|U_{ei}|^2$")
        ax.set_title(f"{'normal' if order == 'NH' else 'inverted'} hierarchy", fontsize=9)
        finish(ax, legend_title=None, fontsize=6, loc="lower left")
    fig.tight_layout()
    return FigureResult("seed003-fig2", curves, fig, ["model curves: seed eqs. 4.2-4.4 with PDG 2024 oscillation data"])


@figure("seed003-fig3", seed="003", number="3", title="Minimum scale mu_bar(M_N) and mixing rescaling r(M_N), normal hierarchy")
def fig3(opts: FigureOptions) -> FigureResult:
    from ..models import hnl_dm as D

    plt = pyplot()
    M = np.geomspace(0.1, 4.5, 60 if opts.quick else 200) * c.GeV
    mu = D.mu_bar_min(M, "NH")
    r = D.r_of_M(M, "NH")
    r_seed = D.r_of_M(M, "NH", seed_formula=True)
    curves = [Curve("min mu_bar (NH)", M / c.GeV, mu / c.MeV, "M_N", "mu_bar_min", "GeV", "MeV", panel="left"),
              Curve("r(M_N) = U_max(M_N)/U_max(4.5 GeV)", M / c.GeV, r, "M_N", "r", "GeV", "", panel="right"),
              Curve("(5.8 MeV/min mu_bar)^1/2 as printed in the seed", M / c.GeV, r_seed, "M_N", "r", "GeV", "",
                    panel="right")]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.5, 4.0))
    a1.plot(curves[0].x, curves[0].y, "k-", lw=1.6, label=r"min $\bar\mu_\nu$ (nudmsim)")
    a1.fill_between(curves[0].x, 1e-4, curves[0].y, color="0.85", label="excluded")
    a1.set_xscale("log")
    a1.set_yscale("log")
    a1.set_ylim(1e-1, 1e7)
    a1.set_xlabel(r"$M_N$ [GeV]")
    a1.set_ylabel(r"min $\bar\mu_\nu$ [MeV]")
    finish(a1, legend_title=None)
    a2.plot(curves[1].x, curves[1].y, "k-", lw=1.6, label=r"$r$: $|U|_{\max}(M_N)/|U|_{\max}(4.5\,{\rm GeV})$ (nudmsim)")
    a2.plot(curves[2].x, curves[2].y, "--", color="tab:blue", lw=1.2, label=r"$(\bar\mu_{\rm ref}/\min\bar\mu_\nu)^{1/2}$ as printed (nudmsim)")
    a2.set_xscale("log")
    a2.set_yscale("log")
    a2.set_xlabel(r"$M_N$ [GeV]")
    a2.set_ylabel(r"$r(M_N)$")
    finish(a2, legend_title=None)
    fig.tight_layout()
    return FigureResult("seed003-fig3", curves, fig,
                        ["per-flavour limits on sum_i |U_li|^2, DELPHI on the total (normalised to Ubar < 0.0039 at 4.5 GeV), EWPD"])


@figure("seed003-fig4", seed="003", number="4", title="HNL lifetimes, decay lengths (E = 25 GeV) and branching ratios, normal hierarchy")
def fig4(opts: FigureOptions) -> FigureResult:
    from ..models import hnl_dm as D
    from ..processes.hnl_widths import CATEGORIES, HNL

    plt = pyplot()
    M = np.geomspace(0.1, 4.5, 30 if opts.quick else 90) * c.GeV
    u2 = D.U2(M, D.mu_bar_min(M, "NH"), "NH")     # (n, 3 flavours, 3 HNLs)
    E = 25.0 * c.GeV
    g_s = 0.14
    curves = []
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for i, name in ((1, "N2"), (2, "N3")):
        tau_w, tau_s, L_w, L_s, brs = [], [], [], [], {k: [] for k in CATEGORIES}
        for k, m in enumerate(M):
            h = HNL(m, *u2[k, :, i])
            hs = HNL(m, *u2[k, :, i], g_s=g_s, m_s=0.0)
            tau_w.append(h.lifetime() / c.s)
            tau_s.append(hs.lifetime() / c.s)
            L_w.append(float(h.decay_length(E)) / c.m)
            L_s.append(float(hs.decay_length(E)) / c.m)
            b = h.branching_ratios()
            for cat in CATEGORIES:
                brs[cat].append(b.get(cat, 0.0))
        ls = "-" if name == "N2" else "--"
        for vals, ax, yname, unit, tag in ((tau_w, axes[0, 0], "tau", "s", "weak, M_N < m_s"),
                                           (tau_s, axes[0, 0], "tau", "s", f"N -> nu s, g_s={g_s}"),
                                           (L_w, axes[0, 1], "decay length", "m", "weak, M_N < m_s"),
                                           (L_s, axes[0, 1], "decay length", "m", f"N -> nu s, g_s={g_s}")):
            cv = Curve(f"{name} {yname} ({tag})", M / c.GeV, np.array(vals), "M_N", yname, "GeV", unit, panel=yname)
            curves.append(cv)
            ax.plot(cv.x, cv.y, ls, color="k" if "weak" in tag else "tab:green", lw=1.5,
                    label=f"{name}, {tag} (nudmsim)")
        axb = axes[1, i - 1]
        for cat in CATEGORIES:
            y = np.array(brs[cat])
            if y.max() < 1e-3:
                continue
            cv = Curve(f"{name} B({cat})", M / c.GeV, y, "M_N", "branching ratio", "GeV", "", panel=f"BR {name}")
            curves.append(cv)
            axb.plot(cv.x, cv.y, lw=1.4, label=rf"${_cat_tex(cat)}$")
        axb.set_xscale("log")
        axb.set_yscale("log")
        axb.set_ylim(1e-3, 1.2)
        axb.set_xlabel(r"$M_N$ [GeV]")
        axb.set_ylabel(rf"$\mathcal{{B}}({name[0]}_{name[1]})$, weak decays")
        finish(axb, legend_title="computed by nudmsim", fontsize=6, loc="lower left")
    for ax, lab in ((axes[0, 0], r"min $\tau_N$ [s]"), (axes[0, 1], r"decay length at $E=25$ GeV [m]")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"$M_N$ [GeV]")
        ax.set_ylabel(lab)
        finish(ax, legend_title=None, fontsize=6)
    fig.tight_layout()
    return FigureResult("seed003-fig4", curves, fig,
                        ["mixings at the minimum mu_bar of Fig. 3; Dirac HNLs; N -> nu s with g_s = 0.14, m_s << M_N"])


def _cat_tex(cat: str) -> str:
    return {"nu gamma": r"\nu\gamma", "3 nu": r"3\nu", "nu l+ l-": r"\nu\ell^+\ell^-",
            "l- l'+ nu": r"\ell^-\ell'^+\nu", "nu h0": r"\nu h^0", "l- h+": r"\ell^- h^+",
            "nu s": r"\nu s", "dark": r"\chi\phi^*"}.get(cat, cat)
