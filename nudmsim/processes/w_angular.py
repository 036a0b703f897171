"""Lepton angular coefficients A_0..A_4 of W -> l nu(_4) at O(alpha_s), and the decay density with a massive nu_4.

Units: MeV (any common unit for momenta).  Frame: the Collins-Soper (CS) frame of the W, z axis along the
*quark* direction (the beam the quark came from; for a q-bar g initial state, opposite to the antiquark), x axis
in the hadron plane along the W transverse momentum, as built by :func:`nudmsim.processes.w_decay.lepton_direction_lab`.

Lepton distribution (massless leptons, theta/phi of the charged lepton in that frame)
-------------------------------------------------------------------------------------
    dN/dOmega = 3/(16 pi) [ (1 + c^2) + A0/2 (1 - 3c^2) + A1 sin2theta cos phi + A2/2 sin^2theta cos 2phi
                            + A3 sin theta cos phi + A4 c ]                               (c = cos theta)

(A_5..A_7 vanish at O(alpha_s)).  At leading order, p_T^W = 0: A_i = 0 except A4 = -2 (W+: l+ against the
quark) and +2 (W-).

Derivation at O(alpha_s) (checked in the tests against an explicit Dirac trace)
-------------------------------------------------------------------------------
For u(p1) dbar(p2) -> nu(l) l+(lb) g(k) with left-handed currents the squared matrix element is

    |M|^2 ∝ [(p1.lb)^2 + (p2.l)^2] / ((p1.k)(p2.k)),

(qq-bar -> W g; the crossings give q g -> W q' and qbar g -> W qbar').  In the W rest frame
l = (M/2)(1, -n), lb = (M/2)(1, n), so (p.lb) = (M/2) E_p (1 - p^.n) and the lepton distribution is a sum
of two terms  w_j (1 + e_j.n)^2  with w_j = E_j^2 (parton energies in the W frame) and unit vectors e_j in the
hadron (x-z) plane: e_1 = -p1^ (the quark), e_2 = +p2^ (the antiquark); for q g -> W q' the outgoing q'
replaces the antiquark (e_2 = +k^), for qbar g -> W qbar' the outgoing qbar' replaces the quark (e_1 = -k^).
Expanding (1 + e.n)^2 with e = (sin a, 0, cos a) gives exactly the form above with

    A0 = A2 = <sin^2 a>,   A1 = <sin 2a>/2,   A3 = 2 <sin a>,   A4 = 2 <cos a>        (<> = w-weighted mean),

i.e. the Lam-Tung relation A0 = A2 holds channel by channel, and for q qbar' -> W g (beams in the CS frame at
angle tan gamma = p_T/M to the z axis): A0 = A2 = p_T^2/(M^2 + p_T^2), A4 = -2 M/sqrt(M^2 + p_T^2) (W+),
A1, A3 ∝ (E_1^2 - E_2^2) (the Collins/Lam-Tung closed forms; Mirkes, NPB 387 (1992) 3; Peng et al.,
PLB 758 (2016) 384).  For the W- (d ubar -> l- nubar) the charged lepton takes the role of lb -> -n: every e_j
flips sign, so A3 and A4 flip and A0, A1, A2 stay.  The hadron-level A_i(p_T, y) (tables in ``fluxes/``) are
these, averaged with the O(alpha_s) cross sections of the channels and the PDFs (``tools/w_nlo.py``).

Massive nu_4 (exact V-A decay)
------------------------------
The W density matrix rho fixes the massless distribution: with W_lambda(Omega) = sum rho_mm' D^1*_{m lambda}
D^1_{m' lambda} the lambda = +-1 terms give E + O (E the parity-even part, O = A3 sin theta cos phi + A4 c), and
unitarity of D gives W_0 = 1 - E/2 for the lambda = 0 (helicity-flip) term.  The V-A decay amplitudes are
|a_conserving|^2 = 4, |a_flip|^2 = 2r (r = m4^2/M^2; from the spin states of ``w_decay``), so

    dN/dOmega(r) = [E (1 - r) + O + 2r] / [(16 pi/3) (1 + r/2)],

which reduces to (1 -+ cos)^2 + r sin^2 for a pure m = -1 state and integrates to 1 (tests); the width factor
(1 - r)^2 (1 + r/2) is unchanged.  The hadronic current is conserved (massless quarks), so the timelike W*
component that a massive nu_4 could otherwise probe does not contribute.
"""
from __future__ import annotations

import numpy as np

A_NAMES = ("A0", "A1", "A2", "A3", "A4")


# ------------------------------------------------------------------------------------------------
# decay density
# ------------------------------------------------------------------------------------------------
def _even_odd(c, phi, a):
    a0, a1, a2, a3, a4 = (np.asarray(v, float) for v in a)
    s2 = np.clip(1.0 - c * c, 0.0, None)
    s = np.sqrt(s2)
    even = (1.0 + c * c) + 0.5 * a0 * (1.0 - 3.0 * c * c) + a1 * 2.0 * s * c * np.cos(phi) \
        + 0.5 * a2 * s2 * np.cos(2.0 * phi)
    odd = a3 * s * np.cos(phi) + a4 * c
    return even, odd


def angular_density(c, phi, a, r=0.0):
    """dN/dcos(theta) dphi (normalised to 1 over [-1, 1] x [0, 2 pi)) of the charged lepton for angular
    coefficients ``a`` = (A0, A1, A2, A3, A4) (arrays broadcast) and r = m4^2/M^2 < 1."""
    c = np.asarray(c, float)
    r = np.asarray(r, float)
    even, odd = _even_odd(c, np.asarray(phi, float), a)
    return (even * (1.0 - r) + odd + 2.0 * r) / (16.0 * np.pi / 3.0 * (1.0 + 0.5 * r))


def lo_coefficients(charge):
    """A_i at leading order (p_T^W = 0), quark-oriented frame: A4 = -2 for W+, +2 for W-."""
    return (0.0, 0.0, 0.0, 0.0, -2.0 * np.sign(charge))


def moments(c, phi, weights=None):
    """A_i estimated from events by the orthogonality of the harmonics (a second method to the density):
    A0 = 4 - 10 <c^2>, A1 = 5 <sin2theta cos phi>, A2 = 10 <sin^2theta cos2phi>, A3 = 4 <sin theta cos phi>,
    A4 = 4 <c>.  Returns (values, standard errors)."""
    c = np.asarray(c, float)
    phi = np.asarray(phi, float)
    w = np.ones_like(c) if weights is None else np.asarray(weights, float)
    s = np.sqrt(np.clip(1 - c * c, 0, None))
    obs = [4.0 - 10.0 * c * c, 5.0 * 2 * s * c * np.cos(phi), 10.0 * s * s * np.cos(2 * phi),
           4.0 * s * np.cos(phi), 4.0 * c]
    sw, sw2 = w.sum(), (w * w).sum()
    vals, errs = [], []
    for o in obs:
        m = np.sum(w * o) / sw
        var = np.sum(w * w * (o - m) ** 2) / sw**2 * sw**2 / (sw**2 - sw2) if sw**2 > sw2 else np.inf
        vals.append(m)
        errs.append(np.sqrt(var))
    return np.array(vals), np.array(errs)


# ------------------------------------------------------------------------------------------------
# O(alpha_s) partonic coefficients
# ------------------------------------------------------------------------------------------------
def coefficients_from_axes(w, e):
    """A0..A4 of sum_j w_j (1 + e_j.n)^2 / sum_j w_j; e_j = (e_x, e_z) unit vectors in the x-z plane
    (arrays (..., 2) per term), w_j >= 0.  Returns array (5, ...)."""
    w = [np.asarray(v, float) for v in w]
    tot = sum(w)
    out = np.zeros((5,) + np.shape(tot))
    for wj, (ex, ez) in zip(w, e):
        out[0] += wj * ex * ex
        out[1] += wj * ex * ez
        out[2] += wj * ex * ex
        out[3] += wj * 2.0 * ex
        out[4] += wj * 2.0 * ez
    return out / tot


def to_cs_frame(p, y, pt, m):
    """Four-vectors p = (E, px, py, pz) (arrays, lab frame, W along +x in the transverse plane) boosted to the
    W rest frame by a longitudinal boost (-y) followed by a transverse boost (-p_T along x): the CS frame of
    :func:`nudmsim.processes.w_decay.lepton_direction_lab` (z along beam 1)."""
    e, px, py, pz = p
    ch, sh = np.cosh(y), np.sinh(y)
    e1, pz1 = e * ch - pz * sh, pz * ch - e * sh
    mt = np.sqrt(m * m + pt * pt)
    g, gb = mt / m, pt / m
    return g * e1 - gb * px, g * px - gb * e1, py, pz1


def partonic_kinematics(m, y, pt, yk, sqrts):
    """Lab momenta of q(p1, beam 1) + p2 (beam 2) -> W(m, y, pt along +x) + parton k(pt, yk) and the
    momentum fractions.  Returns dict with x1, x2, shat, p1, p2, k, q (four-vector tuples)."""
    mt = np.sqrt(m * m + pt * pt)
    x1 = (mt * np.exp(y) + pt * np.exp(yk)) / sqrts
    x2 = (mt * np.exp(-y) + pt * np.exp(-yk)) / sqrts
    e1, e2 = 0.5 * x1 * sqrts, 0.5 * x2 * sqrts
    zero = np.zeros_like(x1)
    p1 = (e1, zero, zero, e1)
    p2 = (e2, zero, zero, -e2)
    q = (mt * np.cosh(y) + zero, pt + zero, zero, mt * np.sinh(y) + zero)
    k = (pt * np.cosh(yk) + zero, -pt + zero, zero, pt * np.sinh(yk) + zero)
    return {"x1": x1, "x2": x2, "shat": x1 * x2 * sqrts**2, "p1": p1, "p2": p2, "k": k, "q": q}


def _unit_xz(p):
    e, px, _, pz = p
    return px / e, pz / e


def channel_coefficients(channel, kin, m, y, pt, charge=1):
    """A0..A4 (array (5, ...)) in the CS frame with z along beam 1 for the O(alpha_s) channel with the
    quark side in beam 1:

    * ``"qqbar"``: q (beam 1) qbar' (beam 2) -> W g;
    * ``"qg"``:    q (beam 1) g (beam 2) -> W q';
    * ``"gqbar"``: g (beam 1) qbar' (beam 2) -> W qbar  (effective quark direction = beam 1).
    ``charge`` -1 flips A3, A4 (W- -> l- nubar)."""
    p1, p2, k = (to_cs_frame(kin[key], y, pt, m) for key in ("p1", "p2", "k"))
    if channel == "qqbar":
        terms = [(p1[0] ** 2, _unit_xz(p1), -1.0), (p2[0] ** 2, _unit_xz(p2), 1.0)]
    elif channel == "qg":
        terms = [(p1[0] ** 2, _unit_xz(p1), -1.0), (k[0] ** 2, _unit_xz(k), 1.0)]
    elif channel == "gqbar":
        terms = [(k[0] ** 2, _unit_xz(k), -1.0), (p2[0] ** 2, _unit_xz(p2), 1.0)]
    else:
        raise ValueError(f"unknown channel {channel!r}")
    w = [t[0] for t in terms]
    e = [(t[2] * t[1][0], t[2] * t[1][1]) for t in terms]
    a = coefficients_from_axes(w, e)
    if charge < 0:
        a[3] *= -1.0
        a[4] *= -1.0
    return a


def mandelstam(kin, m):
    """(shat, t1, u1) with t1 = (p1 - q)^2, u1 = (p2 - q)^2 (beam-1 and beam-2 partons, W momentum q)."""
    e, px, py, pz = kin["q"]
    s = kin["shat"]
    p1e = kin["p1"][0]
    p2e = kin["p2"][0]
    t1 = m * m - 2.0 * p1e * (e - pz)
    u1 = m * m - 2.0 * p2e * (e + pz)
    return s, t1, u1


def me_qqbar(s, t, u, m):
    """(t^2 + u^2 + 2 M^2 s)/(t u): q qbar' -> W g, summed over the W decay angles (dimensionless)."""
    return (t * t + u * u + 2.0 * m * m * s) / (t * u)


def me_qg(s, t, u, m):
    """-(s^2 + t^2 + 2 M^2 u)/(s t): q g -> W q' with t = (p_g - k)^2 (the g -> q qbar collinear pole)."""
    return -(s * s + t * t + 2.0 * m * m * u) / (s * t)
