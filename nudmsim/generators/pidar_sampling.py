"""Weighted event generation for COHERENT (the sampling of ``nudmsim.generators.pidar``).

Importance sampling, exact weights:

1. the recoil spectrum dN/dE_R of every (flavour, isotope) is tabulated at the midpoints of fine cells
   (log-spaced in E_R) -> cell masses M_j;  a cell is drawn with probability M_j / sum M and E_R uniformly
   inside it (proposal density q(E_R) = M_j / (R Delta_j));
2. E_nu: the prompt line for nu_mu; for nu_e / anti-nu_mu the Michel spectrum truncated to
   E_nu >= E_nu,min(E_R) by inverse CDF (proposal f(E) / S(E_min), S = survival function);
3. weight = target / (n * proposal) = (R / n) * N_T Phi dsigma/dE_R(E_nu, E_R) F^2(E_R) S(E_min) / (M_j/Delta_j),
   in expected events in the card's exposure.  The weights average to R/n and vary only by the ratio of the
   cross section at the sampled E_nu to its conditional mean (a factor of a few at most), so sum(weights)
   is an unbiased estimate of the quadrature total R with a small spread.
4. the detector response is not here: the experiment's response chain (nudmsim/response/) follows.

All random numbers come from the ``numpy.random.Generator`` passed in, in a fixed order, so a seed
reproduces the sample exactly.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from .. import formfactors
from ..models import scalar_portal
from ..processes import cevns
from ..sources import sns
from . import pidar_quadrature as cp

N_CELLS = 1024


def _cells(xs, flavour, st, fluence_nt):
    lo, hi = cp._er_limits(xs, flavour)
    if hi <= lo:
        return None
    start = max(lo, hi * 1e-6)
    edges = np.geomspace(start, hi, N_CELLS + 1)
    if lo < start:
        edges = np.concatenate([[lo], edges])
    mid = 0.5 * (edges[:-1] + edges[1:])
    width = np.diff(edges)
    F2 = formfactors.form_factor_sq_recoil(mid, xs.nucleus.mass, xs.nucleus.A, st.form_factor)
    dens = cp._rate_density(xs, flavour, mid, fluence_nt, F2)
    keep = dens > 0
    return edges[:-1][keep], width[keep], dens[keep]


def _tables(process, params, st):
    rows = []
    phi = st.source.fluence * c.HBARC**2
    xss = cp.xsecs(process, params, st)
    for i, xs in enumerate(xss):
        for f in range(3):
            cells = _cells(xs, f, st, phi * st.n_targets[i])
            if cells is not None:
                lo, w, d = cells
                rows.append((np.full(len(lo), f, np.int8), np.full(len(lo), i, np.int8), lo, w, d))
    if not rows:
        return None, xss
    fl, iso, lo, w, d = (np.concatenate(z) for z in zip(*rows))
    return (fl, iso, lo, w, d), xss


def alias_table(masses: np.ndarray):
    """Walker/Vose alias table for sampling index j with probability masses[j] / sum (O(1) per draw)."""
    K = len(masses)
    p = masses * (K / masses.sum())
    prob = np.ones(K)
    alias = np.arange(K, dtype=np.int64)
    small = [j for j in range(K) if p[j] < 1.0]
    large = [j for j in range(K) if p[j] >= 1.0]
    while small and large:
        s_, l_ = small.pop(), large.pop()
        prob[s_], alias[s_] = p[s_], l_
        p[l_] -= 1.0 - p[s_]
        (small if p[l_] < 1.0 else large).append(l_)
    return prob, alias


# inverse Michel CDFs [half, flavour row (nu_e, anti-nu_mu), node]: u = s^3/2 (half 0), u = 1 - s^2/2 (half 1)
_S_GRID = np.linspace(0.0, 1.0, 1025)
_INV_E = np.array([[sns.michel_inverse_cdf(f, u) for f in (sns.NU_E, sns.NU_MU_BAR)]
                   for u in (0.5 * _S_GRID**3, 1.0 - 0.5 * _S_GRID**2)])


def _ff_params(st):
    """Form-factor code and per-isotope radii (MeV^-1) for the kernel, from nudmsim.formfactors' defaults."""
    fm = formfactors._FM_MEV
    A = np.array([n.A for n in st.nuclei], dtype=float)
    if st.form_factor == "none":
        return 0, np.zeros(len(A)), np.zeros(len(A))
    if st.form_factor == "helm":
        s_fm, a_fm = formfactors.helm.__defaults__
        cc = 1.23 * A ** (1.0 / 3.0) - 0.60
        rn = np.sqrt(cc**2 + 7.0 / 3.0 * np.pi**2 * a_fm**2 - 5.0 * s_fm**2)
        return 1, rn * fm, np.full(len(A), s_fm * fm)
    r0, ak = formfactors.klein_nystrand.__defaults__
    return 2, r0 * A ** (1.0 / 3.0) * fm, np.full(len(A), ak * fm)


def _iso_coef(process, params, st):
    """Per-isotope prefactor of dsigma/dE_R used by the kernel (see _dsigma_events)."""
    out = []
    for n in st.nuclei:
        if process == "cevns":
            out.append(c.G_FERMI**2 / (4.0 * np.pi) * cevns.weak_charge(n.Z, n.N) ** 2 * n.mass)
        else:
            y_p, y_n = scalar_portal.nucleon_couplings(params["y_q"])
            y_N = float(scalar_portal.nucleus_coupling(y_p, y_n, n.Z, n.A))
            out.append(params["y_X"] ** 2 * y_N**2 * n.mass / (8.0 * np.pi))
    return np.array(out)


_PREPARED: dict = {}


def _prepared(process: str, params: dict, st, tables=None):
    """(cells, alias table, iso coefficients, form-factor parameters) of a model point on a setup: about 40 ms
    of Python per call, cached for streamed generation (one call per 65536-event block).  The cache holds the
    setup's source object and is used only while that very object is passed again."""
    key = (process, tuple(sorted((k, float(v)) for k, v in params.items())), st.form_factor,
           tuple(float(x) for x in np.ravel(st.n_targets)), tuple(nu.name for nu in st.nuclei))
    hit = _PREPARED.get(key)
    if tables is None and hit is not None and hit[0] is st.source:
        return hit[1]
    tables = tables if tables is not None else _tables(process, params, st)
    (cells, _xss) = tables
    if cells is None:
        raise cp.ParameterError(f"{process}: no events are kinematically possible for this model point")
    fl_c, iso_c, lo_c, w_c, d_c = cells
    r_cells = float(np.sum(d_c * w_c))
    if not r_cells > 0:
        raise cp.ParameterError(f"{process}: no events are kinematically possible for this model point")
    prob, alias = alias_table(d_c * w_c)
    prep = (prob, alias, fl_c.astype(np.int32), iso_c.astype(np.int32), lo_c, w_c, d_c, r_cells,
            np.array([nu.mass for nu in st.nuclei]), _iso_coef(process, params, st), _ff_params(st))
    if len(_PREPARED) >= 32:
        _PREPARED.pop(next(iter(_PREPARED)))
    _PREPARED[key] = (st.source, prep)
    return prep


def sample_truth(process: str, params: dict, st, n: int, rng: np.random.Generator, start: int = 0,
                 tables=None):
    """Truth kinematics only: (flavour, isotope index, E_R [MeV], E_nu [MeV], weight) of ``n`` events.

    ``st`` is any object with ``source``, ``nuclei``, ``n_targets``, ``form_factor``; weights are expected
    interactions per generated event (mean R/n).  The stream key is drawn from ``rng``; ``start`` offsets the
    event counter, so events start..start+n-1 of one key are the same however a run is split."""
    from . import _pidar_kernels as K

    prob, alias, fl_c, iso_c, lo_c, w_c, d_c, r_cells, masses, iso_coef, (ff_code, r1, r2) = \
        _prepared(process, params, st, tables)
    key = np.uint64(int(rng.integers(0, 2**63 - 1)))
    fluence_nt = st.source.fluence * c.HBARC**2 * st.n_targets
    m_X2 = 0.0 if process == "cevns" else params["m_X"] ** 2
    m_phi2 = 0.0 if process == "cevns" else params["m_phi"] ** 2
    fl, iso = np.empty(n, np.int32), np.empty(n, np.int32)
    e_r, e_nu, weight = np.empty(n), np.empty(n), np.empty(n)
    K.kinematics_from(key, np.int64(start), n, prob, alias, fl_c, iso_c, lo_c, w_c, d_c, r_cells / n, masses,
                      iso_coef, fluence_nt, r1, r2, ff_code, 0 if process == "cevns" else 1,
                      m_X2, m_phi2, sns.PROMPT_ENERGY, c.M_MUON, _INV_E, fl, iso, e_r, e_nu, weight)
    return fl, iso, e_r, e_nu, weight
