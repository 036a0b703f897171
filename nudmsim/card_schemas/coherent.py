"""Schema of ``coherent`` detector cards (COHERENT-style CEvNS detector at a pi-DAR source)."""
from __future__ import annotations

from .. import targets
from ..cards import register_card_schema
from ..errors import NudmsimError
from ..formfactors import FORM_FACTORS
from ..schema import Field, Section, needs
from ._checks import above, all_of, increasing


def _no_pot_with_tp(v: dict):
    if v.get("protons_on_target") is not None and v.get("proton_kinetic_energy_GeV") is not None:
        return ("proton_kinetic_energy_GeV", "only converts beam_energy_GWh into protons on target",
                "drop it: protons_on_target is given directly")
    return None


SOURCE = Section("source", "the neutrino source and the exposure", fields=(
    Field("card", str, doc="source card of kind pi_dar (e.g. \"sns\"): searched next to this card, then in "
                           "$NUDMSIM_CARD_PATH, then in fluxes/"),
    Field("beam_energy_GWh", float, unit="GWh", default=None, lo=0, lo_open=True,
          doc="integrated beam energy on target, converted to protons on target with the proton kinetic energy"),
    Field("protons_on_target", float, default=None, lo=0, lo_open=True,
          doc="protons on target of the exposure (instead of beam_energy_GWh)"),
    Field("baseline_m", float, unit="m", lo=0, lo_open=True, doc="source-detector distance"),
    Field("nu_per_flavour_per_proton", float, lo=0, lo_open=True,
          doc="neutrinos of each flavour (nu_mu, nu_e, anti-nu_mu) per proton on target"),
    Field("nu_per_flavour_per_proton_rel_error", float, lo=0,
          doc="relative uncertainty of the neutrino yield (a constrained nuisance of the fit)"),
    Field("proton_kinetic_energy_GeV", float, unit="GeV", default=None, lo=0, lo_open=True,
          doc="overrides the source card's beam.proton_kinetic_energy_GeV (only with beam_energy_GWh)"),
    Field("timing_model", str, default=None, choices=("released_pdf", "physical"),
          doc="overrides the source card's timing.model"),
), one_of=(("beam_energy_GWh", "protons_on_target"),), check=_no_pot_with_tp)


def _isotopes(names) -> str | None:
    for name in names:
        try:
            targets.isotope(name)
        except NudmsimError as exc:
            return str(exc)
    return None


def _material(spec) -> str | None:
    try:
        targets.material(spec)
    except NudmsimError as exc:
        return str(exc)
    return None


def _target_check(v: dict):
    iso, per = v.get("isotopes"), v.get("atoms_per_molecule")
    if iso is not None:
        if per is None:
            return "atoms_per_molecule", "is missing", "give one count per entry of isotopes"
        if len(per) != len(iso):
            return "atoms_per_molecule", f"must have {len(iso)} entries (one per isotope), got {len(per)}"
    elif per is not None:
        return "atoms_per_molecule", "only goes with isotopes", "with material = ..., drop it"
    return None


TARGET = Section("target", "the target: a material (natural elements expanded with their abundances) or explicit "
                 "isotopes with their counts per molecule", fields=(
    Field("mass_kg", float, unit="kg", lo=0, lo_open=True, doc="target (fiducial) mass"),
    Field("material", (str, dict), default=None, check=_material,
          doc="chemical formula (\"CsI\", \"Ar\", \"C9H12\") or a table of element/isotope counts "
              "({Cs = 1, I = 1}); natural elements are expanded with IUPAC abundances"),
    Field("isotopes", list, item=str, ndim=1, default=None, check=_isotopes,
          doc="explicit isotopes, e.g. [\"Cs133\", \"I127\"] (instead of material)"),
    Field("atoms_per_molecule", list, ndim=1, default=None, lo=0, lo_open=True,
          doc="atoms of each isotope per molecule (with isotopes)"),
    Field("form_factor", str, choices=tuple(FORM_FACTORS), doc="nuclear form factor"),
), one_of=(("material", "isotopes"),), check=_target_check)

QUENCHING = Section("response.quenching", "nuclear-recoil quenching factor E_ee / E_nr", fields=(
    Field("model", str, choices=("constant", "fit", "table"),
          doc="constant; fit: weighted polynomial fit of measured QF files; table: QF(E_nr) interpolated"),
    Field("constant", float, default=None, lo=0, lo_open=True, hi=1,
          doc="the quenching factor (model constant; also the fit's nominal value)"),
    Field("constant_error", float, default=0.0, lo=0, doc="its 1-sigma uncertainty (a nuisance of the fit)"),
    Field("table_file", str, default=None, doc="CSV with columns Enr_keV, QF (model table)"),
    Field("fit_files", list, item=str, ndim=1, default=None,
          doc="CSVs of QF measurements (Enr_keV, QF, QF_err or QF_err_hi/QF_err_lo) (model fit)"),
    Field("fit_degree", int, default=1, lo=0, hi=5, doc="degree of the fitted polynomial in E_nr"),
    Field("fit_range_keVnr", list, unit="keVnr", ndim=1, length=2, default=None, lo=0, check=increasing,
          doc="E_nr range of the measurements used in the fit (model fit)"),
    Field("fit_extra_error", (float, str), default=0.0,
          check=lambda x: None if not isinstance(x, str) or x == "auto" else "must be a number or \"auto\"",
          doc="error added in quadrature to every point; \"auto\" = chosen so that chi2/ndf = 1"),
), check=needs("model", {"constant": ["constant"], "table": ["table_file"], "fit": ["fit_files", "fit_range_keVnr"]}))

ACCEPTANCE = Section("response.acceptance", "detection efficiency vs photoelectrons", fields=(
    Field("model", str, choices=("coherent_logistic", "table"),
          doc="coherent_logistic: a / (1 + exp(-k (x - x0))) times a step in x (PE); table: x -> efficiency"),
    Field("a", float, default=None, lo=0, lo_open=True, hi=1, doc="logistic plateau"),
    Field("k", float, unit="1/PE", default=None, doc="logistic steepness"),
    Field("x0", float, unit="PE", default=None, doc="logistic midpoint"),
    *(Field(f"{p}_err_{s}", float, unit=u, default=0.0, lo=0, doc=f"{'upper' if s == 'hi' else 'lower'} "
            f"1-sigma error of {p}") for p, u in (("a", ""), ("k", "1/PE"), ("x0", "PE")) for s in ("hi", "lo")),
    Field("step_start_PE", float, unit="PE", default=5.0, doc="the step is 0 below, 1/2 from here"),
    Field("step_full_PE", float, unit="PE", default=6.0, doc="the step is 1 from here"),
    Field("evaluate_on_bins_of_PE", float, unit="PE", default=1.0, lo=0, lo_open=True,
          doc="the acceptance is evaluated at the centres of bins of this width (the release's rule)"),
    Field("x", list, unit="PE", ndim=1, default=None, check=increasing, doc="table abscissae (model table)"),
    Field("efficiency", list, ndim=1, default=None, lo=0, hi=1, doc="efficiency at x (model table)"),
), check=all_of(needs("model", {"coherent_logistic": ["a", "k", "x0"], "table": ["x", "efficiency"]}),
                lambda v: ("step_full_PE", "must be >= step_start_PE") if v["step_full_PE"] < v["step_start_PE"]
                else None,
                lambda v: ("efficiency", f"must have {len(v['x'])} entries (one per x)")
                if v.get("x") is not None and v.get("efficiency") is not None and len(v["x"]) != len(v["efficiency"])
                else None))

RESPONSE = Section("response", "detector response: scintillation light, quenching, acceptance", fields=(
    Field("light_yield_PE_per_keVee", float, unit="PE/keVee", lo=0, lo_open=True,
          doc="photoelectrons per keV electron-equivalent"),
    Field("light_yield_error_PE_per_keVee", float, unit="PE/keVee", default=0.0, lo=0,
          doc="its uncertainty (recorded; not varied by the 2017 analysis)"),
    Field("photostatistics", str, default="poisson", choices=("poisson",),
          doc="poisson: Poisson photoelectron count plus the 1-PE charge dither"),
    Field("quenching", QUENCHING, doc=QUENCHING.doc),
    Field("acceptance", ACCEPTANCE, doc=ACCEPTANCE.doc),
))

BINNING = Section("binning", "analysis bins in photoelectrons and arrival time", fields=(
    Field("pe_min", float, unit="PE", lo=0, doc="lower PE edge"),
    Field("pe_max", float, unit="PE", doc="upper PE edge"),
    Field("pe_width", float, unit="PE", lo=0, lo_open=True, doc="PE bin width (must divide the range)"),
    Field("t_min_us", float, unit="µs", doc="lower time edge"),
    Field("t_max_us", float, unit="µs", doc="upper time edge"),
    Field("t_width_us", float, unit="µs", lo=0, lo_open=True, doc="time bin width (must divide the range)"),
), check=all_of(above("pe_max", "pe_min"), above("t_max_us", "t_min_us")))

DATA = Section("data", "the released data (needed by fits and limits)", fields=(
    Field("counts_file", str, doc="CSV of observed counts per (PE, time) bin: pe, t_us, C_beamOn, AC_beamOn"),
    Field("prompt_neutron_pe_file", str, doc="CSV of the prompt-neutron PE spectrum per GWh, before acceptance"),
    Field("time_pdf_file", str, doc="CSV of arrival-time PDFs (t_us, pdf_prompt_neutrons, ...)"),
    Field("prompt_neutron_norm_rel_error", float, default=0.25, lo=0, lo_open=True,
          doc="relative uncertainty of the prompt-neutron normalisation (release: 1 ± 0.25)"),
))

PUBLISHED = Section("published", "published numbers printed beside ours", fields=(
    Field("sm_prediction_events", float, unit="events", default=None, lo=0, doc="published SM CEvNS prediction"),
    Field("sm_prediction_error", float, unit="events", default=None, lo=0, doc="its uncertainty"),
    Field("fit_cevns_events", float, unit="events", default=None, lo=0, doc="published best-fit CEvNS count"),
    Field("fit_cevns_error", float, unit="events", default=None, lo=0, doc="its uncertainty"),
))

register_card_schema("coherent", [
    SOURCE, TARGET, RESPONSE, BINNING,
    Field("data", DATA, default=None, doc=DATA.doc),
    Field("published", PUBLISHED, default=None, doc=PUBLISHED.doc),
], doc="COHERENT-style CEvNS detector at a pi+ decay-at-rest source (processes cevns, nu-to-x; analysis coherent2017)")
