"""Neutrino-to-dark-matter conversion on a nucleus, nu + N -> X + N, by scalar (phi) exchange.

Spin-averaged matrix element (massless left-handed nu, Dirac X of mass m_X, spin-1/2 coherent nucleus with
scalar coupling y_N; t = -2 m_N E_R):

    |M|^2 = 4 y_X^2 y_N^2 m_N^2 (1 + E_R/(2 m_N)) (2 m_N E_R + m_X^2) / (2 m_N E_R + m_phi^2)^2

(lepton trace Tr[k'-slash k-slash P_R] = 2 k.k' = m_X^2 - t; nuclear (1/2) Tr[(p'+m)(p+m)] = 2(p.p' + m^2)).
With dsigma/dE_R = |M|^2 / (32 pi m_N E_nu^2) this is seed 004 eqs. (5)-(6) (SPEC section 4.1):

    dsigma/dE_R = y_X^2 y_N^2 m_N (1 + E_R/2m_N) (2 m_N E_R + m_X^2) / (8 pi E_nu^2 (2 m_N E_R + m_phi^2)^2) F^2.

For m_X -> 0 it becomes y_X^2 y_N^2 m_N^2 E_R (1 + E_R/2m_N) / (4 pi E_nu^2 (2 m_N E_R + m_phi^2)^2), the standard
scalar-mediator CEvNS cross section (whose usual form drops the O(E_R/m_N) recoil factor).

Exact 2->2 kinematics with a massive X (derived here, tested against explicit 4-vectors):

* threshold E_nu >= m_X + m_X^2 / (2 m_N)  (s >= (m_N + m_X)^2);
* recoil range E_R in [E_R^-, E_R^+] from the CM momenta p_i = m_N E_nu / sqrt(s),
  E_X* = (2 m_N E_nu + m_X^2) / (2 sqrt(s)), p_f = sqrt(E_X*^2 - m_X^2):
  E_R^+ = (2 p_i (E_X* + p_f) - m_X^2) / (2 m_N) and, written without cancellations,
  E_R^- = m_X^4 m_N / (2 s (E_X* + p_f) (p_i - m_X^2/(2 sqrt s) + p_f));
* smallest E_nu giving a recoil E_R (lab: nucleus momentum q = sqrt(E_R^2 + 2 m_N E_R) along the neutrino):
  E_nu,min(E_R) = (2 m_N E_R + m_X^2) / (2 (q - E_R)).

Units: MeV; dsigma/dE_R in MeV^-3; multiply by ``constants.INV_MEV2_TO_CM2`` for cm^2/MeV.
"""
from __future__ import annotations

import numpy as np


def threshold(m_X, m_N):
    """Smallest neutrino energy (MeV) for nu + N -> X + N with a nucleus of mass m_N at rest."""
    m_X = np.asarray(m_X, dtype=float)
    return m_X + m_X**2 / (2.0 * m_N)


def recoil_range(e_nu, m_X, m_N):
    """(E_R^-, E_R^+) in MeV for neutrino energy e_nu; NaN below threshold."""
    e = np.asarray(e_nu, dtype=float)
    m_X = float(m_X)
    s = m_N**2 + 2.0 * m_N * e
    rs = np.sqrt(s)
    p_i = m_N * e / rs
    ex = (2.0 * m_N * e + m_X**2) / (2.0 * rs)
    pf2 = ex**2 - m_X**2
    ok = pf2 >= 0
    pf = np.sqrt(np.where(ok, pf2, 0.0))
    hi = (2.0 * p_i * (ex + pf) - m_X**2) / (2.0 * m_N)
    lo = m_X**4 * m_N / (2.0 * s * (ex + pf) * (p_i - m_X**2 / (2.0 * rs) + pf))
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def e_nu_min(e_r, m_X, m_N):
    """Smallest neutrino energy (MeV) that can produce recoil e_r (MeV) together with an X of mass m_X."""
    e_r = np.asarray(e_r, dtype=float)
    q = np.sqrt(e_r * e_r + 2.0 * m_N * e_r)
    with np.errstate(divide="ignore"):
        return (2.0 * m_N * e_r + m_X**2) / (2.0 * (q - e_r))


def dsigma_dER_noff(e_nu, e_r, y_X, y_N, m_X, m_phi, m_N):
    """dsigma/dE_R (MeV^-3) without form factor; zero outside the kinematic range (and below threshold)."""
    e = np.asarray(e_nu, dtype=float)
    er = np.asarray(e_r, dtype=float)
    num = y_X**2 * y_N**2 * m_N * (1.0 + er / (2.0 * m_N)) * (2.0 * m_N * er + m_X**2)
    val = num / (8.0 * np.pi * e**2 * (2.0 * m_N * er + m_phi**2) ** 2)
    return np.where(e_nu_min(er, m_X, m_N) <= e, val, 0.0)


def dsigma_dER(e_nu, e_r, y_X, y_N, m_X, m_phi, m_N, F2=1.0):
    """dsigma/dE_R (MeV^-3) times the squared form factor ``F2``."""
    return dsigma_dER_noff(e_nu, e_r, y_X, y_N, m_X, m_phi, m_N) * F2


def matrix_element_sq(e_r, y_X, y_N, m_X, m_phi, m_N):
    """Spin-averaged |M|^2 (dimensionless) as a function of the recoil energy."""
    er = np.asarray(e_r, dtype=float)
    return (4.0 * y_X**2 * y_N**2 * m_N**2 * (1.0 + er / (2.0 * m_N)) * (2.0 * m_N * er + m_X**2)
            / (2.0 * m_N * er + m_phi**2) ** 2)


def standard_scalar_cevns(e_nu, e_r, y_X, y_N, m_phi, m_N):
    """Textbook scalar-mediator CEvNS, y^2 y_N^2 m_N^2 E_R / (4 pi E_nu^2 (2 m_N E_R + m_phi^2)^2) (MeV^-3)."""
    e = np.asarray(e_nu, dtype=float)
    er = np.asarray(e_r, dtype=float)
    return y_X**2 * y_N**2 * m_N**2 * er / (4.0 * np.pi * e**2 * (2.0 * m_N * er + m_phi**2) ** 2)
