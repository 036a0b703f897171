"""Relic abundance of the seed-003 dark-matter HNL N' (Dirac, coupling g_s s N'bar N', asymmetry fixed by the
baryons): cross sections, thermal averages and the Omega(m_N', g_s) grids of seed Fig. 1.

* m_s << m_N': N'N'bar -> s s through t- and u-channel N' exchange (lambda_s << g_s, so no s-channel s).
  Exact spin sum sum|M|^2 = g^4 Tr[(p2slash - m) A (p1slash + m) A], A = (q_t slash + m)/(t - m^2) +
  (q_u slash + m)/(u - m^2); near threshold sigma -> 3 g^4 sqrt(eps)/(64 pi m^2 (1+eps)^2) (seed eq. 3.10;
  test: 3e-5 at eps = 1e-3; it is 12% low at eps = 2, irrelevant at freeze-out).  The seed's F(x) fit
  (eq. 3.12) is checked against the Gondolo-Gelmini average.
* m_s = 2y m_N' > 2 m_N': N'N'bar -> s* -> anything.  With s kept in equilibrium by its Higgs mixing, the sink
  is the inverse decay N'N'bar -> s, i.e. the Breit-Wigner absorption cross section
      sigma(s) = (pi/k^2) M^2 Gamma_in(s) Gamma_tot / ((s - M^2)^2 + M^2 Gamma_tot^2),  k^2 = s/4 - m^2,
  Gamma_in(s) = g^2 sqrt(s) beta(s)^3/(8 pi) (s -> N'N'bar, beta^2 = 1 - 4 m^2/s), Gamma_tot = 3 Gamma_in(M^2)
  (s decays to the three degenerate N_i; its SM width ~ theta_s^2 is negligible).  The Gondolo-Gelmini
  average is integrated across the pole (atan map); in the narrow-width limit it is seed eq. 3.16,
  <sigma v> = pi g^2/(2 m^2) (y^2 - 1)^{3/2} x K1(2xy)/K2(x)^2 (test), which is also n_s^eq <Gamma>/n_eq^2.
  Only the pole region |s - M^2| < 5 M Gamma_tot is kept (the line shape renormalised to the Lorentzian
  fraction kept, so that Gamma -> 0 is exactly eq. 3.16): far below the pole the Breit-Wigner describes
  off-shell N'N'bar -> s* -> N_i N_ibar conversions among the three degenerate HNLs, which do not deplete N'
  (equal symmetric abundances), yet the Boltzmann factor e^{-sqrt(s)/T} would let that tail dominate at
  x > 20 (e.g. 43x the NWA at y = 1.4, g = 0.3, x = 20, with the whole tail).  Within the window the
  average differs from eq. 3.16 by the line shape x Boltzmann factor across the pole (docs/hnl.md).
* Asymmetry: eta_N' = eps eta_B, eps = 123/112 (seed below eq. 3.7), eta_B = n_B/s = 8.8e-11 (seed eq. 3.13);
  Omega = Omega h^2 / h^2 with h = 0.674 (Planck 2018), so Omega = 0.265 at Omega h^2 = 0.120.
Units: MeV.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy import integrate, special

from ..cosmology import asymmetric
from ..errors import ParameterError

ETA_B = 8.8e-11
EPS_ASYM = 123.0 / 112.0
H_PLANCK = 0.674
OMEGA_OBS = 0.265
#: relations of seed Fig. 1: m_s/m_N' ("0" = m_s << m_N', N'N'bar -> s s)
FIG1_RELATIONS = (0.0, 2.6, 2.8)


# ------------------------------------------------------------------------------------------------
# N'N'bar -> s s
# ------------------------------------------------------------------------------------------------
def _dot(a, b):
    return a[..., 0] * b[..., 0] - (a[..., 1:] * b[..., 1:]).sum(-1)


def _tr(p2, a, alpha, p1, b, beta, m):
    """Tr[(p2slash - m)(aslash + alpha)(p1slash + m)(bslash + beta)] / 4."""
    return (_dot(p2, a) * _dot(p1, b) - _dot(p2, p1) * _dot(a, b) + _dot(p2, b) * _dot(a, p1)
            + m * beta * _dot(p2, a) + alpha * beta * _dot(p2, p1) + alpha * m * _dot(p2, b)
            - m * beta * _dot(a, p1) - m * m * _dot(a, b) - m * alpha * _dot(p1, b) - m * m * alpha * beta)


def msq_ss(s, cos_t, m, m_s, g=1.0):
    """Spin-summed |M|^2(N'N'bar -> s s) at CM energy^2 s [MeV^2] and scattering angle (t/u channels)."""
    cos_t = np.asarray(cos_t, float)
    E = math.sqrt(s) / 2
    pi_, pf = math.sqrt(E * E - m * m), math.sqrt(max(E * E - m_s * m_s, 0.0))
    sin_t = np.sqrt(1 - cos_t**2)
    z = np.zeros_like(cos_t)
    p1 = np.stack([E + z, z, z, pi_ + z], -1)
    p2 = np.stack([E + z, z, z, -pi_ + z], -1)
    k1 = np.stack([E + z, pf * sin_t, z, pf * cos_t], -1)
    k2 = np.stack([E + z, -pf * sin_t, z, -pf * cos_t], -1)
    qt, qu = p1 - k1, p1 - k2
    terms = [(qt, 1.0 / (_dot(qt, qt) - m * m)), (qu, 1.0 / (_dot(qu, qu) - m * m))]
    tot = 0.0
    for a, ca in terms:
        for b, cb in terms:
            tot = tot + ca * cb * 4.0 * _tr(p2, a, m, p1, b, m, m)
    return g**4 * tot


def sigma_ss(s, m, m_s, g=1.0, n_cos: int = 48):
    """sigma(N'N'bar -> s s) [MeV^-2] (identical scalars: 1/2); 0 below threshold."""
    if s <= max(4 * m * m, 4 * m_s * m_s):
        return 0.0
    x, w = np.polynomial.legendre.leggauss(n_cos)
    E = math.sqrt(s) / 2
    pi_, pf = math.sqrt(E * E - m * m), math.sqrt(E * E - m_s * m_s)
    avg = float((msq_ss(s, x, m, m_s, g) * w).sum()) / 4.0
    return 0.5 * avg * 2 * math.pi / (64 * math.pi**2 * s) * pf / pi_


def sigma_ss_seed(s, m, g=1.0):
    """Seed eq. 3.10: 3 g^4 sqrt(eps)/(64 pi m^2 (1 + eps)^2), s = 4 m^2 (1 + eps)."""
    eps = s / (4 * m * m) - 1
    return 3 * g**4 / (64 * math.pi * m * m) * math.sqrt(max(eps, 0.0)) / (1 + eps) ** 2


def F_seed_fit(x):
    """Seed eq. 3.12 polynomial fit of F(x) (stated valid for 15 < x < 70)."""
    x = np.asarray(x, float)
    return 0.058 - 0.002 * x + 3.25e-5 * x**2 - 1.87e-7 * x**3


def F_integral(x):
    """Seed eq. 3.12 integral F(x) = x/K2(x)^2 int_0^inf d eps (eps/(1+eps))^{3/2} K1(2x sqrt(1+eps))."""
    f = lambda e: (e / (1 + e)) ** 1.5 * special.k1e(2 * x * math.sqrt(1 + e)) * math.exp(  # noqa: E731
        -2 * x * (math.sqrt(1 + e) - 1))
    val = integrate.quad(f, 0, 60.0 / x, limit=200, epsrel=1e-10)[0]
    return x * val / special.kve(2, x) ** 2


def gg_average(sigma_fn, m, x, pole_eps=None, width_eps=None, window=None):
    """Gondolo-Gelmini <sigma v> [MeV^-2] of sigma(s) at x = m/T, with s = 4 m^2 (1 + eps); a Breit-Wigner pole
    at eps = pole_eps of half-width width_eps (in eps) is integrated in the atan variable, over
    |eps - pole_eps| < window x width_eps if ``window`` is given (else over the whole range)."""
    def integrand(eps):
        s = 4 * m * m * (1 + eps)
        rs = math.sqrt(s)
        k = special.k1e(rs * x / m) * math.exp(-(rs * x / m - 2 * x)) / special.kve(2, x) ** 2
        return sigma_fn(s) * (s - 4 * m * m) * rs * k * 4 * m * m

    hi = max(60.0 / x, 1e-6)
    if pole_eps is not None and width_eps:
        lo, hi = 0.0, max(hi, pole_eps + 40 * width_eps)
        if window is not None:
            lo, hi = max(0.0, pole_eps - window * width_eps), pole_eps + window * width_eps
        u0, u1 = math.atan((lo - pole_eps) / width_eps), math.atan((hi - pole_eps) / width_eps)
        val = integrate.quad(lambda u: integrand(pole_eps + width_eps * math.tan(u)) * width_eps / math.cos(u) ** 2,
                             u0, u1, limit=400, epsabs=0.0, epsrel=1e-8)[0]
        if window is not None:   # renormalise the truncated line shape (Lorentzian fraction kept)
            val /= (u1 - u0) / math.pi
    else:
        val = integrate.quad(integrand, 0.0, hi, limit=200, epsabs=0.0, epsrel=1e-8)[0]
    return val * x / (8.0 * m**5)


# ------------------------------------------------------------------------------------------------
# N'N'bar -> s* (resonance)
# ------------------------------------------------------------------------------------------------
def width_s_to_NN(M_s, m, g):
    """Gamma(s -> N'N'bar) [MeV] for the Yukawa g s N'bar N': g^2 M_s beta^3/(8 pi)."""
    if M_s <= 2 * m:
        return 0.0
    return g * g * M_s * (1 - 4 * m * m / M_s**2) ** 1.5 / (8 * math.pi)


def sigma_res(s, m, M_s, g, n_hnl: int = 3):
    """Breit-Wigner absorption cross section N'N'bar -> s* [MeV^-2] (module docstring)."""
    k2 = s / 4 - m * m
    if k2 <= 0:
        return 0.0
    g_in = g * g * math.sqrt(s) * (1 - 4 * m * m / s) ** 1.5 / (8 * math.pi)   # Gamma(s* -> N'N'bar) at sqrt(s)
    g_tot = n_hnl * width_s_to_NN(M_s, m, g)
    return math.pi / k2 * M_s**2 * g_in * g_tot / ((s - M_s**2) ** 2 + M_s**2 * g_tot**2)


def sigma_v_res_nwa(x, m, y, g):
    """Seed eq. 3.16 (narrow width): pi g^2/(2 m^2) (y^2 - 1)^{3/2} x K1(2xy)/K2(x)^2 [MeV^-2]."""
    if y <= 1:
        return 0.0
    return (math.pi * g * g / (2 * m * m) * (y * y - 1) ** 1.5 * x * special.k1e(2 * x * y)
            * math.exp(-2 * x * y + 2 * x) / special.kve(2, x) ** 2)


#: half-widths around the pole kept in the resolved average (module docstring)
POLE_WINDOW = 5.0


def sigma_v_res(x, m, y, g, n_hnl: int = 3, window: float | None = POLE_WINDOW):
    """Gondolo-Gelmini <sigma v> of :func:`sigma_res` with the pole resolved [MeV^-2], over the pole region
    |s - M^2| < window M Gamma_tot (None: the whole Breit-Wigner, including its far tail)."""
    if y <= 1:
        raise ParameterError(f"m_s/(2 m_N') = {y:g} <= 1: no s-channel resonance above threshold")
    M_s = 2 * y * m
    g_tot = n_hnl * width_s_to_NN(M_s, m, g)
    pole = y * y - 1
    width = M_s * g_tot / (4 * m * m)     # half-width of the pole in eps = s/(4m^2) - 1
    return gg_average(lambda s: sigma_res(s, m, M_s, g, n_hnl), m, x, pole_eps=pole, width_eps=width,
                      window=window)


# ------------------------------------------------------------------------------------------------
# tables and Omega grids
# ------------------------------------------------------------------------------------------------
X_TABLE = np.geomspace(2.0, 1000.0, 48)


@functools.lru_cache(maxsize=4)
def _sigma_ss_table(ms_ratio: float = 0.0):
    """(ln eps grid, sigma/sqrt(eps)) of N'N'bar -> s s for m = g = 1 (smooth; interpolated in GG averages)."""
    eps_thr = max(ms_ratio**2 - 1.0, 0.0)
    eps = eps_thr + np.geomspace(1e-7, 1e3, 240)
    vals = np.array([sigma_ss(4.0 * (1 + e), 1.0, ms_ratio) for e in eps]) / np.sqrt(eps)
    return np.log(eps), vals, eps_thr


def sigma_ss_interp(s, ms_ratio: float = 0.0):
    """sigma(N'N'bar -> s s) for m = g = 1 from the cached table (s in units of m^2)."""
    le, v, thr = _sigma_ss_table(ms_ratio)
    e = s / 4.0 - 1.0
    if e <= thr:
        return 0.0
    return math.sqrt(e) * float(np.interp(math.log(e), le, v))


@functools.lru_cache(maxsize=4)
def _phi_ss(ms_ratio: float = 0.0):
    """ln(<sigma v> m^2/g^4) on X_TABLE for N'N'bar -> s s (m = 1 units)."""
    vals = [gg_average(lambda s: sigma_ss_interp(s, ms_ratio), 1.0, float(x)) for x in X_TABLE]
    return np.log(np.maximum(vals, 1e-300))


@functools.lru_cache(maxsize=64)
def _phi_res(y: float, g: float):
    """ln(<sigma v> m^2/g^2) on X_TABLE for the resonance at y = m_s/(2m) and coupling g (width ~ g^2)."""
    vals = [sigma_v_res(float(x), 1.0, y, g) / (g * g) for x in X_TABLE]
    return np.log(np.maximum(vals, 1e-300))


@functools.lru_cache(maxsize=8)
def _phi_res_nwa(y: float):
    """ln(<sigma v> m^2/g^2) on X_TABLE in the narrow-width limit (seed eq. 3.16)."""
    return np.log(np.maximum([sigma_v_res_nwa(float(x), 1.0, y, 1.0) for x in X_TABLE], 1e-300))


def sigma_v_table(x, m, g, relation: float):
    """<sigma v>(x) [MeV^-2] for m_s = relation x m_N' (0: m_s << m_N', s s final state)."""
    lx = np.log(X_TABLE)
    if relation == 0.0:
        return g**4 / m**2 * np.exp(np.interp(math.log(x), lx, _phi_ss(0.0)))
    return g**2 / m**2 * np.exp(np.interp(math.log(x), lx, _phi_res(relation / 2.0, float(g))))


def omega_grid(m_values, g_values, relation: float, eta_b: float = ETA_B, h: float = H_PLANCK,
               nwa: bool = False):
    """(Omega_N' = rho/rho_c, r = nbar/n) on the grid (len(m_values), len(g_values)) [m in MeV] for one m_s
    relation; ``nwa=True`` uses the narrow-width eq. 3.16 instead of the resolved pole."""
    m_values, g_values = np.asarray(m_values, float), np.asarray(g_values, float)
    if relation != 0.0 and relation <= 2.0:
        raise ParameterError(f"m_s = {relation} m_N' is below the 2 m_N' threshold of the s-channel resonance "
                             "(use 0 for m_s << m_N', or a relation > 2)")
    mm, gg = np.meshgrid(m_values, g_values, indexing="ij")
    lx = np.log(X_TABLE)
    if relation == 0.0:
        phi = _phi_ss(0.0)
        coef = gg.ravel() ** 4 / mm.ravel() ** 2

        def sv(x):
            return coef * math.exp(np.interp(math.log(x), lx, phi))
    else:
        tabs = np.array([_phi_res_nwa(relation / 2.0) if nwa else _phi_res(relation / 2.0, float(g))
                         for g in g_values])   # (ng, nx)
        coef = gg.ravel() ** 2 / mm.ravel() ** 2
        idx = np.tile(np.arange(len(g_values)), len(m_values))

        def sv(x):
            row = np.array([np.interp(math.log(x), lx, t) for t in tabs])
            return coef * np.exp(row[idx])
    out = asymmetric.asymmetric_abundance_many(mm.ravel(), sv, EPS_ASYM * eta_b)
    return (out["omega_h2"] / h**2).reshape(mm.shape), out["r"].reshape(mm.shape)


def omega_point(m, g, relation: float, eta_b: float = ETA_B, h: float = H_PLANCK) -> float:
    """Omega_N' at one point with the adaptive solver (:func:`asymmetric.asymmetric_abundance`)."""
    res = asymmetric.asymmetric_abundance(m, lambda x: float(sigma_v_table(x, m, g, relation)), EPS_ASYM * eta_b)
    return res["omega_h2"] / h**2


def m_max_asymmetric(eta_b: float = ETA_B, h: float = H_PLANCK, omega: float = OMEGA_OBS) -> float:
    """Largest N' mass [MeV] (purely asymmetric, r = 0): seed eq. 3.8 (4.5 GeV)."""
    from ..cosmology import relic

    return omega * h**2 * relic.RHO_C_H2 / (EPS_ASYM * eta_b * relic.S0)
