"""Spin-independent elastic WIMP-nucleus scattering (the direct-detection baseline).

Per target nucleus of mass m_N and mass number A (Lewin & Smith 1996; the convention of XENON1T 2018):

    dsigma/dE_R = sigma_N m_N / (2 mu_N^2 v^2) F^2(q),  sigma_N = sigma_n A^2 (mu_N / mu_n)^2,
    dR/dE_R     = (rho / m_chi) sigma_N m_N / (2 mu_N^2) F^2(q) eta(v_min),   v_min = sqrt(m_N E_R / (2 mu_N^2)),

with q = sqrt(2 m_N E_R), eta the mean inverse speed of :mod:`nudmsim.sources.halo`, mu_n the WIMP-nucleon
reduced mass and F the Helm form factor (selectable).  The rate per unit detector mass sums the isotopes
with their number densities: dR/dE = sum_j n_j dR_j/dE, n_j = abundance_j / <atomic mass>.

``nucleon_mass`` defaults to 1 amu, the choice of XENON1T's rate code (the release's reference spectrum);
m_p instead lowers rates by (mu_n(amu)/mu_n(m_p))^2 - 1 = -1.4% for m_chi >> 1 GeV.

All inputs and outputs in hepunits: energies/masses MeV, cross sections mm^2, rates per (MeV ns) per
nucleus or per (MeV ns kg).  :data:`PER_KEV_T_YR` converts a rate per (MeV ns kg) to events/(keV t yr).
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from .. import formfactors
from ..errors import ParameterError
from ..registry import Param
from ..targets import Nucleus

#: the model point of ``wimp-si`` (m_chi in GeV, sigma_n in cm^2)
POINT = {
    "m_chi": Param(50.0, "GeV", "WIMP mass", strictly_positive=True, hi=1e5),
    "sigma_n": Param(1e-45, "", "SI WIMP-nucleon cross section [cm^2] (<= 1e-20: larger is not a WIMP)", hi=1e-20),
}

#: 1 kg expressed as an energy in MeV (m c^2), to count nuclei of mass m [MeV] in a kg
KG_IN_MEV = c.kg * c.C_LIGHT**2
#: multiply a rate in 1/(MeV ns kg) by this to get events / (keV tonne year)
PER_KEV_T_YR = c.keV * c.YEAR * 1000.0


def reduced_mass(a, b):
    return a * b / (a + b)


def _check(m_chi, sigma_n):
    m = np.asarray(m_chi, dtype=float)
    s = np.asarray(sigma_n, dtype=float)
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise ParameterError(f"WIMP mass must be finite and > 0, got {m_chi}")
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ParameterError(f"sigma_n must be finite and >= 0, got {sigma_n}")


def sigma_nucleus(sigma_n, m_chi, nucleus: Nucleus, nucleon_mass: float = c.AMU):
    """sigma_N = sigma_n A^2 (mu_N/mu_n)^2 (same units as ``sigma_n``)."""
    mu_N = reduced_mass(m_chi, nucleus.mass)
    mu_n = reduced_mass(m_chi, nucleon_mass)
    return sigma_n * nucleus.A**2 * (mu_N / mu_n) ** 2


def v_min(e_recoil, m_chi, m_N):
    """Minimum lab speed [mm/ns] for an elastic recoil of E_R [MeV]."""
    mu = reduced_mass(m_chi, m_N)
    return np.sqrt(m_N * np.asarray(e_recoil, dtype=float) / (2.0 * mu**2)) * c.C_LIGHT


def e_max(m_chi, m_N, v):
    """Largest recoil energy [MeV] at lab speed v [mm/ns]: 2 mu^2 v^2 / m_N."""
    mu = reduced_mass(m_chi, m_N)
    return 2.0 * mu**2 * (np.asarray(v) / c.C_LIGHT) ** 2 / m_N


def dRdE_nucleus(e_recoil, m_chi, sigma_n, nucleus: Nucleus, halo, form_factor: str = "helm",
                 nucleon_mass: float = c.AMU) -> np.ndarray:
    """dR/dE_R per target nucleus [1/(MeV ns)]; E_R [MeV], m_chi [MeV], sigma_n [mm^2]."""
    _check(m_chi, sigma_n)
    E = np.asarray(e_recoil, dtype=float)
    m_N = nucleus.mass
    mu_N = reduced_mass(m_chi, m_N)
    sig_N = sigma_nucleus(sigma_n, m_chi, nucleus, nucleon_mass)
    F2 = formfactors.get(form_factor)(np.sqrt(2.0 * m_N * np.maximum(E, 0.0)), nucleus.A) ** 2
    eta = halo.eta(v_min(E, m_chi, m_N))  # ns/mm
    rate = halo.rho / m_chi * sig_N * m_N * c.C_LIGHT**2 / (2.0 * mu_N**2) * F2 * eta
    return np.where(E >= 0, rate, 0.0)


def number_per_kg(nuclei: list[Nucleus]) -> np.ndarray:
    """Nuclei of each isotope per kg of target material (abundance / mean atomic mass)."""
    ab = np.array([n.abundance for n in nuclei], dtype=float)
    mean_mass = sum(n.abundance * (n.mass + n.Z * c.M_ELECTRON) for n in nuclei) / ab.sum()
    return ab / ab.sum() * (KG_IN_MEV / mean_mass)


def dRdE(e_recoil, m_chi, sigma_n, nuclei: list[Nucleus], halo, form_factor: str = "helm",
         nucleon_mass: float = c.AMU) -> np.ndarray:
    """dR/dE_R per unit detector mass [1/(MeV ns kg)], summed over ``nuclei`` (a target mix)."""
    n_kg = number_per_kg(nuclei)
    out = 0.0
    for nk, nuc in zip(n_kg, nuclei):
        out = out + nk * dRdE_nucleus(e_recoil, m_chi, sigma_n, nuc, halo, form_factor, nucleon_mass)
    return np.asarray(out)


def total_rate(m_chi, sigma_n, nuclei, halo, e_lo, e_hi, form_factor: str = "helm",
               nucleon_mass: float = c.AMU, order: int = 64) -> float:
    """int_{e_lo}^{e_hi} dR/dE dE per unit mass [1/(ns kg)] (Gauss-Legendre)."""
    x, w = np.polynomial.legendre.leggauss(order)
    E = 0.5 * (e_hi - e_lo) * x + 0.5 * (e_hi + e_lo)
    return float(0.5 * (e_hi - e_lo) * np.sum(w * dRdE(E, m_chi, sigma_n, nuclei, halo, form_factor,
                                                          nucleon_mass)))


# ------------------------------------------------------------------------------------------------
# limit plane: sigma_n vs m_chi (the SI WIMP-nucleon cross section; rates are proportional to it)
# ------------------------------------------------------------------------------------------------
def _plane():
    from ..models.planes import LimitPlane, register

    def point(x, ratio, ref):
        return {"m_chi": float(x), "sigma_n": float(ref.get("sigma_n", POINT["sigma_n"].default))}

    register(LimitPlane("sigma_si", "wimp-si", "m_chi", "GeV", "sigma_SI (nucleon)", "cm^2", "", 0.0, point,
                        lambda p: float(p["sigma_n"]), ("sigma_n",),
                        "sigma_n: spin-independent WIMP-nucleon cross section (the rate is proportional to it)"))


_plane()
