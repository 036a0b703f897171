"""Neutrinos from halo dark matter down-scattering in the Earth and the Sun, X + N -> nu + N (seed 004 §V).

Seed 004 eqs. 16-17: DM of density rho_X and speed v0 converts on the nucleons of a body (number density n,
volume V) at the rate dN/dt = sigma n v0 rho_X V / m_X, and a detector at distance r sees the flux
F = (dN/dt) / (4 pi r^2).  Here ``sigma`` is the per-nucleon conversion cross section at v0 (exothermic, s-wave:
sigma v is velocity independent, so <sigma v> = sigma v0).  At the GeV masses of this section the momentum
transfer (~ E_nu ~ GeV) resolves nucleons: the scattering is incoherent, on every nucleon, with no A^2.

What nudmsim computes:

* **Earth** (:func:`flux_earth`): the flux at an underground detector is the sky-averaged column of the
  source density, F = sigma v0 (rho_X/m_X) (N_A/g) G, with G = (1/4 pi) int dOmega int rho ds [g/cm^2] through the
  PREM Earth (:func:`nudmsim.sources.earth.flux_geometry`): G = 1.61e9 g/cm^2 at 1 km depth.  The seed's
  estimate, eq. 17 with the mean density and r = R_Earth, is rho V/(4 pi R^2) = rho_mean R/3 = 1.17e9 g/cm^2
  (:func:`flux_earth_seed`): 27% lower, because the PREM core is dense and a detector at the surface sees half
  the Earth within ~R of it (a uniform Earth would give rho R/2 = 1.76e9).
* **Sun** (:func:`flux_sun`): a point source at 1 AU, F = sigma v0 (rho_X/m_X) (M_sun/m_u) / (4 pi AU^2)
  = sigma v0 (rho_X/m_X) x 4.2e29 cm^-2 -- 3.6e3 times below the Earth's, as the seed says ("several orders of
  magnitude").  Gravitational focusing of the halo by the Sun (a factor 1 + v_esc^2/v^2 ~ 10 at its surface)
  is neglected, as in the seed.
* **Energy**: X (at rest) + N (at rest) -> nu + N gives a line at E_nu = m_X (m_X + 2 m_N) / (2 (m_X + m_N)),
  m_N the nucleon mass (:func:`neutrino_energy`).  The seed takes E_nu ~ m_X, which holds only for m_X << m_N:
  a 4 GeV X gives a 2.4 GeV neutrino, below the nu_tau CC threshold (3.46 GeV), so the SK bound starts at
  m_X = 6.1 GeV with exact kinematics and at 3.5 GeV with E_nu = m_X (``kinematics="seed"``).

Units: masses and energies in MeV, cross sections in cm^2, fluxes in cm^-2 s^-1.
"""
from __future__ import annotations

import math

import numpy as np

from .. import constants as c
from ..errors import ParameterError
from ..sources import earth

#: Avogadro's number per gram: nucleons per gram of matter (1/m_u)
NUCLEONS_PER_GRAM = 6.02214076e23
#: 1 astronomical unit [cm] (IAU 2012 Resolution B2: 149 597 870 700 m)
AU_CM = 1.495978707e13


def _check(m_X, rho, v0):
    m = np.asarray(m_X, dtype=float)
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ParameterError(f"m_X = {m_X} MeV must be finite and > 0")
    if not (rho > 0 and v0 > 0):
        raise ParameterError("rho_X and v0 must be > 0")
    return m


def neutrino_energy(m_X, kinematics: str = "exact", m_target: float = c.M_NUCLEON) -> np.ndarray:
    """E_nu [MeV] of X + N -> nu + N with X and N at rest: m_X (m_X + 2 m_N)/(2 (m_X + m_N)); ``"seed"``: m_X."""
    m = np.asarray(m_X, dtype=float)
    if kinematics == "seed":
        return m
    if kinematics != "exact":
        raise ParameterError(f"kinematics = {kinematics!r}: give 'exact' or 'seed'")
    return m * (m + 2.0 * m_target) / (2.0 * (m + m_target))


def rate_per_nucleon(sigma_cm2, m_X, rho_GeV_cm3: float = 0.3, v0_km_s: float = 220.0):
    """sigma v0 rho_X / m_X [s^-1 per nucleon] (seed eq. 16 per target nucleon)."""
    m = _check(m_X, rho_GeV_cm3, v0_km_s)
    n_X = rho_GeV_cm3 / (m / c.GeV)              # X per cm^3
    return np.asarray(sigma_cm2, dtype=float) * (v0_km_s * 1e5) * n_X


def flux_earth(sigma_cm2, m_X, rho_GeV_cm3: float = 0.3, v0_km_s: float = 220.0,
               depth_km: float = 1.0) -> np.ndarray:
    """Neutrino flux [cm^-2 s^-1] at a detector ``depth_km`` underground from conversions in the PREM Earth."""
    return rate_per_nucleon(sigma_cm2, m_X, rho_GeV_cm3, v0_km_s) * NUCLEONS_PER_GRAM * \
        earth.flux_geometry(float(depth_km))


def flux_earth_seed(sigma_cm2, m_X, rho_GeV_cm3: float = 0.3, v0_km_s: float = 220.0) -> np.ndarray:
    """Seed eqs. 16-17 as written: mean density, volume of the Earth, r = R_Earth."""
    return rate_per_nucleon(sigma_cm2, m_X, rho_GeV_cm3, v0_km_s) * NUCLEONS_PER_GRAM * \
        earth.seed_estimate_geometry()


def sun_nucleons() -> float:
    """Nucleons in the Sun: M_sun / m_u."""
    return (c.M_SUN / c.kg) * 1e3 * NUCLEONS_PER_GRAM


def flux_sun(sigma_cm2, m_X, rho_GeV_cm3: float = 0.3, v0_km_s: float = 220.0) -> np.ndarray:
    """Neutrino flux [cm^-2 s^-1] at the Earth from conversions in the Sun (seed eqs. 16-17, r = 1 AU)."""
    return rate_per_nucleon(sigma_cm2, m_X, rho_GeV_cm3, v0_km_s) * sun_nucleons() / (4.0 * math.pi * AU_CM**2)
