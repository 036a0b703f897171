"""Kinetic decoupling of X from the neutrino bath (seed 004 §IV, eqs. 12-15; SPEC 4.4).

Momentum-transfer rate, seed eq. (14) (Bringmann & Hofmann 2007 form), for X at rest in the bath:

    gamma(T) = 1/(3 m_X T_nu) sum_b g_b Int d^3k/(2 pi)^3 f(k/T_nu) (1 - f(k/T_nu)) Int_{-4k_cm^2}^0 dt (-t) dsigma_b/dt

with f Fermi-Dirac at the neutrino temperature T_nu (zero chemical potential), s = m^2 + 2 m omega,
k_cm = m omega / sqrt(s), and dsigma/dt = |M|^2_avg / (16 pi (s - m^2)^2).  Normalisation note: eq. (14)'s
1/(3 m T) is the rate of the DM-temperature relaxation (dT_X/dt = -2 H T_X + gamma (T - T_X)); the Langevin
momentum-drag coefficient is gamma/2 (Einstein relation kappa = 2 m T gamma_drag).  We keep eq. (14) as
printed and define T_KD by gamma(T_KD) = H(T_KD), as the seed does.

Amplitudes from L > y_X Xbar P_L nu phi + h.c. (phi real, one left-handed neutrino flavour, g_nu = g_nubar = 1;
X has 2 spin states, |M|^2_avg = sum|M|^2 / 2):

* nu X -> nu X: only the phi exchange with momentum p - k' (the "t-channel" of the seed: the neutrino line
  turns into the X line), sum|M|^2 = y^4 (m^2 - u)^2 / (u - m_phi^2)^2, u = 2 m^2 - s - t.
* nubar X -> nubar X: s-channel phi (the resonance the seed mentions), sum|M|^2 = y^4 (s - m^2)^2 /
  ((s - m_phi^2)^2 + m_phi^2 Gamma_phi^2), Gamma_phi = 2 y^2 m_phi (1 - 1/r^2)^2/(16 pi) (X nubar + Xbar nu).
  Off resonance this channel equals the nu channel at small omega (both -> 4 y^4 m^2 omega^2 / Delta^2,
  Delta = m_phi^2 - m^2), so it is kept, not dropped.  The pole sits at omega = m (r^2 - 1)/2; it is
  Boltzmann-suppressed for T_KD in the small-E regime, but at the Lyman-alpha bound (T = 1.4 keV, small y,
  narrow width, gamma_res ~ y^4/Gamma ~ y^2) it dominates for m_X below ~0.1 MeV (r = 3): the seed's
  "negligible for m_X > 0.5 keV" does not hold there.  The pole is integrated in the Breit-Wigner variable
  (checked against the narrow-width approximation).  Caveat: near the pole this is on-shell phi production
  (inverse decay), which the Bringmann-Hofmann treatment counts as scattering; ``channels=("nu",)`` drops it.
  Xbar scatters identically (CP), so gamma is the same per X and per Xbar.

Small-E_nu limit (omega << m, Delta/m): dsigma/dt = y^4/(32 pi Delta^2), isotropic, and per channel

    gamma = y^4 T_nu^6 I_6 / (24 pi^3 m Delta^2),   I_6 = Int x^6 f(1-f) dx = 720 (31/32) zeta(6) = 709.6,

so with H = sqrt(8 pi^3 g_eff/90) T^2/M_Pl, gamma = H gives T_KD proportional to m^(5/4) sqrt(r^2-1)/y (seed eq. 15)
with the coefficient of :func:`t_kd_small_e`.  Temperatures returned are photon temperatures; the neutrino
temperature is T_nu = (g_s,gamma-e(T)/g_s,gamma-e(T_dec))^(1/3) T ((4/11)^(1/3) T at T << m_e).

Cut-off mass, seed eq. (12): M_cut = (4 pi/3) rho_DM(T_KD) / H(T_KD)^3 (:func:`m_cut`), compared with the
seed's 1.8e8 M_sun (keV/T_KD)^3.  Lyman-alpha: m_WDM > 5.3 keV (Irsic et al., PRD 96 (2017) 023522) and
M_f = 5.1e10 M_sun (keV/m_WDM)^4 (seed eq. 13) give M_f < 6.5e7 M_sun and T_KD > 1.4 keV.
Units: MeV (hepunits) for energies and temperatures, MeV^-2 for cross sections, rates in MeV.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate, optimize, special

from .. import constants as c
from ..errors import ParameterError
from . import dof, relic

#: Int_0^inf x^6 f(1-f) dx for Fermi-Dirac f = 720 (1 - 2^-5) zeta(6)
I6 = 720.0 * (31.0 / 32.0) * float(special.zeta(6.0))
#: seed 004 eq. (12) prefactor [M_sun keV^3]
M_CUT_SEED = 1.8e8
#: seed 004 eq. (13): M_f = 5.1e10 M_sun (keV/m_WDM)^4 (its ref. [41])
M_F_PREFACTOR = 5.1e10
#: Lyman-alpha bound on the thermal WDM mass [keV] (Irsic et al. 2017, seed ref. [40])
M_WDM_MIN_KEV = 5.3
_XG, _WG = np.polynomial.legendre.leggauss(24)  # t-integration nodes on [-1, 1]


def _check(y_X, m_X, m_phi):
    for name, v in (("y_X", y_X), ("m_X", m_X), ("m_phi", m_phi)):
        if not (math.isfinite(v) and v > 0):
            raise ParameterError(f"kinetic decoupling: {name} = {v} must be finite and > 0")
    if m_phi <= m_X:
        raise ParameterError(f"kinetic decoupling: m_phi = {m_phi} MeV must exceed m_X = {m_X} MeV "
                             "(otherwise X -> phi nu decays)")


def nu_temperature(T):
    """Neutrino temperature [MeV] at photon temperature T [MeV] (instantaneous decoupling at dof.T_NU_DEC)."""
    T = np.asarray(T, dtype=float)

    def gs(t):
        return 2.0 + dof._g_from(np.atleast_1d(c.M_ELECTRON / np.asarray(t, dtype=float)).ravel(), 4, True)[1]

    ratio3 = np.where(T >= dof.T_NU_DEC, 1.0, gs(T).reshape(T.shape) / gs(dof.T_NU_DEC)[0])
    return T * ratio3 ** (1.0 / 3.0)


def hubble(T):
    """Hubble rate [MeV] at photon temperature T [MeV]: sqrt(8 pi^3 g_eff / 90) T^2 / M_Pl."""
    T = np.asarray(T, dtype=float)
    return np.sqrt(8.0 * np.pi**3 * dof.g_eff(T) / 90.0) * T**2 / relic.M_PLANCK


def msq_nu(s, t, y_X, m_X, m_phi):
    """Spin-summed |M|^2 for nu X -> nu X (phi exchange in the u channel)."""
    u = 2.0 * m_X**2 - s - t
    return y_X**4 * (m_X**2 - u) ** 2 / (u - m_phi**2) ** 2


def width_phi(y_X, m_X, m_phi):
    """Gamma(phi -> X nubar) + Gamma(phi -> Xbar nu) [MeV] (y_q neglected)."""
    return 2.0 * y_X**2 * m_phi * (1.0 - m_X**2 / m_phi**2) ** 2 / (16.0 * np.pi)


def msq_nubar(s, y_X, m_X, m_phi):
    """Spin-summed |M|^2 for nubar X -> nubar X (s-channel phi, Breit-Wigner); independent of t."""
    g = width_phi(y_X, m_X, m_phi)
    return y_X**4 * (s - m_X**2) ** 2 / ((s - m_phi**2) ** 2 + m_phi**2 * g**2)


def _t_moment(omega, y_X, m_X, m_phi, channel):
    """Int_{-4k_cm^2}^0 dt (-t) dsigma/dt [MeV^-2 MeV^4... i.e. MeV^2] at lab neutrino energy omega (array)."""
    omega = np.asarray(omega, dtype=float)
    s = m_X**2 + 2.0 * m_X * omega
    kcm2 = (m_X * omega) ** 2 / s
    norm = 1.0 / (2.0 * 16.0 * np.pi * (s - m_X**2) ** 2)  # X spin average, dsigma/dt
    if channel == "nubar":
        return norm * msq_nubar(s, y_X, m_X, m_phi) * 8.0 * kcm2**2
    # Gauss-Legendre in t on [-4 k_cm^2, 0]
    t = -2.0 * kcm2[..., None] * (1.0 + _XG)
    w = 2.0 * kcm2[..., None] * _WG
    return norm * np.sum(w * (-t) * msq_nu(s[..., None], t, y_X, m_X, m_phi), axis=-1)


def gamma_rate(T, y_X, m_X, m_phi, channels=("nu", "nubar")) -> float:
    """Momentum-transfer rate gamma(T) [MeV] of seed eq. (14) at photon temperature T [MeV] (full kinematics)."""
    _check(y_X, m_X, m_phi)
    Tn = float(nu_temperature(T))
    total = 0.0
    for ch in channels:
        def integrand(w, ch=ch):  # omega [MeV]
            x = w / Tn
            e = np.exp(-x)
            return w**2 * e / (1.0 + e) ** 2 * _t_moment(w, y_X, m_X, m_phi, ch)

        total += _omega_integral(integrand, Tn, y_X, m_X, m_phi, resonant=(ch == "nubar"))
    return total / (2.0 * np.pi**2) / (3.0 * m_X * Tn)


def _omega_integral(fn, Tn, y_X, m_X, m_phi, resonant):
    """Int_0^{80 T_nu} fn(omega) d omega; around the s-channel pole (omega_res = (m_phi^2 - m^2)/2m, half width
    m_phi Gamma/2m) the Breit-Wigner variable theta = arctan((s - m_phi^2)/(m_phi Gamma)) is used."""
    hi = 80.0 * Tn
    opts = dict(limit=400, epsrel=1e-8, epsabs=0.0)
    if not resonant:
        return integrate.quad(fn, 0.0, hi, **opts)[0]
    w_res = (m_phi**2 - m_X**2) / (2.0 * m_X)
    mg = m_phi * width_phi(y_X, m_X, m_phi)
    half = mg / (2.0 * m_X)
    a, b = max(w_res - 200.0 * half, 0.0), min(w_res + 200.0 * half, hi)
    if a >= b:  # pole outside the thermal range
        return integrate.quad(fn, 0.0, hi, **opts)[0]
    out = 0.0
    if a > 0:
        out += integrate.quad(fn, 0.0, a, **opts)[0]
    if b < hi:
        out += integrate.quad(fn, b, hi, **opts)[0]

    def in_theta(th):  # d omega = (mg / 2m) sec^2 theta d theta
        w = w_res + half * math.tan(th)
        return float(fn(w)) * half / math.cos(th) ** 2

    ta, tb = math.atan((a - w_res) / half), math.atan((b - w_res) / half)
    return out + integrate.quad(in_theta, ta, tb, **opts)[0]


def gamma_small_e(T, y_X, m_X, m_phi, n_channels: int = 2):
    """Analytic small-E_nu limit of :func:`gamma_rate`: n y^4 T_nu^6 I_6 / (24 pi^3 m Delta^2)."""
    delta = m_phi**2 - m_X**2
    return n_channels * y_X**4 * nu_temperature(T) ** 6 * I6 / (24.0 * np.pi**3 * m_X * delta**2)


def t_kd(y_X, m_X, m_phi, channels=("nu", "nubar")) -> float:
    """Kinetic-decoupling photon temperature [MeV]: gamma(T_KD) = H(T_KD) (full numerical gamma)."""
    _check(y_X, m_X, m_phi)

    def f(lt):
        T = math.exp(lt)
        return math.log(gamma_rate(T, y_X, m_X, m_phi, channels) / float(hubble(T)))

    lo, hi = math.log(1e-9), math.log(min(m_X, 1e3))
    if f(hi) < 0:
        raise ParameterError(f"X (m_X = {m_X} MeV, y_X = {y_X}) is never in kinetic equilibrium below T = m_X")
    if f(lo) > 0:  # pragma: no cover
        raise ParameterError("kinetic decoupling below 1 meV")
    return math.exp(optimize.brentq(f, lo, hi, xtol=1e-8))


def t_kd_small_e(y_X, m_X, m_phi, g_eff: float | None = None, nu_ratio: float | None = None):
    """Closed-form T_KD [MeV] from gamma_small_e = H, with g_eff and T_nu/T at late times (T << m_e) unless given:

        T_KD^4 = sqrt(8 pi^3 g_eff/90) 24 pi^3 m Delta^2 / (M_Pl 2 y^4 (T_nu/T)^6 I_6)."""
    g = float(dof.g_eff(1e-3)) if g_eff is None else g_eff
    xi = float(nu_temperature(1e-3) / 1e-3) if nu_ratio is None else nu_ratio
    delta = m_phi**2 - m_X**2
    t4 = (math.sqrt(8 * math.pi**3 * g / 90) * 24 * math.pi**3 * m_X * delta**2
          / (relic.M_PLANCK * 2.0 * y_X**4 * xi**6 * I6))
    return t4**0.25


def eq15_coefficient_keV() -> float:
    """Our normalisation A of seed eq. (15), T_KD = A (m_X/MeV)^(5/4) (0.1/y_X) sqrt(r^2 - 1) (seed: A = 0.4 keV)."""
    return t_kd_small_e(0.1, 1.0 * c.MeV, math.sqrt(2.0) * c.MeV) / c.keV


def t_kd_seed_eq15(y_X, m_X, r):
    """Seed eq. (15) as printed: 0.4 keV (m_X/MeV)^(5/4) (0.1/y_X) sqrt(r^2 - 1), in MeV."""
    return 0.4 * c.keV * (m_X / c.MeV) ** 1.25 * (0.1 / y_X) * np.sqrt(r**2 - 1.0)


def rho_dm(T, omega_h2: float = 0.120):
    """DM energy density [MeV^4] at photon temperature T: Omega h^2 rho_c/h^2 s(T)/s_0."""
    T = np.asarray(T, dtype=float)
    s = 2.0 * np.pi**2 / 45.0 * dof.g_s(T) * T**3
    return omega_h2 * relic.RHO_C_H2 * s / relic.S0


def m_cut(T_kd, omega_h2: float = 0.120):
    """Seed eq. (12): DM mass in a Hubble volume at T_KD, (4 pi/3) rho_DM / H^3, in solar masses."""
    e = 4.0 * np.pi / 3.0 * rho_dm(T_kd, omega_h2) / hubble(T_kd) ** 3  # MeV (energy)
    return e / c.C_LIGHT**2 / c.M_SUN


def m_cut_prefactor(omega_h2: float = 0.120) -> float:
    """M_cut (T_KD = 1 keV) in M_sun: our value of the seed's 1.8e8."""
    return float(m_cut(1.0 * c.keV, omega_h2))


def t_kd_min_lyman_alpha(m_wdm_keV: float = M_WDM_MIN_KEV, prefactor: float | None = None,
                         m_f_prefactor: float = M_F_PREFACTOR) -> float:
    """Smallest allowed T_KD [MeV]: M_cut(T_KD) < M_f(m_WDM) = m_f_prefactor (keV/m_WDM)^4 (5.1e10 M_sun).

    ``prefactor``: M_cut at 1 keV [M_sun]; None = computed by :func:`m_cut` (our eq. 12), else e.g. 1.8e8."""
    m_f = m_f_prefactor * (1.0 / m_wdm_keV) ** 4
    if prefactor is None:
        return math.exp(optimize.brentq(lambda lt: math.log(float(m_cut(math.exp(lt))) / m_f),
                                        math.log(1e-5), math.log(1e-1)))
    return c.keV * (prefactor / m_f) ** (1.0 / 3.0)


def y_x_max(m_X, m_phi, T_min: float, channels=("nu", "nubar"), rtol: float = 1e-6) -> float:
    """Largest y_X with T_KD >= T_min, i.e. gamma(T_min, y) = H(T_min) (gamma/H grows with T).

    gamma ~ y^4 off resonance but ~ y^2 when the s-channel pole (width ~ y^2) dominates, so the root is
    found by secant steps in (ln y, ln gamma), starting from the y^4 scaling."""
    _check(1.0, m_X, m_phi)
    target = math.log(float(hubble(T_min)))

    def lg(ly):
        return math.log(gamma_rate(T_min, math.exp(ly), m_X, m_phi, channels)) - target

    x0 = 0.0
    f0 = lg(x0)
    x1 = x0 - f0 / 4.0
    f1 = lg(x1)
    for _ in range(12):
        if abs(f1) < rtol:
            return math.exp(x1)
        slope = (f1 - f0) / (x1 - x0) if x1 != x0 else 4.0
        slope = min(max(slope, 1.0), 6.0)  # physical range 2-4
        x0, f0 = x1, f1
        x1 = x1 - f1 / slope
        f1 = lg(x1)
    lo, hi = math.log(1e-14), math.log(1e3)  # fallback: bracketing root
    if lg(lo) > 0:
        return 0.0  # the s-channel pole keeps X coupled for any coupling: no allowed y_X
    if lg(hi) < 0:  # pragma: no cover
        return math.inf
    return math.exp(optimize.brentq(lg, lo, hi, xtol=1e-7))
