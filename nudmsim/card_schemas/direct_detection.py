"""Schema of the remaining hand-wired direct-detection card kind, ``dd-lowthreshold`` (CRESST-III, DarkSide-50;
``nudmsim/analyses/low_threshold.py``).  XENON1T and Borexino are experiment cards since issue 8
(``card_schemas/experiment.py``)."""
from __future__ import annotations

from .. import targets
from ..cards import register_card_schema
from ..formfactors import FORM_FACTORS
from ..schema import Field, Section

# ------------------------------------------------------------------------------------------------
# dd-lowthreshold: public low-mass releases (CRESST-III detector A events, DarkSide-50 S2-only bins)
# ------------------------------------------------------------------------------------------------
_LT_TARGET = Section("target", "the target material", fields=(
    Field("molecule", dict, doc="atoms per molecule by element, e.g. { Ca = 1, W = 1, O = 4 }"),
    Field("form_factor", str, default="helm", choices=tuple(FORM_FACTORS), doc="nuclear form factor"),
))
_LT_EXPOSURE = Section("exposure", "the exposure", fields=(
    Field("kg_days", float, unit="kg d", lo=0, lo_open=True, doc="exposure (mass x live time)"),
))
_LT_SOURCE = Section("source", "the dark-matter halo", fields=(
    Field("halo", str, doc="halo card in fluxes/ (kind halo)"),
))
_LT_RESPONSE = Section("response", "the detector response of the release", fields=(
    Field("model", str, choices=("cresst", "bins"), doc="cresst: events + per-element survival; bins: DDCalc bins"),
    Field("threshold_keV", float, unit="keV", default=None, lo=0, lo_open=True, doc="cresst: energy threshold"),
    Field("e_max_keV", float, unit="keV", default=None, lo=0, lo_open=True, doc="cresst: upper end of the range"),
    Field("resolution_eV", float, unit="eV", default=None, lo=0, lo_open=True, doc="cresst: baseline resolution"),
    Field("efficiency", Section("response.efficiency", "cresst: survival probability per recoiling element",
                                fields=tuple(Field(sym, str, default=None, doc=f"table file for {sym} recoils")
                                             for sym in targets.elements())),
          default=None, doc="cresst: element -> survival-probability table file"),
    Field("bin_efficiencies", str, default=None, doc="bins: table of per-bin efficiencies"),
))
_LT_DATA = Section("data", "the released data", fields=(
    Field("events", str, default=None, doc="cresst: the events in the acceptance region (table file)"),
    Field("observed", list, default=None, lo=0, doc="bins: observed counts per bin"),
    Field("background", list, default=None, lo=0, doc="bins: modelled background per bin"),
))
register_card_schema("dd-lowthreshold", (_LT_TARGET, _LT_EXPOSURE, _LT_SOURCE, _LT_RESPONSE, _LT_DATA),
                     doc="a public low-mass direct-detection release (maximum gap or binned Poisson)")
