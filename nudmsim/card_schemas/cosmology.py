"""Schema of the ``cosmology`` card (early-Universe bounds on the scalar-portal model)."""
from __future__ import annotations

from ..cards import register_card_schema
from ..schema import Field, Section

LYMAN_ALPHA = Section("lyman_alpha", "Lyman-alpha forest bound on a thermal warm-DM mass", fields=(
    Field("m_wdm_min_keV", float, unit="keV", lo=0, lo_open=True, doc="m_WDM lower bound (2 sigma)"),
    Field("m_f_prefactor_msun", float, unit="M_sun", lo=0, lo_open=True,
          doc="free-streaming cut-off mass M_f = prefactor x (keV/m_WDM)^4"),
))
RELIC = Section("relic", "dark-matter relic abundance", fields=(
    Field("omega_dm_h2", float, lo=0, lo_open=True, doc="Omega_c h^2"),
))
COUPLINGS = Section("couplings", "quark couplings assumed by the curves", fields=(
    Field("y_q_kaon_bound", float, lo=0, lo_open=True, doc="phi-quark coupling at the kaon bound (kinetic decoupling)"),
    Field("y_q_thermal", float, lo=0, lo_open=True, doc="quark coupling of the thermal-relic line"),
))
NEFF = Section("neff", "effective number of neutrino species", fields=(
    Field("neff_max", float, lo=0, lo_open=True, doc="upper bound on N_eff"),
))
register_card_schema("cosmology", [LYMAN_ALPHA, RELIC, COUPLINGS, NEFF],
                     doc="early-Universe bounds (kinetic-decoupling, thermal-relic)")
