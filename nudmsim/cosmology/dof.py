"""Effective relativistic degrees of freedom g_eff(T) (energy) and g_s(T) (entropy) of the SM plasma.

Computed, not digitised: ideal-gas energy and entropy densities of every SM species with its PDG mass
(``particle``), full Fermi-Dirac / Bose-Einstein integrals, plus

* the QCD crossover as a smooth switch (tanh in T, T_c = 150 MeV, width 15 MeV) between a quark-gluon gas
  and a hadron gas (pi, K, eta, rho, omega, nucleons).  Near T_c this is ~10-20% off the lattice tables
  (Saikawa & Shirai 2018; Drees et al. 2015); away from 80-300 MeV it agrees with them to < 3%.
* neutrino decoupling at T_dec = 2 MeV: below it, neutrinos keep T_nu proportional to 1/a and the
  photon-e+- plasma conserves its own entropy, so (T_nu/T)^3 = g_s,gamma-e(T) / g_s,gamma-e(T_dec).
  That gives the textbook late-time values g_s = 3.909 and g_eff = 3.363.

Temperatures in MeV (hepunits).  Results are cached on a log grid (1 keV - 10 TeV) and interpolated.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import constants as c

T_QCD = 150.0 * c.MeV
DT_QCD = 15.0 * c.MeV
T_NU_DEC = 2.0 * c.MeV

_U = np.linspace(0.0, 60.0, 3001)  # p/T grid for the thermal integrals


def _pdg_mass(pid: int) -> float:
    from particle import Particle

    return float(Particle.from_pdgid(pid).mass) * c.MeV


@functools.lru_cache(maxsize=None)
def _species():
    """(name, mass [MeV], internal dof, fermion?, sector) with sector in {plasma, quark, hadron, nu}."""
    q = [(n, _pdg_mass(p), 12, True, "quark") for n, p in
         (("u", 2), ("d", 1), ("s", 3), ("c", 4), ("b", 5), ("t", 6))]
    return tuple([
        ("photon", 0.0, 2, False, "plasma"),
        ("e", c.M_ELECTRON, 4, True, "plasma"),
        ("mu", c.M_MUON, 4, True, "plasma"),
        ("tau", c.M_TAU, 4, True, "plasma"),
        ("W", c.M_W, 6, False, "plasma"),
        ("Z", c.M_Z, 3, False, "plasma"),
        ("H", _pdg_mass(25), 1, False, "plasma"),
        ("gluon", 0.0, 16, False, "quark"),
        *q,
        ("pi+-", c.M_PION, 2, False, "hadron"),
        ("pi0", c.M_PION0, 1, False, "hadron"),
        ("K", c.M_KAON, 4, False, "hadron"),
        ("eta", _pdg_mass(221), 1, False, "hadron"),
        ("rho", _pdg_mass(113), 9, False, "hadron"),
        ("omega", _pdg_mass(223), 3, False, "hadron"),
        ("N", c.M_NUCLEON, 8, True, "hadron"),
        ("nu", 0.0, 6, True, "nu"),
    ])


def _rho_s(z: np.ndarray, fermion: bool):
    """Energy density rho/(T^4) and entropy s/(T^3) per internal dof for m/T = z (vectorised over z)."""
    u = _U[None, :]
    z = np.asarray(z, dtype=float)[:, None]
    e = np.sqrt(u**2 + z**2)
    sign = 1.0 if fermion else -1.0
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        f = 1.0 / (np.exp(e) + sign)
    f = np.where(np.isfinite(f), f, 0.0)
    if not fermion:
        f[:, 0] = np.where(z[:, 0] == 0, 0.0, f[:, 0])  # integrable 1/u singularity times u^2 -> 0
    rho = np.trapezoid(u**2 * e * f, _U, axis=1) / (2 * np.pi**2)
    p = np.trapezoid(u**4 / np.where(e > 0, e, 1.0) * f, _U, axis=1) / (6 * np.pi**2)
    return rho, rho + p  # s T = rho + P


def _g_from(z, g, fermion):
    rho, s = _rho_s(z, fermion)
    # normalise to one relativistic boson dof: rho = pi^2/30 g T^4, s = 2 pi^2/45 g T^3
    return g * rho / (np.pi**2 / 30), g * s / (2 * np.pi**2 / 45)


@functools.lru_cache(maxsize=1)
def _table():
    T = np.logspace(np.log10(1e-3), np.log10(1e7), 700) * c.MeV
    w_qgp = 0.5 * (1.0 + np.tanh((T - T_QCD) / DT_QCD))
    g_pl = np.zeros_like(T)
    gs_pl = np.zeros_like(T)
    g_qcd = np.zeros_like(T)
    gs_qcd = np.zeros_like(T)
    for name, m, g, ferm, sector in _species():
        if sector == "nu":
            continue
        ge, gs = _g_from(m / T, g, ferm)
        if sector == "plasma":
            g_pl += ge
            gs_pl += gs
        else:
            w = w_qgp if sector == "quark" else 1.0 - w_qgp
            g_qcd += w * ge
            gs_qcd += w * gs
    # neutrinos: T_nu = T above decoupling; below, entropy of the gamma-e plasma alone is conserved
    gs_dec = np.interp(np.log(T_NU_DEC), np.log(T), gs_pl)
    ratio3 = np.where(T >= T_NU_DEC, 1.0, gs_pl / gs_dec)  # (T_nu/T)^3
    g_nu = 7.0 / 8.0 * 6 * ratio3 ** (4.0 / 3.0)
    gs_nu = 7.0 / 8.0 * 6 * ratio3
    return np.log(T), g_pl + g_qcd + g_nu, gs_pl + gs_qcd + gs_nu


def g_eff(T) -> np.ndarray:
    """Energy degrees of freedom g_eff(T): rho = pi^2/30 g_eff T^4.  T in MeV (photon temperature)."""
    lt, ge, _ = _table()
    return np.interp(np.log(np.asarray(T, dtype=float)), lt, ge)


def g_s(T) -> np.ndarray:
    """Entropy degrees of freedom g_s(T): s = 2 pi^2/45 g_s T^3.  T in MeV."""
    lt, _, gs = _table()
    return np.interp(np.log(np.asarray(T, dtype=float)), lt, gs)


@functools.lru_cache(maxsize=1)
def _dlng_s_table():
    lt, _, gs = _table()
    return lt, np.gradient(np.log(gs), lt)


def dlng_s_dlnT(T) -> np.ndarray:
    """d ln g_s / d ln T (numerical derivative of the table, computed once)."""
    lt, d = _dlng_s_table()
    return np.interp(np.log(np.asarray(T, dtype=float)), lt, d)
