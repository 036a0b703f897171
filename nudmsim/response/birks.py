"""Ionisation quenching in organic scintillators: Birks' law with ICRU-49 stopping powers.

Birks (1951): dL/dx = S dE/dx / (1 + kB dE/dx), so the electron-equivalent (visible) energy of an ion of
kinetic energy T that stops in the scintillator is

    E_vis(T) = int_0^T dE / (1 + kB (dE/dx)(E))                                  [keVee when T in keV]

(electrons of the same energy are taken as unquenched, E_vis = T: the keVee scale).

Stopping power of protons: electronic stopping of ICRU Report 49 (1993) in its Andersen-Ziegler form, the
parametrisation coded in Geant4 ``G4hICRU49p::ElectronicStoppingPower`` (coefficients per element, T in
keV/amu, S in eV / (1e15 atoms/cm^2)):

    T < 10 keV: S = A1 sqrt(T)        (carbon: below 40 keV, S(40) sqrt(T/40))
    else:       S = S_low S_high / (S_low + S_high),  S_low = A2 T^0.45,  S_high = A3/T ln(1 + A4/T + A5 T)

Compound: Bragg additivity over the atoms of the molecule (C9H12 for pseudocumene), chemical-binding and
phase corrections neglected.  Check (tests/test_dd_birks.py): water from the H and O coefficients is 2-3% above
NIST PSTAR at 1-3 MeV (260.8, 117.2 MeV cm^2/g) and ~18% above at 100 keV, where the gas-phase hydrogen
coefficients overestimate condensed-phase stopping; for kB calibrated on the Po-210 alpha this moves the
70 keVee proton threshold by a few %.  Heavier ions (carbon recoils) use the proton stopping power at the same
speed times the squared effective charge (Barkas/Northcliffe: Z_eff = Z [1 - exp(-125 beta Z^-2/3)]).
Nuclear stopping S_n (ZBL universal formula, Ziegler, Biersack & Littmark 1985) takes energy without making
light, so the visible energy is

    E_vis(T) = int_0^T dE  [S_e / (S_e + S_n)] / (1 + kB S_e)

(Birks' law applied to the electronic part; negligible S_n for protons, dominant for slow carbon recoils).

Units: energies in keV, stopping powers in MeV/cm, kB in cm/MeV (the literature's units); the module is
self-contained so the card numbers read as published.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..errors import NudmsimError

#: ICRU 49 / Andersen-Ziegler proton coefficients (A1..A5) for H and C, as in Geant4 G4hICRU49p
_ICRU49 = {
    1: (1.254, 1.440, 242.6, 1.2e4, 0.1159),
    6: (2.631, 2.601, 1701.0, 1279.0, 0.01638),
    8: (2.652, 3.000, 1920.0, 2000.0, 0.0223),
}
_ATOMIC_MASS_U = {1: 1.00794, 6: 12.0107, 8: 15.9994}  # IUPAC standard atomic weights
_AVOGADRO = 6.02214076e23
_PROTON_MASS_U = 1.007276
_M_PROTON_KEV = 938272.088


def proton_stopping_element(T_keV, Z: int) -> np.ndarray:
    """Electronic stopping cross section of element Z for protons [eV / (1e15 atoms/cm^2)]."""
    if Z not in _ICRU49:
        raise NudmsimError(f"no ICRU-49 proton coefficients for Z={Z} in nudmsim (have {sorted(_ICRU49)})")
    a1, a2, a3, a4, a5 = _ICRU49[Z]
    T = np.asarray(T_keV, dtype=float) / _PROTON_MASS_U  # keV/amu
    fac = np.ones_like(T)
    t_low = 40.0 if Z == 6 else 10.0
    low = T < t_low
    fac = np.where(low, np.sqrt(np.maximum(T, 0.0) / t_low), 1.0)
    Tp = np.where(low, t_low, T)
    s_low = a2 * Tp**0.45
    s_high = a3 / Tp * np.log(1.0 + a4 / Tp + a5 * Tp)
    return np.maximum(s_low * s_high / (s_low + s_high) * fac, 0.0)


def proton_stopping_power(T_keV, composition: dict[int, int], density_g_cm3: float) -> np.ndarray:
    """dE/dx [MeV/cm] of protons in a compound {Z: atoms per molecule} of the given density (Bragg rule)."""
    mol_mass = sum(n * _ATOMIC_MASS_U[z] for z, n in composition.items())
    molecules_per_cm3 = density_g_cm3 / mol_mass * _AVOGADRO
    s = sum(n * proton_stopping_element(T_keV, z) for z, n in composition.items())  # eV / 1e15 molecules/cm^2
    return s * 1e-15 * molecules_per_cm3 * 1e-6  # eV cm^2 * 1/cm^3 -> eV/cm -> MeV/cm


def effective_charge(T_keV, mass_keV: float, Z: int) -> np.ndarray:
    """Northcliffe effective charge Z [1 - exp(-125 beta Z^(-2/3))] of an ion with kinetic energy T."""
    T = np.asarray(T_keV, dtype=float)
    gamma = 1.0 + T / mass_keV
    beta = np.sqrt(np.maximum(1.0 - 1.0 / gamma**2, 0.0))
    return Z * (1.0 - np.exp(-125.0 * beta * Z ** (-2.0 / 3.0)))


def ion_stopping_power(T_keV, Z_ion: int, mass_keV: float, composition: dict[int, int],
                       density_g_cm3: float) -> np.ndarray:
    """dE/dx [MeV/cm] of an ion (charge Z_ion, mass) by velocity scaling of the proton stopping power."""
    T = np.asarray(T_keV, dtype=float)
    if Z_ion == 1:
        return proton_stopping_power(T * _M_PROTON_KEV / mass_keV, composition, density_g_cm3)
    T_p = T * _M_PROTON_KEV / mass_keV  # proton energy at the same speed
    return effective_charge(T, mass_keV, Z_ion) ** 2 * proton_stopping_power(T_p, composition, density_g_cm3)


def nuclear_stopping(T_keV, Z1: int, M1_u: float, composition: dict[int, int],
                     density_g_cm3: float) -> np.ndarray:
    """ZBL universal nuclear stopping [MeV/cm] of an ion (Z1, M1 in u) in a compound (Bragg additivity)."""
    T = np.maximum(np.asarray(T_keV, dtype=float), 1e-9)
    mol_mass = sum(n * _ATOMIC_MASS_U[z] for z, n in composition.items())
    molecules_per_cm3 = density_g_cm3 / mol_mass * _AVOGADRO
    total = 0.0
    for Z2, n in composition.items():
        M2 = _ATOMIC_MASS_U[Z2]
        zz = Z1**0.23 + Z2**0.23
        eps = 32.53 * M2 * T / (Z1 * Z2 * (M1_u + M2) * zz)
        sn = np.where(eps <= 30.0,
                      np.log1p(1.1383 * eps) / (2.0 * (eps + 0.01321 * eps**0.21226 + 0.19593 * np.sqrt(eps))),
                      np.log(eps) / (2.0 * eps))
        total = total + n * 8.462 * Z1 * Z2 * M1_u * sn / ((M1_u + M2) * zz)  # eV / 1e15 atoms/cm^2
    return total * 1e-15 * molecules_per_cm3 * 1e-6


class BirksQuenching:
    """E_vis(T) by Birks' law for one ion species; tabulated once on a log grid and interpolated.

    kB [cm/MeV]; composition {Z: n}; density [g/cm^3]; ion (Z, mass in keV); T range [keV]."""

    def __init__(self, kB_cm_MeV: float, composition: dict[int, int], density_g_cm3: float,
                 Z_ion: int = 1, mass_keV: float = _M_PROTON_KEV, T_max_keV: float = 1e5, n: int = 4000):
        if not (math.isfinite(kB_cm_MeV) and kB_cm_MeV >= 0):
            raise NudmsimError(f"Birks kB must be finite and >= 0 cm/MeV, got {kB_cm_MeV}")
        self.kB = kB_cm_MeV
        self.T = np.concatenate([[0.0], np.logspace(-3, math.log10(T_max_keV), n)])
        Tg = np.maximum(self.T, 1e-6)
        dEdx = ion_stopping_power(Tg, Z_ion, mass_keV, composition, density_g_cm3)
        s_n = nuclear_stopping(Tg, Z_ion, mass_keV / 931494.10242, composition, density_g_cm3)
        integrand = dEdx / (dEdx + s_n) / (1.0 + kB_cm_MeV * dEdx)
        self.E_vis = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(self.T))])

    def visible(self, T_keV) -> np.ndarray:
        """Electron-equivalent energy [keVee] for kinetic energy T [keV]."""
        return np.interp(np.asarray(T_keV, dtype=float), self.T, self.E_vis)

    def recoil_for_visible(self, E_vis_keV) -> np.ndarray:
        """Inverse: kinetic energy [keV] giving E_vis [keVee]."""
        return np.interp(np.asarray(E_vis_keV, dtype=float), self.E_vis, self.T)


@lru_cache(maxsize=64)
def cached_quenching(kB: float, composition: tuple, density: float, Z_ion: int, mass_keV: float) -> BirksQuenching:
    return BirksQuenching(kB, dict(composition), density, Z_ion, mass_keV)
