"""Generators of the electroweak backgrounds of the W lepton-p_T analysis: W -> tau nu -> l nu nu nu and
Z -> l l with one lepton lost.  The *definitions* (which backgrounds, their normalisation uncertainties, the
veto acceptance, the parametric shapes) are data in the detector card (``[[analysis.background]]``, read by
:mod:`nudmsim.response.collider`); this module only generates events.  Units: MeV.

W -> tau nu -> l nu nu nu
-------------------------
The tau is produced like the light lepton (V-A, same angular coefficients; m_tau^2/M_W^2 = 5e-4 neglected).
In the collinear limit (p_tau >> m_tau) the charged lepton carries a fraction x of the tau momentum, distributed
as (massless lepton; e.g. Bullock, Hagiwara, Martin, NPB 395 (1993) 499)

    dN/dx = (1/3) (1 - x) [(5 + 5x - 4x^2) + P (1 + x - 8x^2)],     P = tau helicity,

for tau-; the tau+ spectrum has -P.  From a W the tau- is left-handed (P = -1) and the tau+ right-handed (+1), so
both charges give dN/dx = (4/3)(1 - x^3) (normalised; <x> = 2/5; tests), sampled by inverting
F(x) = (4x - x^4)/3.  The three neutrinos are invisible: E_T^miss = -(lepton + recoil) as for the signal.  The
rate is sigma(W -> tau nu) = sigma(W -> l nu) (lepton universality) times B(tau -> l nu nu) (PDG).

Z -> l l with a lost lepton
---------------------------
Z -> l+ l- (pure Z, :func:`nudmsim.sources.pp.load_z_source`) with the lepton density of the W source's
parity-even coefficients (the odd ones are proportional to A_l = 0.15 and neglected).  Lepton 1 is the W candidate;
lepton 2 (back to back in the Z frame) is *lost* when it fails the second-lepton veto (|eta| above the veto
acceptance or p_T below the veto threshold) and then counts as missing momentum.  The two leptons are
interchangeable (the density is symmetric under n -> -n without odd terms), so the weight is doubled to count
the configurations where lepton 2 is the candidate.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c

_X = np.linspace(0.0, 1.0, 4097)
_F = (4.0 * _X - _X**4) / 3.0


def tau_lepton_fraction_density(x):
    """dN/dx = (4/3)(1 - x^3) of the lepton energy fraction in tau -> l nu nu from a W (both charges)."""
    x = np.asarray(x, float)
    return np.where((x >= 0) & (x <= 1), 4.0 / 3.0 * (1.0 - x**3), 0.0)


def tau_lepton_fraction(u):
    """x = F^-1(u) for uniforms u (table inversion of F(x) = (4x - x^4)/3, 4097 nodes + linear interpolation)."""
    return np.interp(u, _F, _X)


def tau_branching(flavour):
    """B(tau -> l nu nu) for l = 'e' or 'mu' (PDG 2024)."""
    return {"e": c.BR_TAU_E, "mu": c.BR_TAU_MU}[flavour]


def w_tau_sample(source, n, rng, flavour, charge=0):
    """W -> tau nu -> l nu nu nu events: a :class:`~nudmsim.generators.w_sample.WSample` of the W source with the
    tau -> l momentum fraction in ``xscale`` and the cross section times B(tau -> l nu nu) in ``sigma``."""
    from ..generators import w_sample as ws

    s = ws.generate_sample(source, n, rng, charge)
    s.xscale = tau_lepton_fraction(rng.random(n))
    s.sigma = s.sigma * tau_branching(flavour)
    return s


def second_lepton(s):
    """(p_T [MeV], |eta|) of the second (massless) Z decay lepton: the boson four-momentum minus lepton 1."""
    from . import w_decay as wd

    t = s.truth
    e, px, py, pz = wd.w_four_momentum(t["m"], t["y"], t["pt"], t["phi"])
    ps = wd.p_star(t["m"], 0.0)
    ke, kx, ky, kz = s.k
    qx, qy, qz = px - ps * kx, py - ps * ky, pz - ps * kz
    pt2 = np.hypot(qx, qy)
    return pt2, np.abs(np.arcsinh(qz / np.maximum(pt2, 1e-300)))


def z_lost_lepton_sample(zsource, n, rng, veto_eta_max, veto_pt_min):
    """Z -> l l events with lepton 2 lost (|eta| >= veto_eta_max or p_T < veto_pt_min [MeV]): (sample, lost mask).
    ``sample.sigma`` is doubled (either lepton can be the candidate)."""
    from ..generators import w_sample as ws

    s = ws.generate_sample(zsource, n, rng, 0)
    pt2, aeta2 = second_lepton(s)
    lost = (aeta2 >= veto_eta_max) | (pt2 < veto_pt_min)
    s.sigma = 2.0 * s.sigma
    return s, lost
