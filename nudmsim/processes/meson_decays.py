"""Charged-meson decays with invisible final states (SPEC section 4.2, seed 002 §III B-C, seed 004 §II).

Units: masses, momenta, energies and widths in MeV (hepunits); ``s`` = q^2 = (p_chi + p_phi)^2 in MeV^2.

Processes
---------
* M+ -> l+ nu (SM, tree level) and M+ -> l+ nu_4 (Shrock 1981):
  Gamma = G_F^2 f_M^2 |V|^2 m_M^3/(8 pi) |U_l4|^2 rho(a, b),  rho = [a + b - (a - b)^2] lambda^1/2(1, a, b),
  a = m_l^2/m_M^2, b = m_4^2/m_M^2  (rho(a, 0) = a (1 - a)^2 gives the SM helicity-suppressed width).
* M+ -> l+ chi phi through off-shell light and heavy neutrinos.  Derivation (documented in
  docs/meson_decays.md): the W vertex emits nu_l = sum_j U_lj nu_j, the dark vertex absorbs
  N_L = sum_j U_Nj nu_jL; unitarity (sum_j U_Nj U*_lj = 0) leaves U_N4 U*_l4 [P_4 - P_0].  Between the
  two left projectors only the q-slash part of the propagators survives, so

      M = C y_L U_N4 U*_l4 D(s) ubar_chi [ s P_L - m_l qslash P_R ] v_l,
      C = sqrt2 G_F V f_M,   D(s) = 1/(s - m4^2 + i m4 Gamma_4) - 1/s,

  and the spin sum (trace, checked with explicit Dirac matrices in tests/test_meson_decays.py) is

      sum|M|^2 = C^2 y_L^2 |U_N4|^2 |U_l4|^2 |D(s)|^2 * 2 [ s (s - m_l^2) (p_chi.p_l)
                 + m_l^2 (m_M^2 + s - m_l^2)(s + m_chi^2 - m_phi^2)/2 ].

  Integrating over the second Dalitz variable at fixed s (p_chi.p_l averages to E*_chi E*_l in the
  chi-phi rest frame) and taking m4 -> infinity (D -> -1/s) gives exactly seed eq. 12 as written in SPEC
  4.2, with the factor (1 + x_l - x - x_phi + x_chi) in the NUMERATOR, (1 + x_l - x)^3 alone in the
  denominator, prefactor 1/(32 pi^2), and (1 - |U_l4|^2) = |U_N4|^2 when only U_l4 is non-zero
  (general case: |U_N4|^2 = 1 - sum|U|^2).  That is the reading of the ambiguous extraction we confirm.
* K+ -> pi+ phi for a scalar with universal quark coupling y_q phi qbar q: top-W penguin with the
  large-m_t Higgs-portal coefficient (Willey & Yu 1982; Leutwyler & Shifman 1990; as used for
  light-scalar kaon bounds, e.g. Bezrukov & Gorbunov 2010) with (m_t/v) sin(theta) -> y_q:
      L = g_sd phi dbar P_R s + h.c.,  g_sd = 3 sqrt2 G_F m_t y_q V_ts V_td* m_s / (16 pi^2),
      <pi+| dbar s |K+> = (m_K^2 - m_pi^2)/(m_s - m_d)  (scalar form factor f_0 ~ 1),
      M = g_sd (m_K^2 - m_pi^2)/(2 (m_s - m_d)),   Gamma = |M|^2 lambda^1/2(m_K^2, m_pi^2, m_phi^2)/(16 pi m_K^3).
  This is an order-of-magnitude model (the quark-only coupling changes the loop by O(1)); see docs.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import integrate

from .. import constants as c
from ..errors import ParameterError
from ..models.neutrino_portal import NeutrinoPortal, sqrt_kallen

#: meson name -> (mass, decay constant, |V_qq'|, lifetime, B(M -> mu nu))
MESONS = {
    "pi": (c.M_PION, c.F_PION, c.V_UD, c.TAU_PION, c.BR_PI_MU2),
    "K": (c.M_KAON, c.F_KAON, c.V_US, c.TAU_KAON, c.BR_K_MU2),
    "D": (c.M_D, c.F_D, c.V_CD, c.TAU_D, c.BR_D_MU2),   # D+ (seed 001 Fig. 4: D -> e chi H)
}
LEPTONS = {"e": c.M_ELECTRON, "mu": c.M_MUON}


def _meson(meson: str):
    if meson not in MESONS:
        raise ParameterError(f"unknown meson '{meson}' (choose pi, K or D)")
    return MESONS[meson]


def _lepton(lepton: str) -> float:
    if lepton not in LEPTONS:
        raise ParameterError(f"unknown charged lepton '{lepton}' (choose e or mu)")
    return LEPTONS[lepton]


def meson_mass(meson: str) -> float:
    return _meson(meson)[0]


def total_width(meson: str) -> float:
    """Total width hbar/tau [MeV] (PDG lifetime via `particle`)."""
    return c.HBAR / _meson(meson)[3]


def coupling_C2(meson: str) -> float:
    """C^2 = 2 G_F^2 |V|^2 f_M^2 [MeV^-2], the squared SM leptonic coupling."""
    m, f, v, *_ = _meson(meson)
    return 2.0 * c.G_FERMI**2 * v**2 * f**2


# ------------------------------------------------------------------------------------------------
# two-body
# ------------------------------------------------------------------------------------------------
def two_body_momentum(M, m1, m2):
    """Momentum of either daughter of M -> m1 m2 in the M rest frame [MeV] (0 if closed)."""
    return sqrt_kallen(M * M, m1 * m1, m2 * m2) / (2.0 * M)


def shrock_rho(a, b):
    """Shrock kinematic factor rho(a, b) = [a + b - (a - b)^2] lambda^1/2(1, a, b)."""
    return (a + b - (a - b) ** 2) * sqrt_kallen(1.0, a, b)


def width_two_body(meson: str, lepton: str, m_nu=0.0, U2=1.0):
    """Gamma(M+ -> l+ nu) [MeV] for a neutrino of mass m_nu and mixing |U|^2 (tree level; vectorised
    in m_nu).  m_nu = 0, U2 = 1 is the SM width G_F^2 f^2 |V|^2 m_l^2 m_M (1 - m_l^2/m_M^2)^2 / (8 pi)."""
    m, f, v, *_ = _meson(meson)
    ml = _lepton(lepton)
    a, b = (ml / m) ** 2, (np.asarray(m_nu, float) / m) ** 2
    g0 = c.G_FERMI**2 * f**2 * v**2 * m**3 / (8 * math.pi)
    out = g0 * U2 * shrock_rho(a, b)
    return np.where(np.asarray(m_nu) < m - ml, out, 0.0) if np.ndim(out) else (float(out) if m_nu < m - ml else 0.0)


def br_two_body_heavy(meson: str, lepton: str, m4, U2):
    """B(M+ -> l+ nu_4) = |U|^2 rho(a, b)/rho(a, 0) x B(M+ -> mu+ nu)_PDG x Gamma_l/Gamma_mu(tree).

    Normalised to the measured B(M -> mu nu) so that radiative corrections common to both cancel."""
    br_mu = _meson(meson)[4]
    return br_mu * width_two_body(meson, lepton, m4, U2) / width_two_body(meson, "mu")


# ------------------------------------------------------------------------------------------------
# three-body M+ -> l+ chi phi
# ------------------------------------------------------------------------------------------------
def check_three_body(meson: str, lepton: str, m_chi: float, m_phi: float) -> None:
    """Raise ParameterError naming the kinematic limit when M+ -> l+ chi phi is closed."""
    m = meson_mass(meson)
    ml = _lepton(lepton)
    if m_chi + m_phi >= m - ml:
        raise ParameterError(
            f"{meson}+ -> {lepton}+ chi phi is kinematically forbidden: m_chi + m_phi = {m_chi + m_phi:.4g} MeV "
            f">= m_{meson} - m_{lepton} = {m - ml:.4g} MeV (the kinematic limit); lower m_chi or m_phi")


def s_range(meson: str, lepton: str, m_chi: float, m_phi: float) -> tuple[float, float]:
    m, ml = meson_mass(meson), _lepton(lepton)
    return (m_chi + m_phi) ** 2, (m - ml) ** 2


def propagator_width(model: NeutrinoPortal, meson: str, lepton: str) -> float:
    """Width used in the nu4 propagator: Gamma_4 when the pole lies inside the Dalitz range
    ((m_chi + m_phi)^2 < m4^2 < (m_M - m_l)^2), else 0.  Far off shell a fixed width is a higher-order
    artefact, and with y_L ~ 4 pi it would be comparable to m4 and distort the off-shell rate."""
    s_lo, s_hi = s_range(meson, lepton, model.m_chi, model.m_phi)
    return model.width_nu4() if s_lo < model.m4**2 < s_hi else 0.0


def prop_sq(s, m4: float, gamma4: float):
    """|D(s)|^2 = |1/(s - m4^2 + i m4 Gamma4) - 1/s|^2 (light minus heavy propagator, from unitarity)."""
    s = np.asarray(s, float)
    den = (s - m4 * m4) ** 2 + (m4 * gamma4) ** 2
    re = (s - m4 * m4) / den - 1.0 / s
    im = -m4 * gamma4 / den
    return re * re + im * im


def msq_reduced(s, pchi_pl, M, ml, m_chi, m_phi):
    """Bracket of sum|M|^2 without couplings and propagator: 2[s(s - ml^2) p_chi.p_l +
    ml^2 (M^2 + s - ml^2)(s + m_chi^2 - m_phi^2)/2]  [MeV^4]."""
    return 2.0 * (s * (s - ml * ml) * pchi_pl
                  + 0.5 * ml * ml * (M * M + s - ml * ml) * (s + m_chi**2 - m_phi**2))


def msq_three_body(model: NeutrinoPortal, meson: str, lepton: str, s, t):
    """Spin-summed |M|^2 (dimensionless) at Dalitz point s = (p_chi + p_phi)^2, t = (p_chi + p_l)^2."""
    M, ml = meson_mass(meson), _lepton(lepton)
    pchi_pl = 0.5 * (np.asarray(t, float) - model.m_chi**2 - ml**2)
    k = coupling_C2(meson) * model.y_L**2 * model.UN4_sq * model.U2(lepton)
    g4 = propagator_width(model, meson, lepton)
    return k * prop_sq(s, model.m4, g4) * msq_reduced(s, pchi_pl, M, ml, model.m_chi, model.m_phi)


def dgamma_ds(model: NeutrinoPortal, meson: str, lepton: str, s):
    """dGamma/ds [MeV^-1] with the t integral done analytically (|M|^2 is linear in t)."""
    M, ml = meson_mass(meson), _lepton(lepton)
    mc, mp = model.m_chi, model.m_phi
    s = np.asarray(s, float)
    lam_q = sqrt_kallen(s, mc * mc, mp * mp)
    lam_l = sqrt_kallen(M * M, s, ml * ml)
    # <p_chi.p_l> over the chi-phi rest-frame angle = E*_chi E*_l
    avg = (s + mc * mc - mp * mp) * (M * M - s - ml * ml) / (4.0 * s)
    dt = lam_q * lam_l / s
    k = coupling_C2(meson) * model.y_L**2 * model.UN4_sq * model.U2(lepton)
    val = k * prop_sq(s, model.m4, propagator_width(model, meson, lepton)) * msq_reduced(s, avg, M, ml, mc, mp) * dt
    return val / (256.0 * math.pi**3 * M**3)


def x_of_s(meson, lepton, s):
    """Lepton energy fraction x = 2 E_l/m_M for given s."""
    M, ml = meson_mass(meson), _lepton(lepton)
    return (M * M + ml * ml - np.asarray(s, float)) / (M * M)


def lepton_momentum_of_s(meson, lepton, s):
    """|p_l| in the meson rest frame [MeV] as a function of s."""
    M, ml = meson_mass(meson), _lepton(lepton)
    return sqrt_kallen(M * M, np.asarray(s, float), ml * ml) / (2 * M)


def eq12_dgamma_dx_over_gamma_sm(model: NeutrinoPortal, meson: str, lepton: str, x):
    """Seed eq. 12 as written in SPEC 4.2 (valid for m4 >> m_M): (1/Gamma(M->l nu)) dGamma/dx."""
    M, ml = meson_mass(meson), _lepton(lepton)
    xl, xp, xc = (ml / M) ** 2, (model.m_phi / M) ** 2, (model.m_chi / M) ** 2
    x = np.asarray(x, float)
    U2 = model.U2(lepton)
    y = 1 + xl - x
    ok = (x * x - 4 * xl > 0) & (y > (np.sqrt(xp) + np.sqrt(xc)) ** 2)
    y = np.where(ok, y, 1.0)
    val = (model.y_L**2 * U2 * (1 - U2) / (32 * math.pi**2) * np.sqrt(np.maximum(x * x - 4 * xl, 0))
           / (xl * (1 - xl) ** 2) * ((1 - x) * x + 2 * xl) / y**3 * (y - xp + xc) * sqrt_kallen(y, xp, xc))
    return np.where(ok, val, 0.0)


def _s_integral(f, s_lo, s_hi, m4, g4, **kw):
    """Integral of f(s) over [s_lo, s_hi]; maps s = m4^2 + m4 G4 tan(u) when the nu4 pole is inside, else
    s = exp(t): for light chi, phi the range spans decades and dGamma/ds is steep near threshold, where a linear
    quad underestimated the width by 1.9% (m_chi = 1 MeV, m_phi = 3 MeV; checked against the 2-d Dalitz sum)."""
    if s_lo < m4 * m4 < s_hi and g4 > 0:
        a = m4 * g4
        u_lo, u_hi = math.atan((s_lo - m4 * m4) / a), math.atan((s_hi - m4 * m4) / a)

        def g(u):
            return f(m4 * m4 + a * math.tan(u)) * a / math.cos(u) ** 2

        return integrate.quad(g, u_lo, u_hi, limit=400, epsrel=1e-9, **kw)[0]
    return integrate.quad(lambda t: f(math.exp(t)) * math.exp(t), math.log(s_lo), math.log(s_hi), limit=400,
                          epsrel=1e-9, **kw)[0]


def width_three_body(model: NeutrinoPortal, meson: str, lepton: str) -> float:
    """Gamma(M+ -> l+ chi phi) [MeV] (1-d quadrature of the analytic t-integral)."""
    check_three_body(meson, lepton, model.m_chi, model.m_phi)
    s_lo, s_hi = s_range(meson, lepton, model.m_chi, model.m_phi)
    return _s_integral(lambda s: float(dgamma_ds(model, meson, lepton, s)), s_lo, s_hi,
                       model.m4, propagator_width(model, meson, lepton))


def br_three_body(model: NeutrinoPortal, meson: str, lepton: str) -> float:
    """B(M+ -> l+ chi phi) normalised like eq. 12: Gamma/Gamma_tree(M -> l nu) x B(M -> l nu), with
    B(M -> mu nu) from PDG and B(M -> e nu) = B(mu) x tree ratio."""
    return width_three_body(model, meson, lepton) / width_two_body(meson, "mu") * _meson(meson)[4]


def dalitz_width(model: NeutrinoPortal, meson: str, lepton: str, n_s=400, n_t=64) -> float:
    """Gamma from a direct 2-d Dalitz integration of msq_three_body (Gauss-Legendre in t, tan-mapped
    Gauss-Legendre in s): an independent check of :func:`width_three_body`."""
    check_three_body(meson, lepton, model.m_chi, model.m_phi)
    M, ml, mc, mp = meson_mass(meson), _lepton(lepton), model.m_chi, model.m_phi
    s_lo, s_hi = s_range(meson, lepton, mc, mp)
    xs, ws = np.polynomial.legendre.leggauss(n_s)
    xt, wt = np.polynomial.legendre.leggauss(n_t)
    m4, g4 = model.m4, propagator_width(model, meson, lepton)
    if s_lo < m4 * m4 < s_hi and g4 > 0:
        a = m4 * g4
        u_lo, u_hi = math.atan((s_lo - m4 * m4) / a), math.atan((s_hi - m4 * m4) / a)
        u = 0.5 * (u_hi - u_lo) * xs + 0.5 * (u_hi + u_lo)
        s = m4 * m4 + a * np.tan(u)
        jac = 0.5 * (u_hi - u_lo) * ws * a / np.cos(u) ** 2
    else:
        s = 0.5 * (s_hi - s_lo) * xs + 0.5 * (s_hi + s_lo)
        jac = 0.5 * (s_hi - s_lo) * ws
    # t limits at fixed s (PDG kinematics 49.23 with m12^2 = s, m23^2 = t)
    e2 = (s - mp * mp + mc * mc) / (2 * np.sqrt(s))        # E*_chi in the s frame
    e3 = (M * M - s - ml * ml) / (2 * np.sqrt(s))          # E*_l in the s frame
    p2 = np.sqrt(np.maximum(e2 * e2 - mc * mc, 0))
    p3 = np.sqrt(np.maximum(e3 * e3 - ml * ml, 0))
    t_min = (e2 + e3) ** 2 - (p2 + p3) ** 2
    t_max = (e2 + e3) ** 2 - (p2 - p3) ** 2
    t = 0.5 * (t_max - t_min)[:, None] * xt[None, :] + 0.5 * (t_max + t_min)[:, None]
    f = msq_three_body(model, meson, lepton, s[:, None], t)
    inner = (f * wt[None, :]).sum(axis=1) * 0.5 * (t_max - t_min)
    return float((inner * jac).sum() / (256 * math.pi**3 * M**3))


# ------------------------------------------------------------------------------------------------
# K+ -> pi+ phi (scalar portal, seed 004 eq. 2)
# ------------------------------------------------------------------------------------------------
def g_sd_per_yq() -> float:
    """g_sd / y_q = 3 sqrt2 G_F m_t |V_ts V_td| m_s / (16 pi^2) [dimensionless]."""
    return 3 * math.sqrt(2) * c.G_FERMI * c.M_TOP * c.V_TS * c.V_TD * c.M_STRANGE / (16 * math.pi**2)


def k_pi_scalar_matrix_element() -> float:
    """<pi+| dbar P_R s |K+> = (m_K^2 - m_pi^2)/(2 (m_s - m_d)) [MeV] (scalar form factor set to 1)."""
    return (c.M_KAON**2 - c.M_PION**2) / (2 * (c.M_STRANGE - c.M_DOWN))


def width_k_pi_phi(y_q, m_phi):
    """Gamma(K+ -> pi+ phi) [MeV] (vectorised in y_q and m_phi); 0 above threshold."""
    m_phi = np.asarray(m_phi, float)
    amp = g_sd_per_yq() * np.asarray(y_q, float) * k_pi_scalar_matrix_element()
    lam = sqrt_kallen(c.M_KAON**2, c.M_PION**2, m_phi**2)
    return amp**2 * lam / (16 * math.pi * c.M_KAON**3)


def br_k_pi_phi(y_q, m_phi):
    """B(K+ -> pi+ phi)."""
    return width_k_pi_phi(y_q, m_phi) / total_width("K")


def yq_from_br(br, m_phi):
    """y_q giving B(K+ -> pi+ phi) = br (inverse of :func:`br_k_pi_phi`)."""
    return np.sqrt(np.asarray(br, float) / br_k_pi_phi(1.0, m_phi))


def check_k_pi_phi(m_phi: float) -> None:
    if m_phi >= c.M_KAON - c.M_PION:
        raise ParameterError(f"K+ -> pi+ phi is kinematically forbidden: m_phi = {m_phi:.4g} MeV >= "
                             f"m_K - m_pi = {c.M_KAON - c.M_PION:.4g} MeV (the kinematic limit)")


@lru_cache(maxsize=64)
def _cdf_table(model_key, meson, lepton, n=4096):
    """Tabulated inverse CDF of dGamma/ds for sampling (cached per model point)."""
    model = NeutrinoPortal(*model_key, require_stable=False)
    s_lo, s_hi = s_range(meson, lepton, model.m_chi, model.m_phi)
    m4, g4 = model.m4, propagator_width(model, meson, lepton)
    if s_lo < m4 * m4 < s_hi and g4 > 0:
        a = m4 * g4
        u = np.linspace(math.atan((s_lo - m4 * m4) / a), math.atan((s_hi - m4 * m4) / a), n)
        s = m4 * m4 + a * np.tan(u)
        s[0], s[-1] = s_lo, s_hi
    else:       # geometric: dGamma/ds is steep near threshold when chi and phi are light
        s = np.geomspace(s_lo, s_hi, n)
    f = dgamma_ds(model, meson, lepton, s)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(s))])
    if cdf[-1] <= 0:
        raise ParameterError("M+ -> l+ chi phi has zero rate at this model point (check y_L and U_l4)")
    return cdf / cdf[-1], s


def cdf_table(model: NeutrinoPortal, meson: str, lepton: str) -> tuple[np.ndarray, np.ndarray]:
    """(CDF, s) of dGamma/ds on a grid (tan-mapped around an on-shell nu4 pole): the table the samplers invert
    and the generator's quadrature cells integrate (cached per model point)."""
    return _cdf_table(model_key(model), meson, lepton)


def model_key(model: NeutrinoPortal) -> tuple:
    return (model.m_chi, model.m_phi, model.m4, model.y_L, model.U_e4, model.U_mu4, model.U_tau4)


@lru_cache(maxsize=64)
def _inverse_table(key, meson, lepton, n=16385):
    cdf, s = _cdf_table(key, meson, lepton)
    return np.interp(np.linspace(0.0, 1.0, n), cdf, s)


def inverse_cdf_table(model: NeutrinoPortal, meson: str, lepton: str) -> np.ndarray:
    """s at equally spaced CDF values 0..1 (O(1) lookup for the vectorised samplers)."""
    return _inverse_table(model_key(model), meson, lepton)
