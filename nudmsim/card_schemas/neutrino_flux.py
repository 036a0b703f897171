"""Schema of ``nu-flux`` cards: a published bound on an extra neutrino flux (Super-Kamiokande nu_tau appearance,
used by the superk-x2nu analysis, seed 004 sec. V)."""
from __future__ import annotations

from ..cards import register_card_schema
from ..schema import Field, Section

EXPOSURE = Section("exposure", "the detector and its live time", fields=(
    Field("fiducial_kt", float, unit="kt", lo=0, lo_open=True, doc="fiducial water mass"),
    Field("live_days", float, unit="days", lo=0, lo_open=True, doc="live time of the data set"),
    Field("depth_km", float, unit="km", lo=0, doc="rock overburden (the Earth's path above the detector)"),
))

MEASUREMENT = Section("measurement", "the published nu_tau normalisation and its reference rate", fields=(
    Field("tau_normalisation", float, lo=0, lo_open=True, doc="fitted nu_tau normalisation (1 = expectation)"),
    Field("tau_normalisation_error", float, lo=0, lo_open=True, doc="its 1-sigma error"),
    Field("ref_taus_produced", float, lo=0, lo_open=True, doc="taus produced in the reference analysis"),
    Field("ref_normalisation", float, lo=0, lo_open=True, doc="normalisation fitted in the reference analysis"),
    Field("ref_live_days", float, unit="days", lo=0, lo_open=True, doc="live time of the reference analysis"),
    Field("cl", float, lo=0, hi=1, lo_open=True, hi_open=True, doc="confidence level of the bound"),
))

HALO = Section("halo", "the local dark-matter halo (seed 004 eq. 16)", fields=(
    Field("rho_GeV_cm3", float, unit="GeV/cm^3", lo=0, lo_open=True, doc="local DM density"),
    Field("v0_km_s", float, unit="km/s", lo=0, lo_open=True, doc="halo velocity v0"),
))

register_card_schema("nu-flux", (EXPOSURE, MEASUREMENT, HALO),
                     doc="a published bound on an extra neutrino flux (Super-Kamiokande nu_tau appearance)")
