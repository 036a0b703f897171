"""Constraints on Model 1 in the (m_H0, y) plane (seed 001 Fig. 4, m_chi = m_H0/3), electron flavour.

Each function returns the largest allowed y (sum over flavours in quadrature; the meson bounds are for y_e) at
given masses [MeV]; every rate scales as a fixed power of y, so one evaluation at y = 1 suffices.  The numbers
each bound uses are in the ``model1`` card (detectors/model1.toml) with their sources.

* BBN: the rate of nu nubar -> chi chibar per neutrino, Gamma = n_chi,eq^2 <sigma v>/n_nu (detailed balance of
  chi chibar -> nu nubar; n_nu = 3 zeta(3) T^3/(4 pi^2) for one flavour of nu + nubar), must stay below H(T) at
  the card's T (1 MeV): Gamma ~ y^4 e^{-2 m_chi/T}.  Plus N_eff: a thermal chi lighter than 10.8 MeV is excluded
  (nudmsim.cosmology.thermal.neff_mass_bound).
* K+, D+ -> e+ chi H2^0 through the off-shell light neutrino: the existing meson machinery
  (nudmsim.processes.meson_decays) with the neutrino-portal amplitude at m4 -> infinity; there the coupling
  product y_L^2 |U_N4|^2 |U_e4|^2 multiplies the light-nu propagator, and Model 1 has it = y_eff^2 = y^2/2
  (H2^0 Xbar P_L nu_e).  Which K bound (card meson.k_bound, see docs/eft_and_models.md):
    "direct" (default): the bounds that apply to the decay as the experiments selected it -- the direct search
      B(K+ -> e+ nu nu nubar) < 6e-5 (invisible continuum) and the R_K lepton-universality bound 1.5e-7 applied
      only to the part of the rate with invisible mass M_miss < card meson.k_e2_m_miss_max_MeV (a K_e2 sample
      must exclude M_miss >= m_pi0 to reject K_e3; NA62's window is narrower still): the smaller y_max;
    "rk_inclusive": the R_K bound applied to the whole 3-body rate (the lepton-universality reading of seed 001's
      Ref. Dev:2025tdv and of Bakhti-Farzan 2017 / Okawa-Omura 2025); it puts the window's lower edge at the K+
      kinematic edge m_chi + m_H0 = m_K - m_e, as seed 001 Fig. 4 does;
    "3nu", "rk_window": one of the two parts of "direct".
  D: B(D+ -> e+ nu) < 8.8e-6 (card) applied to the whole 3-body rate.
* Z -> nu chi H2^0 (+ conjugate) through the off-shell neutrino: Gamma from the exact 3-body matrix element
  (derived in docs/eft_and_models.md; checked: Z -> nu nubar normalisation), compared with Delta N_nu < 0.0085.
* Direct detection: sigma_SI (isospin-weighted for xenon) vs the strongest of the card's published limits
  (direct.curves, files under data/ with provenance headers: by default LZ 2024 from HEPData and the digitised
  DarkSide-50 2023 and CRESST-III 2019 curves) and the XENON1T limit computed by nudmsim's own ``xenon1t-si``
  analysis (registry.get_analysis("xenon1t-si").limit with a stats.curves.LimitRequest, card xenon1t_2018).
  Each limit is used only inside its own mass range (log-log interpolation, no extrapolation).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import constants as c
from ..cosmology import dof, relic, thermal
from ..errors import ParameterError
from .model1 import Model1

ZETA3 = 1.2020569031595942


def _card():
    from .. import cards

    return cards.load_detector("model1")


def _m1(m_chi, m_H0, m_A=1e6, m_Hp=1e5, y=1.0) -> Model1:
    return Model1(float(m_chi), float(m_H0), float(m_A), float(m_Hp), y_e=float(y))


# ------------------------------------------------------------------------------------------------
# BBN / N_eff
# ------------------------------------------------------------------------------------------------
def bbn_rate_over_hubble(m_chi, m_H0, y, T=None, convention: str = "derived") -> float:
    """Gamma(nu nubar -> chi chibar)/H at temperature T [MeV] (card bbn.T_MeV by default)."""
    T = T if T is not None else _card().get("bbn.T_MeV", float)
    m = _m1(m_chi, m_H0, y=y)
    x = m_chi / T
    sv = float(thermal.sigma_v_thermal(x, m.y_eff(convention), m_chi, m_H0 / m_chi))
    n_chi = 2.0 * (m_chi * T / (2 * math.pi)) ** 1.5 * math.exp(-x)        # Dirac chi: 2 spin states
    n_nu = 3 * ZETA3 * T**3 / (4 * math.pi**2)
    H = math.sqrt(8 * math.pi**3 * float(dof.g_eff(T)) / 90.0) * T * T / relic.M_PLANCK
    return n_chi * n_chi * sv / n_nu / H


def bbn_y_max(m_chi, m_H0, T=None, convention: str = "derived") -> float:
    """Largest y with Gamma/H < 1 at BBN (Gamma ~ y^4)."""
    r = bbn_rate_over_hubble(m_chi, m_H0, 1.0, T, convention)
    return r ** -0.25 if r > 0 else math.inf


def neff_m_chi_min() -> float:
    """Smallest thermal m_chi [MeV] allowed by N_eff (card bbn.neff_max)."""
    return thermal.neff_mass_bound(_card().get("bbn.neff_max", float))


# ------------------------------------------------------------------------------------------------
# meson decays
# ------------------------------------------------------------------------------------------------
def meson_br(m_chi, m_H0, y, meson: str = "K", lepton: str = "e") -> float:
    """B(M+ -> l+ chi H2^0) for Yukawa y to flavour l (0 if closed), via nudmsim.processes.meson_decays."""
    from ..processes import meson_decays as md
    from .neutrino_portal import NeutrinoPortal

    M, ml = md.meson_mass(meson), md.LEPTONS[lepton]
    if m_chi + m_H0 >= M - ml:
        return 0.0
    # y_L^2 |U_N4|^2 |U_l4|^2 = y^2/2 with |U_l4|^2 = 1/2 (so |U_N4|^2 = 1/2): y_L = y; m4 -> infinity
    u = math.sqrt(0.5)
    kw = {"U_e4": u} if lepton == "e" else {"U_mu4": u}
    model = NeutrinoPortal(float(m_chi), float(m_H0), 1e12, float(y), **{"U_e4": 0.0, "U_mu4": 0.0, **kw})
    return md.br_three_body(model, meson, lepton)


K_BOUNDS = ("direct", "rk_inclusive", "3nu", "rk_window")


def meson_br_window(m_chi, m_H0, y, meson: str = "K", lepton: str = "e", m_miss_max=None) -> float:
    """The part of B(M+ -> l+ chi H2^0) with invisible mass sqrt(s) = M_miss < m_miss_max [MeV] (all of it when
    m_miss_max is None): the rate a two-body (missing mass ~ 0) selection could have counted."""
    from ..processes import meson_decays as md

    br = meson_br(m_chi, m_H0, y, meson, lepton)
    if br == 0.0 or m_miss_max is None:
        return br
    s_lo, s_hi = md.s_range(meson, lepton, float(m_chi), float(m_H0))
    s_cut = min(float(m_miss_max) ** 2, s_hi)
    if s_cut <= s_lo:
        return 0.0
    from .neutrino_portal import NeutrinoPortal

    u = math.sqrt(0.5)
    kw = {"U_e4": u} if lepton == "e" else {"U_mu4": u}
    model = NeutrinoPortal(float(m_chi), float(m_H0), 1e12, float(y), **{"U_e4": 0.0, "U_mu4": 0.0, **kw})
    f = lambda s: float(md.dgamma_ds(model, meson, lepton, s))  # noqa: E731
    part = md._s_integral(f, s_lo, s_cut, model.m4, 0.0)
    return br * part / md._s_integral(f, s_lo, s_hi, model.m4, 0.0)


def meson_y_max(m_chi, m_H0, meson: str = "K", lepton: str = "e", bound: str | None = None) -> float:
    """Largest y_l allowed by the card's B(M -> l + invisible) limits (B ~ y^2); inf if nothing applies.

    For the K the bound is chosen by ``bound`` (default: card meson.k_bound), one of :data:`K_BOUNDS`:
    "rk_inclusive" (R_K bound on the whole 3-body rate), "3nu" (B(K+ -> e+ 3 nu) search), "rk_window" (R_K bound
    on the rate with M_miss < meson.k_e2_m_miss_max_MeV) or "direct" (the smaller of "3nu" and "rk_window").
    The D uses B(D+ -> e+ nu) on the whole rate."""
    card = _card()
    if meson == "D":
        br1 = meson_br(m_chi, m_H0, 1.0, "D", lepton)
        return math.sqrt(card.get("meson.d_e_invisible_br_max", float) / br1) if br1 > 0 else math.inf
    bound = bound or card.get("meson.k_bound", str)
    if bound not in K_BOUNDS:
        raise ParameterError(f"unknown K bound {bound!r}: use one of {', '.join(K_BOUNDS)}")
    if bound == "direct":
        return min(meson_y_max(m_chi, m_H0, "K", lepton, "3nu"), meson_y_max(m_chi, m_H0, "K", lepton, "rk_window"))
    key = "meson.k_e_3nu_br_max" if bound == "3nu" else "meson.k_e_invisible_br_max"
    m_miss = card.get("meson.k_e2_m_miss_max_MeV", float) if bound == "rk_window" else None
    br1 = meson_br_window(m_chi, m_H0, 1.0, "K", lepton, m_miss)
    return math.sqrt(card.get(key, float) / br1) if br1 > 0 else math.inf


# ------------------------------------------------------------------------------------------------
# Z invisible width
# ------------------------------------------------------------------------------------------------
def width_z_nu_chi_h(m_chi, m_H0, y, n: int = 96) -> float:
    """Gamma(Z -> nu chi H2^0) + Gamma(Z -> nubar chibar H2^0) [MeV] for y_eff = y/sqrt2.

    Amplitude y_eff g_Z ubar_nu(p1) gamma^mu qslash P_R v_chi(p2) eps_mu / q^2, q = p2 + p3, g_Z = g/(2 c_W):
    sum|M|^2 = y_eff^2 g_Z^2/q^4 [2 p1.K + 4 (k.p1)(k.K)/M_Z^2], K = 2 (q.p2) q - q^2 p2 (the chi mass drops by
    chirality), averaged over the 3 Z polarisations."""
    MZ = c.M_Z
    m2, m3 = float(m_chi), float(m_H0)
    if m2 + m3 >= MZ:
        return 0.0
    gz2 = math.sqrt(2) * c.G_FERMI * MZ**2          # g^2/(4 c_W^2) = G_F M_Z^2/sqrt2 ... x 2 (see below)
    gz2 *= 1.0                                     # g_Z^2 = g^2/(4 c_W^2) = sqrt2 G_F M_Z^2
    ye2 = y * y / 2.0
    x, w = np.polynomial.legendre.leggauss(n)
    # Dalitz variables: s23 = q^2 (log-mapped, collinear enhancement at small q^2), s12 = (p1 + p2)^2
    lo, hi = (m2 + m3) ** 2, MZ**2
    u = 0.5 * (math.log(hi) - math.log(lo)) * x + 0.5 * (math.log(hi) + math.log(lo))
    s23 = np.exp(u)
    jac23 = 0.5 * (math.log(hi) - math.log(lo)) * w * s23
    # s12 limits at fixed s23 (particles 2,3 | 1): E2*, E1* in the 23 rest frame
    r = np.sqrt(s23)
    e2 = (s23 + m2 * m2 - m3 * m3) / (2 * r)
    e1 = (MZ**2 - s23) / (2 * r)
    p2 = np.sqrt(np.maximum(e2 * e2 - m2 * m2, 0))
    a, b = (e1 + e2) ** 2 - (e1 + p2) ** 2, (e1 + e2) ** 2 - (e1 - p2) ** 2
    s12 = 0.5 * (b - a)[:, None] * x[None, :] + 0.5 * (b + a)[:, None]
    q2 = s23[:, None]
    s13 = MZ**2 + m2 * m2 + m3 * m3 - s12 - q2
    qp2 = (q2 + m2 * m2 - m3 * m3) / 2
    p1q = (MZ**2 - q2) / 2
    p1p2 = (s12 - m2 * m2) / 2
    kq = (MZ**2 + q2) / 2
    kp2 = (MZ**2 + m2 * m2 - s13) / 2
    p1K = 2 * qp2 * p1q - q2 * p1p2
    kK = 2 * qp2 * kq - q2 * kp2
    kp1 = (MZ**2 - q2) / 2
    msq = ye2 * gz2 / q2**2 * (2 * p1K + 4 * kp1 * kK / MZ**2) / 3.0
    inner = (msq * w[None, :]).sum(axis=1) * 0.5 * (b - a)
    gamma = float((inner * jac23).sum()) / (256 * math.pi**3 * MZ**3)
    return 2.0 * gamma


def width_z_nunu() -> float:
    """Gamma(Z -> nu nubar) for one flavour at tree level, G_F M_Z^3/(12 sqrt2 pi) [MeV]."""
    return c.G_FERMI * c.M_Z**3 / (12 * math.sqrt(2) * math.pi)


def z_y_max(m_chi, m_H0) -> float:
    """Largest y with Gamma(Z -> nu chi H) < Delta N_nu^max x Gamma(Z -> nu nubar) (Gamma ~ y^2)."""
    g1 = width_z_nu_chi_h(m_chi, m_H0, 1.0)
    dn = _card().get("z.delta_n_nu_max", float)
    return math.sqrt(dn * width_z_nunu() / g1) if g1 > 0 else math.inf


# ------------------------------------------------------------------------------------------------
# direct detection
# ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def read_limit_curve(rel: str) -> tuple[np.ndarray, np.ndarray]:
    """(m [MeV], sigma_SI [cm^2]) from a published limit under data/ (columns m_chi_GeV, sigma_SI_cm2, ...)."""
    from ..paths import data_file

    path = data_file(*rel.split("/"))
    if not path.is_file():
        raise ParameterError(f"direct-detection limit file {rel!r} not found under data/: fix model1.toml [direct] curves")
    rows = [ln.split(",")[:2] for ln in path.read_text().splitlines() if ln and not ln.startswith(("#", "m_"))]
    arr = np.array(rows, dtype=float)
    return arr[:, 0] * c.GeV, arr[:, 1]


def _published_curves(curves=None):
    return [(*read_limit_curve(rel), rel) for rel in (_card().get("direct.curves", list) if curves is None else curves)]


@functools.lru_cache(maxsize=4)
def xenon1t_curve(masses_gev: tuple) -> tuple[np.ndarray, np.ndarray]:
    """(m [MeV], sigma_SI limit [cm^2]) from nudmsim's XENON1T analysis at these masses [GeV] (public API:
    registry.get_analysis("xenon1t-si").limit(LimitRequest), asymptotic threshold, in-process)."""
    from .. import cards, registry
    from ..stats.curves import LimitRequest

    entry = registry.get_analysis(_card().get("direct.analysis", str))
    card = cards.load_detector(_card().get("direct.detector", str))
    req = LimitRequest(card=card, masses=np.asarray(masses_gev, float) * c.GeV, scheduler="sync", progress=False,
                       options={"asymptotic": "1"})
    curve = entry.limit(req)
    return np.asarray(curve.x, float) * c.GeV, np.asarray(curve.observed, float)


XENON_MASSES_GEV = (6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0)


def dd_limits_by_source(m_chi, curves=None, analysis: bool | None = None) -> dict:
    """{source: sigma_SI limit [cm^2] at m_chi [MeV] (inf outside its mass range)} for every limit used:
    the card's published curves (or ``curves``, paths under data/) and, when ``analysis`` (default: the card
    names one), nudmsim's own XENON1T limit ("xenon1t-si (nudmsim)")."""
    m = np.atleast_1d(np.asarray(m_chi, float))
    out = {}
    srcs = list(_published_curves(curves))
    use = bool(_card().get("direct.analysis", str)) if analysis is None else analysis
    if use:
        mx, sx = xenon1t_curve(XENON_MASSES_GEV)
        ok = np.isfinite(sx)
        srcs.append((mx[ok], sx[ok], f"{_card().get('direct.analysis', str)} (nudmsim)"))
    for cm, cs, name in srcs:
        lim = np.full(m.shape, np.inf)
        sel = (m >= cm.min()) & (m <= cm.max())
        lim[sel] = np.exp(np.interp(np.log(m[sel]), np.log(cm), np.log(cs)))
        out[name] = lim
    return out


def dd_limit(m_chi, curves=None, analysis: bool | None = None) -> np.ndarray:
    """Strongest SI limit [cm^2] at m_chi [MeV] among :func:`dd_limits_by_source`; inf if none applies."""
    m = np.atleast_1d(np.asarray(m_chi, float))
    best = np.full(m.shape, np.inf)
    for lim in dd_limits_by_source(m, curves, analysis).values():
        best = np.minimum(best, lim)
    return best


def dd_y_max(m_chi, m_H0, m_A=1e6, limit_cm2=None, curves=None, analysis: bool | None = None) -> float:
    """Largest y allowed by direct detection (sigma ~ y^4), xenon isospin weighting; the limit is ``limit_cm2``
    or the strongest of :func:`dd_limit` (card curves, or ``curves``, and the nudmsim XENON1T analysis)."""
    lim = float(dd_limit(m_chi, curves, analysis)[0]) if limit_cm2 is None else limit_cm2
    if not math.isfinite(lim):
        return math.inf
    s1 = _m1(m_chi, m_H0, m_A=m_A).sigma_si_isoscalar() * c.INV_MEV2_TO_CM2
    if s1 <= 0:
        raise ParameterError("Model 1: zero direct-detection cross section")
    return (lim / s1) ** 0.25
