"""Seed 003 (Cline, Puel, Toma, JHEP 05 (2020) 039): HNL mixings of the quasi-Dirac N_i, the minimum scale
mu_bar(M_N) allowed by laboratory limits, and the ratio r(M_N) (seed §4.1, eqs. 4.2-4.16, Figs. 2-3).

Mixings (seed eqs. 2.4, 4.2-4.4, 4.10; orthogonal matrix O = 1 as the seed sets it):
    eta_nu = (D_nu/mu_bar)^1/2 U_PMNS^dagger,   U_li = (eta_nu^T)_li vbar/M_N = U*_li sqrt(D_i/mu_bar) vbar/M_N,
so |U_li|^2 = |U_PMNS,li|^2 D_i vbar^2/(mu_bar M_N^2): NH has D = (0, sqrt(dm21), sqrt(dm31)) and N' = N_1,
IH D = (sqrt(|dm32| - dm21), sqrt(|dm32|), 0) and N' = N_3.  vbar = 174 GeV = (2 sqrt2 G_F)^-1/2.
Checks against the seed: at M_N = 4.5 GeV, mu_bar = 5.7 MeV (NH) gives Ubar = (sum_l,i |U_li|^2)^1/2 = 0.0039
(eq. 4.13) and Ubar_e = 0.00099, Ubar_mu = 0.0028, Ubar_tau = 0.0025 (eq. 4.14) -- tests.

EWPD (seed eqs. 4.7-4.9): eps_ll = (1/2) sum_i |U_PMNS,li|^2 sin^2 theta_i, theta_i = eta_i vbar/M_N, so
eps_ee + eps_mumu = (Ubar_e^2 + Ubar_mu^2)/2 <= 2.64e-3 gives mu_bar_min.  We find 9.4 keV (NH) and 20 keV (IH)
x (4.5 GeV/M_N)^2; the seed prints 5.9 and 13.6 keV, and its own Ubar_e, Ubar_mu at that bound (0.031, 0.087)
give eps_ee + eps_mumu = 4.3e-3, not 2.64e-3: eq. 4.11/4.12 are inconsistent with eq. 4.7 and the quoted bound
by a factor ~1.6 (see docs/hnl.md).

Laboratory limits (Fig. 3): the seed combined the single-flavour limits of the SHiP physics case (its
ref. [14], Figs. 4.10-4.12) "to account for two HNLs each mixing with all flavours" without giving the rule.
We require, per flavour l and per experiment, sum_i |U_li|^2 <= U^2_l,limit(M) (the two degenerate unstable
HNLs add incoherently in production; the decay side is not rescaled), and take mu_bar_min(M) as the largest
mu_bar any limit demands.  r(M) = (mu_bar_ref/mu_bar_min(M))^1/2 with mu_bar_ref the DELPHI-saturating value at
4.5 GeV (5.7 MeV in the seed).  Units: MeV (hepunits); mu_bar in MeV.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import constants as c
from ..errors import ParameterError
from ..paths import data_file

ORDERINGS = ("NH", "IH")
FLAVOURS = ("e", "mu", "tau")
#: complex Higgs vev vbar = v/sqrt2 = (2 sqrt2 G_F)^-1/2 = 174.1 GeV
VBAR = 1.0 / math.sqrt(2.0 * math.sqrt(2.0) * c.G_FERMI)
#: seed eq. 4.9 / text: 95% CL bound eps_ee + eps_mumu <= 2.64e-3 from M_W
EPS_EWPD_MAX = 2.64e-3
#: seed eq. 4.13: DELPHI, Ubar = (sum_l Ubar_l^2)^1/2 < 0.0039 at M_N = 4.5 GeV
UBAR_DELPHI_45 = 0.0039
M_N_MAX = 4.5 * c.GeV


def _check_ordering(ordering):
    if ordering not in ORDERINGS:
        raise ParameterError(f"unknown mass ordering '{ordering}' (choose NH or IH)")


def pmns(ordering: str = "NH") -> np.ndarray:
    """PMNS matrix (standard parametrisation, PDG 2024 central values, no Majorana phases)."""
    _check_ordering(ordering)
    s12, s13, s23 = (math.sqrt(x) for x in (c.SIN2_THETA12, c.SIN2_THETA13, c.SIN2_THETA23[ordering]))
    c12, c13, c23 = (math.sqrt(1 - s * s) for s in (s12, s13, s23))
    e = np.exp(1j * c.DELTA_CP)
    return np.array([
        [c12 * c13, s12 * c13, s13 / e],
        [-s12 * c23 - c12 * s23 * s13 * e, c12 * c23 - s12 * s23 * s13 * e, s23 * c13],
        [s12 * s23 - c12 * c23 * s13 * e, -c12 * s23 - s12 * c23 * s13 * e, c23 * c13]])


def light_masses(ordering: str = "NH") -> np.ndarray:
    """D_nu [MeV] with the lightest mass zero (seed eq. 4.3)."""
    _check_ordering(ordering)
    dm32 = c.DM2_32[ordering]
    if ordering == "NH":
        return np.array([0.0, math.sqrt(c.DM2_21), math.sqrt(dm32 + c.DM2_21)])
    return np.array([math.sqrt(-dm32 - c.DM2_21), math.sqrt(-dm32), 0.0])


def dm_index(ordering: str = "NH") -> int:
    """Index i of the dark-matter HNL N' (the massless column): 0 (N_1) for NH, 2 (N_3) for IH."""
    _check_ordering(ordering)
    return 0 if ordering == "NH" else 2


def _check(M_N, mu_bar):
    M, mu = np.asarray(M_N, float), np.asarray(mu_bar, float)
    if np.any(~np.isfinite(M)) or np.any(M <= 0) or np.any(~np.isfinite(mu)) or np.any(mu <= 0):
        raise ParameterError(f"M_N = {M_N} and mu_bar = {mu_bar} MeV must be finite and > 0")


def eta_transpose(mu_bar, ordering: str = "NH") -> np.ndarray:
    """eta_nu^T (3x3, rows l = e, mu, tau; columns i = N_1..N_3) for mu_bar [MeV] (seed eq. 4.2, O = 1)."""
    _check(1.0, mu_bar)
    return np.conj(pmns(ordering)) * np.sqrt(light_masses(ordering) / mu_bar)[None, :]


def mixings(M_N, mu_bar, ordering: str = "NH") -> np.ndarray:
    """U_li (3x3 complex) at HNL mass M_N [MeV] (seed eq. 4.4)."""
    _check(M_N, mu_bar)
    return eta_transpose(mu_bar, ordering) * VBAR / M_N


def U2(M_N, mu_bar, ordering: str = "NH") -> np.ndarray:
    """|U_li|^2, broadcast over M_N and mu_bar: shape (..., 3, 3)."""
    M = np.asarray(M_N, float)[..., None, None]
    mu = np.asarray(mu_bar, float)[..., None, None]
    _check(M_N, mu_bar)
    return np.abs(pmns(ordering)) ** 2 * light_masses(ordering) * VBAR**2 / (mu * M * M)


def ubar(M_N, mu_bar, ordering: str = "NH") -> np.ndarray:
    """(Ubar_e, Ubar_mu, Ubar_tau), Ubar_l = (sum_i |U_li|^2)^1/2."""
    return np.sqrt(U2(M_N, mu_bar, ordering).sum(-1))


def eps_ewpd(M_N, mu_bar, ordering: str = "NH"):
    """eps_ee + eps_mumu of seed eq. 4.7 (small angles: sin^2 theta_i = theta_i^2)."""
    u = U2(M_N, mu_bar, ordering).sum(-1)
    return 0.5 * (u[..., 0] + u[..., 1])


def mu_bar_min_ewpd(M_N, ordering: str = "NH", eps_max: float = EPS_EWPD_MAX):
    """Smallest mu_bar [MeV] with eps_ee + eps_mumu <= eps_max (scales as M_N^-2)."""
    return eps_ewpd(M_N, 1.0, ordering) / eps_max


def mu_bar_delphi(ordering: str = "NH", M_N: float = M_N_MAX, ubar_max: float = UBAR_DELPHI_45):
    """mu_bar [MeV] that saturates the DELPHI bound Ubar < 0.0039 at 4.5 GeV (seed: 5.7 MeV NH, 9.8 MeV IH)."""
    tot = float(U2(M_N, 1.0, ordering).sum())
    return tot / ubar_max**2


# ------------------------------------------------------------------------------------------------
# laboratory limits
# ------------------------------------------------------------------------------------------------
#: limits of the SHiP physics case (seed ref. [14], Figs. 4.10-4.12), as curves of data/hnl_limits/
#: (flavour -> [(file, label)]); "bottom" curves bound excluded islands from below.  DELPHI is applied to the
#: total mixing separately (:func:`delphi_total_limit`), as the seed does (eq. 4.13).
SEED003_LIMITS = {
    "e": [("ps191_gambit_curve", "PS191"), ("charm_curve", "CHARM"), ("belle_bottom", "Belle"),
          ("pienu_2017_curve", "PIENU"), ("triumf_curve", "TRIUMF")],
    "mu": [("ps191_gambit_curve", "PS191"), ("nutev_bottom", "NuTeV"), ("e949_curve", "E949"),
           ("bebc_closed_contour", "BEBC"), ("kek_curve", "KEK"), ("psi_curve", "PSI")],
    "tau": [("charm_curve", "CHARM")],
}
_SHEET = {"e": "Ue4", "mu": "Umu4", "tau": "Utau4"}


@functools.lru_cache(maxsize=64)
def limit_curve(flavour: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(mass [MeV], |U_l|^2 upper limit) of data/hnl_limits/curves/<sheet>/<name>.csv, sorted in mass;
    closed contours are reduced to their lower envelope."""
    path = data_file("hnl_limits", "curves", _SHEET[flavour], f"{name}.csv")
    if not path.is_file():
        raise ParameterError(f"no limit curve {path.name} for flavour {flavour} in data/hnl_limits")
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    head = lines[0].split(",")
    arr = np.array([[float(v) for v in ln.split(",")[:2]] for ln in lines[1:]])
    unit = c.GeV if head[0].endswith("GeV") else c.MeV
    m, u = arr[:, 0] * unit, arr[:, 1]
    if "closed_contour" in name:
        order = np.argsort(m)
        m, u = m[order], u[order]
        grid = np.geomspace(m.min(), m.max(), 80)
        low = [u[(m >= a) & (m <= b)].min() if np.any((m >= a) & (m <= b)) else np.nan
               for a, b in zip(np.r_[m.min(), grid[:-1]], grid)]
        keep = np.isfinite(low)
        return grid[keep], np.asarray(low)[keep]
    order = np.argsort(m)
    return m[order], u[order]


def limit_at(flavour: str, name: str, M_N) -> np.ndarray:
    """log-log interpolated |U_l|^2 limit at M_N [MeV]; inf outside the curve's mass range."""
    m, u = limit_curve(flavour, name)
    M = np.atleast_1d(np.asarray(M_N, float))
    out = np.full(M.shape, np.inf)
    ok = (M >= m[0]) & (M <= m[-1])
    out[ok] = np.exp(np.interp(np.log(M[ok]), np.log(m), np.log(u)))
    return out


def mu_bar_min_lab(M_N, ordering: str = "NH", limits: dict | None = None) -> np.ndarray:
    """Minimum mu_bar [MeV] allowed by the laboratory limits at each M_N [MeV] (module docstring rule)."""
    lim = SEED003_LIMITS if limits is None else limits
    M = np.atleast_1d(np.asarray(M_N, float))
    need = np.zeros(M.shape)
    per = U2(M, 1.0, ordering).sum(-1)  # (n, 3): sum_i |U_li|^2 at mu_bar = 1 MeV
    for k, fl in enumerate(FLAVOURS):
        for name, _ in lim.get(fl, []):
            need = np.maximum(need, per[:, k] / limit_at(fl, name, M))
    return need


def delphi_total_limit(M_N, normalise: str = "seed") -> np.ndarray:
    """Limit on Ubar^2 = sum_l,i |U_li|^2 from DELPHI (Z -> N nu, any flavour; seed §4.1.2): the digitised
    DELPHI envelope (short + long decay lengths, e-flavour curve of data/hnl_limits) -- with
    ``normalise="seed"`` scaled so that it equals the seed's Ubar < 0.0039 at 4.5 GeV (the digitised curve
    gives 5.2e-5 there, 3.4x weaker than 0.0039^2 = 1.5e-5)."""
    M = np.atleast_1d(np.asarray(M_N, float))
    env = np.minimum(limit_at("e", "delphi_short_curve", M), limit_at("e", "delphi_long_curve", M))
    if normalise == "seed":
        at45 = float(np.minimum(limit_at("e", "delphi_short_curve", M_N_MAX), limit_at("e", "delphi_long_curve", M_N_MAX))[0])
        env = env * UBAR_DELPHI_45**2 / at45
    elif normalise != "digitised":
        raise ParameterError(f"DELPHI normalisation '{normalise}': choose seed or digitised")
    return env


def mu_bar_min(M_N, ordering: str = "NH", delphi: str = "seed", limits: dict | None = None) -> np.ndarray:
    """Minimum mu_bar [MeV] (seed Fig. 3): the largest of the per-flavour laboratory limits, the DELPHI
    total-mixing bound and the EWPD bound."""
    M = np.atleast_1d(np.asarray(M_N, float))
    tot = U2(M, 1.0, ordering).sum(axis=(-1, -2))
    need_delphi = tot / delphi_total_limit(M, delphi)
    return np.maximum.reduce([mu_bar_min_lab(M, ordering, limits), need_delphi, mu_bar_min_ewpd(M, ordering)])


def r_of_M(M_N, ordering: str = "NH", mu_bar_ref: float | None = None, seed_formula: bool = False,
           delphi: str = "seed") -> np.ndarray:
    """Rescaling r(M_N) of the maximal mixings: |U_li|_max(M_N) = r(M_N) |U_li|(4.5 GeV, mu_bar_ref)
    (seed eq. 4.16), i.e. r = (mu_bar_ref/mu_bar_min(M_N))^1/2 (4.5 GeV/M_N), mu_bar_ref = the DELPHI value
    at 4.5 GeV (5.8 MeV NH).  The seed prints r = (5.7 MeV/min mu_bar)^1/2 without the (4.5 GeV/M_N): that
    is the rescaling of eta_nu, not of U (U = eta vbar/M_N); ``seed_formula=True`` returns it as printed."""
    ref = mu_bar_delphi(ordering) if mu_bar_ref is None else mu_bar_ref
    M = np.atleast_1d(np.asarray(M_N, float))
    r_eta = np.sqrt(ref / mu_bar_min(M, ordering, delphi))
    return r_eta if seed_formula else r_eta * M_N_MAX / M
