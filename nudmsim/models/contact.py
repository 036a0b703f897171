"""Contact operator chi chi nu nu / Lambda^2 (seed 000, two-component notation, Majorana chi).

* annihilation chi chi -> nu nu: sigma v_rel = m_chi^2 / (pi Lambda^4) (1 + v^2/2)  (seed 000 eq. 7);
  thermal average with <v^2> = 6/x gives <sigma v> = m^2/(pi Lambda^4) (1 + 3/x).
* radiative neutrino mass (seed 000 eq. 6): m_nu = m_chi^3 / (2 pi^2 Lambda^2) (6 ln(m_chi/mu) - 1),
  renormalisation scale mu = m_nu.
Masses in MeV (hepunits); cross sections in MeV^-2.
"""
from __future__ import annotations

import math

from scipy import optimize

from ..errors import ParameterError


def sigma_v(m_chi: float, lam: float, x: float | None = None) -> float:
    """<sigma v> [MeV^-2]; s-wave only if x is None, else including the p-wave term 3/x."""
    if m_chi <= 0 or lam <= 0:
        raise ParameterError(f"contact operator needs m_chi > 0 and Lambda > 0 (got {m_chi}, {lam} MeV)")
    sv0 = m_chi**2 / (math.pi * lam**4)
    return sv0 if x is None else sv0 * (1.0 + 3.0 / x)


def neutrino_mass(m_chi: float, lam: float, mu: float) -> float:
    """Radiative m_nu [MeV] at renormalisation scale mu [MeV] (seed 000 eq. 6)."""
    return m_chi**3 / (2 * math.pi**2 * lam**2) * (6.0 * math.log(m_chi / mu) - 1.0)


def lambda_for_neutrino_mass(m_chi: float, m_nu: float) -> float:
    """Lambda [MeV] that gives m_nu (with mu = m_nu) for a given m_chi."""
    bracket = 6.0 * math.log(m_chi / m_nu) - 1.0
    if bracket <= 0:
        raise ParameterError(f"m_chi = {m_chi} MeV too close to m_nu: the radiative mass is not positive")
    return math.sqrt(m_chi**3 * bracket / (2 * math.pi**2 * m_nu))


def solve_relic_and_mass(m_nu: float, omega_h2: float = 0.12, bracket=(0.01, 100.0)):
    """(m_chi, Lambda) in MeV such that Omega h^2 and m_nu are both reproduced (seed 000 Fig. 2)."""
    from ..cosmology.relic import relic_abundance

    def f(log_m):
        m = math.exp(log_m)
        lam = lambda_for_neutrino_mass(m, m_nu)
        return math.log(relic_abundance(m, lambda x: sigma_v(m, lam, x)) / omega_h2)

    log_m = optimize.brentq(f, math.log(bracket[0]), math.log(bracket[1]), xtol=1e-4)
    m = math.exp(log_m)
    return m, lambda_for_neutrino_mass(m, m_nu)
