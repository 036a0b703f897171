"""W production at a pp collider as a source kind of the engine: ``pp_w`` (source cards ``fluxes/pp_<E>tev.toml``
of card kind ``pp``).

The source card gives the physics of pp -> W (NLO rapidity table, Breit-Wigner mass, measured W p_T shape,
angular coefficients, K-factor; :mod:`nudmsim.sources.pp`); the ``[source]`` table of an experiment card names it
and gives the exposure per lepton channel and the size of the Monte Carlo sample the templates are made of::

    [source]
    card = "pp_7tev"
    luminosity_e_fb = 4.1         # integrated luminosity of the electron channel [fb^-1]
    luminosity_mu_fb = 4.6
    mc_events = 4000000           # W events generated once per card, reweighted for every (m4, |U|^2)
    mc_seed = 1
    background_mc_events = 2000000   # per generated background process (W -> tau nu, Z -> l l)

The generators of :mod:`nudmsim.generators.w_lepton` turn it into events (weights = expected events in the
channel's luminosity).  Units: MeV, luminosity in 1/mm^2 inside.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import constants as c
from ..schema import Field, Section
from . import register_source_kind


@dataclass(frozen=True)
class PPWSource:
    """The W source (``pp``: :class:`~nudmsim.sources.pp.PPSource`) with its exposure and MC settings."""

    name: str
    path: str
    pp: object
    luminosity: dict            # "e"/"mu" -> 1/mm^2
    mc_events: int
    mc_seed: int
    background_mc_events: int

    def z_source(self):
        from .pp import load_z_source

        return load_z_source(self.path)

    def summary(self) -> dict:
        return {"sqrt(s)": (self.pp.sqrts / c.TeV, "TeV"),
                "sigma(pp->W->l nu) x K (W+ + W-)": (self.pp.sigma_lnu(0) / c.u.picobarn, "pb"),
                "K-factor": (self.pp.k_factor, ""),
                "sigma(W+)/sigma(W-)": (self.pp.charge_ratio(), ""),
                "luminosity e / mu": (f"{self.luminosity['e'] * c.u.femtobarn:g} / "
                                      f"{self.luminosity['mu'] * c.u.femtobarn:g}", "fb^-1")}


PP_W_SOURCE = Section("source", "a pp -> W source card and the exposure per lepton channel", fields=(
    Field("card", str, doc="pp source card (fluxes/, kind pp)"),
    Field("luminosity_e_fb", float, unit="fb⁻¹", lo=0, lo_open=True, doc="electron channel"),
    Field("luminosity_mu_fb", float, unit="fb⁻¹", lo=0, lo_open=True, doc="muon channel"),
    Field("mc_events", int, default=4_000_000, lo=10_000,
          doc="W events generated once per card (one sample reweighted for every model point)"),
    Field("mc_seed", int, default=1, lo=0, doc="seed of that sample"),
    Field("background_mc_events", int, default=2_000_000, lo=10_000,
          doc="events per generated background process (seeded from mc_seed)"),
))


#: memory per generated W held while the card's sample is made (WSample truth incl. E, O, directions, normals)
W_BYTES_PER_EVENT = 300


def build(source_card, values, path, resolve_file) -> PPWSource:
    from ..errors import CardError, NudmsimError
    from ..generate import check_memory
    from .pp import load_pp_source

    for key in ("mc_events", "background_mc_events"):
        try:
            check_memory(W_BYTES_PER_EVENT * values[key], f"[source] {key} = {values[key]:.3g}",
                         "use fewer events in the card, e.g. 4000000")
        except NudmsimError as exc:
            raise CardError(path, f"source.{key}", str(exc)) from None

    p = str(source_card.path)
    lumi = {fl: values[f"luminosity_{fl}_fb"] / c.u.femtobarn for fl in ("e", "mu")}
    return PPWSource(source_card.name, p, load_pp_source(p), lumi, int(values["mc_events"]), int(values["mc_seed"]),
                     int(values["background_mc_events"]))


register_source_kind("pp_w", schema=PP_W_SOURCE, build=build, card_kind="pp",
                     doc="pp -> W -> l + invisible (fluxes/pp_<E>tev.toml), luminosity per lepton channel")
