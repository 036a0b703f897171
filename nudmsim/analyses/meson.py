"""Meson decays: processes ``meson-3body``, ``meson-2body``, ``kaon-pi-phi`` and their E949 / NA62 analyses.

Chain: source card (fluxes/) -> decay kinematics (nudmsim.sources.meson_beams) -> |M|^2 and widths
(nudmsim.processes.meson_decays) -> tracking response (nudmsim.response.meson_tracking) -> histogram of
the reconstructed K-frame momentum -> binned Poisson likelihood with a power-law background whose
normalisation and index float -> 90% CL (CLs, asymptotic Asimov) limits.  Heavy imports stay inside
functions (this module is imported on every CLI call).
"""
from __future__ import annotations

import math

import numpy as np

from .. import constants as c
from ..errors import NudmsimError, ParameterError
from ..registry import AnalysisEntry, EventSample, Param, ProcessEntry, register_analysis, register_process

MESON_CODES = {321: "K", 211: "pi"}
MESON_PDG = {"K": 321, "pi": 211}
LEPTON_CODES = {13: "mu", 11: "e"}
LEPTON_PDG = {"mu": 13, "e": 11}
#: detector-level columns (``--columns observables``); the rest is truth
OBSERVABLES = ("p_lab_reco", "p_star_reco", "accepted")
PROCESS_IDS = {"meson-3body": 41, "meson-2body": 42, "kaon-pi-phi": 43}

PARAMS_3BODY = {
    "m_chi": Param(20.0, "MeV", "Dirac DM mass", strictly_positive=True),
    "m_phi": Param(60.0, "MeV", "complex scalar mass", strictly_positive=True),
    "m4": Param(400e3, "MeV", "heavy neutrino nu4 mass", strictly_positive=True),
    "y_L": Param(1.0, "", "dark Yukawa y_L", hi=4 * math.pi, strictly_positive=True),
    "U_mu4": Param(1e-3, "", "|U_mu4|", hi=1.0),
    "U_e4": Param(0.0, "", "|U_e4|", hi=1.0),
    "U_tau4": Param(0.0, "", "|U_tau4|", hi=1.0),
    "meson": Param(321, "", "decaying meson PDG id (321 = K+, 211 = pi+)"),
    "lepton": Param(13, "", "charged lepton PDG id (13 = mu, 11 = e)"),
}
PARAMS_2BODY = {
    "m4": Param(250.0, "MeV", "invisible heavy neutrino mass", lo=0.0),
    "U_mu4": Param(1e-4, "", "|U_l4| of the decay lepton", hi=1.0),
    "meson": Param(321, "", "decaying meson PDG id (321 = K+, 211 = pi+)"),
    "lepton": Param(13, "", "charged lepton PDG id (13 = mu, 11 = e)"),
}
PARAMS_KPIPHI = {
    "m_phi": Param(50.0, "MeV", "invisible scalar mass", lo=0.0),
    "y_q": Param(1e-4, "", "universal scalar-quark Yukawa y_q (<= 4 pi)", hi=4 * math.pi),
    "BR": Param(0.0, "", "if > 0: use this B(K+ -> pi+ phi) instead of y_q", hi=1.0),
}


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def _codes(params):
    m = int(round(params.get("meson", 321)))
    ell = int(round(params.get("lepton", 13)))
    if m not in MESON_CODES:
        raise ParameterError(f"meson = {m}: choose 321 (K+) or 211 (pi+)")
    if ell not in LEPTON_CODES:
        raise ParameterError(f"lepton = {ell}: choose 13 (mu) or 11 (e)")
    return MESON_CODES[m], LEPTON_CODES[ell]


def _model(params, require_stable=True, lepton=None):
    from ..models.neutrino_portal import NeutrinoPortal

    m = NeutrinoPortal(params["m_chi"], params["m_phi"], params["m4"], params["y_L"],
                       params.get("U_e4", 0.0), params["U_mu4"], params.get("U_tau4", 0.0),
                       require_stable=require_stable)
    if lepton is not None and m.U2(lepton) == 0.0:
        raise ParameterError(f"U_{lepton}4 = 0: M+ -> {lepton}+ chi phi vanishes (set e.g. --set U_{lepton}4=1e-3)")
    return m


def _source_and_response(card):
    from ..response.meson_tracking import TrackingResponse
    from ..sources.meson_beams import load_meson_source

    src = load_meson_source(card.load_card("source.card", "source"))
    return src, TrackingResponse.from_card(card, in_flight=not src.at_rest)


def _check_meson(src, meson, card):
    if src.meson != meson:
        raise ParameterError(f"detector '{card.name}' uses source '{src.name}' of {src.meson}+ mesons; "
                             f"meson = {meson}+ needs a {meson}+ source card")


def _events(card, src, resp, meson, visible, invisibles, m_vis, br, n, rng, pid, windows_key=None,
            lab=None, p_meson=None, p_star_true=None, pdg=None):
    """Boost rest-frame decays to the lab (unless ``lab`` is given), apply the response, build the
    weighted event record.  ``pdg``: PDG codes {"vis": ..., "inv1": ..., "inv2": ...} for HepMC3 output."""
    from ..generate import make_events
    from ..processes import meson_decays as md
    from ..sources import meson_beams as mb

    M = md.meson_mass(meson)
    if lab is None:
        p_meson = mb.meson_momenta(src, n, rng)
        e_vis, px, py, pz = visible
        p_star_true = np.sqrt(px * px + py * py + pz * pz)
        lab = mb.to_lab([visible, *invisibles], M, p_meson)
    p_lab_reco, p_star_reco = resp.reconstruct(lab[0], m_vis, p_meson, M, rng)
    if windows_key and card.has(windows_key):
        win = card.array(windows_key, ndim=2)
        acc = np.zeros(n, bool)
        for lo, hi in win:
            acc |= (p_star_reco >= lo) & (p_star_reco < hi)
    else:
        acc = resp.accepted(p_star_reco)
    n_mes = card.number("exposure.n_kaons", positive=True)
    w = np.where(acc, n_mes * br * resp.acceptance / n, 0.0)
    cols = {"meson_E": np.sqrt(p_meson**2 + M * M), "meson_pz": p_meson}
    for name, v in zip(("vis", "inv1", "inv2"), lab):
        for comp, arr in zip(("E", "px", "py", "pz"), v):
            cols[f"{name}_{comp}"] = arr
    cols.update(p_star_true=p_star_true, p_lab_reco=p_lab_reco, p_star_reco=p_star_reco,
                accepted=acc, weight=w, process_id=np.full(n, pid, np.int32), target_id=np.zeros(n, np.int32))
    return EventSample(make_events(cols), float(w.sum()),
                       {"branching_ratio": float(br), "n_mesons": n_mes, "meson": meson,
                        "pdg_codes": {"meson": MESON_PDG[meson], **(pdg or {})},
                        "invisible_branches": {2: "inv1 = chi, inv2 = phi", 1: "inv1 = nu4 (2-body) or phi (K->pi phi)"}[
                            len(invisibles)]})


# ------------------------------------------------------------------------------------------------
# generators
# ------------------------------------------------------------------------------------------------
def generate_3body(params, card, n, rng):
    from ..processes import meson_decays as md
    from ..sources import meson_beams as mb

    meson, lepton = _codes(params)
    model = _model(params, lepton=lepton)
    md.check_three_body(meson, lepton, model.m_chi, model.m_phi)
    src, resp = _source_and_response(card)
    _check_meson(src, meson, card)
    br = md.br_three_body(model, meson, lepton)
    p_meson = mb.meson_momenta(src, n, rng)
    lab, p_star = mb.three_body_lab(model, meson, lepton, n, rng, p_meson)
    from ..hepmc import PDG_CHI, PDG_DARK_SCALAR

    return _events(card, src, resp, meson, None, [None, None], md.LEPTONS[lepton], br, n, rng,
                   PROCESS_IDS["meson-3body"], lab=list(lab), p_meson=p_meson, p_star_true=p_star,
                   pdg={"vis": -LEPTON_PDG[lepton], "inv1": PDG_CHI, "inv2": PDG_DARK_SCALAR})


def generate_2body(params, card, n, rng):
    from ..processes import meson_decays as md
    from ..sources import meson_beams as mb

    meson, lepton = _codes(params)
    M, ml = md.meson_mass(meson), md.LEPTONS[lepton]
    if params["m4"] >= M - ml:
        raise ParameterError(f"{meson}+ -> {lepton}+ nu4 is kinematically forbidden: m4 = {params['m4']:.4g} MeV "
                             f">= m_{meson} - m_{lepton} = {M - ml:.4g} MeV (the kinematic limit)")
    src, resp = _source_and_response(card)
    _check_meson(src, meson, card)
    br = float(md.br_two_body_heavy(meson, lepton, params["m4"], params["U_mu4"] ** 2))
    p_l, p_n = mb.two_body_rest(M, ml, params["m4"], n, rng)
    from ..hepmc import PDG_HNL

    return _events(card, src, resp, meson, p_l, [p_n], ml, br, n, rng, PROCESS_IDS["meson-2body"],
                   pdg={"vis": -LEPTON_PDG[lepton], "inv1": PDG_HNL})


def _br_kpiphi(params):
    from ..processes import meson_decays as md

    md.check_k_pi_phi(params["m_phi"])
    if params.get("BR", 0.0) > 0:
        return float(params["BR"])
    return float(md.br_k_pi_phi(params["y_q"], params["m_phi"]))


def generate_kpiphi(params, card, n, rng):
    from ..sources import meson_beams as mb

    br = _br_kpiphi(params)
    src, resp = _source_and_response(card)
    _check_meson(src, "K", card)
    p_pi, p_phi = mb.two_body_rest(c.M_KAON, c.M_PION, params["m_phi"], n, rng)
    from ..hepmc import PDG_DARK_SCALAR

    return _events(card, src, resp, "K", p_pi, [p_phi], c.M_PION, br, n, rng, PROCESS_IDS["kaon-pi-phi"],
                   windows_key="response.pion_momentum_windows_MeV", pdg={"vis": 211, "inv1": PDG_DARK_SCALAR})


def final_state(cols, info):
    """HepMC3 record of a meson-decay event: the meson (along +z, from meson_E, meson_pz) -> vis + inv1 (+ inv2),
    four-vectors in GeV (the columns are in MeV); PDG codes from the generator's ``info['pdg_codes']``."""
    from ..hepmc import FinalState, Particles

    codes = info["pdg_codes"]
    g = 1.0 / c.GeV
    zero = np.zeros(len(cols["meson_E"]))
    parent = Particles.from_components(codes["meson"], cols["meson_E"] * g, zero, zero, cols["meson_pz"] * g,
                                       m=md_mass(codes["meson"]) * g)
    products = [Particles.from_components(codes[k], *(cols[f"{k}_{comp}"] * g for comp in ("E", "px", "py", "pz")))
                for k in ("vis", "inv1", "inv2") if f"{k}_E" in cols and k in codes]
    return FinalState(parent, products)


def md_mass(pdg):
    from ..processes import meson_decays as md

    return md.meson_mass(MESON_CODES[abs(int(pdg))])


# ------------------------------------------------------------------------------------------------
# predictions
# ------------------------------------------------------------------------------------------------
def _spectrum_plot(x, y, xlabel, ylabel, title):
    def plot(path):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..io import save_figure

        fig, ax = plt.subplots(figsize=(6, 4.2))
        ax.plot(x, y, "k-")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        save_figure(fig, path)
        plt.close(fig)

    return plot


def predict_3body(params, card):
    from ..processes import meson_decays as md

    meson, lepton = _codes(params)
    model = _model(params, lepton=lepton)
    md.check_three_body(meson, lepton, model.m_chi, model.m_phi)
    br = md.br_three_body(model, meson, lepton)
    s_lo, s_hi = md.s_range(meson, lepton, model.m_chi, model.m_phi)
    s = np.linspace(s_lo, s_hi, 400)
    p = md.lepton_momentum_of_s(meson, lepton, s)
    dgds = md.dgamma_ds(model, meson, lepton, s)
    # dB/dp = dGamma/ds |ds/dp| / Gamma_tot-normalisation of br_three_body
    norm = br / md.width_three_body(model, meson, lepton)
    el = np.sqrt(p * p + md.LEPTONS[lepton] ** 2)
    dbdp = dgds * norm * 2 * md.meson_mass(meson) * p / el
    sample = generate_3body(params, card, 200_000, np.random.default_rng(0)) if _source_matches(card, meson) else None
    out = {
        f"B({meson}+ -> {lepton}+ chi phi)": br,
        "Y_mu": model.Y_flavour("mu"), "Y": model.Y, "<sigma v> [cm^3/s]": model.sigma_v_cm3_s(),
        "Gamma(nu4 -> chi phi*) [MeV]": model.width_nu4_to_chi_phi(),
        "Gamma(phi -> chi nu) [MeV]": model.width_phi_to_chi_nu(),
        "_plot": _spectrum_plot(p, dbdp, f"{lepton}+ momentum in the {meson}+ frame [MeV/c]", "dB/dp [1/(MeV/c)]",
                                f"{meson}+ -> {lepton}+ chi phi, m_chi={model.m_chi:g}, m_phi={model.m_phi:g}, "
                                f"m4={model.m4:g} MeV"),
    }
    if sample is not None:
        out[f"expected events in {card.name} window"] = sample.expected_total
    return out


def _source_matches(card, meson):
    try:
        src, _ = _source_and_response(card)
    except NudmsimError:
        return False
    return src.meson == meson


def predict_2body(params, card):
    from ..processes import meson_decays as md

    meson, lepton = _codes(params)
    M, ml = md.meson_mass(meson), md.LEPTONS[lepton]
    if params["m4"] >= M - ml:
        raise ParameterError(f"{meson}+ -> {lepton}+ nu4 is kinematically forbidden: m4 = {params['m4']:.4g} MeV "
                             f">= m_{meson} - m_{lepton} = {M - ml:.4g} MeV (the kinematic limit)")
    br = float(md.br_two_body_heavy(meson, lepton, params["m4"], params["U_mu4"] ** 2))
    p = float(md.two_body_momentum(M, ml, params["m4"]))
    m4 = np.linspace(0, M - ml, 300, endpoint=False)
    return {
        f"B({meson}+ -> {lepton}+ nu4)": br,
        f"p_{lepton} in {meson} frame [MeV/c]": p,
        "Gamma(pi->e nu)/Gamma(pi->mu nu) (tree)": md.width_two_body("pi", "e") / md.width_two_body("pi", "mu"),
        "_plot": _spectrum_plot(m4, md.shrock_rho((ml / M) ** 2, (m4 / M) ** 2) / md.shrock_rho((ml / M) ** 2, 0.0),
                                "m4 [MeV]", "rho(m4)/rho(0)", f"Shrock factor {meson}+ -> {lepton}+ nu4"),
    }


def predict_kpiphi(params, card):
    from ..processes import meson_decays as md

    br = _br_kpiphi(params)
    yq = float(md.yq_from_br(br, params["m_phi"]))
    m = np.linspace(0, c.M_KAON - c.M_PION, 300, endpoint=False)
    return {
        "B(K+ -> pi+ phi)": br, "y_q": yq,
        "p_pi in K frame [MeV/c]": float(md.two_body_momentum(c.M_KAON, c.M_PION, params["m_phi"])),
        "_plot": _spectrum_plot(m, md.br_k_pi_phi(yq, m), "m_phi [MeV]", "B(K+ -> pi+ phi)",
                                f"K+ -> pi+ phi at y_q = {yq:.3g}"),
    }


register_process(ProcessEntry("meson-3body", "M+ -> l+ chi phi via off-shell light+heavy nu (neutrino portal)",
                              PARAMS_3BODY, "e949", generate_3body, predict_3body, ("meson_decay",),
                              PROCESS_IDS["meson-3body"], OBSERVABLES, final_state))
register_process(ProcessEntry("meson-2body", "M+ -> l+ nu4 (invisible heavy neutrino, Shrock)", PARAMS_2BODY,
                              "e949", generate_2body, predict_2body, ("meson_decay",), PROCESS_IDS["meson-2body"],
                              OBSERVABLES, final_state))
register_process(ProcessEntry("kaon-pi-phi", "K+ -> pi+ phi, phi invisible (scalar portal)", PARAMS_KPIPHI,
                              "e949", generate_kpiphi, predict_kpiphi, ("meson_decay",), PROCESS_IDS["kaon-pi-phi"],
                              OBSERVABLES, final_state))

# analyses live in meson_fit.py-like helpers below (kept in this module to stay one import)
from . import _meson_limits as _ml  # noqa: E402  (light module: registers nothing heavy at import)

register_analysis(AnalysisEntry("meson-2body", "E949 |U_mu4|^2 peak search (background calibration: fit)",
                                "e949", fit=_ml.fit_calibration, limit=_ml.limit_2body,
                                limit_options={"reference": "yes|no: overlay the digitised E949 curve (default yes)"}))
register_analysis(AnalysisEntry("meson-3body", "90% CL on Y_mu vs m_chi from K+ -> mu+ chi phi (E949, NA62)",
                                "e949", limit=_ml.limit_3body,
                                limit_options={"m4": "10x (m4 = 10 m_chi, default) or a mass, e.g. 400GeV",
                                               "y_L": "dark Yukawa used for the nu4 width (default 4pi)"}))
register_analysis(AnalysisEntry("kaon-pi-phi", "y_q bound from E949 K+ -> pi+ X (X invisible) limits",
                                "e949", limit=_ml.limit_kpiphi))
