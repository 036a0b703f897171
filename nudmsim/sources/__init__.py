"""Sources: neutrino fluxes (SNS), DM halo, meson beams, pp collisions; each configured by a card in
``fluxes/`` and by the ``[source]`` table of an experiment card.

A source kind registers its ``[source]`` schema and a builder with :func:`register_source_kind`; the engine
(:mod:`nudmsim.experiment`) looks the kind up from the source card's ``card.kind``::

    register_source_kind("pi_dar", schema=PI_DAR_SOURCE, build=from_tables)
    # build(source_card: Card, values: dict (validated [source] table), path, resolve_file) -> source
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..schema import Section


@dataclass(frozen=True)
class SourceKind:
    kind: str
    schema: Section
    build: Callable[[Any, dict, Any, Any], Any]
    doc: str = ""
    card_kind: str = ""        # the source cards' card.kind it serves (default: the same name)


SOURCE_KINDS: dict[str, SourceKind] = {}

#: modules that register source kinds (imported on first lookup)
SOURCE_MODULES = ["nudmsim.sources.sns", "nudmsim.sources.halo", "nudmsim.sources.meson_beams",
                  "nudmsim.sources.pp_w"]


def register_source_kind(kind: str, *, schema: Section, build, doc: str = "", card_kind: str = "") -> None:
    """Register a source kind; ``card_kind``: the ``card.kind`` of the source cards it reads when that differs
    from the engine's name of the kind (e.g. ``pp_w`` reads ``pp`` cards)."""
    SOURCE_KINDS[kind] = SourceKind(kind, schema, build, doc, card_kind or kind)


def source_kind(kind: str) -> SourceKind | None:
    """The source kind of a source card's ``card.kind`` (or of the kind's own name)."""
    import importlib

    for mod in SOURCE_MODULES:
        importlib.import_module(mod)
    if kind in SOURCE_KINDS:
        return SOURCE_KINDS[kind]
    return next((sk for sk in SOURCE_KINDS.values() if sk.card_kind == kind), None)
