"""Numba kernel of a compiled workspace's −2 ln L and its gradient (see nudmsim.stats.compiled).

One pass over the used bins: histosys splines, clipping (of samples with shapes), unit normalisation, normfactors and normsys, the
analytic on/off profile (Cousins, Linnemann & Tucker 2008, eq. 21 with known s, cancellation-free form), the
Poisson deviance and the Gaussian constraints.  ``grad`` receives d(−2 ln L)/dp when ``want_grad``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _profile(n, s, m, tau):
    t1 = 1.0 + tau
    B = t1 * s - n - m
    disc = math.sqrt(B * B + 4.0 * t1 * m * s)
    if B <= 0.0:
        b = (disc - B) / (2.0 * t1)
    else:
        den = B + disc
        b = 2.0 * m * s / den if den > 0.0 else 0.0
    return b if b > 0.0 else 0.0


@njit(cache=True)
def _dev(n, nu):
    if n > 0.0:
        return 2.0 * (nu - n + n * math.log(n / nu))
    return 2.0 * nu


@njit(cache=True)
def twice_nll(p, want_grad, grad, N, C, knots, n_knots, shape_sample, shape_param, unit, clip, nf_ptr, nf_idx,
              ns_ptr, ns_idx, ns_hi, ns_lo, n_obs, off, tau, has_onoff, cons_idx, cons_mean, cons_sig):
    S, B = N.shape
    J = shape_param.shape[0]
    U = N.copy()
    t = np.empty(J)
    kk = np.empty(J, np.int64)
    for j in range(J):
        x = p[shape_param[j]]
        nk = n_knots[j]
        k = 0
        while k < nk - 2 and x >= knots[j, k + 1]:
            k += 1
        kk[j] = k
        tj = x - knots[j, k]
        t[j] = tj
        s = shape_sample[j]
        for b in range(B):
            U[s, b] += ((C[0, j, k, b] * tj + C[1, j, k, b]) * tj + C[2, j, k, b]) * tj + C[3, j, k, b]
    clipped = U < 0.0
    for s in range(S):          # only samples with interpolated shapes are clipped (signed templates stay)
        if not clip[s]:
            for b in range(B):
                clipped[s, b] = False
    tot = np.zeros(S)
    for s in range(S):
        for b in range(B):
            if clipped[s, b]:
                U[s, b] = 0.0
            tot[s] += U[s, b]
    W = np.ones(S)
    for s in range(S):
        f = 1.0
        for q in range(nf_ptr[s], nf_ptr[s + 1]):
            f *= p[nf_idx[q]]
        for q in range(ns_ptr[s], ns_ptr[s + 1]):
            x = p[ns_idx[q]]
            f *= 1.0 + x * (ns_hi[q] if x >= 0.0 else ns_lo[q])
        if unit[s] and tot[s] > 0.0:
            f /= tot[s]
        W[s] = f
    total = 0.0
    w = np.empty(B)
    for b in range(B):
        sb = 0.0
        for s in range(S):
            sb += W[s] * U[s, b]
        nu = sb
        if has_onoff:
            bb = _profile(n_obs[b], sb, off[b], tau)
            total += _dev(off[b], max(tau * bb, 1e-300))
            nu = sb + bb
        if not math.isfinite(nu):
            return 1e30
        nu = max(nu, 1e-300)
        total += _dev(n_obs[b], nu)
        w[b] = 2.0 * (1.0 - n_obs[b] / nu)
    for q in range(cons_idx.shape[0]):
        d = (p[cons_idx[q]] - cons_mean[q]) / cons_sig[q]
        total += d * d
    if not want_grad:
        return total
    grad[:] = 0.0
    A = np.zeros(S)          # sum_b w_b U_sb
    for s in range(S):
        a = 0.0
        for b in range(B):
            a += w[b] * U[s, b]
        A[s] = a
    for j in range(J):
        s = shape_sample[j]
        k = kk[j]
        tj = t[j]
        g = 0.0
        dsum = 0.0
        for b in range(B):
            if not clipped[s, b]:
                d = (3.0 * C[0, j, k, b] * tj + 2.0 * C[1, j, k, b]) * tj + C[2, j, k, b]
                g += w[b] * d
                dsum += d
        if unit[s] and tot[s] > 0.0:
            g -= A[s] / tot[s] * dsum
        grad[shape_param[j]] += W[s] * g
    for s in range(S):
        for q in range(nf_ptr[s], nf_ptr[s + 1]):
            i = nf_idx[q]
            if p[i] != 0.0:
                grad[i] += W[s] * A[s] / p[i]
            else:
                f = 1.0
                for r in range(nf_ptr[s], nf_ptr[s + 1]):
                    if r != q:
                        f *= p[nf_idx[r]]
                for r in range(ns_ptr[s], ns_ptr[s + 1]):
                    x = p[ns_idx[r]]
                    f *= 1.0 + x * (ns_hi[r] if x >= 0.0 else ns_lo[r])
                if unit[s] and tot[s] > 0.0:
                    f /= tot[s]
                grad[i] += f * A[s]
        for q in range(ns_ptr[s], ns_ptr[s + 1]):
            i = ns_idx[q]
            x = p[i]
            err = ns_hi[q] if x >= 0.0 else ns_lo[q]
            fac = 1.0 + x * err
            if fac != 0.0:
                grad[i] += W[s] * A[s] * err / fac
    for q in range(cons_idx.shape[0]):
        i = cons_idx[q]
        grad[i] += 2.0 * (p[i] - cons_mean[q]) / cons_sig[q] ** 2
    return total
