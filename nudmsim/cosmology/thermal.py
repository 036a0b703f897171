"""Thermal relic target and N_eff bound of the scalar-portal model (seed 004 §VII and Appendix; SPEC 4.1, 4.4).

Annihilation X Xbar -> nu nubar (Dirac X, L > y_X Xbar P_L nu phi + h.c., real phi, one left-handed nu):
only the t-channel phi exchange exists, and the spin-summed squared amplitude is

    sum |M|^2 = y_X^4 (m^2 - t)^2 / (t - m_phi^2)^2 .

With Delta = m_phi^2 - m^2, w = m^2 - t + Delta in [s(1-beta)/2 + Delta, s(1+beta)/2 + Delta],
beta = sqrt(1 - 4m^2/s), and |M|^2 averaged over the 4 initial spin states,

    sigma(s) = y^4 / (64 pi s (s - 4 m^2)) [G(w)]_{w1}^{w2},   G(w) = w - 2 Delta ln w - Delta^2 / w,

whose threshold limit sigma v_rel -> y^4 m^2 / (32 pi (m^2 + m_phi^2)^2) is
:func:`nudmsim.models.scalar_portal.sigma_v_annihilation` (seed 004's printed formula drops m_X^2 and has
1/(16 pi): see that docstring).  <sigma v>(x) is the Gondolo-Gelmini average of sigma(s)
(:func:`nudmsim.cosmology.relic.thermal_average_gg`), and since <sigma v> m^2 / y^4 depends only on x and
r = m_phi/m_X it is tabulated once per r.

Thermal target: y_X such that :func:`nudmsim.cosmology.relic.relic_abundance` (Dirac X: ``dirac=True``,
g_chi = 2, total abundance = 2 Y_X) gives Omega h^2 = 0.12.  The solver is ~0.4 s per call, so the required
K = y^4/m^2 is solved on a fixed grid of masses (every decade, cached), divided by an analytic
freeze-out estimate (Kolb & Turner) and the ratio interpolated (cubic in log m).  Measured error of the
interpolation vs the exact solve: < 0.8% in y_X for 0.05 MeV - 1 GeV; up to 7% at 3 GeV (QCD crossover at
freeze-out): use ``exact=True`` there.

N_eff: a Dirac fermion (g = 4) in equilibrium with neutrinos that is still relativistic when neutrinos
decouple heats them after decoupling.  Instantaneous decoupling at T_dec = 2 MeV and separate entropy
conservation of the gamma-e and nu-X sectors give (T_nu/T_gamma)^3 = (g_nu + g_X,s(T_dec)) / g_nu * 2/g_gamma-e,s(T_dec)
(Boehm, Dolan & McCabe, JCAP 08 (2013) 041, method of their section 2).  The mass bound uses the
Planck 2018 95% upper limit N_eff < 3.33 (TT,TE,EE+lowE+lensing+BAO, A&A 641 A6, eq. 67: 2.99 +0.34-0.33)
on top of the SM value 3.044.  Published full calculations: Sabti et al., JCAP 01 (2020) 004 (BBN+Planck:
m > 3.7 MeV for the least constrained neutrinophilic species); seed 004 quotes ~8 MeV for its Dirac X.
Masses in MeV, cross sections in MeV^-2.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy import interpolate

from .. import constants as c
from ..errors import ParameterError
from . import dof, relic

#: observed DM density Omega_c h^2 (Planck 2018 VI, TT,TE,EE+lowE+lensing: 0.120 +- 0.001)
OMEGA_DM_H2 = 0.120
#: SM effective number of neutrinos (Bennett et al., JCAP 04 (2021) 073)
NEFF_SM = 3.044
#: Planck 2018 VI eq. (67): N_eff = 2.99 +0.34 -0.33 at 95% CL -> upper limit 3.33
NEFF_MAX_PLANCK2018 = 3.33
#: nodes of the thermal-target interpolation grid: log10(m/MeV), every decade
_NODE_STEP = 1.0


def _check_ratio(r):
    if not (np.all(np.isfinite(r)) and np.all(np.asarray(r) > 1.0)):
        raise ParameterError(f"r = m_phi/m_X = {r} must be > 1 (X is unstable, X -> phi nu, for m_phi < m_X)")


def sigma_annihilation(s, y_X, m_X, m_phi):
    """sigma(X Xbar -> nu nubar)(s) in MeV^-2 (s in MeV^2, masses in MeV); 0 below threshold."""
    s = np.asarray(s, dtype=float)
    m2 = m_X**2
    delta = m_phi**2 - m2
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.sqrt(np.clip(1.0 - 4.0 * m2 / s, 0.0, None))
        w1 = s * (1.0 - beta) / 2.0 + delta
        dw = s * beta
        # G(w2) - G(w1) with w2 = w1 + dw, written to avoid cancellation at threshold
        diff = dw - 2.0 * delta * np.log1p(dw / w1) + delta**2 * dw / (w1 * (w1 + dw))
        out = y_X**4 / (64.0 * np.pi * s * (s - 4.0 * m2)) * diff
    return np.where(beta > 0, out, 0.0)


@functools.lru_cache(maxsize=16)
def _shape(r: float):
    """(ln x grid, ln F) with F(x, r) = <sigma v> m^2 / y^4 (Gondolo-Gelmini), m = 1 units."""
    xs = np.geomspace(0.5, 2000.0, 40)
    F = [relic.thermal_average_gg(lambda s: sigma_annihilation(s, 1.0, 1.0, r), 1.0, float(x)) for x in xs]
    return np.log(xs), np.log(F)


def sigma_v_thermal(x, y_X, m_X, r):
    """Thermally averaged <sigma v>(x = m_X/T) [MeV^-2] for m_phi = r m_X (interpolated GG table)."""
    _check_ratio(r)
    lx, lF = _shape(float(r))
    return y_X**4 / m_X**2 * np.exp(np.interp(np.log(np.asarray(x, dtype=float)), lx, lF))


def omega_h2(y_X, m_X, r) -> float:
    """Omega h^2 of Dirac X (X + Xbar) from freeze-out into nu nubar (relic.relic_abundance, dirac=True)."""
    return relic.relic_abundance(m_X, lambda x: float(sigma_v_thermal(x, y_X, m_X, r)), g_chi=2.0, dirac=True)


def _solve_K(m_X: float, r: float, omega: float, K0: float | None = None, rtol: float = 1e-3,
             verify: bool = True):
    """K = y^4/m^2 [MeV^-2] giving Omega h^2 = omega.

    Newton steps on ln K with d ln Omega / d ln K = -(1 - 1/x_f), x_f ~ 20 (Omega ~ x_f/K, x_f ~ ln K).
    With ``verify=False`` the last step is not re-checked with the solver: once |Omega/omega - 1| < 0.2 the
    error of that step is ~ (ln Omega/omega)^2 / x_f^2 < 1e-4 in Omega (one solver call per mass)."""
    lx, lF = _shape(float(r))
    F_late = math.exp(float(np.interp(math.log(25.0), lx, lF)))
    # start: a sub-GeV Dirac relic needs <sigma v> ~ 8e-26 cm^3/s (measured with relic_abundance; ~twice the
    # Majorana value, and above the 100 GeV one because g* is small, Steigman et al. 2012)
    K = K0 if K0 is not None else 8e-26 * relic.CM3_PER_S / F_late
    for _ in range(8):
        om = omega_h2((K * m_X**2) ** 0.25, m_X, r)
        if abs(om / omega - 1.0) < rtol:
            return K
        K *= (om / omega) ** (1.0 / (1.0 - 1.0 / 20.0))
        if not verify and abs(om / omega - 1.0) < 0.2:
            return K
    raise RuntimeError(f"thermal target did not converge at m_X = {m_X} MeV, r = {r}")  # pragma: no cover


def _K_estimate(m_X: float, r: float, omega: float) -> float:
    """Analytic s-wave freeze-out estimate of K = y^4/m^2 (Kolb & Turner: Y_inf = x_f / (lambda <sigma v>),
    x_f = ln(0.038 g M_Pl m <sigma v> / sqrt(g_eff x_f)), g* at T_f); used to flatten the interpolation."""
    lx, lF = _shape(float(r))
    sv = 8e-26 * relic.CM3_PER_S
    for _ in range(6):
        x_f = 20.0
        for _ in range(4):
            x_f = math.log(0.038 * 2.0 * relic.M_PLANCK * m_X * sv / math.sqrt(float(dof.g_eff(m_X / x_f)) * x_f))
        T_f = m_X / x_f
        gsh = float(dof.g_s(T_f) / np.sqrt(dof.g_eff(T_f)))
        sv = 2.0 * x_f * relic.S0 / (math.sqrt(math.pi / 45.0) * relic.M_PLANCK * gsh * relic.RHO_C_H2 * omega)
    return sv / math.exp(float(np.interp(math.log(x_f), lx, lF)))


_NODES: dict = {}


def _node_lnR(k: int, r: float, omega: float) -> float:
    """ln(K_exact/K_estimate) at the node m = 10^(k step) MeV (cached)."""
    key = (k, r, omega)
    if key not in _NODES:
        m = 10.0 ** (k * _NODE_STEP)
        K_est = _K_estimate(m, r, omega)
        R0 = [math.exp(v) for kk, v in _NODES.items() if kk[1:] == (r, omega) and abs(kk[0] - k) == 1]
        K = _solve_K(m, r, omega, K0=K_est * (R0[0] if R0 else 1.0), verify=False)
        _NODES[key] = math.log(K / K_est)
    return _NODES[key]


def thermal_yX(m_X, r, omega: float = OMEGA_DM_H2, exact: bool = False):
    """y_X giving Omega h^2 = ``omega`` for Dirac X of mass m_X [MeV] (array) with m_phi = r m_X.

    Interpolated (cubic in log m) between cached exact solutions every decade; ``exact=True``
    solves at each mass (0.4 s per solver call, ~2-3 calls per mass)."""
    _check_ratio(r)
    m = np.atleast_1d(np.asarray(m_X, dtype=float))
    if not (np.all(np.isfinite(m)) and np.all(m > 0)):
        raise ParameterError(f"m_X = {m_X} MeV must be finite and > 0")
    if np.any(m < 1e-3) or np.any(m > 1e6):
        raise ParameterError("thermal_yX covers 1 keV < m_X < 1 TeV (the g*(T) table range)")
    if exact:
        K = np.array([_solve_K(float(mi), float(r), omega) for mi in m])
    else:
        lm = np.log10(m)
        k = np.arange(math.floor(lm.min() / _NODE_STEP), math.ceil(lm.max() / _NODE_STEP) + 1)
        if k.size < 4:  # a cubic needs 4 nodes
            k = np.arange(k[0] - 1, k[0] + 3)
        lR = np.array([_node_lnR(int(i), float(r), float(omega)) for i in k])
        spline = interpolate.CubicSpline(k * _NODE_STEP, lR)
        K = np.exp(spline(lm)) * np.array([_K_estimate(float(mi), float(r), omega) for mi in m])
    y = (K * m**2) ** 0.25
    return y if np.ndim(m_X) else float(y[0])


# ------------------------------------------------------------------------------------------------
# N_eff
# ------------------------------------------------------------------------------------------------
def _gs_gamma_e(T):
    """Entropy dof of photons + e+-, s = 2 pi^2/45 g T^3 (full Fermi-Dirac integral)."""
    return 2.0 + dof._g_from(np.atleast_1d(c.M_ELECTRON / np.asarray(T, dtype=float)), 4, True)[1]


def neff_neutrinophilic(m_X, g_X: float = 4.0, fermion: bool = True, T_dec: float = dof.T_NU_DEC):
    """N_eff with a species of mass m_X [MeV] (g_X dof) in equilibrium with neutrinos only (instantaneous
    decoupling at T_dec), shifted so that m_X -> infinity gives the SM value NEFF_SM."""
    m = np.atleast_1d(np.asarray(m_X, dtype=float))
    g_nu = 7.0 / 8.0 * 6.0
    gx = dof._g_from(m / T_dec, g_X, fermion)[1]
    ratio3 = (g_nu + gx) / g_nu * 2.0 / _gs_gamma_e(T_dec)
    ratio3_sm = 2.0 / _gs_gamma_e(T_dec)
    out = NEFF_SM * (ratio3 / ratio3_sm) ** (4.0 / 3.0)
    return out if np.ndim(m_X) else float(out[0])


def neff_mass_bound(neff_max: float = NEFF_MAX_PLANCK2018, g_X: float = 4.0, fermion: bool = True) -> float:
    """Smallest m_X [MeV] with N_eff <= neff_max for a neutrinophilic thermal species (Dirac fermion default)."""
    from scipy import optimize

    f = lambda lm: neff_neutrinophilic(math.exp(lm), g_X, fermion) - neff_max  # noqa: E731
    return math.exp(optimize.brentq(f, math.log(1e-3), math.log(1e3), xtol=1e-6))


def neff_excluded(m_X, neff_max: float = NEFF_MAX_PLANCK2018):
    """True where a thermal Dirac X of mass m_X [MeV] coupled to neutrinos violates N_eff <= neff_max."""
    return np.asarray(m_X, dtype=float) < neff_mass_bound(neff_max)


def thermal_Y_neutrino_portal(m_chi, r, omega: float = OMEGA_DM_H2, exact: bool = False):
    """Thermal-relic Y = y_L^4 (sum|U_l4|^2)^2 (m_chi/m_phi)^4 of the seed-002 neutrino portal (Dirac chi,
    chi chibar -> nu nubar by t-channel phi exchange, m_phi = r m_chi).

    The amplitude is the scalar-portal one with y_X^4 -> y_L^4 (sum|U|^2)^2 (seed 002 eq. 7 = our
    s-wave formula), so Y = y_X^thermal^4 / r^4.  Seed 002 draws its target at <sigma v> = 1 pb = 3e-26 cm^3/s;
    a symmetric Dirac relic needs ~8-9e-26 cm^3/s (Omega h^2 = 0.12), i.e. Y about 3x the 1-pb line."""
    return thermal_yX(m_chi, r, omega=omega, exact=exact) ** 4 / float(r) ** 4
