"""Nuclear form factors F(q), normalised to F(0) = 1.  ``q`` is the momentum transfer in MeV (hepunits).

* Helm, with the Lewin & Smith (1996) parameters used by XENON and wimprates:
  c = 1.23 A^(1/3) - 0.60 fm, a = 0.52 fm, s = 0.9 fm, r_n^2 = c^2 + 7/3 pi^2 a^2 - 5 s^2,
  F(q) = 3 j1(q r_n)/(q r_n) exp(-(q s)^2/2).
* Klein-Nystrand (as used by COHERENT 2017): a hard sphere of radius R_A = 1.2 A^(1/3) fm folded with a
  Yukawa potential of range a_k = 0.7 fm: F(q) = 3 j1(q R_A)/(q R_A) / (1 + q^2 a_k^2).

Both are vectorised over q; the recoil energy form is F(sqrt(2 m_N E_R)).
"""
from __future__ import annotations

import numpy as np

from . import constants as c
from .errors import NudmsimError

FM = 1e-12 * c.mm  # 1 fm in mm
_FM_MEV = FM / c.HBARC  # 1 fm in MeV^-1


def _j1_over_x(x: np.ndarray) -> np.ndarray:
    """3 j1(x)/x with the small-x series (avoids 0/0)."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) < 1e-3
    xs = x[small]
    out[small] = 1.0 - xs**2 / 10.0
    xl = x[~small]
    out[~small] = 3.0 * (np.sin(xl) - xl * np.cos(xl)) / xl**3
    return out


def helm(q, A: float, s_fm: float = 0.9, a_fm: float = 0.52) -> np.ndarray:
    """Helm form factor F(q) (Lewin & Smith 1996 parameters); q in MeV."""
    q = np.asarray(q, dtype=float)
    cc = 1.23 * A ** (1.0 / 3.0) - 0.60
    rn = np.sqrt(cc**2 + 7.0 / 3.0 * np.pi**2 * a_fm**2 - 5.0 * s_fm**2) * _FM_MEV
    s = s_fm * _FM_MEV
    return _j1_over_x(q * rn) * np.exp(-0.5 * (q * s) ** 2)


def klein_nystrand(q, A: float, r0_fm: float = 1.2, ak_fm: float = 0.7) -> np.ndarray:
    """Klein-Nystrand form factor F(q); q in MeV.  R_A = r0 A^(1/3)."""
    q = np.asarray(q, dtype=float)
    ra = r0_fm * A ** (1.0 / 3.0) * _FM_MEV
    ak = ak_fm * _FM_MEV
    return _j1_over_x(q * ra) / (1.0 + (q * ak) ** 2)


def unity(q, A: float) -> np.ndarray:
    """Point nucleus, F = 1."""
    return np.ones_like(np.asarray(q, dtype=float))


FORM_FACTORS = {"helm": helm, "klein_nystrand": klein_nystrand, "none": unity}


def get(name: str):
    """Form factor function by card name (``helm``, ``klein_nystrand``, ``none``)."""
    try:
        return FORM_FACTORS[name]
    except KeyError:
        raise NudmsimError(f"unknown form factor '{name}' (choose one of {', '.join(FORM_FACTORS)})") from None


def form_factor_sq_recoil(e_recoil, nucleus_mass: float, A: float, name: str = "helm") -> np.ndarray:
    """F^2 at recoil energy E_R [MeV] for a nucleus of mass [MeV]: q = sqrt(2 m_N E_R)."""
    q = np.sqrt(2.0 * nucleus_mass * np.asarray(e_recoil, dtype=float))
    return get(name)(q, A) ** 2
