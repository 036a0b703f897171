"""Schemas of the model-level cards of seeds 001 and 003: ``hnl_decay`` (an HNL beam for the hnl-decay generator)
and ``model1`` (the numbers behind the constraints of seed 001 Model 1, Fig. 4)."""
from __future__ import annotations

from ..cards import register_card_schema
from ..schema import Field, Section

register_card_schema("hnl_decay", (
    Section("exposure", "how many HNLs the weights count", fields=(
        Field("n_hnl", float, lo=0, lo_open=True, doc="HNLs in the exposure (weights are decays per this many)"),
    )),
    Field("decay_volume", Section("decay_volume", "a decay volume along +z (0, 0 = every decay counts)", fields=(
        Field("z_min_m", float, unit="m", default=0.0, lo=0, doc="start of the decay volume"),
        Field("z_max_m", float, unit="m", default=0.0, lo=0, doc="end of the decay volume (0 = no volume)"),
    )), default=None, doc="optional decay volume"),
), doc="one HNL of fixed lab energy along +z: all decays, or those inside a decay volume (seed 003 App. A)")

register_card_schema("model1", (
    Section("relic", "the dark-matter density", fields=(
        Field("omega_dm_h2", float, lo=0, lo_open=True, doc="Planck 2018 Omega_DM h^2"),
    )),
    Section("bbn", "BBN / N_eff", fields=(
        Field("T_MeV", float, unit="MeV", lo=0, lo_open=True, doc="temperature of the nu-chi equilibration test"),
        Field("neff_max", float, lo=3.0, doc="largest allowed N_eff"),
    )),
    Section("meson", "K and D decays to e + invisible", fields=(
        Field("k_e_invisible_br_max", float, lo=0, lo_open=True, doc="BR(K+ -> e+ invisible) bound"),
        Field("k_e_3nu_br_max", float, lo=0, lo_open=True, doc="BR(K+ -> e+ 3 nu) bound"),
        Field("d_e_invisible_br_max", float, lo=0, lo_open=True, doc="BR(D+ -> e+ invisible) bound"),
        Field("k_e2_m_miss_max_MeV", float, unit="MeV", lo=0, lo_open=True,
              doc="largest invisible mass a K_e2 (R_K) selection accepts; the R_K bound applies to that part of the rate"),
        Field("k_bound", str, default="direct", choices=("direct", "rk_inclusive", "3nu", "rk_window"),
              doc="which K+ -> e+ + invisible bound: direct = min(3nu search, R_K within the K_e2 missing-mass "
                  "window); rk_inclusive = R_K on the whole 3-body rate (seed 001 Fig. 4 reading)"),
    )),
    Section("z", "the Z invisible width", fields=(
        Field("delta_n_nu_max", float, lo=0, lo_open=True, doc="allowed extra neutrino species in Z decays"),
    )),
    Section("direct", "direct detection", fields=(
        Field("analysis", str, default="", doc="the nudmsim analysis giving an SI limit (empty: none)"),
        Field("detector", str, default="", doc="its detector card"),
        Field("curves", list, item=str, default=[],
              doc="published SI limits (files under data/ with provenance headers), each used inside its mass range"),
    )),
), doc="the numbers behind the constraints of seed 001 Model 1 (Fig. 4), each with its source")
