"""COHERENT CsI[Na] at the SNS: processes ``cevns`` (SM) and ``nu-to-x`` (nu + N -> X + N), generation,
prediction and deterministic templates in the release binning.

Public API (stable; the statistics code builds on it)::

    pe_time_template(process, params, card, qf=None, quenching=None) -> dict
    acceptance(pe_centres, a, k, x0) -> ndarray          # the released function incl. the step H(x - 5)
    generate_events(process, params, card, n, rng) -> EventSample
    predict(process, params, card) -> dict
    reweight(events, card, to_process, to_params, from_process="cevns", from_params=None) -> weights

Parameters are plain floats in MeV (masses) and dimensionless couplings; see ``PARAMS_NU_TO_X``.
The physics engine lives in ``nudmsim/analyses/_coherent_physics.py``; docs in ``docs/coherent.md``.
"""
from __future__ import annotations

import numpy as np

from ..registry import Param, ProcessEntry, register_process

#: default model point of nu-to-x: m_phi = 3 m_X; y_q = 1e-4 is below the kaon bound 1.58e-4 (seed eq. 2);
#: y_X = 3e-6 gives ~20 accepted events in the 2017 exposure, ~12% of the SM CEvNS signal (visible in a fit,
#: below the 2017 sensitivity).
PARAMS_NU_TO_X = {
    "m_X": Param(10.0, "MeV", "dark-matter (X) mass", strictly_positive=True, hi=1e5),
    "m_phi": Param(30.0, "MeV", "scalar mediator mass", strictly_positive=True, hi=1e6),
    "y_X": Param(3e-6, "", "X-phi-nu Yukawa coupling (perturbative: <= 4 pi)", hi=4 * np.pi),
    "y_q": Param(1e-4, "", "phi-quark Yukawa coupling, equal for all quarks (<= 4 pi)", hi=4 * np.pi),
}
#: detector-level columns (``--columns observables``); the rest is truth
OBSERVABLES = ("E_ee_keV", "t_us", "n_pe", "pe", "acceptance", "accepted")
PARAMS_CEVNS: dict[str, Param] = {}


def _cp():
    from . import _coherent_physics

    return _coherent_physics


def acceptance(pe_centres, a, k, x0) -> np.ndarray:
    """COHERENT 2017 released acceptance a / (1 + exp(-k (x - x0))) * H(x - 5) at PE values ``pe_centres``
    (H = 0 below 5 PE, 1/2 on [5, 6), 1 from 6 PE).  The release evaluates it at 1-PE bin centres."""
    from ..response.efficiency import coherent_logistic

    return coherent_logistic(pe_centres, a, k, x0)


_QCACHE: dict = {}


def _quenching_model(st, qf, quenching):
    from ..errors import NudmsimError
    from ..response import quenching as qmod

    if qf is not None:
        if not (np.isfinite(qf) and 0 < qf <= 1):
            raise NudmsimError(f"quenching factor qf = {qf} must be in (0, 1]")
        return qmod.ConstantQuenching(float(qf))
    if quenching is None:
        return st.quenching
    if quenching in ("constant", "fit", "table"):
        key = (str(st.card.path), st.card.sha256, quenching)
        if key not in _QCACHE:
            _QCACHE[key] = qmod.from_card(st.card, model=quenching)
        return _QCACHE[key]
    raise NudmsimError(f"unknown quenching '{quenching}' (choose constant, fit or table)")


def pe_time_template(process: str, params: dict, card, *, qf: float | None = None,
                     quenching: str | None = None) -> dict:
    """Deterministic expected counts in the card's exposure in the release binning (quadrature, no MC).

    Returns {"raw": (n_pe, n_t) before acceptance, "accepted": (n_pe, n_t) after the card's nominal
    acceptance, "pe_edges", "t_edges", "acceptance": (n_pe,) effective acceptance per PE bin (the 1-PE-bin
    acceptance averaged with the spectrum inside each bin), "acceptance_fine", "pe_fine_edges"}.
    ``process`` in {"cevns", "nu-to-x"}; ``params`` as in ``PARAMS_NU_TO_X`` (missing keys -> defaults);
    ``qf`` overrides the constant quenching factor; ``quenching`` = "constant" or "fit" picks the card's model.
    Takes a few ms (cached card setup)."""
    cp = _cp()
    st = cp.setup(card)
    return cp.template(process, _full_params(process, params), st, _quenching_model(st, qf, quenching))


def _full_params(process: str, params: dict | None) -> dict:
    defaults = PARAMS_NU_TO_X if process == "nu-to-x" else PARAMS_CEVNS
    out = {k: float(p.default) for k, p in defaults.items()}
    out.update({k: float(v) for k, v in (params or {}).items()})
    return out


# ------------------------------------------------------------------------------------------------
# generation and prediction
# ------------------------------------------------------------------------------------------------
def generate_events(process: str, params: dict, card, n: int, rng):
    """Weighted events (see ``_coherent_generate.generate``)."""
    from ._coherent_generate import generate

    return generate(process, _full_params(process, params), card, n, rng)


def reweight(events, card, to_process: str, to_params: dict | None = None, from_process: str = "cevns",
             from_params: dict | None = None) -> np.ndarray:
    """New weights that turn a sample generated for (from_process, from_params) into one for
    (to_process, to_params): w' = w * dsigma_to(E_nu, E_R) / dsigma_from(E_nu, E_R), per target isotope.

    Unbiased when the new process's kinematic region lies inside the old one (true for SM CEvNS -> nu-to-x,
    since a massive X shrinks the recoil range, and for nu-to-x -> nu-to-x with a smaller or equal m_X);
    events outside the new region get weight 0.  Form factors and fluxes cancel in the ratio.
    Useful to scan model points on one SM sample (more spread in the weights than a dedicated sample)."""
    cp = _cp()
    st = cp.setup(card)
    new = cp.xsecs(to_process, _full_params(to_process, to_params), st)
    old = cp.xsecs(from_process, _full_params(from_process, from_params), st)
    e_nu = np.asarray(events["E_nu_MeV"], dtype=float)
    e_r = np.asarray(events["E_R_keV"], dtype=float) * 1e-3
    tid = np.asarray(events["target_id"])
    w = np.asarray(events["weight"], dtype=float).copy()
    for i in range(len(st.nuclei)):
        sel = tid == i
        d_old = old[i].dsigma(e_nu[sel], e_r[sel])
        d_new = new[i].dsigma(e_nu[sel], e_r[sel])
        with np.errstate(divide="ignore", invalid="ignore"):
            w[sel] *= np.where(d_old > 0, d_new / d_old, 0.0)
    return w


def predict(process: str, params: dict, card) -> dict:
    """Expected counts (interactions, after response and acceptance, per flavour group) and a plot callable."""
    cp = _cp()
    st = cp.setup(card)
    params = _full_params(process, params)
    tot = cp.total_events(process, params, st)
    tmpl = cp.template(process, params, st)
    prompt_ = sum(v for (f, i), v in tot["per"].items() if f == 0)
    out = {
        "interactions (all E_R)": (tot["total"], "events"),
        "interactions, prompt nu_mu": (prompt_, "events"),
        "interactions, delayed nu_e + anti-nu_mu": (tot["total"] - prompt_, "events"),
        "in release bins, before acceptance": (float(tmpl["raw"].sum()), "events"),
        "in release bins, after acceptance": (float(tmpl["accepted"].sum()), "events"),
        "protons on target": (st.source.n_pot, ""),
        "fluence per flavour": (st.source.fluence * 100.0, "cm^-2"),
    }
    if process == "nu-to-x":
        from .. import constants as c
        from ..models import scalar_portal as sp

        y_p, _ = sp.nucleon_couplings(params["y_q"])
        out["sigma_NC"] = (float(sp.sigma_nc(params["y_X"], y_p, params["m_X"], params["m_phi"]))
                           * c.INV_MEV2_TO_CM2, "cm^2")
        out["y_p"] = (float(y_p), "")
    if card.has("published.sm_prediction_events") and process == "cevns":
        out["published SM prediction"] = (card.number("published.sm_prediction_events"), "events")
    out["_template"] = tmpl

    def _plot(path):
        plot_template(tmpl, path, title=f"{process} on {card.name}")

    out["_plot"] = _plot
    return out


def plot_template(tmpl: dict, path, title: str = "") -> None:
    """PE spectrum (before/after acceptance) and arrival-time distribution of a template, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    pe, t = tmpl["pe_edges"], tmpl["t_edges"]
    ax1.stairs(tmpl["raw"].sum(1), pe, label="before acceptance")
    ax1.stairs(tmpl["accepted"].sum(1), pe, label="after acceptance")
    ax1.set_xlabel("photoelectrons (PE)")
    ax1.set_ylabel(f"events / {pe[1] - pe[0]:g} PE")
    ax1.legend()
    ax2.stairs(tmpl["accepted"].sum(0), t)
    ax2.set_xlabel("arrival time (us)")
    ax2.set_ylabel(f"events / {t[1] - t[0]:g} us (accepted)")
    fig.suptitle(title)
    save_figure(fig, path)
    plt.close(fig)


def _gen_entry(process):
    def gen(params, card, n, rng):
        return generate_events(process, params, card, n, rng)

    return gen


def _pred_entry(process):
    def pred(params, card):
        return predict(process, params, card)

    return pred


register_process(ProcessEntry(
    name="cevns", summary="SM coherent elastic nu-nucleus scattering at the SNS (COHERENT)",
    params=PARAMS_CEVNS, default_detector="coherent_csi_2017", generate=_gen_entry("cevns"),
    predict=_pred_entry("cevns"), detectors=("coherent",), process_id=10, observables=OBSERVABLES))
register_process(ProcessEntry(
    name="nu-to-x", summary="nu + N -> X + N by scalar exchange (scalar portal, seed 004 sec. III)",
    params=PARAMS_NU_TO_X, default_detector="coherent_csi_2017", generate=_gen_entry("nu-to-x"),
    predict=_pred_entry("nu-to-x"), detectors=("coherent",), process_id=11, observables=OBSERVABLES))
