"""Standard-Model coherent elastic neutrino-nucleus scattering (CEvNS), flavour independent at tree level.

    dsigma/dT = G_F^2 / (4 pi) Q_w^2 M (1 - M T / (2 E_nu^2)) F(q)^2,   Q_w = N - (1 - 4 sin^2 theta_W) Z

(seed 004 eq. 11, SPEC section 4.1), q = sqrt(2 M T), 0 <= T <= T_max = 2 E_nu^2 / (M + 2 E_nu).
Natural units: energies and masses in MeV, dsigma/dT in MeV^-3 (i.e. MeV^-2 per MeV of recoil);
multiply by ``constants.INV_MEV2_TO_CM2`` for cm^2/MeV.  Terms of order T/E_nu (< 1e-3 at the SNS) are
dropped, as in the seed and in COHERENT 2017.  ``F2`` is the squared form factor evaluated by the caller
(``nudmsim.formfactors.form_factor_sq_recoil``), so the same code serves every form-factor choice.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c


def weak_charge(Z: int, N: int, sin2_theta_w: float = c.SIN2_THETA_W) -> float:
    """Q_w = N - (1 - 4 sin^2 theta_W) Z."""
    return N - (1.0 - 4.0 * sin2_theta_w) * Z


def t_max(e_nu, mass):
    """Largest recoil kinetic energy (MeV) for a massless projectile of energy e_nu on a nucleus at rest."""
    e_nu = np.asarray(e_nu, dtype=float)
    return 2.0 * e_nu**2 / (mass + 2.0 * e_nu)


def e_nu_min(t, mass):
    """Smallest neutrino energy that can give recoil T: (T + sqrt(T^2 + 2 M T)) / 2 (MeV)."""
    t = np.asarray(t, dtype=float)
    return 0.5 * (t + np.sqrt(t * t + 2.0 * mass * t))


def dsigma_dT_noff(e_nu, t, Z: int, N: int, mass: float):
    """dsigma/dT without the form factor (MeV^-3); zero outside 0 <= T <= T_max(E_nu)."""
    e_nu = np.asarray(e_nu, dtype=float)
    t = np.asarray(t, dtype=float)
    qw = weak_charge(Z, N)
    val = c.G_FERMI**2 / (4.0 * np.pi) * qw**2 * mass * (1.0 - mass * t / (2.0 * e_nu**2))
    return np.where((t >= 0) & (t <= t_max(e_nu, mass)), val, 0.0)


def dsigma_dT(e_nu, t, Z: int, N: int, mass: float, F2=1.0):
    """dsigma/dT (MeV^-3) with the squared form factor ``F2`` (array broadcastable with t)."""
    return dsigma_dT_noff(e_nu, t, Z, N, mass) * F2


def sigma_total_noff(e_nu, Z: int, N: int, mass: float):
    """Integral of :func:`dsigma_dT_noff` over 0..T_max (MeV^-2), closed form (point nucleus)."""
    e_nu = np.asarray(e_nu, dtype=float)
    tm = t_max(e_nu, mass)
    qw = weak_charge(Z, N)
    return c.G_FERMI**2 / (4.0 * np.pi) * qw**2 * mass * (tm - mass * tm**2 / (4.0 * e_nu**2))
