"""Dark-matter down-scattering X + N -> nu + N (scalar portal, SPEC section 4.1, seed 004 section VI).

Matrix element.  Crossing nu + N -> X + N (SPEC: spin-averaged over the nucleus only, the nu being one
helicity) gives, summed over all spins, 8 y_X^2 y_N^2 m_N^2 (1 + E_R/2m_N)(2 m_N E_R + m_X^2)/(2 m_N E_R + m_phi^2)^2
(nucleon line Tr[(p'+m)(p+m)] = 8 m_N^2 (1 + E_R/2m_N); lepton line 2 k.k' = m_X^2 - t = m_X^2 + 2 m_N E_R).
For X + N -> nu + N the average runs over the 2 X and 2 N spin states:

    |M|^2 = 2 y_X^2 y_N^2 m_N^2 (1 + E_R/2m_N)(2 m_N E_R + m_X^2) / (2 m_N E_R + m_phi^2)^2  F^2(q),

q = sqrt(2 m_N E_R), i.e. half the nu -> X expression of SPEC (one nu helicity vs two X spins).

Kinematics (exact 2 -> 2, N at rest, X with lab speed v, gamma = 1/sqrt(1-v^2), c = 1):
s = m_X^2 + m_N^2 + 2 gamma m_X m_N, CM momenta p_i = gamma m_X m_N v / sqrt(s), p_f = (s - m_N^2)/(2 sqrt s).
E_R = -t/2m_N = E_c(v) - Delta(v) cos(theta*), with (cancellation-free forms)

    E_c = m_X^2 [2 gamma m_X + (2 + 4 gamma^2 v^2) m_N] / (4 s),   Delta = p_i p_f / m_N.

At v = 0: p_f = m_X (m_X + 2 m_N) / (2 (m_X + m_N)) and E_R = m_X^2 / (2 (m_X + m_N)) ~ m_X^2/2m_N (SPEC).
The recoil is a box of half-width Delta ~ 2 v E_R around E_c: nearly monochromatic, relative width ~ 4 v ~ 1%.

Cross section times velocity (flux v, s p_i^2 = m_N^2 p_lab^2):

    sigma v = 1/(32 pi m_N m_X^2 gamma^2 v) int_{E_c - Delta}^{E_c + Delta} |M|^2 dE_R
           -> |M|^2 p_f / (16 pi m_N m_X sqrt(s))                        (v -> 0, finite: exothermic)
           -> y_X^2 y_N^2 m_X^2 / (4 pi m_phi^4)                          (m_X << m_N, m_phi >> m_X, F = 1)

so with y_N = A y_p (y_p = y_n) sigma v = 4 A^2 sigma_NC, sigma_NC = y_X^2 y_p^2 m_X^2 / (16 pi m_phi^4) the seed's
plotting variable.  Seed eq. (20) writes R = (rho/m_X) sigma_NC sum_j N_j A_j^2 F_j^2, i.e. misses this factor 4
(and the (1 + 2 m_N E_R / m_phi^2)^-2 propagator factor, 1.23 at r = 3): nudmsim computes rates from |M|^2.

Rate per target (seed eq. 20 done properly): R = (rho/m_X) <sigma v>; the spectrum

    dR/dE_R = (rho/m_X) |M|^2(E_R) / (32 pi m_N m_X^2) int_{v_min(E_R)} f(v)/(gamma^2 v) dv
            ~ (rho/m_X) |M|^2(E_R) / (32 pi m_N m_X^2) eta(v_min(E_R)),

where v_min(E_R) solves |E_R - E_c(v)| = Delta(v); the 1/gamma^2 = 1 - v^2 flux factor (< 7e-6 in the halo) is
dropped in the spectrum and kept in :func:`sigma_v` (tests check both agree).

Units: masses/energies in MeV, velocities in units of c (``v``) unless stated; rates from
:func:`rate_per_target` / :func:`dRdE` in 1/ns and 1/(MeV ns) per target (hepunits).
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from .. import formfactors
from ..errors import ParameterError
from ..registry import Param

#: the model point of ``x-to-nu``: m_phi = 10 m_X (seed Fig. 2 left); y_X y_q chosen to give O(100) XENON1T
#: events (sigma_NC ~ 9e-50 cm^2), y_q = 3e-9 well below the kaon bound 1.58e-4.
POINT = {
    "m_X": Param(50.0, "MeV", "dark-matter (X) mass", strictly_positive=True, hi=1e5),
    "m_phi": Param(500.0, "MeV", "scalar mediator mass", strictly_positive=True, hi=1e6),
    "y_X": Param(1e-2, "", "X-phi-nu Yukawa coupling (perturbative: <= 4 pi)", hi=4 * np.pi),
    "y_q": Param(3e-9, "", "phi-quark Yukawa coupling, equal for all quarks (<= 4 pi)", hi=4 * np.pi),
}

#: (hbar c)^2 c: converts sigma*v in natural units [MeV^-2] to mm^3/ns
SIGMAV_TO_HEP = c.HBARC**2 * c.C_LIGHT


def check_masses(m_X, m_phi):
    for name, m in (("m_X", m_X), ("m_phi", m_phi)):
        a = np.asarray(m, dtype=float)
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ParameterError(f"{name} must be finite and > 0 MeV, got {m}")


# ------------------------------------------------------------------------------------------------
# kinematics
# ------------------------------------------------------------------------------------------------
def recoil_at_rest(m_X, m_N):
    """E_R for a DM particle at rest: m_X^2 / (2 (m_X + m_N)) [MeV] (exact)."""
    m_X = np.asarray(m_X, dtype=float)
    return m_X**2 / (2.0 * (m_X + m_N))


def p_final_at_rest(m_X, m_N):
    """CM (= lab) momentum of the outgoing neutrino for X at rest: m_X (m_X + 2 m_N) / (2 (m_X + m_N))."""
    m_X = np.asarray(m_X, dtype=float)
    return m_X * (m_X + 2.0 * m_N) / (2.0 * (m_X + m_N))


def kinematics(m_X, m_N, v):
    """(s, p_i, p_f, E_c, Delta) for lab speed ``v`` (units of c); arrays broadcast."""
    v = np.asarray(v, dtype=float)
    g2 = 1.0 / (1.0 - v * v)
    g = np.sqrt(g2)
    s = m_X**2 + m_N**2 + 2.0 * g * m_X * m_N
    rs = np.sqrt(s)
    p_i = g * m_X * m_N * v / rs
    p_f = m_X * (m_X + 2.0 * g * m_N) / (2.0 * rs)
    e_c = m_X**2 * (2.0 * g * m_X + (2.0 + 4.0 * g2 * v * v) * m_N) / (4.0 * s)
    delta = p_i * p_f / m_N
    return s, p_i, p_f, e_c, delta


def recoil_range(m_X, m_N, v):
    """(E_R min, E_R max) at lab speed v (units of c)."""
    _, _, _, e_c, d = kinematics(m_X, m_N, v)
    return e_c - d, e_c + d


def v_min(e_recoil, m_X, m_N, iterations: int = 2):
    """Smallest lab speed (units of c) that can produce recoil E_R: solves |E_R - E_c(v)| = Delta(v).

    v = F(v) = |E_R - E_c(v)| / (Delta(v)/v) is a contraction (E_c - E_c(0) = O(v^2)); two fixed-point steps
    followed by secant steps on v - F(v) converge to ~1e-12 even for light targets (m_X << m_N = m_p)."""
    E = np.asarray(e_recoil, dtype=float)

    mx2, two_mxmn = m_X * m_X, 2.0 * m_X * m_N

    def F(v):
        # E_c(v) and Delta(v)/v = gamma m_X^2 (m_X + 2 gamma m_N) / (2 s) (kinematics() without the rest)
        v2 = v * v
        g2 = 1.0 / (1.0 - v2)
        g = np.sqrt(g2)
        s = mx2 + m_N * m_N + g * two_mxmn
        e_c = mx2 * (2.0 * g * m_X + (2.0 + 4.0 * g2 * v2) * m_N) / (4.0 * s)
        d_over_v = g * mx2 * (m_X + 2.0 * g * m_N) / (2.0 * s)
        return np.minimum(np.abs(E - e_c) / d_over_v, 0.5)  # beyond ~0.01 c nothing in the halo contributes

    va = F(np.zeros_like(E))
    vb = F(va)
    ha = va - vb
    for _ in range(iterations):
        fb = F(vb)
        hb = vb - fb
        den = hb - ha
        safe = np.abs(den) > 1e-300
        vn = np.where(safe, vb - hb * (vb - va) / np.where(safe, den, 1.0), fb)
        va, ha, vb = vb, hb, np.clip(vn, 0.0, 0.5)
    return vb


# ------------------------------------------------------------------------------------------------
# matrix element and cross sections
# ------------------------------------------------------------------------------------------------
def msq(e_recoil, m_X, m_phi, m_N, A, y_X, y_N, form_factor: str = "helm"):
    """Spin-averaged |M|^2 (dimensionless) for X + N -> nu + N at recoil E_R [MeV], with F^2(q)."""
    E = np.asarray(e_recoil, dtype=float)
    two_mE = 2.0 * m_N * E
    F2 = formfactors.get(form_factor)(np.sqrt(np.maximum(two_mE, 0.0)), A) ** 2
    return (2.0 * y_X**2 * y_N**2 * m_N**2 * (1.0 + E / (2.0 * m_N)) * (two_mE + m_X**2)
            / (two_mE + m_phi**2) ** 2 * F2)


def sigma_v(v, m_X, m_phi, m_N, A, y_X, y_N, form_factor: str = "helm", order: int = 8):
    """sigma*v [MeV^-2, v in units of c] at lab speed v (exact kinematics, Gauss-Legendre over E_R)."""
    v = np.atleast_1d(np.asarray(v, dtype=float))
    x, w = np.polynomial.legendre.leggauss(order)
    _, _, _, e_c, d = kinematics(m_X, m_N, v[:, None])
    E = e_c + d * x[None, :]
    M2 = msq(E, m_X, m_phi, m_N, A, y_X, y_N, form_factor)
    g2 = 1.0 / (1.0 - v * v)
    # int dE = Delta * sum w (x in [-1,1]); Delta / v is finite as v -> 0
    integral = np.sum(w[None, :] * M2, axis=1) * (d[:, 0] / v)
    return integral / (32.0 * np.pi * m_N * m_X**2 * g2)


def sigma_v_at_rest(m_X, m_phi, m_N, A, y_X, y_N, form_factor: str = "helm"):
    """lim_{v->0} sigma*v = |M|^2 p_f / (16 pi m_N m_X sqrt(s)) [MeV^-2]."""
    E0 = recoil_at_rest(m_X, m_N)
    pf = p_final_at_rest(m_X, m_N)
    return msq(E0, m_X, m_phi, m_N, A, y_X, y_N, form_factor) * pf / (16.0 * np.pi * m_N * m_X * (m_X + m_N))


def sigma_v_contact_limit(m_X, m_phi, y_X, y_N):
    """The m_X << m_N, m_phi >> m_X limit y_X^2 y_N^2 m_X^2 / (4 pi m_phi^4) [MeV^-2] (SPEC 4.1)."""
    return y_X**2 * y_N**2 * m_X**2 / (4.0 * np.pi * m_phi**4)


# ------------------------------------------------------------------------------------------------
# rates
# ------------------------------------------------------------------------------------------------
def mean_sigma_v(halo, m_X, m_phi, m_N, A, y_X, y_N, form_factor: str = "helm", order: int = 48):
    """<sigma v> over the halo's lab speed distribution [MeV^-2]."""
    vq, wq = halo.quadrature(order)
    return float(np.sum(wq * sigma_v(vq / c.C_LIGHT, m_X, m_phi, m_N, A, y_X, y_N, form_factor)))


def rate_per_target(halo, m_X, m_phi, m_N, A, y_X, y_N, form_factor: str = "helm") -> float:
    """R = (rho/m_X) <sigma v> per target nucleus [1/ns]."""
    check_masses(m_X, m_phi)
    return halo.rho / m_X * mean_sigma_v(halo, m_X, m_phi, m_N, A, y_X, y_N, form_factor) * SIGMAV_TO_HEP


def dRdE(e_recoil, halo, m_X, m_phi, m_N, A, y_X, y_N, form_factor: str = "helm") -> np.ndarray:
    """dR/dE_R per target nucleus [1/(MeV ns)] (vectorised over E_R [MeV])."""
    E = np.asarray(e_recoil, dtype=float)
    vm = v_min(E, m_X, m_N)
    eta_c = halo.eta(vm, in_c=True)  # units 1/c
    M2 = msq(E, m_X, m_phi, m_N, A, y_X, y_N, form_factor)
    return halo.rho / m_X * M2 / (32.0 * np.pi * m_N * m_X**2) * eta_c * SIGMAV_TO_HEP


def recoil_support(halo, m_X, m_N):
    """(E_lo, E_hi) [MeV] outside which dR/dE vanishes (v <= v_esc + v_E)."""
    lo, hi = recoil_range(m_X, m_N, halo.v_max / c.C_LIGHT)
    return float(lo), float(hi)


def line_bin_integrals(edges, halo, m_X, m_phi, m_N, A, y_X, y_N, form_factor: str = "helm",
                       n_fine: int = 801) -> np.ndarray:
    """int over each bin [edges_i, edges_i+1] (MeV) of dR/dE [1/ns per target]: the narrow line is
    integrated on a fine grid over its support and its cumulative integral interpolated at the edges."""
    lo, hi = recoil_support(halo, m_X, m_N)
    E = np.linspace(lo, hi, n_fine)
    f = dRdE(E, halo, m_X, m_phi, m_N, A, y_X, y_N, form_factor)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(E))])
    cdf = np.interp(np.asarray(edges, dtype=float), E, cum, left=0.0, right=cum[-1])
    return np.diff(cdf)


# ------------------------------------------------------------------------------------------------
# event kinematics for the generator
# ------------------------------------------------------------------------------------------------
def sample_final_state(v_lab, cos_theta, phi, m_X, m_N):
    """Exact final state for DM velocities ``v_lab`` (n, 3) [units of c], CM angles (cos theta*, phi).

    theta* is measured between the outgoing nucleus and the incoming nucleus direction in the CM frame
    (so cos theta* = -1 gives the largest recoil).  Returns E_R [MeV], nucleus lab momentum (n, 3) and
    neutrino lab four-momentum (E, px, py, pz) [MeV]."""
    v_lab = np.asarray(v_lab, dtype=float)
    vx, vy, vz = v_lab[:, 0], v_lab[:, 1], v_lab[:, 2]
    v = np.sqrt(vx * vx + vy * vy + vz * vz)
    nx, ny, nz = vx / v, vy / v, vz / v
    s, p_i, p_f, e_c, d = kinematics(m_X, m_N, v)
    e_r = e_c - d * cos_theta
    # orthonormal basis (n, e1, e2): e1 = n x z-hat (or n x x-hat near the z axis), e2 = n x e1
    polar = np.abs(nz) >= 0.9
    e1x = np.where(polar, 0.0, ny)
    e1y = np.where(polar, nz, -nx)
    e1z = np.where(polar, -ny, 0.0)
    norm = np.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
    e1x, e1y, e1z = e1x / norm, e1y / norm, e1z / norm
    e2x, e2y, e2z = ny * e1z - nz * e1y, nz * e1x - nx * e1z, nx * e1y - ny * e1x
    sin_t = np.sqrt(np.maximum(1.0 - cos_theta * cos_theta, 0.0))
    # CM: initial nucleus moves along -n; final nucleus at angle theta* to it; boost along n to the lab
    rs = np.sqrt(s)
    e_n_cm = (s + m_N**2) / (2.0 * rs)
    g = 1.0 / np.sqrt(1.0 - v * v)
    p_lab = g * m_X * v
    e_tot = g * m_X + m_N
    p_par_lab = (e_tot / rs) * (-p_f * cos_theta + (p_lab / e_tot) * e_n_cm)
    a = p_f * sin_t * np.cos(phi)
    b = p_f * sin_t * np.sin(phi)
    p_nuc = np.empty((len(v), 3))
    p_nuc[:, 0] = p_par_lab * nx + a * e1x + b * e2x
    p_nuc[:, 1] = p_par_lab * ny + a * e1y + b * e2y
    p_nuc[:, 2] = p_par_lab * nz + a * e1z + b * e2z
    nu = np.empty((len(v), 4))
    nu[:, 0] = g * m_X - e_r  # energy conservation: E_X + m_N = E_nu + m_N + E_R
    nu[:, 1] = p_lab * nx - p_nuc[:, 0]
    nu[:, 2] = p_lab * ny - p_nuc[:, 1]
    nu[:, 3] = p_lab * nz - p_nuc[:, 2]
    return e_r, p_nuc, nu
