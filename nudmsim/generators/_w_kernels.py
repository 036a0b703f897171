"""Numba kernels of the W generator (the fast path of ``w_sample``): per-event loops over pre-drawn uniforms
and normals (numpy PCG64 streams, so ``--seed`` reproduces files).  The physics is the one of
:mod:`nudmsim.sources.pp` (sampling tables, p_T given y, angular coefficients), :mod:`nudmsim.processes.w_angular`
(lepton density with A_0..A_4 and a massive nu_4), :mod:`nudmsim.processes.w_decay` (proposal density,
Collins-Soper boost) and :mod:`nudmsim.response.collider` (smearing, recoil, E_T^miss, m_T, selection); tests
compare the kernels with those numpy functions.  Units: MeV.

Per event the generator keeps the two pieces of the massless lepton density at the drawn direction,
E (parity even) and O (parity odd): the decay weight for any nu_4 mass is then
w(r) = (3/8) [E (1 - r) + O + 2 r] / (1 + r/2) / q(cos theta), q the proposal density in cos theta.

Lepton response arrays (:func:`nudmsim.generators.w_sample.response_arrays`), with every |eta| stored as
sinh|eta| (= |p_z|/p_T, so the kernels need no asinh): ``lres`` rows (sinh of the bin's upper |eta| edge, a, b, c)
of an |eta|-binned resolution; ``lpar`` = (kind: 0 calorimeter / 1 tracker, sinh eta_max, efficiency); ``gaps``
rows (sinh lo, sinh hi) of excluded |eta| ranges.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

NINV = 1 << 12
N_UNIFORMS = 11
INV83 = 3.0 / 8.0


@njit(cache=True, inline="always")
def _rel_sigma(pt, cosh_eta, she, kind, lres):
    """Relative p_T resolution (pt in MeV) in the |eta| bin of lres: kind 0 -> calorimeter
    sqrt(a^2/E + (b/E)^2 + c^2), E = p_T cosh(eta) [GeV]; kind 1 -> tracker sqrt(a^2 + (b p_T[GeV])^2 + c^2)."""
    k = 0
    while k < lres.shape[0] - 1 and she >= lres[k, 0]:
        k += 1
    a = lres[k, 1]
    b = lres[k, 2]
    cc = lres[k, 3]
    if kind == 0.0:
        e = max(pt * cosh_eta / 1000.0, 1e-6)
        return math.sqrt(a * a / e + (b / e) ** 2 + cc * cc)
    x = b * pt / 1000.0
    return math.sqrt(a * a + x * x + cc * cc)


@njit(cache=True, inline="always")
def _accepted(she, lpar, gaps):
    if she >= lpar[1]:
        return False
    for gi in range(gaps.shape[0]):
        if she >= gaps[gi, 0] and she < gaps[gi, 1]:
            return False
    return True


Q_U1, Q_U2, Q_N1, Q_N2 = 0.9, 0.99, 512.0, 256.0      # = nudmsim.sources.pp (three-piece quantile grid)


@njit(cache=True, inline="always")
def _qpos(u, scale):
    """Fractional node index of quantile u on the three-piece grid (pp.q_position)."""
    if u < Q_U1:
        return u * (Q_N1 * scale / Q_U1)
    if u < Q_U2:
        return Q_N1 * scale + (u - Q_U1) * (Q_N2 * scale / (Q_U2 - Q_U1))
    return (Q_N1 + Q_N2) * scale + (u - Q_U2) * (Q_N2 * scale / (1.0 - Q_U2))


@njit(cache=True, inline="always")
def _lookup_q(inv, u):
    """Inverse p_T CDF on the three-piece quantile grid, linear interpolation."""
    nn = inv.shape[0] - 1
    t = _qpos(u, nn / 1024.0)
    i = min(int(t), nn - 1)
    f = t - i
    return inv[i] * (1.0 - f) + inv[i + 1] * f


@njit(cache=True, inline="always")
def _lookup(inv, u):
    nn = inv.shape[0] - 1
    t = u * nn
    i = min(int(t), nn - 1)
    f = t - i
    return inv[i] * (1.0 - f) + inv[i + 1] * f


@njit(cache=True, inline="always")
def _search(a, lo, hi, v):
    """First index j in [lo, hi) with a[j] >= v (hi if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _proposal(cq, s, f_unif):
    """Proposal density of cos theta: (1 - f) (3/8)(1 + s c)^2 + f/2 (s = -1 for W+, +1 for W-)."""
    return (1.0 - f_unif) * INV83 * (1.0 + s * cq) ** 2 + 0.5 * f_unif


@njit(cache=True, inline="always")
def _decay_weight(e, o, cq, s, r, f_unif):
    """Lepton density / proposal for r = m4^2/M^2 (0 for r >= 1), E and O the massless density pieces."""
    if r >= 1.0:
        return 0.0
    return INV83 * (e * (1.0 - r) + o + 2.0 * r) / (1.0 + 0.5 * r) / _proposal(cq, s, f_unif)


@njit(cache=True, inline="always")
def _angular(ci, upt, yq, cq, cp, sp, ang, gpar):
    """(E, O) of the massless lepton density at (cos theta, phi) (cp, sp = cos, sin phi), A_i bilinear in
    (y_q, p_T quantile upt) (see PPSource._angular_arrays)."""
    nyq = ang.shape[1]
    t = (yq - gpar[0]) / gpar[1]
    t = min(max(t, 0.0), nyq - 1.000001)
    i = int(t)
    fy = t - i
    uu = _qpos(upt, gpar[3])
    j = min(int(uu), ang.shape[2] - 2)
    fl = uu - j
    w00 = (1.0 - fy) * (1.0 - fl)
    w10 = fy * (1.0 - fl)
    w01 = (1.0 - fy) * fl
    w11 = fy * fl
    a = ang[ci]                                   # (n_yq, n_u, 5): the 5 coefficients of a node are contiguous
    a0 = w00 * a[i, j, 0] + w10 * a[i + 1, j, 0] + w01 * a[i, j + 1, 0] + w11 * a[i + 1, j + 1, 0]
    a1 = w00 * a[i, j, 1] + w10 * a[i + 1, j, 1] + w01 * a[i, j + 1, 1] + w11 * a[i + 1, j + 1, 1]
    a2 = w00 * a[i, j, 2] + w10 * a[i + 1, j, 2] + w01 * a[i, j + 1, 2] + w11 * a[i + 1, j + 1, 2]
    a3 = w00 * a[i, j, 3] + w10 * a[i + 1, j, 3] + w01 * a[i, j + 1, 3] + w11 * a[i + 1, j + 1, 3]
    a4 = w00 * a[i, j, 4] + w10 * a[i + 1, j, 4] + w01 * a[i, j + 1, 4] + w11 * a[i + 1, j + 1, 4]
    c2 = cq * cq
    sn = math.sqrt(max(1.0 - c2, 0.0))
    c2p = 2.0 * cp * cp - 1.0
    e = 1.0 + c2 + 0.5 * a0 * (1.0 - 3.0 * c2) + a1 * 2.0 * sn * cq * cp + 0.5 * a2 * (1.0 - c2) * c2p
    o = a3 * sn * cp + a4 * cq
    return e, o


@njit(cache=True, inline="always")
def _sample_one(u, i, mode, p_plus, inv_m, masses, ys, norms, flat, tabs, inv_pt, ang, gpar, guide, f_unif, rotate):
    """One boson and its decay direction from the uniforms u[i, 0:11]; returns
    (m, y, pt, phi, charge, qdir, cos_q, phi_cs, kE, kx, ky, kz, cos phi, sin phi, E, O).
    ``rotate=False`` leaves the event at W azimuth 0 (the response is rotation invariant: the fused histogram
    path skips the rotation; phi is still u[i, 7] x 2 pi for the record) and skips the angular coefficients
    (E = O = 0: the fused path evaluates them with :func:`_angular_of` only for the events it keeps)."""
    nm = masses.shape[0]
    nb = ys.shape[0] - 1
    dy = ys[1] - ys[0]
    twopi = 2.0 * math.pi
    if mode == 0:
        ch = 1 if u[i, 0] < p_plus else -1
    else:
        ch = mode
    ci = 0 if ch > 0 else 1
    mm = _lookup(inv_m[ci], u[i, 1])
    mi = int((mm - gpar[4]) / gpar[5])            # evenly spaced table masses
    mi = min(max(mi, 0), nm - 2)
    t = (mm - masses[mi]) / (masses[mi + 1] - masses[mi])
    w_hi = t * norms[ci, mi + 1]
    row = mi + 1 if u[i, 2] * ((1.0 - t) * norms[ci, mi] + w_hi) < w_hi else mi
    gi = int(u[i, 3] * (guide.shape[2] - 1))
    j = _search(flat[ci], guide[ci, row, gi], min(guide[ci, row, gi + 1] + 1, (row + 1) * nb), row + u[i, 3])
    k = min(max(j - row * nb, 0), nb - 1)
    lo_v = tabs[ci, row, k]
    hi_v = tabs[ci, row, k + 1]
    slope = hi_v - lo_v
    f = u[i, 4]
    if abs(slope) > 1e-12 * (lo_v + hi_v):
        tt = (math.sqrt(lo_v * lo_v + slope * (lo_v + hi_v) * f) - lo_v) / slope
    else:
        tt = f
    tt = min(max(tt, 0.0), 1.0)
    yy = ys[k] + tt * dy
    qd = 1 if u[i, 5] < 0.5 else -1
    yy *= qd
    # p_T given |y|: quantile interpolation between the inverse CDFs of neighbouring |y| rows
    nay = inv_pt.shape[1]
    ty = min(abs(yy) / gpar[2], nay - 1.000001)
    jy = int(ty)
    fy = ty - jy
    ptw = (1.0 - fy) * _lookup_q(inv_pt[ci, jy], u[i, 6]) + fy * _lookup_q(inv_pt[ci, jy + 1], u[i, 6])
    ph = twopi * u[i, 7]
    # decay direction: proposal = (1 - f) light-nu LO density + f uniform
    s = -1.0 if ch > 0 else 1.0
    if u[i, 8] < f_unif:
        cq = 2.0 * u[i, 9] - 1.0
    else:
        cq = s * (2.0 * np.cbrt(u[i, 9]) - 1.0)
    pcs = twopi * u[i, 10]
    cpc = math.cos(pcs)
    spc = math.copysign(math.sqrt(max(1.0 - cpc * cpc, 0.0)), 0.5 - u[i, 10])
    if rotate:
        e, o = _angular(ci, u[i, 6], yy * qd, cq, cpc, spc, ang, gpar)
    else:
        e, o = 0.0, 0.0
    # Collins-Soper frame -> lab (see w_decay.lepton_direction_lab)
    sq = math.sqrt(max(1.0 - cq * cq, 0.0))
    nz = qd * cq
    nx = sq * cpc
    nyy = sq * spc
    mt = math.sqrt(mm * mm + ptw * ptw)
    g = mt / mm
    gb = ptw / mm
    e1 = g + gb * nx
    x1 = gb + g * nx
    if rotate:
        cph = math.cos(ph)
        sph = math.sin(ph)
    else:
        cph = 1.0
        sph = 0.0
    ey = math.exp(yy)
    chy = 0.5 * (ey + 1.0 / ey)
    shy = 0.5 * (ey - 1.0 / ey)
    return (mm, yy, ptw, ph, ch, qd, cq, pcs, e1 * chy + nz * shy, x1 * cph - nyy * sph,
            x1 * sph + nyy * cph, e1 * shy + nz * chy, cph, sph, e, o)


@njit(cache=True, inline="always")
def _angular_of(u, i, ch, yy, qd, cq, ang, gpar):
    """(E, O) of event i from its uniforms and sampled values (the same as inside :func:`_sample_one`)."""
    cpc = math.cos(2.0 * math.pi * u[i, 10])
    spc = math.copysign(math.sqrt(max(1.0 - cpc * cpc, 0.0)), 0.5 - u[i, 10])
    return _angular(0 if ch > 0 else 1, u[i, 6], yy * qd, cq, cpc, spc, ang, gpar)


@njit(cache=True)
def sample_w(u, mode, p_plus, inv_m, masses, ys, norms, flat, tabs, inv_pt, ang, gpar, guide, f_unif,
             m, y, pt, phi, q, qdir, cos_q, phi_cs, kE, kx, ky, kz, e_dens, o_dens):
    """Fill the boson kinematics, the decay direction and the density pieces (E, O) of n events from
    u[:, 0:11] (uniforms).  Tables of charge index c (0: W+, 1: W-), see PPSource.kernel_tables."""
    for i in range(u.shape[0]):
        r = _sample_one(u, i, mode, p_plus, inv_m, masses, ys, norms, flat, tabs, inv_pt, ang, gpar, guide, f_unif,
                        True)
        m[i], y[i], pt[i], phi[i], q[i], qdir[i], cos_q[i], phi_cs[i] = r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
        kE[i], kx[i], ky[i], kz[i], e_dens[i], o_dens[i] = r[8], r[9], r[10], r[11], r[14], r[15]


@njit(cache=True, inline="always")
def _event_s(mm, cph, sph, ptw, q, cq, e, o, kE, kx, ky, kz, zl, zx, zy, m4, xscale, lres, lpar, gaps, rec,
             sel, f_unif):
    """Reconstruct one event; returns (pt_true, pt_reco, met, mt, ut, selected, w_decay, phase_space).
    The charged lepton carries a fraction ``xscale`` of the massless decay product's momentum (1 for W -> l nu,
    the tau -> l fraction for W -> tau nu); the rest is invisible.  |eta| cuts use sinh|eta| = |kz|/kT."""
    kt = math.hypot(kx, ky)
    if mm > m4:
        ps = (mm * mm - m4 * m4) / (2.0 * mm)
        r = (m4 / mm) ** 2
    else:
        ps = 0.0
        r = 1.0
    pt = ps * kt * xscale
    s = -1.0 if q > 0 else 1.0
    wdec = _decay_weight(e, o, cq, s, r, f_unif)
    phs = (1.0 - r) ** 2 * (1.0 + 0.5 * r) if r < 1.0 else 0.0
    she = abs(kz) / kt
    sr = _rel_sigma(pt, kE / kt, she, lpar[0], lres)
    ptr = max(pt * (1.0 + sr * zl), 0.0)
    sg = math.sqrt(rec[0] * rec[0] + (rec[1] * ptw) ** 2)
    # noise components (zx, zy) parallel and perpendicular to p_T^W (collider.recoil)
    ux = -ptw * cph + sg * (zx * cph - zy * sph)
    uy = -ptw * sph + sg * (zx * sph + zy * cph)
    lpx = ptr * kx / kt
    lpy = ptr * ky / kt
    mx = -(lpx + ux)
    my = -(lpy + uy)
    met = math.hypot(mx, my)
    mt = math.sqrt(max(2.0 * (ptr * met - (lpx * mx + lpy * my)), 0.0))
    ut = math.hypot(ux, uy)
    ok = _accepted(she, lpar, gaps) and ptr > sel[0] and met > sel[1] and mt > sel[2] and ut < sel[3] and r < 1.0
    return pt, ptr, met, mt, ut, ok, wdec, phs


@njit(cache=True)
def reconstruct(m, ptw, phi, q, cos_q, e_dens, o_dens, kE, kx, ky, kz, zl, zx, zy, xscale, m4, lres, lpar, gaps,
                rec, sel, f_unif, o_pt, o_ptr, o_met, o_mt, o_ut, o_sel, o_wdec, o_ps):
    """Reconstruct every event; ``m4`` is an array (the neutrino mass of each event)."""
    for i in range(m.shape[0]):
        a = _event_s(m[i], math.cos(phi[i]), math.sin(phi[i]), ptw[i], q[i], cos_q[i],
                     e_dens[i], o_dens[i], kE[i], kx[i], ky[i], kz[i], zl[i], zx[i], zy[i], m4[i], xscale[i], lres,
                     lpar, gaps, rec, sel, f_unif)
        o_pt[i], o_ptr[i], o_met[i], o_mt[i], o_ut[i], o_sel[i], o_wdec[i], o_ps[i] = a


@njit(cache=True)
def prepare(m, ptw, phi, kE, kx, ky, kz, zl, zx, zy, lres, lpar, gaps, rec, sel, pt_keep,
            o_kt, o_cosh, o_aeta, o_cphi, o_sphi, o_ux, o_uy, o_keep):
    """m_4-independent per-event quantities for the template kernel (o_aeta holds sinh|eta|), and the
    preselection: lepton in the |eta| acceptance, recoil u_T below the cut, and light-nu reconstructed p_T above
    ``pt_keep`` (the lepton p_T only decreases with m_4 at fixed detector fluctuation)."""
    for i in range(m.shape[0]):
        kt = math.hypot(kx[i], ky[i])
        ae = abs(kz[i]) / kt
        o_kt[i] = kt
        o_cosh[i] = kE[i] / kt
        o_aeta[i] = ae
        o_cphi[i] = kx[i] / kt
        o_sphi[i] = ky[i] / kt
        wpx = ptw[i] * math.cos(phi[i])
        wpy = ptw[i] * math.sin(phi[i])
        sg = math.sqrt(rec[0] * rec[0] + (rec[1] * ptw[i]) ** 2)
        cph, sph = math.cos(phi[i]), math.sin(phi[i])
        o_ux[i] = -wpx + sg * (zx[i] * cph - zy[i] * sph)
        o_uy[i] = -wpy + sg * (zx[i] * sph + zy[i] * cph)
        pt0 = 0.5 * m[i] * kt
        sr = _rel_sigma(pt0, o_cosh[i], ae, lpar[0], lres)
        ptr = pt0 * (1.0 + sr * zl[i])
        o_keep[i] = _accepted(ae, lpar, gaps) and math.hypot(o_ux[i], o_uy[i]) < sel[3] and ptr > pt_keep


@njit(cache=True)
def histogram_compact(m, kt, cosh_eta, aeta, cphi, sphi, ux, uy, q, cos_q, e_dens, o_dens, zl, weight, m4, lres,
                      lpar, sel, f_unif, with_ps, lo, width, h, h2):
    """Template kernel on preselected events (acceptance and u_T cut already applied)."""
    nb = h.shape[0]
    for i in range(m.shape[0]):
        mm = m[i]
        if mm <= m4 or weight[i] == 0.0:
            continue
        r = (m4 / mm) ** 2
        pt = (mm * mm - m4 * m4) / (2.0 * mm) * kt[i]
        sr = _rel_sigma(pt, cosh_eta[i], aeta[i], lpar[0], lres)
        ptr = pt * (1.0 + sr * zl[i])
        b = int(math.floor((ptr - lo) / width))
        if b < 0 or b >= nb or ptr <= sel[0]:
            continue
        lpx = ptr * cphi[i]
        lpy = ptr * sphi[i]
        mx = -(lpx + ux[i])
        my = -(lpy + uy[i])
        met = math.sqrt(mx * mx + my * my)
        if met <= sel[1]:
            continue
        mt2 = 2.0 * (ptr * met - (lpx * mx + lpy * my))
        if mt2 <= sel[2] * sel[2]:
            continue
        s = -1.0 if q[i] > 0 else 1.0
        w = weight[i] * _decay_weight(e_dens[i], o_dens[i], cos_q[i], s, r, f_unif)
        if with_ps:
            w *= (1.0 - r) ** 2 * (1.0 + 0.5 * r)
        h[b] += w
        h2[b] += w * w


@njit(cache=True, parallel=True)
def events_fused(u, z, u_choice, mode, p_plus, inv_m, masses, ys, norms, flat, tabs, inv_pt, ang, gpar, guide,
                 f_unif, m4, u2, lres, lpar, gaps, rec, sel, o_heavy, o_pt, o_ptr, o_met, o_mt, o_ut, o_sel, o_wdec,
                 o_total):
    """``w-lepton`` events in one pass: sample the boson and decay at W azimuth 0 (every observable is independent
    of it, the recoil noise being defined along and across p_T^W), choose light nu or nu_4 with u_choice against the
    branching (1 - U2) : U2 (1 - r)^2 (1 + r/2), and reconstruct (:func:`_event_s`).  Same random numbers and
    physics as sample_w + reconstruct (the same events, up to rounding).  Events are independent: the loop runs
    on the numba threads (each event writes only its own outputs, so the result does not depend on them)."""
    for i in prange(u.shape[0]):
        r = _sample_one(u, i, mode, p_plus, inv_m, masses, ys, norms, flat, tabs, inv_pt, ang, gpar, guide, f_unif,
                        False)
        mm, ptw, ch = r[0], r[2], r[4]
        e, o = _angular_of(u, i, ch, r[1], r[5], r[6], ang, gpar)
        rr = min((m4 / mm) ** 2, 1.0)
        heavy_rate = u2 * ((1.0 - rr) ** 2 * (1.0 + 0.5 * rr) if rr < 1.0 else 0.0)
        total = (1.0 - u2) + heavy_rate
        heavy = u_choice[i] * max(total, 1e-300) < heavy_rate
        a = _event_s(mm, 1.0, 0.0, ptw, ch, r[6], e, o, r[8], r[9], r[10], r[11], z[0, i], z[1, i],
                     z[2, i], m4 if heavy else 0.0, 1.0, lres, lpar, gaps, rec, sel, f_unif)
        o_heavy[i] = heavy
        o_pt[i], o_ptr[i], o_met[i], o_mt[i], o_ut[i], o_sel[i], o_wdec[i] = a[0], a[1], a[2], a[3], a[4], a[5], a[6]
        o_total[i] = total


@njit(cache=True)
def generate_histogram(u, z, mode, p_plus, inv_m, masses, ys, norms, flat, tabs, inv_pt, ang, gpar, guide, f_unif,
                       m4, lres, lpar, gaps, rec, sel, with_ps, obs, lo, width, h, h2):
    """Fused generator + response + selection + histogram (no per-event arrays): uniforms u[i, 0:11], normals
    z[0:3, i]; obs = 1 (reco lepton p_T), 2 (E_T^miss), 3 (m_T).  Same physics as :func:`_event_s`, ordered so
    that an event leaves as soon as it fails a cut (the angular coefficients are evaluated for kept events only)."""
    nb = h.shape[0]
    hi = lo + nb * width
    for i in range(u.shape[0]):
        r = _sample_one(u, i, mode, p_plus, inv_m, masses, ys, norms, flat, tabs, inv_pt, ang, gpar, guide, f_unif,
                        False)
        mm, ptw, ch = r[0], r[2], r[4]
        kE, kx, ky, kz = r[8], r[9], r[10], r[11]
        if mm <= m4:
            continue
        kt = math.sqrt(kx * kx + ky * ky)
        she = abs(kz) / kt
        if not _accepted(she, lpar, gaps):
            continue
        rr = (m4 / mm) ** 2
        pt = (mm * mm - m4 * m4) / (2.0 * mm) * kt
        ptr = max(pt * (1.0 + _rel_sigma(pt, kE / kt, she, lpar[0], lres) * z[0, i]), 0.0)
        if ptr <= sel[0] or (obs == 1 and (ptr < lo or ptr >= hi)):
            continue
        sg = math.sqrt(rec[0] * rec[0] + (rec[1] * ptw) ** 2)
        ux = -ptw + sg * z[1, i]
        uy = sg * z[2, i]
        if ux * ux + uy * uy >= sel[3] * sel[3]:
            continue
        lpx = ptr * kx / kt
        lpy = ptr * ky / kt
        mx = -(lpx + ux)
        my = -(lpy + uy)
        met = math.sqrt(mx * mx + my * my)
        if met <= sel[1]:
            continue
        mt2 = 2.0 * (ptr * met - (lpx * mx + lpy * my))
        if mt2 <= sel[2] * sel[2]:
            continue
        x = ptr if obs == 1 else (met if obs == 2 else math.sqrt(max(mt2, 0.0)))
        b = int(math.floor((x - lo) / width))
        if b < 0 or b >= nb:
            continue
        e, o = _angular_of(u, i, ch, r[1], r[5], r[6], ang, gpar)
        w = _decay_weight(e, o, r[6], -1.0 if ch > 0 else 1.0, rr, f_unif)
        if with_ps:
            w *= (1.0 - rr) ** 2 * (1.0 + 0.5 * rr)
        h[b] += w
        h2[b] += w * w


@njit(cache=True, parallel=True)
def generate_histogram_parallel(u, z, mode, p_plus, inv_m, masses, ys, norms, flat, tabs, inv_pt, ang, gpar,
                                guide, f_unif, m4, lres, lpar, gaps, rec, sel, with_ps, obs, lo, width, h, h2):
    """:func:`generate_histogram` on the numba threads: fixed blocks with their own histograms, summed in
    block order (deterministic)."""
    n = u.shape[0]
    nb = h.shape[0]
    nblk = 16
    hb = np.zeros((nblk, nb))
    hb2 = np.zeros((nblk, nb))
    for blk in prange(nblk):
        a = blk * n // nblk
        e = (blk + 1) * n // nblk
        generate_histogram(u[a:e], z[:, a:e], mode, p_plus, inv_m, masses, ys, norms, flat, tabs, inv_pt, ang,
                           gpar, guide, f_unif, m4, lres, lpar, gaps, rec, sel, with_ps, obs, lo, width, hb[blk],
                           hb2[blk])
    for blk in range(nblk):
        for j in range(nb):
            h[j] += hb[blk, j]
            h2[j] += hb2[blk, j]
