"""Schema of ``meson_decay`` detector cards (E949 stopped K+, NA62 K+ in flight)."""
from __future__ import annotations

from ..cards import register_card_schema
from ..schema import Field, Section, needs
from ._checks import increasing, pairs

SOURCE = Section("source", "the meson source", fields=(
    Field("card", str, doc="meson source card (kind meson_source), searched next to this card, in "
                           "$NUDMSIM_CARD_PATH, then fluxes/"),
))
EXPOSURE = Section("exposure", "number of mesons", fields=(
    Field("n_kaons", float, lo=0, lo_open=True, doc="K+ decays (stopped or in flight) of the exposure"),
))
RESPONSE = Section("response", "charged-track reconstruction and selection", fields=(
    Field("acceptance", float, lo=0, lo_open=True, hi=1, doc="signal acceptance x trigger efficiency"),
    Field("momentum_window_MeV", list, unit="MeV/c", ndim=1, length=2, check=increasing,
          doc="window in the reconstructed K+-frame charged-lepton momentum"),
    Field("bin_width_MeV", float, unit="MeV/c", lo=0, lo_open=True, doc="analysis bin width"),
    Field("momentum_resolution_rel", float, default=None, lo=0, hi=0.5,
          doc="Gaussian sigma_p/p of the track (mesons at rest)"),
    Field("pion_momentum_windows_MeV", list, unit="MeV/c", ndim=2, default=None, check=pairs,
          doc="pi+ momentum signal regions [[lo, hi], ...] of the K+ -> pi+ X analysis (kaon-pi-phi)"),
    Field("straw_resolution_const", float, default=None, lo=0, hi=0.5,
          doc="spectrometer sigma_p/p constant term (mesons in flight)"),
    Field("straw_resolution_per_GeV", float, unit="1/(GeV/c)", default=None, lo=0,
          doc="spectrometer sigma_p/p term proportional to p (in quadrature; mesons in flight)"),
    Field("straw_angle_resolution_rad", float, unit="rad", default=None, lo=0,
          doc="track angular resolution (mesons in flight)"),
    Field("gtk_momentum_resolution_rel", float, default=None, lo=0, hi=0.5,
          doc="beam spectrometer sigma_p/p (mesons in flight)"),
    Field("gtk_angle_resolution_rad", float, unit="rad", default=None, lo=0,
          doc="beam spectrometer angular resolution (mesons in flight)"),
))
BACKGROUND = Section("background", "charged-lepton momentum background spectrum", fields=(
    Field("model", str, choices=("power_law", "scaled"),
          doc="power_law: dN/dp = counts_per_MeV_at_ref (p / p_ref_MeV)^index; scaled: another card's "
              "spectrum scaled by n_kaons x acceptance"),
    Field("p_ref_MeV", float, unit="MeV/c", default=None, lo=0, lo_open=True, doc="reference momentum (power_law)"),
    Field("counts_per_MeV_at_ref", float, unit="events/(MeV/c)", default=None, lo=0, lo_open=True,
          doc="background density at p_ref after acceptance (power_law)"),
    Field("index", float, default=None, doc="power-law index (power_law)"),
    Field("from_card", str, default=None, doc="detector card whose background is scaled (scaled)"),
    Field("float_index", bool, default=True, doc="the fit floats the background index as well as its normalisation"),
), check=needs("model", {"power_law": ["p_ref_MeV", "counts_per_MeV_at_ref", "index"], "scaled": ["from_card"]}))

register_card_schema("meson_decay", [SOURCE, EXPOSURE, RESPONSE, BACKGROUND],
                     doc="K+ -> mu+ + invisible searches (meson-3body, meson-2body, kaon-pi-phi)")
