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


def _quench_params(q):
    """(model code, parameter array) of a quenching object for the fused kernel; code -1 = not supported."""
    from ..response.quenching import ConstantQuenching, PolynomialQuenching

    if isinstance(q, ConstantQuenching):
        return 0, np.array([q.value])
    if isinstance(q, PolynomialQuenching):
        return 1, np.array([len(q.coefficients), *q.range_keV, *q.coefficients])
    return -1, np.zeros(1)


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


class _Prepared:
    """Everything of one (process, model point, card, quenching) that does not depend on n or the seed."""

    __slots__ = ("st", "total", "info", "r_cells", "kin_tail", "kin_head", "resp_args", "q", "q_model", "q_par",
                 "logistic", "acceptance", "w_bin")


_PREPARED: dict = {}


def _prepare(process: str, params: dict, card, qmodel=None) -> _Prepared:
    """Tables, alias table and kernel arguments (about 10 ms), cached for repeated calls with the same model
    point: streamed generation calls the generator once per 65536-event block."""
    key = None
    if qmodel is None:
        key = (process, tuple(sorted((k, float(v)) for k, v in params.items())), str(card.path), card.sha256)
        hit = _PREPARED.get(key)
        if hit is not None:
            return hit
    st = cp.setup(card)
    tables, xss = _tables(process, params, st)
    total = cp.total_events(process, params, st)["total"]
    info = {"targets": [nu.name for nu in st.nuclei], "flavours": list(sns.FLAVOURS),
            "process_id": cp.PROCESS_IDS[process], "n_pot": st.source.n_pot,
            "fluence_per_flavour_cm2": st.source.fluence * 100.0, "quadrature_total": total,
            "units": "E_nu_MeV MeV, E_R_keV keVnr, E_ee_keV keVee, t_us microseconds, pe photoelectrons"}
    if st.source.fluence <= 0:
        raise cp.ParameterError(f"{card.name}: the exposure is zero (source.beam_energy_GWh = 0 in "
                                f"{card.path.name}): give the card a positive beam energy")
    if tables is None or total <= 0:
        raise cp.ParameterError(f"{process}: no events are kinematically possible for this model point")
    if not np.isfinite(total):
        raise cp.ParameterError(f"{process}: the expected number of events is not finite at this model point "
                                "(couplings too large for double precision: choose smaller ones)")
    fl_c, iso_c, lo_c, w_c, d_c = tables
    P = _Prepared()
    P.st, P.total, P.info = st, total, info
    P.r_cells = float(np.sum(d_c * w_c))
    ff_code, r1, r2 = _ff_params(st)
    fluence_nt = st.source.fluence * c.HBARC**2 * st.n_targets
    m_X2 = 0.0 if process == "cevns" else params["m_X"] ** 2
    m_phi2 = 0.0 if process == "cevns" else params["m_phi"] ** 2
    prob, alias = alias_table(d_c * w_c)
    A = st.acceptance
    P.acceptance = A
    P.w_bin = A.eval_bin_width
    P.logistic = A.model == "coherent_logistic"
    acc_par = np.array([A.params[k] for k in ("a", "k", "x0", "step_start", "step_full")] + [P.w_bin]) \
        if P.logistic else np.zeros(6)
    tim = st.source.timing
    if tim.model == "released_pdf":
        t_edges = tim.pdf_edges_us
        cp_, cd_ = (np.cumsum(p) / p.sum() for p in (tim.pdf_prompt, tim.pdf_delayed))
        tm = 0
    else:
        t_edges, cp_, cd_, tm = np.zeros(2), np.ones(1), np.ones(1), 1
    P.kin_head = (prob, alias, fl_c.astype(np.int32), iso_c.astype(np.int32), lo_c, w_c, d_c)
    P.kin_tail = (np.array([nu.mass for nu in st.nuclei]), _iso_coef(process, params, st), fluence_nt, r1, r2,
                  ff_code, 0 if process == "cevns" else 1, m_X2, m_phi2, sns.PROMPT_ENERGY, c.M_MUON, _INV_E)
    P.resp_args = (tm, t_edges, cp_, cd_, tim.pulse_sigma_us, tim.offset_us,
                   c.TAU_PION / (1000.0 * c.ns), c.TAU_MUON / (1000.0 * c.ns), int(P.logistic), acc_par)
    P.q = qmodel or st.quenching
    P.q_model, P.q_par = _quench_params(P.q)
    if key is not None:
        if len(_PREPARED) >= 16:
            _PREPARED.pop(next(iter(_PREPARED)))
        _PREPARED[key] = P
    return P


def generate(process: str, params: dict, card, n: int, rng: np.random.Generator, qmodel=None) -> EventSample:
    """``n`` weighted events of ``process`` on the COHERENT card (see module docstring)."""
    from . import _coherent_kernels as K

    P = _prepare(process, params, card, qmodel)
    st, total, q, q_model, q_par, resp_args = P.st, P.total, P.q, P.q_model, P.q_par, P.resp_args
    logistic, A, w_bin = P.logistic, P.acceptance, P.w_bin
    info = dict(P.info)
    key = np.uint64(int(rng.integers(0, 2**63 - 1)))
    kin_args = (key, n, *P.kin_head, P.r_cells / n, *P.kin_tail)
    fl, iso = np.empty(n, np.int32), np.empty(n, np.int32)
    e_r_kev, e_nu, weight, e_ee_kev = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    n_pe = np.empty(n, np.int32)
    pe, t_us, u_acc, acc = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    if q_model >= 0:     # one fused pass
        K.fused(*kin_args, c.keV, q_model, q_par, st.light_yield, *resp_args,
                fl, iso, e_r_kev, e_nu, weight, e_ee_kev, n_pe, pe, t_us, u_acc, acc)
    else:                # any other quenching object: kinematics, numpy quenching, response
        e_r = np.empty(n)
        K.kinematics(*kin_args, fl, iso, e_r, e_nu, weight)
        e_ee_kev = q.e_ee(e_r) * (1.0 / c.keV)
        e_r_kev = e_r * (1.0 / c.keV)
        K.response(key, n, st.light_yield * e_ee_kev, fl, *resp_args, n_pe, pe, t_us, u_acc, acc)
    if not logistic:
        acc = A(np.floor(pe * (1.0 / w_bin)) * w_bin + 0.5 * w_bin)
    cols = {
        "flavour": fl, "target_id": iso, "process_id": np.full(n, cp.PROCESS_IDS[process], np.int32),
        "E_nu_MeV": e_nu, "E_R_keV": e_r_kev, "E_ee_keV": e_ee_kev, "t_us": t_us,
        "n_pe": n_pe, "pe": pe, "acceptance": acc, "accepted": u_acc < acc, "weight": weight,
    }
    return EventSample(make_events(cols), total, info)
