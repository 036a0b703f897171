"""Vectorised / numba decay kinematics of the meson generators (nudmsim.generators.meson).

Kinematics (all in MeV): four-vectors are tuples ``(E, px, py, pz)`` of 1-d numpy arrays.  Decays are
generated in the meson rest frame with an isotropic charged-daughter direction, then boosted along z.
Three-body decays M+ -> l+ chi phi are sampled exactly from |M|^2: s = (p_chi + p_phi)^2 by inverse CDF
of dGamma/ds, the chi direction in the chi-phi rest frame from the linear dependence of |M|^2 on
p_chi.p_l (exact inverse CDF of a linear density), so every event has the same weight.
"""
from __future__ import annotations

import math

import numpy as np

from ..models.neutrino_portal import NeutrinoPortal
from ..processes import meson_decays as md

CHUNK = 1 << 15


# ------------------------------------------------------------------------------------------------
# rest-frame kinematics
# ------------------------------------------------------------------------------------------------
def _isotropic(n, rng):
    cth = 2.0 * rng.random(n) - 1.0
    phi = 2.0 * math.pi * rng.random(n)
    sth = np.sqrt(1.0 - cth * cth)
    return cth, sth, np.cos(phi), np.sin(phi)


def two_body_rest(M: float, m1: float, m2: float, n: int, rng):
    """M -> 1 + 2 at rest, isotropic.  Returns (p1, p2) four-vectors (p1's cos(theta) to +z is p1.z / |p|)."""
    p = float(md.two_body_momentum(M, m1, m2))
    cth, sth, cph, sph = _isotropic(n, rng)
    px, py, pz = p * sth * cph, p * sth * sph, p * cth
    e1 = np.full(n, math.sqrt(p * p + m1 * m1))
    e2 = np.full(n, math.sqrt(p * p + m2 * m2))
    return (e1, px, py, pz), (e2, -px, -py, -pz)


def three_body_rest(model: NeutrinoPortal, meson: str, lepton: str, n: int, rng):
    """M+ -> l+ chi phi at rest, distributed exactly as |M|^2.  Returns (p_l, p_chi, p_phi)."""
    vecs, _ = three_body_lab(model, meson, lepton, n, rng, None)
    return vecs


def three_body_lab(model: NeutrinoPortal, meson: str, lepton: str, n: int, rng, p_meson=None,
                   return_cos: bool = False):
    """M+ -> l+ chi phi for mesons with lab momenta ``p_meson`` along z (None or all zero = at rest).

    Returns ((p_l, p_chi, p_phi) lab four-vectors, |p_l| in the meson rest frame[, cos of the lepton's angle to
    +z in the meson rest frame]).  One fused numba pass: sampling from |M|^2, rest-frame kinematics and the boost."""
    md.check_three_body(meson, lepton, model.m_chi, model.m_phi)
    M, ml = md.meson_mass(meson), md.LEPTONS[lepton]
    mc, mp = model.m_chi, model.m_phi
    table = md.inverse_cdf_table(model, meson, lepton)
    out = np.empty((13, n))
    pstar = np.empty(n)
    boost = p_meson is not None and bool(np.any(p_meson))
    if boost:
        gb = np.ascontiguousarray(p_meson, dtype=float) / M
        gam = np.sqrt(1.0 + gb * gb)
    else:
        gb = gam = np.zeros(1)
    for a in range(0, n, CHUNK):             # chunks keep the uniforms in cache
        b = min(a + CHUNK, n)
        _three_body_kernel(table, rng.random((5, b - a)), M, ml, mc, mp, boost,
                           gam[a:b] if boost else gam, gb[a:b] if boost else gb, out[:, a:b], pstar[a:b])
    vecs = (out[0], out[1], out[2], out[3]), (out[4], out[5], out[6], out[7]), (out[8], out[9], out[10], out[11])
    return (vecs, pstar, out[12]) if return_cos else (vecs, pstar)


_prange = range


def _three_body_kernel_py(table, u, M, ml, mc, mp, boost, gam_a, gb_a, out, pstar):  # pragma: no cover
    """One pass per event (numba): lepton isotropic in the meson frame, chi at angle theta* to the
    lepton axis in the chi-phi frame with density linear in cos(theta*) (|M|^2 is linear in p_chi.p_l),
    boost back to the meson frame, then (if ``boost``) along z to the lab.
    u[0]: s by inverse-CDF table lookup; u[1..4]: cos(theta*), psi, cos(theta_l), phi_l."""
    n = u.shape[1]
    nt = table.shape[0] - 1
    s_lo = (mc + mp) ** 2 * (1 + 1e-12)
    s_hi = (M - ml) ** 2 * (1 - 1e-12)
    for i in _prange(n):
        x = u[0, i] * nt
        j = min(int(x), nt - 1)
        s = table[j] + (x - j) * (table[j + 1] - table[j])
        s = min(max(s, s_lo), s_hi)
        rs = math.sqrt(s)
        el = (M * M + ml * ml - s) / (2 * M)
        pl = math.sqrt(max(el * el - ml * ml, 0.0))
        ec = (s + mc * mc - mp * mp) / (2 * rs)
        pc = math.sqrt(max(ec * ec - mc * mc, 0.0))
        el_q = (M * M - s - ml * ml) / (2 * rs)
        pl_q = math.sqrt(max(el_q * el_q - ml * ml, 0.0))
        b = s * (s - ml * ml)
        a = 0.5 * ml * ml * (M * M + s - ml * ml) * (s + mc * mc - mp * mp)
        k = -b * pc * pl_q / (a + b * ec * el_q)
        k = min(max(k, -1.0), 1.0)
        w = 1.0 - 0.5 * k - 2.0 * u[1, i]
        d = 1.0 - 2.0 * k * w
        ct = -2.0 * w / (1.0 + math.sqrt(max(d, 0.0)))
        st = math.sqrt(max(1.0 - ct * ct, 0.0))
        cps = math.cos(2.0 * math.pi * u[2, i])          # sin from cos: one transcendental per angle
        sps = math.sqrt(max(1.0 - cps * cps, 0.0))
        if u[2, i] > 0.5:
            sps = -sps
        cth = 2.0 * u[3, i] - 1.0
        sth = math.sqrt(max(1.0 - cth * cth, 0.0))
        cph = math.cos(2.0 * math.pi * u[4, i])
        sph = math.sqrt(max(1.0 - cph * cph, 0.0))
        if u[4, i] > 0.5:
            sph = -sph
        nx, ny, nz = sth * cph, sth * sph, cth
        e1x, e1y, e1z = cth * cph, cth * sph, -sth
        e2x, e2y = -sph, cph
        eq = M - el
        gam = eq / rs
        bg = -pl / rs
        ppar = pc * ct
        ppar_k = gam * ppar + bg * ec
        ec_k = gam * ec + bg * ppar
        pt1, pt2 = pc * st * cps, pc * st * sps
        cx = pt1 * e1x + pt2 * e2x + ppar_k * nx
        cy = pt1 * e1y + pt2 * e2y + ppar_k * ny
        cz = pt1 * e1z + ppar_k * nz
        lx, ly, lz = pl * nx, pl * ny, pl * nz
        pstar[i] = pl
        ep, pzp = eq - ec_k, -lz - cz
        if boost:
            g, gb = gam_a[i], gb_a[i]
            el, lz = g * el + gb * lz, g * lz + gb * el
            ec_k, cz = g * ec_k + gb * cz, g * cz + gb * ec_k
            ep, pzp = g * ep + gb * pzp, g * pzp + gb * ep
        out[0, i], out[1, i], out[2, i], out[3, i] = el, lx, ly, lz
        out[4, i], out[5, i], out[6, i], out[7, i] = ec_k, cx, cy, cz
        out[8, i], out[9, i], out[10, i], out[11, i] = ep, -lx - cx, -ly - cy, pzp
        out[12, i] = nz


try:
    import numba as _numba

    # serial on purpose: on the shared 2-core machine thread spinning costs more than it gains
    _three_body_kernel = _numba.njit(cache=True)(_three_body_kernel_py)
except ImportError:  # pragma: no cover
    _three_body_kernel = _three_body_kernel_py


# ------------------------------------------------------------------------------------------------
# lab frame
# ------------------------------------------------------------------------------------------------
def boost_z(p4, gamma, gbeta):
    """Boost four-vector(s) along +z with Lorentz factor gamma and gamma*beta (arrays)."""
    e, px, py, pz = p4
    return (gamma * e + gbeta * pz, px, py, gamma * pz + gbeta * e)


def to_lab(vectors, M: float, p_meson: np.ndarray):
    """Boost rest-frame four-vectors to the lab for mesons of momentum p_meson along z (no-op at rest)."""
    if not np.any(p_meson):
        return list(vectors)
    gamma = np.sqrt(1.0 + (p_meson / M) ** 2)
    gb = p_meson / M
    return [boost_z(v, gamma, gb) for v in vectors]


def rest_frame_cos(p4, M: float, p_meson: np.ndarray) -> np.ndarray:
    """cos(theta*) of a lab four-vector's direction in the rest frame of a meson of mass M moving along +z with
    momentum p_meson (the inverse boost of :func:`boost_z`)."""
    e, px, py, pz = p4
    gb = np.asarray(p_meson, float) / M
    g = np.sqrt(1.0 + gb * gb)
    pz_star = g * pz - gb * e
    p_star = np.sqrt(px * px + py * py + pz_star * pz_star)
    return np.where(p_star > 0, pz_star / np.where(p_star > 0, p_star, 1.0), 0.0)
