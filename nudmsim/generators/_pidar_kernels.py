"""Numba kernels of the COHERENT generator (private).  See ``pidar_sampling`` for the algorithm.

Random numbers: a counter-based stream, u(i, k) = splitmix64(key + (16 i + k + 1) * golden) / 2^64, with the
64-bit ``key`` drawn from the caller's ``numpy.random.Generator``.  Every event's numbers depend only on
(key, event index, slot k), so the result is identical for any number of threads and reproducible per seed.
Slots: 0 cell, 1 E_R in cell, 2 E_nu (the response stages draw their own numbers).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0


@njit(inline="always", cache=True)
def _uniform(key, i, k):
    z = key + (np.uint64(i) * np.uint64(16) + np.uint64(k) + np.uint64(1)) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * _INV53


@njit(inline="always", cache=True)
def _search(arr, x):
    """First index j with arr[j] > x (arr increasing), clipped to len-1."""
    lo, hi = 0, arr.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if arr[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(inline="always", cache=True)
def _j1x(x):
    if abs(x) < 1e-3:
        return 1.0 - x * x / 10.0
    return 3.0 * (math.sin(x) - x * math.cos(x)) / (x * x * x)


@njit(inline="always", cache=True)
def _ff2(code, q, r1, r2):
    if code == 0:      # none
        return 1.0
    if code == 1:      # Helm: r1 = r_n, r2 = s  (MeV^-1)
        f = _j1x(q * r1) * math.exp(-0.5 * (q * r2) ** 2)
    else:              # Klein-Nystrand: r1 = R_A, r2 = a_k
        f = _j1x(q * r1) / (1.0 + (q * r2) ** 2)
    return f * f


@njit(inline="always", cache=True, fastmath=True)
def _kin_one(key, i, alias_prob, alias_idx, cell_fl, cell_iso, cell_lo, cell_w, cell_dens, r_over_n,
             iso_mass, iso_coef, iso_fluence_nt, iso_r1, iso_r2, ff_code, proc, m_X2, m_phi2,
             prompt_energy, m_mu, etab):
    """One event: (flavour, isotope, E_R, E_nu, weight)."""
    e_max = 0.5 * m_mu
    uk = _uniform(key, i, 0) * alias_prob.shape[0]
    j = int(uk)
    if j >= alias_prob.shape[0]:
        j = alias_prob.shape[0] - 1
    if uk - j >= alias_prob[j]:
        j = alias_idx[j]
    fl = cell_fl[j]
    iso = cell_iso[j]
    er = cell_lo[j] + _uniform(key, i, 1) * cell_w[j]
    M = iso_mass[iso]
    q = math.sqrt(er * er + 2.0 * M * er)
    emin = (2.0 * M * er + m_X2) / (2.0 * (q - er))
    if fl == 0:
        enu = prompt_energy
        surv = 1.0 if emin <= prompt_energy else 0.0
    else:
        x = min(max(emin / m_mu, 0.0), 0.5)
        if fl == 1:
            a3, a4, p2, p3 = 32.0, 48.0, 96.0, 192.0
        else:
            a3, a4, p2, p3 = 16.0, 16.0, 48.0, 64.0
        x3 = x * x * x
        c0 = a3 * x3 - a4 * x3 * x
        surv = 1.0 - c0
        u = c0 + _uniform(key, i, 2) * surv
        # inverse-CDF tables: u < 1/2 on a grid uniform in s = (2u)^(1/3) (CDF ~ x^3 at 0), u >= 1/2 uniform
        # in s = sqrt(2(1 - u)) (1 - CDF ~ (E_max - E)^2 at the nu_e endpoint); then Newton steps
        row = fl - 1
        nt = etab.shape[2] - 1
        if u < 0.5:
            sc = np.cbrt(2.0 * u) * nt
            half = 0
        else:
            sc = math.sqrt(2.0 * (1.0 - u)) * nt
            half = 1
        k0 = min(int(sc), nt - 1)
        t = sc - k0
        e = etab[half, row, k0] + t * (etab[half, row, k0 + 1] - etab[half, row, k0])
        for _ in range(2):      # Newton on CDF(e) = u: |CDF - u| < 1e-14
            xe = e / m_mu
            pdf = (p2 * xe * xe - p3 * xe * xe * xe) / m_mu
            if pdf > 1e-9:
                xe3 = xe * xe * xe
                e = min(max(e - (a3 * xe3 - a4 * xe3 * xe - u) / pdf, 0.0), e_max)
        enu = min(max(e, emin), e_max)
    if proc == 0:
        ds = iso_coef[iso] * (1.0 - M * er / (2.0 * enu * enu))
        if ds < 0.0:
            ds = 0.0
    else:
        tm = 2.0 * M * er
        ds = iso_coef[iso] * (1.0 + er / (2.0 * M)) * (tm + m_X2) / (enu * enu * (tm + m_phi2) ** 2)
    f2 = _ff2(ff_code, math.sqrt(2.0 * M * er), iso_r1[iso], iso_r2[iso])
    return fl, iso, er, enu, r_over_n * iso_fluence_nt[iso] * ds * f2 * surv / cell_dens[j]


@njit(parallel=True, cache=True, fastmath=True, nogil=True)
def kinematics_from(key, start, n, alias_prob, alias_idx, cell_fl, cell_iso, cell_lo, cell_w, cell_dens,
                    r_over_n, iso_mass, iso_coef, iso_fluence_nt, iso_r1, iso_r2, ff_code, proc, m_X2, m_phi2,
                    prompt_energy, m_mu, etab, fl_out, iso_out, er_out, enu_out, w_out):
    """As :func:`kinematics` for events ``start .. start + n - 1`` of a counter-based stream ``key``."""
    for i in prange(n):
        fl_out[i], iso_out[i], er_out[i], enu_out[i], w_out[i] = _kin_one(
            key, start + i, alias_prob, alias_idx, cell_fl, cell_iso, cell_lo, cell_w, cell_dens, r_over_n,
            iso_mass, iso_coef, iso_fluence_nt, iso_r1, iso_r2, ff_code, proc, m_X2, m_phi2,
            prompt_energy, m_mu, etab)
