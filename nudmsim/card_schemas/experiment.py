"""Schema of ``experiment`` cards: a whole experiment in one file (nudmsim/experiment.py).

The top-level tables are declared here; their insides are declared next to the code that gives them meaning
and checked by the whole-card hook at load (so ``nudmsim list detectors`` refuses a bad card as ``fit`` does):
``[source]`` by the source kind of the named source card (nudmsim/sources/), ``[[response]]`` per stage type
(nudmsim/response/), ``[observables]`` by nudmsim/observables.py, ``[analysis]`` by nudmsim/analysis_card.py.
"""
from __future__ import annotations

from ..cards import register_card_schema, validate_stage_tables
from ..errors import CardError
from ..formfactors import FORM_FACTORS
from ..schema import Field, Section, validate

CARD = Section("card", "what the experiment is", fields=(
    Field("name", str, doc="card name (the file's stem by convention)"),
    Field("description", str, doc="one line: detector, exposure, paper"),
    Field("kind", str, choices=("experiment",), doc="'experiment' for engine cards"),
    Field("label", str, default="", doc="short label for plots and tables (default: name)"),
    Field("status", str, default="release", choices=("release", "projection"),
          doc="'release' = a published data set; 'projection' = a hypothetical exposure (plots say so)"),
    Field("processes", list, item=str, default=[], doc="model processes this experiment can compute"),
    Field("references", list, item=str, default=[], doc="papers and releases the numbers come from"),
))

TARGET = Section("target", "the detector material", fields=(
    Field("material", str, default=None, doc="chemical formula of natural elements, e.g. \"CsI\", \"C9H12\", "
                                             "\"Ar\"; isotopes as Xe131"),
    Field("composition", dict, default=None, doc="atoms per formula unit, e.g. { Cs = 1, I = 1 } or "
                                                 "{ Ar40 = 1 } (elements are natural mixes)"),
    Field("mass_kg", float, unit="kg", lo=0, lo_open=True, doc="fiducial (active) mass"),
    Field("form_factor", str, default="helm", choices=tuple(FORM_FACTORS),
          doc="nuclear form factor (Helm: Lewin-Smith parameters; klein_nystrand: as COHERENT 2017)"),
    Field("form_factor_by_isotope", dict, default={},
          doc="isotope -> form factor overriding form_factor, e.g. { H1 = \"none\" } (a free proton is point-like)"),
    Field("single_nucleus_A", float, default=None, lo=1, unit="u",
          doc="one effective nucleus of this mass number (mass A u, Z of the element) instead of the natural "
              "isotopes: a release's convention, e.g. XENON1T's A = 131.293 (one-element materials only)"),
    Field("nucleon_mass", str, default="amu", choices=("amu", "proton"),
          doc="nucleon mass in per-nucleon cross sections (the DM-nucleon reduced mass of sigma_n): amu = 1 u "
              "(XENON / wimprates convention) or proton = m_p"),
), one_of=(("material", "composition"),))


def _check(values: dict, path) -> None:
    from ..observables import Observables
    from ..sources import source_kind

    src = values["source"]
    if not isinstance(src.get("card"), str):
        raise CardError(path, "source.card", "is missing", "name the source card, e.g. card = \"sns\"")
    from ..cards import load_source

    p = path.parent / f"{src['card']}.toml"
    scard = load_source(str(p) if p.is_file() and p.resolve() != path.resolve() else src["card"])
    sk = source_kind(scard.card_kind)
    if sk is None:
        raise CardError(path, "source.card", f"names a source of kind '{scard.card_kind}', which experiment cards "
                        "cannot use yet", "use a pi_dar source such as 'sns' or a halo such as 'shm_xenon1t_2018'")
    validate(src, sk.schema, path=path, prefix="source")
    validate_stage_tables(values, path)
    Observables.from_card(values["observables"], path, _resolver(path))
    if values.get("analysis") is not None:
        from ..analysis_card import ANALYSIS, check_likelihood_options

        check_likelihood_options(validate(values["analysis"], ANALYSIS, path=path, prefix="analysis"), path)


def _resolver(path):
    """Files named by the card: relative to it, data/ or fluxes/ (as Experiment.resolve_file)."""
    from pathlib import Path

    from ..paths import resource_dir

    def resolve(name: str, key: str = ""):
        p = Path(name)
        for base in ([Path()] if p.is_absolute() else []) + [Path(path).parent, resource_dir("data"),
                                                             resource_dir("fluxes")]:
            if (base / p).is_file():
                return base / p
        raise CardError(path, key, f"names file '{name}', which does not exist",
                        "give a path relative to the card, to data/ or to fluxes/")

    return resolve


register_card_schema("experiment", (
    Field("source", dict, doc="the source card and the exposure (keys depend on the source kind)"),
    Field("target", TARGET, default=None, doc="the detector material (processes on a target need it; meson "
                                              "decays do not)"),
    Field("response", list, item=dict, default=[], doc="the response chain, one [[response]] table per stage"),
    Field("observables", dict, doc="the analysis axes: column -> { range, width | bins | edges }"),
    Field("analysis", dict, default=None, doc="data, samples, measurements, limit settings"),
    Field("published", dict, default=None, doc="published reference numbers (for validation and printouts)"),
), doc="a whole experiment: source, target, response chain, observables, analysis", check=_check, card=CARD)
