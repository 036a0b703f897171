"""Charged-current nu_tau-nucleon cross section: the nu_mu one times the tau-mass suppression R(E).

sigma(nu_tau N -> tau X)(E) = (sigma/E)_numu * E * R(E), with

* (sigma/E)_numu = 0.677e-38 cm^2/GeV: the isoscalar nu_mu CC cross section per nucleon above a few GeV
  (PDG Review of Particle Physics, "Neutrino cross-section measurements" review, Fig. 51.1 world average;
  the DIS value the seed's SK reference also quotes for nu_mu);
* R(E) from the free-quark parton model with the tau mass kept.  Derivation (V-A, massless quarks, one massive
  final lepton; spin-summed |M|^2 integrated over the CM angle), for parton energy squared s_hat:

      nu q    -> tau q'   :  sigma_hat / sigma_hat(m_tau = 0) = (1 - m^2/s_hat)^2
      nu qbar -> tau qbar':  sigma_hat / sigma_hat(m_tau = 0) = (1 - m^2/s_hat)^2 (1 + m^2 / (2 s_hat))

  (massless quark case: |M|^2 ~ (k.p)(k'.p') is isotropic; antiquark: |M|^2 ~ (k.p')(k'.p) ~ (1 + cos)(E_tau +
  E' cos); the phase-space factor (s_hat - m^2)/s_hat multiplies both).  With s_hat = x (s - m_N^2) =
  2 m_N E x and momentum distributions x q(x), x qbar(x) of an isoscalar nucleon,

      R(E) = [int x q S_q dx + 1/3 int x qbar S_qbar dx] / [int x q dx + 1/3 int x qbar dx]   (s_hat > m_tau^2),

  and R = 0 below the nucleon-level threshold E_th = ((m_tau + m_N)^2 - m_N^2)/(2 m_N) = 3.46 GeV.

The parton densities are simple shapes (valence x u_v ~ x^0.5 (1-x)^3 with 2:1 u:d, sea x qbar ~ 0.4 (1-x)^7
normalised to 10% of the momentum), enough for a ratio that depends on them only through <x> near threshold.
Accuracy: tens of per cent within a few GeV of threshold (quasi-elastic and resonance production dominate there,
not modelled), a few per cent above ~20 GeV; R -> 1 for E >> m_tau^2/m_N (tests).
"""
from __future__ import annotations

import numpy as np

from .. import constants as c

#: isoscalar nu_mu CC cross section per nucleon divided by energy [cm^2/GeV] (PDG world average, DIS region)
SIGMA_NUMU_OVER_E_CM2_GEV = 0.677e-38

_X = np.linspace(1e-4, 1.0 - 1e-6, 4000)
_XQ = 3.0 * _X**0.5 * (1.0 - _X) ** 3 + 0.4 * (1.0 - _X) ** 7   # x q(x): valence + sea quarks (shape)
_XQB = 0.4 * (1.0 - _X) ** 7                                      # x qbar(x)


def threshold_energy() -> float:
    """E_th [MeV] of nu_tau N -> tau N: ((m_tau + m_N)^2 - m_N^2) / (2 m_N)."""
    m, M = c.M_TAU, c.M_NUCLEON
    return ((m + M) ** 2 - M**2) / (2.0 * M)


def s_factor_quark(s_hat, m):
    """(1 - m^2/s_hat)^2 for s_hat > m^2, else 0."""
    z = np.asarray(m, dtype=float) ** 2 / np.asarray(s_hat, dtype=float)
    return np.where(z < 1.0, (1.0 - z) ** 2, 0.0)


def s_factor_antiquark(s_hat, m):
    """(1 - m^2/s_hat)^2 (1 + m^2/(2 s_hat)) for s_hat > m^2, else 0."""
    z = np.asarray(m, dtype=float) ** 2 / np.asarray(s_hat, dtype=float)
    return np.where(z < 1.0, (1.0 - z) ** 2 * (1.0 + 0.5 * z), 0.0)


def suppression(E_nu) -> np.ndarray:
    """R(E) = sigma(nu_tau CC) / sigma(nu_mu CC) at neutrino energy E [MeV] (module docstring)."""
    E = np.atleast_1d(np.asarray(E_nu, dtype=float))
    s_hat = 2.0 * c.M_NUCLEON * E[:, None] * _X[None, :]
    num = np.trapezoid(_XQ * s_factor_quark(s_hat, c.M_TAU) + _XQB / 3.0 * s_factor_antiquark(s_hat, c.M_TAU),
                       _X, axis=1)
    den = np.trapezoid(_XQ + _XQB / 3.0, _X)
    out = np.where(E >= threshold_energy(), num / den, 0.0)
    return out if np.ndim(E_nu) else float(out[0])


def sigma_cc_nutau_cm2(E_nu) -> np.ndarray:
    """CC nu_tau cross section per nucleon [cm^2] at E [MeV]."""
    E = np.asarray(E_nu, dtype=float)
    return SIGMA_NUMU_OVER_E_CM2_GEV * (E / c.GeV) * suppression(E)
