"""W+ -> l+ nu_4 (and W- -> l- nu_4-bar) with a massive invisible neutrino: width, V-A angular
distribution, kinematics in the W rest frame and the boost to the lab.  Units: MeV.

Derivation (massless charged lepton, m_l^2/M_W^2 < 2e-6 is neglected)
---------------------------------------------------------------------
The amplitude is (g/(2 sqrt2)) U_l4 eps_mu(lambda) ubar(p_nu) gamma^mu (1 - gamma5) v(p_l).  Summed over the
nu_4 spin the m_4 term of the trace drops (it has an odd number of gamma matrices between chiral projectors):

    L^{mu nu} = 8 [p_nu^mu p_l^nu + p_nu^nu p_l^mu - g^{mu nu} p_nu.p_l] -+ 8 i eps^{mu nu a b} p_nu,a p_l,b .

In the W rest frame, with E_l = |p| = M (1 - r)/2, r = m_4^2/M^2, and n the lepton direction,
eps_mu eps*_nu L^{mu nu} for the W spin states m = +-1, 0 along an axis z (theta = angle(n, z)) is

    m = +-1 :  8 E_l M [1 - a sin^2 theta +- cos theta] ,   m = 0 :  8 E_l M [1 - 2a cos^2 theta] ,
    a = E_l / M = (1 - r)/2 ,

i.e. for m = -1:  [(1 - cos theta)^2 + r sin^2 theta] / 2  — the helicity-conserving (nu_4 helicity -1/2)
piece plus the helicity-flip piece, suppressed by r = m_4^2/M^2.  m_4 -> 0 gives the textbook (1 -+ cos)^2.
Integrating over cos theta, each state gives (4/3)(1 + r/2); with the two-body phase space |p|/M ∝ (1 - r)
and E_l ∝ (1 - r):

    Gamma(W -> l nu_4) = |U_l4|^2 G_F M_W^3 / (6 sqrt2 pi) (1 - r)^2 (1 + r/2)            (SPEC 4.2)

and the light neutrinos give (1 - |U_l4|^2) times the r = 0 width.  As in the seed (sec. III F), the
change of the W total width (-|U|^2 Gamma_l (1 - PS), a relative +|U|^2 B(l nu) ~ 0.1 |U|^2 on every
branching ratio) and the non-unitarity shift of G_F from muon decay are neglected: a nu_4 heavier than the W
only dilutes the rate by (1 - |U|^2).

W polarisation at leading order: in q qbar' -> W the quark is left-handed and the antiquark right-handed, so
both W+ (u dbar) and W- (d ubar) carry spin projection -1 along the *quark* direction.  The charged lepton
then has, with theta the angle between the lepton and the quark direction in the W rest frame,

    W+ -> l+ nu_4 :     dN/dcos ∝ (1 - cos)^2 + r sin^2        (l+ right-handed, emitted against the quark)
    W- -> l- nu_4bar :  dN/dcos ∝ (1 + cos)^2 + r sin^2        (CP image).

With W transverse momentum the quantisation axis is the Collins-Soper axis (the bisector of the beams in the
W rest frame), oriented along the quark; the O(alpha_s) angular coefficients A_0..A_4(p_T, y) and the exact
massive-nu_4 density built from them are in :mod:`nudmsim.processes.w_angular` (the formulas above are its
p_T -> 0 limit, A_4 = -+2).

Reweighting: the decay is generated once in the W rest frame with a direction drawn from a proposal density
(a mixture of the light-nu distribution and a uniform one), and the lepton lab four-momentum is
p_l = p*(M, m_4) k with k = Lambda_W (1, n) fixed per event and p* = (M^2 - m_4^2)/(2M).  Any (m_4, |U|^2) is then
an event weight (angular density / proposal x width factor) plus a rescaling of the lepton momentum, with no
new random numbers.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from ..errors import ParameterError

LEPTONS = ("e", "mu")
#: fraction of the uniform component in the proposal density for cos(theta)
PROPOSAL_UNIFORM = 0.25


def check_lepton(lepton: str) -> str:
    if lepton not in LEPTONS:
        raise ParameterError(f"unknown lepton flavour '{lepton}' (use lepton=e or lepton=mu)")
    return lepton


def check_mixing(u2) -> float:
    u2 = float(u2)
    if not np.isfinite(u2) or u2 < 0.0 or u2 > 1.0:
        raise ParameterError(f"|U_l4|^2 = {u2} is outside [0, 1] (a squared mixing-matrix element; e.g. U2=0.01)")
    return u2


def check_mass(m4) -> float:
    m4 = float(m4)
    if not np.isfinite(m4) or m4 < 0.0:
        raise ParameterError(f"m4 = {m4} MeV must be finite and >= 0")
    return m4


def phase_space_factor(r):
    """(1 - r)^2 (1 + r/2) for r = m_4^2/M^2 < 1, else 0: Gamma(W -> l nu_4)/Gamma(W -> l nu) / |U|^2."""
    r = np.asarray(r, float)
    return np.where(r < 1.0, (1.0 - np.minimum(r, 1.0)) ** 2 * (1.0 + 0.5 * r), 0.0)


def width_lnu(m4=0.0, mw=None, u2=1.0):
    """Gamma(W -> l nu_4) [MeV] = |U|^2 G_F M_W^3/(6 sqrt2 pi) (1 - r)^2 (1 + r/2)."""
    mw = c.M_W if mw is None else mw
    return u2 * c.G_FERMI * mw**3 / (6.0 * np.sqrt(2.0) * np.pi) * phase_space_factor((m4 / mw) ** 2)


def width_lnu_helicity(m4=0.0, mw=None):
    """Width from the helicity amplitudes, integrated numerically over cos(theta) (a test of width_lnu):
    Gamma = (1/2M) (|p|/(8 pi M)) int dcos |M|^2, |M|^2 = (g^2/8) eps_mu eps*_nu L^{mu nu} averaged over
    the three W spin states, eps eps* L = 8 E_l M [1 - a sin^2 +- cos] (m = +-1), 8 E_l M [1 - 2a cos^2] (m = 0)."""
    mw = c.M_W if mw is None else mw
    r = (m4 / mw) ** 2
    if r >= 1:
        return 0.0
    el = mw * (1.0 - r) / 2.0
    a = el / mw
    g2 = 8.0 * c.G_FERMI * mw**2 / np.sqrt(2.0)
    x = np.linspace(-1.0, 1.0, 20001)
    states = [1 - a * (1 - x**2) + x, 1 - a * (1 - x**2) - x, 1 - 2 * a * x**2]
    m2_int = sum(np.trapezoid(g2 / 8.0 * 8.0 * el * mw * s, x) for s in states) / 3.0
    return 1.0 / (2.0 * mw) * el / (8.0 * np.pi * mw) * m2_int


def angular_density(cos_q, r, charge):
    """Normalised dN/dcos(theta) of the charged lepton, theta = angle to the quark direction (W frame).

    ``charge`` +1 (W+ -> l+) or -1 (W- -> l-); r = m_4^2/M^2 (< 1)."""
    s = -np.sign(charge)
    r = np.asarray(r, float)
    return ((1.0 + s * cos_q) ** 2 + r * (1.0 - cos_q**2)) / (8.0 / 3.0 * (1.0 + 0.5 * r))


def proposal_density(cos_q, charge):
    """Density the generator draws cos(theta) from: (1 - f) light-nu density + f uniform, f = 0.25."""
    return (1.0 - PROPOSAL_UNIFORM) * angular_density(cos_q, 0.0, charge) + PROPOSAL_UNIFORM * 0.5


def sample_cos_theta(n, rng, charge):
    """cos(theta) to the quark direction from the proposal density (per-event charge array allowed)."""
    charge = np.broadcast_to(np.asarray(charge), (n,))
    s = -np.sign(charge)
    u = rng.random(n)
    # light component: (3/8)(1 + s x)^2 -> CDF (1 + s x)^3 / 8 in t = s x ... invert in t
    t = 2.0 * np.cbrt(u) - 1.0
    x_light = s * t
    x_unif = 2.0 * rng.random(n) - 1.0
    return np.where(rng.random(n) < PROPOSAL_UNIFORM, x_unif, x_light)


def decay_weight(cos_q, r, charge):
    """Angular density for m_4^2/M^2 = r over the proposal density (the event weight of the decay shape), LO
    (A_4 = -+2 only)."""
    return angular_density(cos_q, r, charge) / proposal_density(cos_q, charge)


def density_pieces(cos_q, phi_cs, a):
    """(E, O): parity-even and parity-odd parts of the massless lepton density 3/(16 pi)(E + O) for angular
    coefficients a = (A0..A4) (arrays broadcast); see :mod:`nudmsim.processes.w_angular`."""
    from .w_angular import _even_odd

    return _even_odd(np.asarray(cos_q, float), np.asarray(phi_cs, float), a)


def decay_weight_eo(e, o, cos_q, r, charge):
    """Lepton density (3/16pi)[E (1 - r) + O + 2r]/(1 + r/2) over the proposal density (in cos theta, uniform in
    phi): the event weight of a decay generated from the proposal (0 where r >= 1)."""
    r = np.asarray(r, float)
    rr = np.minimum(r, 1.0)
    w = 3.0 / 8.0 * (e * (1.0 - rr) + o + 2.0 * rr) / (1.0 + 0.5 * rr) / proposal_density(cos_q, charge)
    return np.where(r < 1.0, w, 0.0)


def lepton_direction_lab(m, y, pt, phi_w, qdir, cos_q, phi_cs):
    """Lab four-vector k = Lambda_W (1, n) of a unit-energy massless lepton emitted along n in the W rest
    frame (Collins-Soper axes oriented along the quark, cos_q = cos theta to the quark, phi_cs azimuth).

    The lepton's lab four-momentum is p* k with p* = (M^2 - m_4^2)/(2M).  Returns (kE, kx, ky, kz)."""
    sin_q = np.sqrt(np.clip(1.0 - cos_q**2, 0.0, None))
    nz = qdir * cos_q
    # CS x axis along the W transverse momentum (its sign is immaterial: phi_cs is uniform)
    nx = sin_q * np.cos(phi_cs)
    ny = sin_q * np.sin(phi_cs)
    mt = np.sqrt(m * m + pt * pt)
    g = mt / m
    gb = pt / m
    e1 = g + gb * nx                      # transverse boost along the W pT direction
    x1 = gb + g * nx
    cphi, sphi = np.cos(phi_w), np.sin(phi_w)
    kx = x1 * cphi - ny * sphi
    ky = x1 * sphi + ny * cphi
    ch, sh = np.cosh(y), np.sinh(y)
    return e1 * ch + nz * sh, kx, ky, e1 * sh + nz * ch


def w_four_momentum(m, y, pt, phi_w):
    """(E, px, py, pz) of the W [MeV]."""
    mt = np.sqrt(m * m + pt * pt)
    return mt * np.cosh(y), pt * np.cos(phi_w), pt * np.sin(phi_w), mt * np.sinh(y)


def p_star(m, m4):
    """Lepton momentum in the W rest frame, (M^2 - m_4^2)/(2M) (0 where m_4 >= M) [MeV]."""
    return np.where(m > m4, (m * m - m4 * m4) / (2.0 * m), 0.0)
