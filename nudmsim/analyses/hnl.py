"""HNL decays: process ``hnl-decay`` (seed 003 App. A; physics in :mod:`nudmsim.processes.hnl_widths` and
:mod:`nudmsim.processes.hnl_events`).

``nudmsim generate hnl-decay --set m_N=1000 --set U2_mu=1e-6 --set E_N=25000 -o hnl.root`` writes weighted
visible decays (daughter four-vectors, decay vertex) of one HNL per weight unit of the card's ``n_hnl``;
``nudmsim predict hnl-decay`` prints the width, lifetime, decay length and branching ratios.  The dark channel
of the neutrino-portal model (nu4 -> chi phi*, invisible) is switched on by y_L > 0 (with m_chi, m_phi), the
seed-003 singlet channel N -> nu s by g_s > 0 (with m_s).
"""
from __future__ import annotations

import math

from .. import constants as c
from ..errors import ParameterError
from ..registry import EventSample, Param, ProcessEntry, register_process

PROCESS_ID = 51

PARAMS = {
    "m_N": Param(1000.0, "MeV", "HNL mass", strictly_positive=True),
    "U2_e": Param(0.0, "", "|U_e|^2", hi=1.0),
    "U2_mu": Param(1e-6, "", "|U_mu|^2", hi=1.0),
    "U2_tau": Param(0.0, "", "|U_tau|^2", hi=1.0),
    "E_N": Param(25000.0, "MeV", "HNL lab energy along +z (<= m_N: at rest; seed Fig. 4 uses 25 GeV)"),
    "majorana": Param(0.0, "", "1 = Majorana HNL (all widths x2), 0 = Dirac", hi=1.0),
    "g_s": Param(0.0, "", "singlet coupling g_s s Nbar N (seed 003): opens N -> nu s"),
    "m_s": Param(0.0, "MeV", "singlet mass"),
    "s_visible": Param(0.0, "", "1 = count N -> nu s as visible (s decays in the detector)", hi=1.0),
    "y_L": Param(0.0, "", "neutrino-portal dark Yukawa: opens nu4 -> chi phi* (invisible)", hi=4 * math.pi),
    "m_chi": Param(0.0, "MeV", "neutrino-portal chi mass (with y_L > 0)"),
    "m_phi": Param(0.0, "MeV", "neutrino-portal phi mass (with y_L > 0)"),
}


def hnl_of(params):
    from ..processes.hnl_widths import HNL

    dark = 0.0
    if params.get("y_L", 0.0) > 0:
        from ..models.neutrino_portal import NeutrinoPortal

        if params["m_chi"] <= 0 or params["m_phi"] <= 0:
            raise ParameterError("y_L > 0 needs m_chi > 0 and m_phi > 0 (the nu4 -> chi phi* channel)")
        np_model = NeutrinoPortal(params["m_chi"], params["m_phi"], params["m_N"], params["y_L"],
                                  math.sqrt(params["U2_e"]), math.sqrt(params["U2_mu"]), math.sqrt(params["U2_tau"]))
        dark = np_model.width_nu4_to_chi_phi()
    if params.get("g_s", 0.0) > 0 and params.get("m_s", 0.0) >= params["m_N"]:
        raise ParameterError(f"N -> nu s is kinematically closed: m_s = {params['m_s']:g} MeV >= m_N = "
                             f"{params['m_N']:g} MeV (the threshold); lower m_s or set g_s = 0")
    return HNL(params["m_N"], params["U2_e"], params["U2_mu"], params["U2_tau"], g_s=params.get("g_s", 0.0),
               m_s=params.get("m_s", 0.0), dark_width=dark, majorana=params.get("majorana", 0.0) >= 0.5,
               s_visible=params.get("s_visible", 0.0) >= 0.5)


def _card_numbers(card):
    n_hnl = card.get("exposure.n_hnl", float)
    if not (math.isfinite(n_hnl) and n_hnl > 0):
        raise ParameterError(f"{card.path.name}: exposure.n_hnl = {n_hnl} must be > 0")
    z1 = card.get("decay_volume.z_min_m", float, default=0.0) * c.m
    z2 = card.get("decay_volume.z_max_m", float, default=0.0) * c.m
    return n_hnl, ((z1, z2) if z2 > 0 else None)


def generate(params: dict, card, n: int, rng) -> EventSample:
    from ..generate import make_events
    from ..processes.hnl_events import generate_decays

    h = hnl_of(params)
    n_hnl, zr = _card_numbers(card)
    cols, total, vis = generate_decays(h, n, rng, energy=params["E_N"], n_hnl=n_hnl, z_range_mm=zr)
    cols["process_id"] = cols["channel_id"] * 0 + PROCESS_ID
    cols["target_id"] = cols["channel_id"] * 0
    info = {"channels": [ch.name for ch in vis], "total_width_MeV": h.total_width(),
            "lifetime_ns": h.lifetime(), "units": "energies and momenta in MeV (lab), vertex_z_mm in mm"}
    return EventSample(make_events(cols), total, info)


def predict(params: dict, card) -> dict:
    h = hnl_of(params)
    n_hnl, zr = _card_numbers(card)
    gam = h.total_width()
    out = {"total width": (gam, "MeV"), "lifetime": (h.lifetime() / c.s, "s"),
           "c tau": (c.C_LIGHT * h.lifetime() / c.m, "m")}
    E = params["E_N"]
    if E > h.M:
        L = float(h.decay_length(E))
        out[f"decay length at E = {E:g} MeV"] = (L / c.m, "m")
        if zr is not None:
            out["P(decay in volume)"] = (math.exp(-zr[0] / L) - math.exp(-zr[1] / L), "")
    for k, v in sorted(h.branching_ratios().items(), key=lambda kv: -kv[1]):
        out[f"B({k})"] = (v, "")
    out["B(visible)"] = (sum(ch.width for ch in h.channels() if ch.visible) / gam, "")
    return out


def final_state(cols, info):
    """HepMC3 record of an HNL decay: N (PDG 9900012, along +z with E_N, pz_N) -> the channel's products
    (pdg_i, E_i, px_i, py_i, pz_i; pdg 0 = absent), at the decay vertex z = vertex_z_mm; MeV -> GeV."""
    import numpy as np

    from ..hepmc import PDG_HNL, FinalState, Particles
    from ..processes.hnl_events import MAX_DAUGHTERS

    g = 1.0 / c.GeV
    zero = np.zeros(len(cols["E_N"]))
    e_n, pz_n = cols["E_N"] * g, cols["pz_N"] * g
    parent = Particles.from_components(PDG_HNL, e_n, zero, zero, pz_n)
    products = [Particles.from_components(cols[f"pdg_{i}"], *(cols[f"{k}_{i}"] * g for k in ("E", "px", "py", "pz")))
                for i in range(1, MAX_DAUGHTERS + 1) if f"pdg_{i}" in cols]
    vz = cols["vertex_z_mm"]
    beta = np.divide(pz_n, e_n, out=np.zeros_like(e_n), where=e_n > 0)
    vertex = np.stack([zero, zero, vz, np.divide(vz, beta, out=zero.copy(), where=beta > 0)], axis=1)
    return FinalState(parent, products, vertex)


register_process(ProcessEntry("hnl-decay", "HNL decays N -> nu l l, l l' nu, l/nu + meson, nu gamma (+ nu s, chi phi*)",
                              PARAMS, "hnl_decay", generate, predict, detectors=("hnl_decay",),
                              process_id=PROCESS_ID, final_state=final_state))
