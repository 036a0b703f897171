"""The scalar-portal model of seed 004 (SPEC section 4.1):  L > y_X  X-bar phi nu  +  y_q  phi q-bar q.

Pure functions, natural units (hepunits: masses and energies in MeV, cross sections in MeV^-2, widths in
MeV).  Multiply a cross section by ``constants.INV_MEV2_TO_CM2`` for cm^2.

* :func:`nucleon_couplings`: y_p, y_n = m_N sum_q y_q f_q^N / m_q with the Hoferichter et al. (2015) scalar
  charges and PDG quark masses (``nudmsim.constants``); heavy quarks (c, b, t) enter with
  f_Q = 2/27 (1 - f_u - f_d - f_s).  For equal quark couplings y_p ~ y_n ~ 17.7 y_q (the seed quotes 17.5).
* :func:`nucleus_coupling`: y_N = Z y_p + (A - Z) y_n.  Seed 004 eq. (7) prints ``A y_p + (A - Z) y_n``,
  which double counts the neutrons; the coherent sum over nucleons is Z y_p + N y_n (SPEC flags the misprint).
* :func:`sigma_nc` and its inverse :func:`coupling_product_from_sigma_nc`: the reference cross section of the
  seed's plots, sigma_NC = y_X^2 y_p^2 m_X^2 / (16 pi m_phi^4).
* :func:`decay_width_x_to_nu_gamma`: the one-loop width X -> nu gamma of seed eq. (3),
  Gamma = y_X^2 y_q^2 alpha m_X^5 / (192 pi^4 m_phi^4).
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from ..errors import ParameterError
from ..registry import Param

#: the model point of the scalar portal (processes nu-to-x, x-to-nu): masses in MeV, couplings dimensionless.
#: Defaults: m_phi = 3 m_X; y_q = 1e-4 is below the kaon bound 1.58e-4 (seed eq. 2); y_X = 3e-6 gives ~20
#: accepted nu -> X events in the COHERENT 2017 exposure (~12% of the SM CEvNS signal).
#: Ranges: couplings perturbative (<= 4 pi; larger ones overflowed to inf/NaN event weights), masses up to 100 GeV
#: (m_X) and 1 TeV (m_phi), far beyond any kinematic reach of the sources.
POINT = {
    "m_X": Param(10.0, "MeV", "dark-matter (X) mass", strictly_positive=True, hi=1e5),
    "m_phi": Param(30.0, "MeV", "scalar mediator mass", strictly_positive=True, hi=1e6),
    "y_X": Param(3e-6, "", "X-phi-nu Yukawa coupling (perturbative: <= 4 pi)", hi=4 * np.pi),
    "y_q": Param(1e-4, "", "phi-quark Yukawa coupling, equal for all quarks (<= 4 pi)", hi=4 * np.pi),
}

#: light-quark scalar charges per nucleon (Hoferichter et al. 2015)
_CHARGES = {
    "p": {"u": c.F_U_PROTON, "d": c.F_D_PROTON, "s": c.F_STRANGE},
    "n": {"u": c.F_U_NEUTRON, "d": c.F_D_NEUTRON, "s": c.F_STRANGE},
}
_QUARK_MASS = {"u": c.M_UP, "d": c.M_DOWN, "s": c.M_STRANGE, "c": c.M_CHARM, "b": c.M_BOTTOM, "t": c.M_TOP}
_NUCLEON_MASS = {"p": c.M_PROTON, "n": c.M_NEUTRON}


def scalar_charges(nucleon: str) -> dict[str, float]:
    """f_q^N for q in u, d, s, c, b, t (``nucleon`` = "p" or "n")."""
    if nucleon not in _CHARGES:
        raise ParameterError(f"nucleon must be 'p' or 'n', got {nucleon!r}")
    light = dict(_CHARGES[nucleon])
    f_heavy = c.heavy_quark_charge(light["u"], light["d"], light["s"])
    return {**light, "c": f_heavy, "b": f_heavy, "t": f_heavy}


def nucleon_coupling(y_q, nucleon: str = "p", quark_couplings: dict[str, float] | None = None):
    """y_N for a nucleon: m_N sum_q y_q f_q^N / m_q (dimensionless).

    ``y_q`` is the common quark coupling (array allowed); ``quark_couplings`` optionally gives one coupling
    per flavour (keys u, d, s, c, b, t; missing flavours use ``y_q``)."""
    fq = scalar_charges(nucleon)
    y_q = np.asarray(y_q, dtype=float)
    total = 0.0
    for q, f in fq.items():
        yq = (quark_couplings or {}).get(q, y_q)
        total = total + yq * f / _QUARK_MASS[q]
    return _NUCLEON_MASS[nucleon] * total


def nucleon_couplings(y_q, quark_couplings: dict[str, float] | None = None):
    """(y_p, y_n) for quark coupling ``y_q`` (equal for all flavours unless ``quark_couplings`` says)."""
    return nucleon_coupling(y_q, "p", quark_couplings), nucleon_coupling(y_q, "n", quark_couplings)


def nucleus_coupling(y_p, y_n, Z: int, A: int):
    """Coherent nucleus coupling y_N = Z y_p + (A - Z) y_n (seed eq. 7 corrected)."""
    return Z * np.asarray(y_p, dtype=float) + (A - Z) * np.asarray(y_n, dtype=float)


def _check_masses(**masses):
    for name, m in masses.items():
        arr = np.asarray(m, dtype=float)
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ParameterError(f"{name} must be finite and > 0 MeV, got {m}")


def sigma_nc(y_X, y_p, m_X, m_phi):
    """Reference cross section sigma_NC = y_X^2 y_p^2 m_X^2 / (16 pi m_phi^4) in MeV^-2 (masses in MeV)."""
    _check_masses(m_X=m_X, m_phi=m_phi)
    y_X, y_p = np.asarray(y_X, dtype=float), np.asarray(y_p, dtype=float)
    m_X, m_phi = np.asarray(m_X, dtype=float), np.asarray(m_phi, dtype=float)
    return y_X**2 * y_p**2 * m_X**2 / (16.0 * np.pi * m_phi**4)


def coupling_product_from_sigma_nc(sigma, m_X, m_phi):
    """Inverse of :func:`sigma_nc`: y_X * y_p = sqrt(16 pi m_phi^4 sigma) / m_X (sigma in MeV^-2, >= 0)."""
    _check_masses(m_X=m_X, m_phi=m_phi)
    sigma = np.asarray(sigma, dtype=float)
    if np.any(sigma < 0):
        raise ParameterError("sigma_NC must be >= 0")
    return np.sqrt(16.0 * np.pi * np.asarray(m_phi, dtype=float) ** 4 * sigma) / np.asarray(m_X, dtype=float)


def decay_width_x_to_nu_gamma(y_X, y_q, m_X, m_phi):
    """Gamma(X -> nu gamma) = y_X^2 y_q^2 alpha m_X^5 / (192 pi^4 m_phi^4) in MeV (seed 004 eq. 3).

    Lifetime in ns: ``constants.HBAR / width``."""
    _check_masses(m_X=m_X, m_phi=m_phi)
    y_X, y_q = np.asarray(y_X, dtype=float), np.asarray(y_q, dtype=float)
    m_X, m_phi = np.asarray(m_X, dtype=float), np.asarray(m_phi, dtype=float)
    return y_X**2 * y_q**2 * c.ALPHA_EM * m_X**5 / (192.0 * np.pi**4 * m_phi**4)


def sigma_v_annihilation(y_X, m_X, m_phi):
    """s-wave <sigma v>(X Xbar -> nu nubar) in MeV^-2 for Dirac X (masses in MeV), exact in m_X/m_phi:

        sigma v = y_X^4 m_X^2 / (32 pi (m_X^2 + m_phi^2)^2)  ->  y_X^4 m_X^2 / (32 pi m_phi^4)  (m_phi >> m_X).

    Derivation (L > y_X Xbar P_L nu phi + h.c., phi real, one left-handed nu): only the t-channel phi exchange
    exists for X(p1) Xbar(p2) -> nu(k1) nubar(k2); the spin sum is sum|M|^2 = y^4 (m^2 - t)^2/(t - m_phi^2)^2,
    at threshold t = -m^2, so the spin average is y^4 m^4/(m^2 + m_phi^2)^2 and sigma v = |M|^2/(32 pi m^2).
    The same topology in seed 002 (eq. 7, Dirac chi, neutrino portal) gives the identical formula.

    Seed 004 §VII prints (sigma v) = y_X^4/(16 pi m_phi^4), which has dimension MeV^-4 (it drops m_X^2)
    and a coefficient 1/(16 pi): that is twice this result.  1/(16 pi) is what two neutrino flavours coupled
    with the same y_X would give (a non-chiral coupling to a Dirac neutrino would give 1/(8 pi)).  The full sigma(s) and its thermal average are in
    :mod:`nudmsim.cosmology.thermal` (tests in tests/test_cosmology_kd.py)."""
    _check_masses(m_X=m_X, m_phi=m_phi)
    y_X = np.asarray(y_X, dtype=float)
    m_X, m_phi = np.asarray(m_X, dtype=float), np.asarray(m_phi, dtype=float)
    return y_X**4 * m_X**2 / (32.0 * np.pi * (m_X**2 + m_phi**2) ** 2)


# ------------------------------------------------------------------------------------------------
# limit plane (nudmsim.models.planes): y_q vs m_phi from K+ -> pi+ phi (phi invisible)
# ------------------------------------------------------------------------------------------------
#: seed 004 eq. 2: the kaon bound the seed quotes
SEED_YQ_BOUND = 1.58e-4


def _register_planes():
    from .planes import LimitPlane, register

    register(LimitPlane("y_q", "kaon-pi-phi", "m_phi", "MeV", "y_q", "", "", 0.0,
                        lambda x, r, ref: {"m_phi": x, "y_q": float(ref.get("y_q", 1e-4)), "BR": 0.0},
                        lambda p: p["y_q"], ("y_q",),
                        "K+ -> pi+ phi: B is proportional to y_q^2 (top-W penguin), so y_q scales as the square "
                        "root of the signal strength", power=0.5,
                        reference=lambda x, r, o: (np.full(len(x), SEED_YQ_BOUND), "seed 004 eq. 2: y_q < 1.58e-4")))


_register_planes()
