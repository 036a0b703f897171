"""Schemas of the source cards in ``fluxes/``: ``pi_dar``, ``halo``, ``meson_source``, ``pp``."""
from __future__ import annotations

from ..cards import register_card_schema
from ..schema import Field, Section, needs

# flavour ids of the SNS event files (nudmsim.sources.sns.FLAVOURS, PROMPT_FLAVOURS, DELAYED_FLAVOURS)
SNS_FLAVOURS = ["nu_mu", "nu_e", "nu_mu_bar"]
SNS_PROMPT = ["nu_mu"]
SNS_DELAYED = ["nu_e", "nu_mu_bar"]


def _fixed(expected):
    def check(value):
        return None if value == expected else f"is fixed by the code to {expected} (documentation only)"
    return check


# --------------------------------------------------------------------------------------------- pi_dar
PI_DAR_BEAM = Section("beam", "the proton beam", fields=(
    Field("proton_kinetic_energy_GeV", float, unit="GeV", lo=0, lo_open=True,
          doc="proton kinetic energy T_p converting an integrated beam energy into protons on target, "
              "N_POT = E_beam / T_p (a detector card may override it with source.proton_kinetic_energy_GeV)"),
))
PI_DAR_SPECTRUM = Section("spectrum", "neutrino spectra (analytic, nudmsim/sources/sns.py): prompt nu_mu line at "
                          "(m_pi^2 - m_mu^2)/(2 m_pi), Michel nu_e and anti-nu_mu; documents the flavour ids",
                          fields=(
    Field("flavours", list, item=str, ndim=1, default=SNS_FLAVOURS, check=_fixed(SNS_FLAVOURS),
          doc="flavour id 0, 1, 2 in event files"),
    Field("prompt", list, item=str, ndim=1, default=SNS_PROMPT, check=_fixed(SNS_PROMPT),
          doc="flavours from pi+ decay (prompt)"),
    Field("delayed", list, item=str, ndim=1, default=SNS_DELAYED, check=_fixed(SNS_DELAYED),
          doc="flavours from mu+ decay (delayed)"),
))
PI_DAR_TIMING = Section("timing", "neutrino arrival-time model", fields=(
    Field("model", str, choices=("released_pdf", "physical"),
          doc="released_pdf: tabulated prompt/delayed arrival-time PDFs (beam timing and time reconstruction "
              "included); physical: Gaussian proton pulse folded with the pi+ and mu+ lifetimes"),
    Field("pdf_file", str, default=None,
          doc="CSV with columns t_us (equal-width bin centres), pdf_prompt_nu, pdf_delayed_nu (model released_pdf)"),
    Field("pulse_fwhm_ns", float, unit="ns", default=None, lo=0, lo_open=True,
          doc="FWHM of the Gaussian proton pulse (model physical)"),
    Field("offset_us", float, unit="µs", default=None,
          doc="offset of the pulse centre from t = 0 of the time axis (model physical)"),
), check=needs("model", {"released_pdf": ["pdf_file"], "physical": ["pulse_fwhm_ns", "offset_us"]}))

register_card_schema("pi_dar", [PI_DAR_BEAM, Field("spectrum", PI_DAR_SPECTRUM, default=None, doc=PI_DAR_SPECTRUM.doc),
                                PI_DAR_TIMING], role="source",
                     doc="pi+ decay-at-rest neutrino source (SNS): prompt nu_mu line, delayed Michel nu_e and "
                         "anti-nu_mu, beam timing")

# ----------------------------------------------------------------------------------------------- halo
HALO = Section("halo", "dark-matter velocity distribution in the galactic frame", fields=(
    Field("model", str, default="shm", choices=("shm",),
          doc="shm: truncated Maxwellian (Standard Halo Model), sharp cut at v_esc in the galactic frame"),
    Field("rho_GeV_cm3", float, unit="GeV/cm³", lo=0, lo_open=True, doc="local dark-matter density"),
    Field("v0_km_s", float, unit="km/s", lo=0, lo_open=True, doc="most probable speed (LSR circular speed)"),
    Field("v_esc_km_s", float, unit="km/s", lo=0, lo_open=True,
          doc="galactic escape speed (~544 km/s, Smith et al. 2007)"),
    Field("v_earth_km_s", float, unit="km/s", lo=0,
          doc="time-averaged Earth speed in the galactic frame (no annual modulation)"),
))
register_card_schema("halo", [HALO], role="source", doc="dark-matter halo (Standard Halo Model)")

# --------------------------------------------------------------------------------------- meson_source
MESON = Section("meson", "the decaying meson and its lab momentum", fields=(
    Field("name", str, choices=("pi", "K"), doc="decaying meson (pi+ or K+)"),
    Field("momentum_MeV", float, unit="MeV/c", lo=0, doc="central lab momentum (0 = decays at rest)"),
    Field("momentum_spread_rel", float, default=0.0, lo=0, hi=0.2,
          doc="relative rms momentum spread of the beam (Gaussian)"),
))
register_card_schema("meson_source", [MESON], role="source",
                     doc="mesons decaying at rest (stopped K+) or in flight (a secondary beam)")

# ------------------------------------------------------------------------------------------------- pp
PP_BEAM = Section("beam", "the collider", fields=(
    Field("sqrts_TeV", float, unit="TeV", lo=0, lo_open=True, doc="pp centre-of-mass energy"),
))
PP_W_PT = Section("w.pt", "W transverse-momentum shape g(pT) = pT/(pT^2 + a^2) (1 + pT/c)^(-b) (times the "
                  "rapidity dependence h of the angular table), fitted by tools/fit_w_pt.py to the ATLAS 7 TeV "
                  "W -> e nu and W -> mu nu spectra", fields=(
    Field("a_GeV", float, unit="GeV", lo=0, lo_open=True, doc="low-pT turnover a"),
    Field("b", float, lo=0, lo_open=True, doc="high-pT power b"),
    Field("c_GeV", float, unit="GeV", lo=0, lo_open=True, doc="high-pT scale c"),
    Field("max_GeV", float, unit="GeV", lo=0, lo_open=True, doc="largest W pT generated"),
))
PP_W = Section("w", "pp -> W: LO or NLO luminosities, Breit-Wigner mass, angular coefficients", fields=(
    Field("luminosity_table", str,
          doc="CSV of d sigma/dM^2 dy / (sigma_hat/S) (columns M_GeV, y, Lplus_q1, Lminus_q1[, Lz_q1]), made by "
              "tools/make_pp_luminosity.py"),
    Field("order", str, default="LO", choices=("LO", "NLO"), doc="QCD order of the luminosity table"),
    Field("angular_table", str, default=None,
          doc="CSV of A0..A4(pT, y_q) and h(pT, |y|) (tools/make_pp_luminosity.py); without it the decay is LO "
              "and pT does not depend on y"),
    Field("luminosity_table_sqrts_TeV", float, unit="TeV", lo=0, lo_open=True,
          doc="sqrt(s) the table was made for (must equal beam.sqrts_TeV)"),
    Field("mass_window_widths", float, lo=0, lo_open=True,
          doc="W mass range M_W ± n Gamma_W (15 = MadGraph's default bwcutoff)"),
    Field("pt", PP_W_PT, doc=PP_W_PT.doc),
))
PP_NORM = Section("normalisation", "overall normalisation", fields=(
    Field("k_factor", float, lo=0, lo_open=True,
          doc="factor applied to sigma(pp -> W -> l nu) of the table (NNLO/NLO for the NLO tables)"),
))
register_card_schema("pp", [PP_BEAM, PP_W, PP_NORM], role="source",
                     doc="pp collisions producing W bosons (LO or NLO luminosities, measured pT shape with its "
                         "rapidity dependence, angular coefficients, normalisation factor)")
