"""Schemas of direct-detection detector cards: ``dd-xenon`` (XENON1T) and ``dd-scintillator`` (Borexino)."""
from __future__ import annotations

from .. import targets
from ..cards import register_card_schema
from ..errors import NudmsimError
from ..formfactors import FORM_FACTORS
from ..schema import Field, Section, needs
from ._checks import above, increasing


def _element(symbol) -> str | None:
    try:
        targets.element(symbol)
    except NudmsimError as exc:
        return str(exc)
    return None


EXPOSURE = Section("exposure", "fiducial mass and live time", fields=(
    Field("mass_kg", float, unit="kg", lo=0, lo_open=True, doc="fiducial target mass"),
    Field("live_days", float, unit="days", lo=0, lo_open=True, doc="live time"),
))
HALO_SOURCE = Section("source", "the dark-matter halo", fields=(
    Field("halo", str, doc="halo source card (kind halo), searched next to this card, in $NUDMSIM_CARD_PATH, "
                           "then fluxes/"),
))

# ------------------------------------------------------------------------------------------- dd-xenon
XENON_TARGET = Section("target", "the xenon target", fields=(
    Field("element", str, check=_element, doc="target element symbol (natural isotopes for convention isotopes)"),
    Field("convention", str, choices=("single_nucleus", "isotopes"),
          doc="single_nucleus: one nucleus of mass number A_single (the release's convention); isotopes: the "
              "natural isotopes (IUPAC abundances, AME2020 masses), each with its own A, m_N and form factor"),
    Field("A_single", float, default=None, lo=0, lo_open=True,
          doc="mass number of the single nucleus (standard atomic weight; convention single_nucleus)"),
    Field("Z", int, default=None, lo=1, doc="atomic number (convention single_nucleus)"),
    Field("nucleon_mass", str, default="amu", choices=("amu", "proton"),
          doc="nucleon mass in the DM-nucleon reduced mass: amu (wimprates / XENON convention) or m_p"),
    Field("form_factor", str, default="helm", choices=tuple(FORM_FACTORS), doc="nuclear form factor"),
), check=needs("convention", {"single_nucleus": ["A_single", "Z"]}))
ROI = Section("roi", "nuclear-recoil energy region of interest", fields=(
    Field("e_min_keVnr", float, unit="keVnr", lo=0, lo_open=True, doc="lower edge"),
    Field("e_max_keVnr", float, unit="keVnr", lo=0, lo_open=True, doc="upper edge"),
), check=above("e_max_keVnr", "e_min_keVnr"))
XENON_RESPONSE = Section("response", "detector response", fields=(
    Field("model", str, default="migration_matrix", choices=("migration_matrix",),
          doc="migration_matrix: P(reconstructed bin | true bin), efficiency included"),
    Field("migration_matrix", str, doc="CSV of the migration matrix (E_true_low_keVnr, E_true_high_keVnr, rec_<lo>_<hi>...)"),
))
XENON_LIKELIHOOD = Section("likelihood", "the released likelihood", fields=(
    Field("model", str, default="binwise", choices=("binwise",),
          doc="binwise: -2 ln L_j(s_j) tabulated per reconstructed bin (arXiv:2210.07231)"),
    Field("table", str, doc="CSV of -2 ln L_j(s) per reconstructed bin"),
    Field("threshold", str, doc="CSV of the 90% CL critical value vs total expected signal (toy MC)"),
    Field("exposure_convention", str, default="release", choices=("release", "card"),
          doc="release: dR/dE in events/(keV t yr) times the matrix (the release's ~1 t yr folded in); card: "
              "scale by this card's exposure"),
    Field("reference_limit", str, default=None, doc="CSV of the official 90% CL SI limit (overlaid on plots)"),
))
XENON_VALIDATION = Section("validation", "reference numbers for `nudmsim validate`", fields=(
    Field("reference_spectrum", str, doc="CSV of the official reference dR/dE"),
    Field("reference_spectrum_factor", float, lo=0, lo_open=True,
          doc="factor by which the reference spectrum is known to be off (N_esc^2 = 0.98677)"),
))
register_card_schema("dd-xenon", [
    XENON_TARGET, EXPOSURE, HALO_SOURCE, ROI, XENON_RESPONSE, XENON_LIKELIHOOD,
    Field("validation", XENON_VALIDATION, default=None, doc=XENON_VALIDATION.doc),
], doc="xenon TPC with a released migration matrix and binwise likelihood (x-to-nu, wimp-si, xenon1t-si, xenon1t-x2nu)")


# ------------------------------------------------------------------------------------ dd-scintillator
def _molecule(mol) -> str | None:
    if not mol:
        return "must name at least one element, e.g. { C = 9, H = 12 }"
    for sym, n in mol.items():
        problem = _element(sym)
        if problem:
            return problem
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            return f"count of {sym} must be a whole number > 0, got {n!r}"
    return None


def _species(specs) -> str | None:
    for spec in specs:
        if spec == "H1":
            continue
        try:
            targets.parse_target(spec)
        except NudmsimError as exc:
            return str(exc)
    return None


def _species_in_molecule(v: dict):
    mol = v.get("molecule") or {}
    for spec in v.get("species") or ():
        sym = spec.rstrip("0123456789")
        if sym not in mol:
            return "species", f"'{spec}' is not in the molecule ({', '.join(mol)})"
    return None


SCINT_TARGET = Section("target", "the scintillator", fields=(
    Field("molecule", dict, check=_molecule, doc="atoms per molecule, e.g. { C = 9, H = 12 }"),
    Field("density_g_cm3", float, unit="g/cm³", lo=0, lo_open=True, doc="scintillator density"),
    Field("species", list, item=str, ndim=1,
          doc="recoiling species: \"H1\" (free protons, point-like) or an element (natural isotopes) / isotope"),
    Field("form_factor", str, default="helm", choices=tuple(FORM_FACTORS), doc="form factor of the nuclei"),
), check=_species_in_molecule)
SCINT_QUENCHING = Section("response.quenching", "proton/nuclear quenching", fields=(
    Field("model", str, choices=("birks", "constant"),
          doc="birks: Birks' law with ICRU-49 stopping powers; constant: a fixed factor"),
    Field("kB_cm_MeV", float, unit="cm/MeV", lo=0, doc="Birks constant"),
    Field("constant_factor", float, lo=0, lo_open=True, hi=1, doc="quenching factor of model constant"),
))
SCINT_RESOLUTION = Section("response.resolution", "energy resolution", fields=(
    Field("model", str, default="sqrt", choices=("sqrt",), doc="sqrt: sigma_E / E scales as 1/sqrt(E)"),
    Field("sigma_at_1MeV_keV", float, unit="keV", lo=0, lo_open=True, doc="sigma_E at 1 MeV visible energy"),
))
SCINT_THRESHOLD = Section("response.threshold", "analysis threshold", fields=(
    Field("visible_keVee", float, unit="keVee", lo=0, doc="visible-energy threshold"),
))
SCINT_RESPONSE = Section("response", "detector response", fields=(
    Field("quenching", SCINT_QUENCHING, doc=SCINT_QUENCHING.doc),
    Field("resolution", SCINT_RESOLUTION, doc=SCINT_RESOLUTION.doc),
    Field("threshold", SCINT_THRESHOLD, doc=SCINT_THRESHOLD.doc),
))
SCINT_BACKGROUND = Section("background", "observed spectrum and low-energy bound", fields=(
    Field("spectrum", str, doc="CSV of the observed spectrum (rate per bin in counts/(day x 100 t) and its error)"),
    Field("c14_window_keVee", list, unit="keVee", ndim=1, length=2, lo=0, check=increasing,
          doc="window below the spectrum bounded by the C-14 rate"),
    Field("c14_rate_Bq_per_100t", float, unit="Bq/100 t", lo=0, lo_open=True,
          doc="C-14 rate, taken entirely as an upper bound in the window"),
))
register_card_schema("dd-scintillator", [SCINT_TARGET, EXPOSURE, HALO_SOURCE, SCINT_RESPONSE, SCINT_BACKGROUND],
                     doc="organic liquid scintillator: proton and carbon recoils, Birks quenching (x-to-nu, "
                         "borexino-x2nu)")


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
