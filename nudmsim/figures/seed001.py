"""Seed 001 (Babu, Dev, Thapa) Fig. 4: Model 1 in the (m_H0, y) plane for m_chi = m_H0/3 (electron flavour),
recomputed with nudmsim: the relic-density coupling (existing freeze-out solver) and the BBN / N_eff, K and D
meson, Z invisible and direct-detection bounds of :mod:`nudmsim.models.model1_constraints`, with the numbers of
the ``model1`` card (detectors/model1.toml).

The allowed window is where the relic coupling lies below every bound; :func:`window_edges` finds its ends by
log-log interpolation between grid points and names the bound that sets each end.
"""
from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from .. import constants as c
from . import Curve, FigureOptions, FigureResult, figure
from ._style import finish, pyplot

RATIO = 3.0
M_A = 1.0e6      # m_A = m_H+ = 1 TeV (heavy inert states; LHC: m_H+ >~ 700 GeV for e, mu couplings)
Y_TOP = 4.0
BOUND_KEYS = ("BBN", "N_eff", "K", "D", "Z", "direct")


def _crossing(x0, x1, r0, r1):
    """x where log(r) (r = y_relic/y_bound, finite, r0 and r1 on either side of 1) crosses 0, log-log in x."""
    l0, l1 = math.log(r0), math.log(r1)
    t = l0 / (l0 - l1)
    return math.exp(math.log(x0) + t * (math.log(x1) - math.log(x0)))


def _edge(m_med, y_relic, bounds, i_out, i_in):
    """m_H0 [MeV] of the window end between grid point i_out (excluded) and i_in (allowed), and the bound
    that excludes i_out (the one the relic coupling exceeds by the largest factor)."""
    with np.errstate(divide="ignore"):          # a bound of 0 (N_eff) excludes by an infinite factor
        ratio = {k: y_relic[i_out] / v[i_out] for k, v in bounds.items() if y_relic[i_out] >= v[i_out]}
    by = max(ratio, key=ratio.get)
    yb = bounds[by]
    if 0 < yb[i_out] < np.inf and 0 < yb[i_in] < np.inf:
        return _crossing(m_med[i_out], m_med[i_in], y_relic[i_out] / yb[i_out], y_relic[i_in] / yb[i_in]), by
    return math.sqrt(m_med[i_out] * m_med[i_in]), by    # a step (kinematic edge, N_eff): to half a grid step


def window_edges(m_med, y_relic, bounds: dict):
    """The allowed window of the relic coupling: dict lo/hi = m_chi [MeV] of its ends (grid ends when it
    reaches them), lo_by/hi_by = the bound that sets each end ("end of grid" when none), or None if no grid
    point is allowed.  Only the first contiguous allowed stretch is returned."""
    ok = np.ones_like(m_med, bool)
    for yb in bounds.values():
        ok &= y_relic < yb
    if not ok.any():
        return None
    i0 = int(np.argmax(ok))
    i1 = i0
    while i1 + 1 < len(ok) and ok[i1 + 1]:
        i1 += 1
    lo, lo_by = (m_med[0], "end of grid") if i0 == 0 else _edge(m_med, y_relic, bounds, i0 - 1, i0)
    hi, hi_by = (m_med[-1], "end of grid") if i1 == len(ok) - 1 else _edge(m_med, y_relic, bounds, i1 + 1, i1)
    return {"lo": lo / RATIO, "hi": hi / RATIO, "lo_by": lo_by, "hi_by": hi_by}


def allowed_window(m_med, y_relic, bounds: dict):
    """(m_chi_min, m_chi_max) [MeV] of :func:`window_edges` (None if nowhere)."""
    w = window_edges(m_med, y_relic, bounds)
    return None if w is None else (w["lo"], w["hi"])


@functools.lru_cache(maxsize=4)
def fig4_data(n: int = 40):
    """Curves of Fig. 4 on a log grid of m_H0 [MeV]: dict name -> array (y values; inf = no bound).  "K" is the
    card's K bound (meson.k_bound); "K (R_K inclusive)" and "K (3 nu search)" are the two readings compared in
    docs/eft_and_models.md; "direct (XENON1T only)" is the direct-detection bound of nudmsim's XENON1T analysis
    alone (the bound before the published LZ/DarkSide-50 curves were added).  Cached: do not modify the arrays."""
    from ..models import model1 as M1
    from ..models import model1_constraints as K

    m_med = np.geomspace(3.0, 1.0e5, n)
    m_chi = m_med / RATIO
    pts = list(zip(m_chi, m_med))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y_seed = M1.relic_coupling_vectorised(m_chi, RATIO, convention="seed")
        out = {"m_med": m_med,
               "relic": np.sqrt(2.0) * y_seed,          # derived normalisation: y_eff = y/sqrt2 (model1 docstring)
               "relic (seed eq. 39)": y_seed,
               "BBN": np.array([K.bbn_y_max(a, b) for a, b in pts]),
               "K": np.array([K.meson_y_max(a, b, "K") for a, b in pts]),
               "K (R_K inclusive)": np.array([K.meson_y_max(a, b, "K", bound="rk_inclusive") for a, b in pts]),
               "K (3 nu search)": np.array([K.meson_y_max(a, b, "K", bound="3nu") for a, b in pts]),
               "D": np.array([K.meson_y_max(a, b, "D") for a, b in pts]),
               "Z": np.array([K.z_y_max(a, b) for a, b in pts]),
               "direct": np.array([K.dd_y_max(a, b, M_A) for a, b in pts]),
               "direct (XENON1T only)": np.array([K.dd_y_max(a, b, M_A, curves=[], analysis=True) for a, b in pts])}
    neff = K.neff_m_chi_min()
    out["N_eff"] = np.where(m_chi < neff, 0.0, np.inf)
    return out


def bounds_of(d: dict, k_key: str = "K", direct_key: str = "direct") -> dict:
    """The bounds of a :func:`fig4_data` dict that define the window, with a chosen K and direct-detection curve."""
    b = {k: d[k] for k in BOUND_KEYS}
    b["K"], b["direct"] = d[k_key], d[direct_key]
    return b


def _fmt(m):
    return f"{m / c.MeV:.3g} MeV" if m < c.GeV else f"{m / c.GeV:.3g} GeV"


@figure("seed001-fig4", seed="001", number="4", title="Model 1 (pseudo-Dirac DM, inert doublet): relic coupling and constraints, m_chi = m_H0/3")
def fig4(opts: FigureOptions) -> FigureResult:
    from ..models import model1_constraints as K

    plt = pyplot()
    d = fig4_data(22 if opts.quick else 44)
    m = d["m_med"] / c.GeV
    k_mode = K._card().get("meson.k_bound", str)
    curves = []
    fig, ax = plt.subplots(figsize=(7.2, 5.2))
    shade = {"BBN": ("tab:purple", "BBN (rates < H at 1 MeV)"), "N_eff": ("mediumpurple", r"$N_{\rm eff}$ (thermal $\chi$)"),
             "K": ("tab:blue", rf"$K^+\to e^+\chi H_2^0$ ({k_mode})"), "D": ("tab:red", r"$D^+\to e^+\chi H_2^0$"),
             "Z": ("0.5", r"$Z\to$ invisible"), "direct": ("tab:orange", "direct detection (LZ 2024, DS-50 2023, ...)")}
    for key, (color, label) in shade.items():
        yb = np.minimum(d[key], Y_TOP)
        fin = np.isfinite(d[key]) & (d[key] < Y_TOP)
        if not fin.any():
            continue
        ax.fill_between(m, np.where(fin, yb, Y_TOP), Y_TOP, where=fin, color=color, alpha=0.35, lw=0,
                        label=f"{label} (nudmsim)")
        curves.append(Curve(f"{key} bound", m[fin], d[key][fin], "m_H0", "y_max", "GeV", "", panel="main",
                            kind="band_lo"))
    lines = {"K (R_K inclusive)": ("--", "tab:blue", r"$K^+$: $R_K$ on the whole 3-body rate (seed's reading)"),
             "K (3 nu search)": (":", "tab:blue", r"$K^+\to e^+3\nu$ search bound"),
             "direct (XENON1T only)": (":", "tab:orange", "direct: XENON1T 2018 alone (nudmsim analysis)")}
    for key, (ls, color, label) in lines.items():
        ax.plot(m, np.minimum(d[key], 1e3), ls, color=color, lw=1.1, label=f"{label} (nudmsim)")
        curves.append(Curve(f"{key} bound", m, d[key], "m_H0", "y_max", "GeV", "", panel="main"))
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
    notes = []
    for title, kk in ((f"card K bound '{k_mode}'", "K"), ("K bound R_K inclusive (seed's reading)", "K (R_K inclusive)")):
        w = window_edges(d["m_med"], d["relic"], bounds_of(d, kk))
        notes.append(f"allowed window (relic, derived normalisation; {title}): m_chi = {_fmt(w['lo'])} ({w['lo_by']})"
                     f" - {_fmt(w['hi'])} ({w['hi_by']})" if w else f"no allowed window ({title})")
    notes.append("m_A = m_H+ = 1 TeV; electron flavour; direct detection: LZ 2024 (HEPData), DarkSide-50 2023 and "
                 "CRESST-III 2019 (digitised), XENON1T 2018 (nudmsim analysis)")
    fig.tight_layout()
    return FigureResult("seed001-fig4", curves, fig, notes)
