"""Templates, background model, profile-likelihood limits and the E949 calibration for the meson analyses.

Statistics: binned Poisson likelihood in the reconstructed K-frame momentum, nu_i = mu s_i + a b_i(k), with
the power-law background normalisation a and index k as free nuisance parameters (profiled).  Limits are the
asymptotic CLs 90% CL upper limits on the Asimov (background-only) data set, median and +-1,2 sigma
(Cowan, Cranmer, Gross, Vitells, EPJC 71 (2011) 1554, eqs. 88-89): the median solves q_mu = 1.645^2.
(This small profile is self-contained; it can be swapped for nudmsim.stats when that lands.)
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .. import constants as c
from ..errors import NudmsimError

Z90 = 1.6448536269514722          # Phi^-1(0.95): CLs 90% median (p_b = 1/2)
N_TEMPLATE = 1_000_000


# ------------------------------------------------------------------------------------------------
# background
# ------------------------------------------------------------------------------------------------
def background_params(card):
    """(counts_per_MeV_at_ref, p_ref, index, float_index) in the card's exposure (resolving 'scaled')."""
    model = card.get("background.model", str, choices=("power_law", "scaled"))
    float_index = card.get("background.float_index", bool)
    if model == "power_law":
        return (card.number("background.counts_per_MeV_at_ref", positive=True),
                card.number("background.p_ref_MeV", positive=True),
                card.number("background.index"), float_index)
    ref = card.load_card("background.from_card", "detector")
    if ref.card_kind != "meson_decay" or ref.get("background.model", str) != "power_law":
        raise card.error("background.from_card", f"names '{ref.name}' (kind {ref.card_kind}), which has no "
                         "power_law background", "name a meson_decay card with model = \"power_law\" such as e949")
    a, p0, k, _ = background_params(ref)
    scale = (card.number("exposure.n_kaons", positive=True) * card.number("response.acceptance", positive=True)
             / (ref.number("exposure.n_kaons", positive=True) * ref.number("response.acceptance", positive=True)))
    return a * scale, p0, k, float_index


def power_law_bins(edges, a, p0, k):
    """Integral of a (p/p0)^k over each bin [events]."""
    lo, hi = edges[:-1] / p0, edges[1:] / p0
    if abs(k + 1) < 1e-9:
        return a * p0 * np.log(hi / lo)
    return a * p0 / (k + 1) * (hi ** (k + 1) - lo ** (k + 1))


# ------------------------------------------------------------------------------------------------
# profile likelihood
# ------------------------------------------------------------------------------------------------
def _nll(nu, n):
    nu = np.maximum(nu, 1e-300)
    return float(np.sum(nu - n * np.log(nu)))


def asimov_limit(sig, edges, bkg_a, p0, k0, float_index=True):
    """Median expected 90% CL (CLs, asymptotic) upper limit on the signal strength mu and the
    +-1, +-2 sigma band edges, for signal template ``sig`` (events per bin at mu = 1)."""
    from scipy import optimize, stats

    sig = np.asarray(sig, float)
    b0 = power_law_bins(edges, bkg_a, p0, k0)
    n = b0                                       # Asimov data (background only)
    nll0 = _nll(b0, n)
    if sig.sum() <= 0:           # no signal inside the analysis window: no limit
        return math.nan, {}
    centres = 0.5 * (edges[1:] + edges[:-1]) / p0
    logc = np.log(centres)

    def prof(mu):
        if float_index:
            def f(x):
                nu = mu * sig + b0 * np.exp(x[0] + (x[1]) * logc)
                return _nll(nu, n)
            r = optimize.minimize(f, x0=[-mu * sig.sum() / b0.sum(), 0.0], method="BFGS",
                                  options={"gtol": 1e-7})
            return r.fun
        r = optimize.minimize_scalar(lambda la: _nll(mu * sig + b0 * math.exp(la), n),
                                     bracket=(-0.1, 0.0), tol=1e-10)
        return r.fun

    def q(mu):
        return 2.0 * (prof(mu) - nll0) - Z90**2

    mu_hi = 2.0 * Z90 * math.sqrt(max(b0[sig > 0.01 * sig.max()].sum(), 1.0)) / sig.sum() + 1e-300
    for _ in range(60):
        if q(mu_hi) > 0:
            break
        mu_hi *= 3.0
    else:
        return math.nan, {}
    mu_up = optimize.brentq(q, 0.0, mu_hi, rtol=1e-6)
    sigma = mu_up / Z90
    bands = {}
    for nsig, key in ((-2, "-2"), (-1, "-1"), (1, "+1"), (2, "+2")):
        bands[key] = sigma * (stats.norm.ppf(1 - 0.10 * stats.norm.cdf(nsig)) + nsig)
    return mu_up, bands


# ------------------------------------------------------------------------------------------------
# templates (through the generator + detector response)
# ------------------------------------------------------------------------------------------------
def _hist(sample, edges):
    ev = sample.events
    p = np.asarray(ev["p_star_reco"])
    w = np.asarray(ev["weight"])
    return np.histogram(p, bins=edges, weights=w)[0]


def template_2body(card, m4, U2=1.0, n=N_TEMPLATE, seed=7):
    from . import meson as m

    edges = _edges(card)
    params = {"m4": m4, "U_mu4": math.sqrt(U2), "meson": 321, "lepton": 13}
    return _hist(m.generate_2body(params, card, n, np.random.default_rng(seed)), edges)


def template_3body(card, params, n=N_TEMPLATE, seed=7):
    from . import meson as m

    return _hist(m.generate_3body(params, card, n, np.random.default_rng(seed)), _edges(card))


def _edges(card):
    from ..response.meson_tracking import TrackingResponse
    from ..sources.meson_beams import load_meson_source

    src = load_meson_source(card.load_card("source.card", "source"))
    return TrackingResponse.from_card(card, in_flight=not src.at_rest).edges()


# ------------------------------------------------------------------------------------------------
# two-body: |U_mu4|^2 limit and the E949 calibration
# ------------------------------------------------------------------------------------------------
def u2_limit(card, m4, bkg=None):
    """(median, bands) expected 90% CL limit on |U_mu4|^2 at heavy-neutrino mass m4 [MeV]."""
    a, p0, k, fl = bkg if bkg is not None else background_params(card)
    sig = template_2body(card, m4, 1.0)
    mu, bands = asimov_limit(sig, _edges(card), a, p0, k, fl)
    return mu, bands


def _limit_point_2body(args):
    card_path, m4, bkg = args
    from ..cards import load_detector

    return u2_limit(load_detector(card_path), m4, bkg)


def read_csv(path) -> dict:
    """Columns (lists of strings) of a CSV with a '#' provenance header block."""
    import csv

    with open(path) as fh:
        rows = list(csv.reader(line for line in fh if not line.startswith("#") and line.strip()))
    head, body = rows[0], rows[1:]
    return {h: [r[i] for r in body] for i, h in enumerate(head)}


def _floats(col):
    return np.array([float(x) if x not in ("", "nan") else np.nan for x in col])


@lru_cache(maxsize=1)
def digitised_e949():
    """{source: (m_MeV, |U_mu4|^2 limit)} from data/e949 (three digitisations)."""
    from ..paths import data_file

    path = data_file("e949", "e949_HNL_Umu4_limit_digitized.csv")
    raw = read_csv(path)
    source = np.array(raw["source"])
    mm, uu = _floats(raw["m_N_MeV"]), _floats(raw["Umu4_sq_UL90"])
    out = {}
    for src in np.unique(source):
        sel = source == src
        m, u = mm[sel], uu[sel]
        o = np.argsort(m)
        out[str(src)] = (m[o], u[o])
    return out


def smoothed_digitised(m_grid, window=10.0):
    """Running geometric mean of all three digitisations within +-window MeV (the published limit
    oscillates with the data fluctuations; a smooth background model can only follow its trend)."""
    d = digitised_e949()
    m_all = np.concatenate([v[0] for v in d.values()])
    u_all = np.concatenate([v[1] for v in d.values()])
    out = []
    for m in m_grid:
        sel = np.abs(m_all - m) <= window
        out.append(math.exp(np.mean(np.log(u_all[sel]))) if sel.any() else math.nan)
    return np.array(out)


def calibration_report(card, m_grid=None, lim=None):
    """Compare the card's expected |U_mu4|^2 limit with the digitised E949 curve over 180-300 MeV.

    Returns dict: max_factor_smoothed (max over the grid of the ratio ours/smoothed, either way),
    frac_within_2_raw (fraction of raw digitised points within a factor 2), per source medians."""
    m_grid = np.arange(180.0, 300.1, 5.0) if m_grid is None else m_grid
    if lim is None:
        lim = np.array([u2_limit(card, m)[0] for m in m_grid])
    sm = smoothed_digitised(m_grid)
    fac = np.exp(np.abs(np.log(lim / sm)))
    rep = {"m_grid": m_grid, "limit": lim, "smoothed": sm, "max_factor_smoothed": float(np.nanmax(fac))}
    n_ok = n_all = 0
    for src, (m, u) in digitised_e949().items():
        sel = (m >= 180) & (m <= 300)
        ours = np.exp(np.interp(m[sel], m_grid, np.log(lim)))
        r = ours / u[sel]
        n_ok += int(np.sum((r <= 2) & (r >= 0.5)))
        n_all += int(sel.sum())
        rep[f"median ratio ours/{src}"] = float(np.median(r))
    rep["frac_within_2_raw"] = n_ok / max(n_all, 1)
    return rep


def fit_calibration(card, params, plot=None, **_):
    """Fit the power-law background (level, index) so the two-body limit reproduces E949.

    For a fixed index the limit scales as sqrt(level) (asymptotic regime, checked), so the level is solved
    in closed form and only the index is scanned/minimised.  Prints the values to put in the card."""
    from scipy import optimize

    if params:  # took ~1.5 min and then ignored them
        raise NudmsimError(f"meson-2body fit: unknown --set {sorted(params)[0]} (the calibration has no parameters)")
    a0, p0, k_card, fl = background_params(card)
    m_grid = np.arange(180.0, 300.1, 5.0)
    target = np.log(smoothed_digitised(m_grid))
    cache = {}

    def curve(k):
        if k not in cache:
            cache[k] = np.log([u2_limit(card, m, (a0, p0, k, fl))[0] for m in m_grid])
        return cache[k]

    def cost(k):
        # minimax in log space (the acceptance criterion is a maximum factor): for fixed k the best
        # shift of log(limit) (= 0.5 log of the level ratio) is the mid-range of the deviations
        d = target - curve(k)
        shift = 0.5 * (d.max() + d.min())
        return float(0.5 * (d.max() - d.min())), shift, float(np.sqrt(np.mean((d - shift) ** 2)))

    res = optimize.minimize_scalar(lambda k: cost(k)[0], bounds=(-5.0, 25.0), method="bounded",
                                   options={"xatol": 0.05})
    k_best = float(res.x)
    worst, shift, rms = cost(k_best)
    a_best = a0 * math.exp(2 * shift)
    lim = np.exp(curve(k_best) + shift)
    rep = calibration_report(card, m_grid, lim)
    out = {"background.index": k_best, "background.counts_per_MeV_at_ref": a_best,
           "background.p_ref_MeV": p0, "rms log-deviation (smoothed)": rms,
           "max factor vs smoothed digitised (180-300 MeV)": rep["max_factor_smoothed"],
           "fraction of raw digitised points within x2": rep["frac_within_2_raw"]}
    if plot:
        _plot_calibration(plot, m_grid, lim)
    return out


def _plot_calibration(path, m_grid, lim):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for src, (m, u) in digitised_e949().items():
        ax.plot(m, u, ".", ms=3, label=f"E949 digitised ({src})")
    ax.plot(m_grid, lim, "k-", lw=2, label="nudmsim calibrated card (expected)")
    from ..paths import data_file

    for name, label in (("na62_curve", "NA62 2021"), ("kek_curve", "KEK E089"), ("pienu_he_curve", "PIENU")):
        f = data_file("hnl_limits", "curves", "Umu4", f"{name}.csv")
        if f.is_file():          # other published |U_mu4|^2 limits (HNLimits collection), for context
            cols = read_csv(f)
            x, y = _floats(cols[list(cols)[0]]), _floats(cols[list(cols)[1]])
            sel = (x > 150) & (x < 400)
            ax.plot(x[sel], y[sel], "-", color="0.6", lw=1)
            if sel.any():
                ax.annotate(label, (x[sel][-1], y[sel][-1]), fontsize=6, color="0.4")
    ax.set_yscale("log")
    ax.set_xlabel("m4 [MeV]")
    ax.set_ylabel("|U_mu4|^2 90% CL")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)  # inside, it hid KEK
    save_figure(fig, path)
    plt.close(fig)


def limit_2body(req):
    from ..scan import map_points
    from ..stats.curves import LimitCurve, expected_from_points

    req.refuse_unused("meson-2body", ("reference",), projected=True)
    card = req.card
    masses = req.masses if req.masses is not None else np.arange(175.0, 311.0, 5.0)
    M = c.M_KAON - c.M_MUON
    if np.any(masses >= M):
        raise NudmsimError(f"--masses: K+ -> mu+ nu4 needs m4 < m_K - m_mu = {M:.4g} MeV")
    bkg = background_params(card)
    res = map_points(_limit_point_2body, [(str(card.path), float(m), bkg) for m in masses],
                     scheduler=req.scheduler, progress=req.progress, label="meson-2body")
    med, bands = expected_from_points(res)
    overlay = str(req.options.get("reference", "yes")).lower() not in ("no", "0", "false", "none")
    d = digitised_e949().get("HNLimits_bnl_e949") if overlay else None
    projected = req.projected or card.name != "e949"
    return LimitCurve(x=masses, observed=np.full(len(masses), np.nan),
                      x_label="m4", y_label="|U_mu4|^2", x_unit="MeV", y_unit="", expected=med, bands=bands,
                      title=f"K+ -> mu+ nu4 (invisible), {card.name}: 90% CL "
                            f"{'projection' if projected else 'expected, card calibrated on the E949 limit'}",
                      provenance="no public E949 spectrum: the curve is the Asimov median of the calibrated card "
                                 f"(observed column NaN); nudmsim meson-2body; card {card.name} "
                                 f"sha256 {card.sha256[:12]}; background "
                                 "power law calibrated on the digitised E949 limit (PRD 91, 052001)",
                      reference=(d[0], d[1], "E949 published (digitised, HNLimits)") if d is not None else None)


# ------------------------------------------------------------------------------------------------
# three-body: Y_mu vs m_chi
# ------------------------------------------------------------------------------------------------
def _parse_m4(text):
    text = str(text).strip()
    if text.endswith("x"):
        try:
            return ("ratio", float(text[:-1]))
        except ValueError:
            pass
    from ..registry import Param, parse_value

    return ("mass", parse_value("m4", text, Param(1.0, "MeV")))


def _limit_point_3body(args):
    card_path, m_chi, r, m4, y_L, bkg = args
    from ..cards import load_detector

    card = load_detector(card_path)
    m_phi = r * m_chi
    if m_chi + m_phi >= c.M_KAON - c.M_MUON:
        return math.nan, {}
    U_ref = 1e-3
    params = {"m_chi": m_chi, "m_phi": m_phi, "m4": m4, "y_L": y_L, "U_mu4": U_ref, "U_e4": 0.0,
              "U_tau4": 0.0, "meson": 321, "lepton": 13}
    sig = template_3body(card, params)
    a, p0, k, fl = bkg
    mu, bands = asimov_limit(sig, _edges(card), a, p0, k, fl)
    # signal scales as |U|^2 (|U_N4|^2 ~ 1): |U|^2_lim = mu U_ref^2; Y = y_L^4 |U|^4 / r^4
    def to_y(x):
        return y_L**4 * (x * U_ref**2) ** 2 / r**4

    return to_y(mu), {k_: to_y(v) for k_, v in bands.items()}


def limit_3body(req):
    from ..scan import map_points
    from ..stats.curves import LimitCurve, expected_from_points

    req.refuse_unused("meson-3body", ("m4", "y_L"), ratio=True, projected=True)
    card = req.card
    r = req.ratio or 3.0
    kind, val = _parse_m4(req.options.get("m4", "10x"))
    y_L = float(req.options.get("y_L", 4 * math.pi))
    if not (0 < y_L <= 4 * math.pi):
        raise NudmsimError(f"--option y_L={y_L}: must be in (0, 4pi]")
    masses = req.masses if req.masses is not None else np.array(
        [1, 2, 3, 5, 7, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 95.0])
    lim_m = (c.M_KAON - c.M_MUON) / (1 + r)
    if np.any(masses >= lim_m):
        raise NudmsimError(f"--masses: K+ -> mu+ chi phi is kinematically forbidden for m_chi >= "
                           f"(m_K - m_mu)/(1 + r) = {lim_m:.4g} MeV (m_chi + m_phi > m_K - m_mu)")
    bkg = background_params(card)
    pts = [(str(card.path), float(m), r, (val * m if kind == "ratio" else val), y_L, bkg) for m in masses]
    res = map_points(_limit_point_3body, pts, scheduler=req.scheduler, progress=req.progress, label="meson-3body")
    med, bands = expected_from_points(res)
    kind_txt = "projection" if (req.projected or card.name != "e949") else "expected (calibrated E949 card)"
    m4txt = f"m4 = {val:g} m_chi" if kind == "ratio" else f"m4 = {val / 1000:g} GeV"
    # thermal target <sigma v> = 1 pb ~ 3e-26 cm^3/s -> Y = 32 pi m_chi^2 sigma v (1 + 1/r^2)^2
    sv = 3e-26 / (c.INV_MEV2_TO_CM2 * (c.C_LIGHT / (c.cm / c.s)))
    y_th = 32 * math.pi * masses**2 * sv * (1 + 1 / r**2) ** 2
    return LimitCurve(x=masses, observed=np.full(len(masses), np.nan),
                      x_label="m_chi", y_label="Y_mu", x_unit="MeV", y_unit="", expected=med, bands=bands,
                      title=f"K+ -> mu+ chi phi, {card.name} {kind_txt}, m_phi = {r:g} m_chi, {m4txt}, "
                            f"y_L = {y_L:.3g}",
                      provenance="no public E949 spectrum: Asimov median of the calibrated card "
                                 f"(observed column NaN); nudmsim meson-3body; card {card.name} "
                                 f"sha256 {card.sha256[:12]}; "
                                 "E949 background calibrated on the two-body limit; Asimov CLs",
                      reference=(masses, y_th, "<sigma v> = 1 pb (thermal target)"))


# ------------------------------------------------------------------------------------------------
# K+ -> pi+ phi: y_q bound
# ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def e949_kpix_limits():
    """(m_X [MeV], B(K+ -> pi+ X) 90% UL) for stable/invisible X (tau = inf), NaN rows dropped."""
    from ..paths import data_file

    raw = read_csv(data_file("e949", "e949_Kpi_X_invisible_BR_limits_digitized.csv"))
    sel = np.array(raw["tau_label"]) == "inf"
    m = _floats(raw["m_X_GeV"])[sel] * 1000.0
    b = _floats(raw["BR_UL90"])[sel]
    ok = np.isfinite(b) & np.isfinite(m)
    return m[ok], b[ok]


def yq_bound(m_phi=None):
    from ..processes import meson_decays as md

    m, b = e949_kpix_limits()
    if m_phi is None:
        return m, md.yq_from_br(b, m)
    return np.interp(m_phi, m, md.yq_from_br(b, m), left=np.nan, right=np.nan)


def limit_kpiphi(req):
    from ..stats.curves import LimitCurve

    req.refuse_unused("kaon-pi-phi")  # the published E949 B limits: no options, ratio or projection
    md_, yd = yq_bound()
    m = req.masses if req.masses is not None else np.concatenate([[1.0], np.arange(5.0, 256.0, 5.0)])
    y = np.interp(m, md_, yd, left=np.nan, right=np.nan)
    # no interpolation across the K+ -> pi+ pi0 gap of the E949 signal regions (~125-150 MeV)
    j = np.clip(np.searchsorted(md_, m), 1, len(md_) - 1)
    y = np.where((md_[j] - md_[j - 1] > 10.0) & (m > md_[j - 1]) & (m < md_[j]), np.nan, y)
    x = m
    return LimitCurve(x=x, observed=y, x_label="m_phi", y_label="y_q", x_unit="MeV", y_unit="",
                      title="K+ -> pi+ phi (phi invisible): 90% CL on y_q from E949 B(K+ -> pi+ X)",
                      provenance="E949 PRD 79, 092004 (2009) B(K+->pi+X) digitised (ALPaca); amplitude: top-W "
                                 "penguin, Higgs-portal coefficient with y_t -> y_q (docs/meson_decays.md)",
                      reference=(x, np.full(len(x), 1.58e-4), "seed 004 eq. 2: y_q < 1.58e-4"))
