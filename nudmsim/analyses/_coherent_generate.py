"""Weighted event generation for COHERENT (private helper of ``nudmsim.analyses.coherent``).

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
4. response: arrival time from the source's timing model, E_ee = QF E_R, n_PE ~ Poisson(LY E_ee),
   reconstructed PE = n + U(-1/2, 1/2), acceptance = released function at the centre of the event's 1-PE bin,
   ``accepted`` = Bernoulli(acceptance).

All random numbers come from the ``numpy.random.Generator`` passed in, in a fixed order, so a seed
reproduces the sample exactly.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from .. import formfactors
from ..generate import make_events
from ..models import scalar_portal
from ..processes import cevns
from ..registry import EventSample
from ..sources import sns
from . import _coherent_physics as cp

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


# inverse CDF of both Michel spectra in one monotone table (nu_e on [0, 1], anti-nu_mu shifted to [2, 3])
_S = np.linspace(0.0, 1.0, 4097)
_E_TAB = 0.5 * c.M_MUON * _S
_U_TAB = np.concatenate([sns.michel_cdf(sns.NU_E, _E_TAB), 2.0 + sns.michel_cdf(sns.NU_MU_BAR, _E_TAB)])
_E_TAB2 = np.concatenate([_E_TAB, _E_TAB])
# CDF(x) = a x^3 - b x^4 (x = E/m_mu): nu_e (32, 48), anti-nu_mu (16, 16)
_CDF_A = np.array([0.0, 32.0, 16.0])
_CDF_B = np.array([0.0, 48.0, 16.0])
_PDF_A = np.array([0.0, 96.0, 48.0])     # pdf * m_mu = 3a x^2 - 4b x^3
_PDF_B = np.array([0.0, 192.0, 64.0])


def _michel_cdf_v(fl, e):
    x = np.clip(e / c.M_MUON, 0.0, 0.5)
    x3 = x * x * x
    return _CDF_A[fl] * x3 - _CDF_B[fl] * x3 * x


def _michel_inv_v(fl, u):
    shift = np.where(fl == sns.NU_MU_BAR, 2.0, 0.0)
    e = np.interp(u + shift, _U_TAB, _E_TAB2)
    x = e / c.M_MUON
    pdf = (_PDF_A[fl] * x * x - _PDF_B[fl] * x * x * x) / c.M_MUON
    ok = pdf > 1e-9
    e = e - np.where(ok, (_michel_cdf_v(fl, e) - u) / np.where(ok, pdf, 1.0), 0.0)
    return np.clip(e, 0.0, sns.E_MAX)


def _dsigma_events(process, params, st, fl, iso, e_nu, e_r):
    """dsigma/dE_R without form factor for each event (MeV^-3), using per-isotope constants."""
    mass = np.array([n.mass for n in st.nuclei])[iso]
    if process == "cevns":
        qw2 = np.array([cevns.weak_charge(n.Z, n.N) ** 2 for n in st.nuclei])[iso]
        val = c.G_FERMI**2 / (4.0 * np.pi) * qw2 * mass * (1.0 - mass * e_r / (2.0 * e_nu * e_nu))
        return np.maximum(val, 0.0)
    y_p, y_n = scalar_portal.nucleon_couplings(params["y_q"])
    yN2 = np.array([float(scalar_portal.nucleus_coupling(y_p, y_n, n.Z, n.A)) ** 2 for n in st.nuclei])[iso]
    m_X2, m_phi2 = params["m_X"] ** 2, params["m_phi"] ** 2
    two_m_er = 2.0 * mass * e_r
    num = params["y_X"] ** 2 * yN2 * mass * (1.0 + e_r / (2.0 * mass)) * (two_m_er + m_X2)
    return num / (8.0 * np.pi * e_nu * e_nu * (two_m_er + m_phi2) ** 2)


def _e_nu_min(process, params, st, iso, e_r):
    mass = np.array([n.mass for n in st.nuclei])[iso]
    q = np.sqrt(e_r * e_r + 2.0 * mass * e_r)
    m_X2 = 0.0 if process == "cevns" else params["m_X"] ** 2
    return (2.0 * mass * e_r + m_X2) / (2.0 * (q - e_r))


def _form_factor_sq(st, iso, e_r):
    F2 = np.empty_like(e_r)
    for i, n in enumerate(st.nuclei):
        sel = iso == i
        F2[sel] = formfactors.form_factor_sq_recoil(e_r[sel], n.mass, n.A, st.form_factor)
    return F2


def generate(process: str, params: dict, card, n: int, rng: np.random.Generator, qmodel=None) -> EventSample:
    """``n`` weighted events of ``process`` on the COHERENT card (see module docstring)."""
    st = cp.setup(card)
    tables, xss = _tables(process, params, st)
    total = cp.total_events(process, params, st)["total"]
    info = {"targets": [nu.name for nu in st.nuclei], "flavours": list(sns.FLAVOURS),
            "process_id": cp.PROCESS_IDS[process], "n_pot": st.source.n_pot,
            "fluence_per_flavour_cm2": st.source.fluence * 100.0, "quadrature_total": total,
            "units": "E_nu_MeV MeV, E_R_keV keVnr, E_ee_keV keVee, t_us microseconds, pe photoelectrons"}
    if tables is None or total <= 0:
        raise cp.ParameterError(f"{process}: no events are kinematically possible for this model point")
    fl_c, iso_c, lo_c, w_c, d_c = tables
    mass_c = d_c * w_c
    cdf = np.cumsum(mass_c)
    r_cells = cdf[-1]
    cdf /= r_cells

    u = rng.random((4, n))
    j = np.searchsorted(cdf, u[0], side="right")
    np.minimum(j, len(cdf) - 1, out=j)
    fl, iso = fl_c[j], iso_c[j]
    e_r = lo_c[j] + u[1] * w_c[j]
    prompt = fl == sns.NU_MU
    emin = _e_nu_min(process, params, st, iso, e_r)
    c0 = _michel_cdf_v(fl, emin)
    surv = np.where(prompt, (emin <= sns.PROMPT_ENERGY).astype(float), 1.0 - c0)
    e_nu = np.where(prompt, sns.PROMPT_ENERGY, _michel_inv_v(fl, c0 + u[2] * (1.0 - c0)))
    fluence_nt = st.source.fluence * c.HBARC**2 * st.n_targets[iso]
    ds = _dsigma_events(process, params, st, fl, iso, e_nu, e_r)
    F2 = _form_factor_sq(st, iso, e_r)
    weight = (r_cells / n) * fluence_nt * ds * F2 * surv / d_c[j]
    # detector response
    t_us = st.source.timing.sample(prompt, rng)
    q = qmodel or st.quenching
    e_ee = q.e_ee(e_r)
    mu = st.light_yield * e_ee / c.keV
    n_pe = rng.poisson(mu)
    pe = n_pe + (u[3] - 0.5)
    w_bin = st.acceptance.eval_bin_width
    acc = st.acceptance(np.floor(pe / w_bin) * w_bin + 0.5 * w_bin)
    accepted = rng.random(n) < acc
    cols = {
        "flavour": fl, "target_id": iso.astype(np.int32),
        "process_id": np.full(n, cp.PROCESS_IDS[process], np.int32),
        "E_nu_MeV": e_nu, "E_R_keV": e_r / c.keV, "E_ee_keV": e_ee / c.keV, "t_us": t_us,
        "n_pe": n_pe.astype(np.int32), "pe": pe, "acceptance": acc, "accepted": accepted, "weight": weight,
    }
    cols["flavour"] = cols["flavour"].astype(np.int32)
    return EventSample(make_events(cols), total, info)
