"""Meson sources: stopped K+ (E949) and a K+ beam decaying in flight (NA62), as a source kind of the engine.

A source card (``fluxes/<name>.toml``, ``[card] kind = "meson_source"``) gives the meson and its lab momentum
distribution::

    [meson]
    name = "K"                   # K or pi
    momentum_MeV = 0.0           # 0 = decays at rest; otherwise along +z
    momentum_spread_rel = 0.0    # Gaussian rms of p/p (beam momentum bite)

and the ``[source]`` table of an experiment card names it and gives the exposure::

    [source]
    card = "stopped_kaons_e949"
    meson_decays = 1.70e12       # mesons decaying in the exposure (stopped K+, or K+ decays in the fiducial volume)

The generators of :mod:`nudmsim.generators.meson` turn it into decays; weights are expected events in
``meson_decays`` decays.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..cards import Card, load_source
from ..errors import CardError
from ..schema import Field, Section


@dataclass(frozen=True)
class MesonSource:
    """Meson kinematics in the lab.  ``momentum`` [MeV] along +z (0 = at rest), ``spread_rel`` rms of p/p,
    ``n_decays`` mesons decaying in the exposure."""

    name: str
    meson: str
    momentum: float
    spread_rel: float = 0.0
    n_decays: float = 1.0
    info: dict = field(default_factory=dict)

    @property
    def at_rest(self) -> bool:
        return self.momentum == 0.0

    def summary(self) -> dict:
        where = "at rest" if self.at_rest else f"in flight at {self.momentum / 1000:g} GeV/c"
        return {f"{self.meson}+ decays in the exposure ({where})": (self.n_decays, "")}

    def momenta(self, n: int, rng) -> np.ndarray:
        """Lab momentum of each meson [MeV] (along +z)."""
        if self.at_rest:
            return np.zeros(n)
        if self.spread_rel > 0:
            z = rng.standard_normal(n, dtype=np.float32).astype(np.float64)
            return self.momentum * (1.0 + self.spread_rel * z)
        return np.full(n, self.momentum)

    def momentum_nodes(self, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """(momenta [MeV], probabilities): Gauss-Hermite nodes of the Gaussian momentum bite (one node at rest
        or without a spread)."""
        if self.at_rest or self.spread_rel == 0:
            return np.array([self.momentum]), np.array([1.0])
        x, w = np.polynomial.hermite_e.hermegauss(n)
        return self.momentum * (1.0 + self.spread_rel * x), w / math.sqrt(2.0 * math.pi)


def load_meson_source(name_or_card, n_decays: float = 1.0) -> MesonSource:
    card = name_or_card if isinstance(name_or_card, Card) else load_source(name_or_card)
    kind = card.card_kind
    if kind != "meson_source":
        raise CardError(card.path, "card.kind", f"is '{kind}'", "a meson source card has kind = \"meson_source\"")
    from ..processes import meson_decays as md

    meson = card.get("meson.name", str, choices=tuple(md.MESONS))
    p = card.number("meson.momentum_MeV", nonnegative=True)
    spread = card.number("meson.momentum_spread_rel", nonnegative=True, hi=0.2)
    return MesonSource(card.name, meson, p, spread, n_decays,
                       {"source_card": card.name, "source_sha256": card.sha256})


# ------------------------------------------------------------------------------------------------
# the [source] table of an experiment card (nudmsim.experiment)
# ------------------------------------------------------------------------------------------------
MESON_SOURCE = Section("source", "charged mesons decaying at rest or in flight", fields=(
    Field("card", str, doc="meson source card (fluxes/NAME.toml, kind meson_source, or a file next to the card)"),
    Field("meson_decays", float, lo=0, lo_open=True,
          doc="mesons decaying in the exposure (stopped K+, or K+ decays in the fiducial volume)"),
))


def from_tables(src: Card, v: dict, path, resolve_file) -> MesonSource:
    """The meson source from its source card and the validated ``[source]`` table of an experiment card."""
    return load_meson_source(src, v["meson_decays"])


def _register():
    from . import register_source_kind

    register_source_kind("meson_source", schema=MESON_SOURCE, build=from_tables,
                         doc="pi+/K+ decaying at rest (stopped beam) or in flight (a secondary beam along z)")


_register()

__all__ = ["MesonSource", "load_meson_source", "from_tables", "MESON_SOURCE"]
