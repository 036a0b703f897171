"""Generators: the truth level of an experiment — quadrature nodes and weighted Monte Carlo events of a
process on a source and a target.  The response chain (:mod:`nudmsim.response`) follows.

A generator implements :class:`Generator` for one (process, source kind) pair and registers itself with
:func:`register_generator`; the engine (:mod:`nudmsim.experiment`) finds it from the process name and the
kind of the experiment's source card.  Truth columns carry their unit in the name (``E_nu_MeV``,
``E_R_keV``, ``p_mu_MeV``, ...), integer codes (``flavour``, ``target_id``, ``timing_class``) are floats in
the :class:`~nudmsim.response.stage.Batch` and documented by ``codes``.
"""
from __future__ import annotations

import importlib
from typing import Any, ClassVar, Mapping, Protocol, runtime_checkable

from ..errors import NudmsimError
from ..schema import suggest


@runtime_checkable
class Generator(Protocol):
    """Truth-level physics of one process on one kind of source.

    ``params``: the model point's parameters (registry.Param); ``truth_columns``: the columns it makes;
    ``codes``: {column: [names of code 0, 1, ...]}; ``process_id``: the id written to event files."""

    process: ClassVar[str]
    source_kind: ClassVar[str]
    summary: ClassVar[str]
    params: ClassVar[Mapping[str, Any]]
    truth_columns: ClassVar[tuple[str, ...]]
    process_id: ClassVar[int]

    def check(self, point: Mapping[str, float], exp) -> None:
        """ParameterError (one line, naming the limit) for an unphysical or kinematically forbidden point."""

    def nodes(self, point: Mapping[str, float], exp):
        """Quadrature nodes (a Batch whose weights sum to the expected interactions), or None (MC only)."""

    def sample(self, point: Mapping[str, float], exp, n: int, rng, start: int = 0):
        """``n`` weighted events (a Batch; weights sum to an unbiased estimate of the expected interactions).
        ``start`` = index of the first event in a longer run (counter-based streams stay reproducible)."""

    def codes(self, exp) -> dict[str, list[str]]:
        """Names of the integer codes in the truth columns."""


GENERATORS: dict[tuple[str, str], type] = {}

#: modules that register generators (imported on first lookup)
GENERATOR_MODULES = ["nudmsim.generators.pidar", "nudmsim.generators.halo", "nudmsim.generators.meson",
                     "nudmsim.generators.w_lepton"]


def register_generator(cls):
    GENERATORS[(cls.process, cls.source_kind)] = cls
    return cls


def load_all() -> dict:
    for mod in GENERATOR_MODULES:
        importlib.import_module(mod)
    return GENERATORS


def load_for(process: str) -> dict:
    """The registered generators of ``process`` ({(process, source kind): class}), importing only the modules
    that nudmsim.entry_index names for it (all of :data:`GENERATOR_MODULES` if it names none)."""
    from ..entry_index import GENERATOR_MODULES_BY_PROCESS

    for mod in GENERATOR_MODULES_BY_PROCESS.get(process, ()):
        importlib.import_module(mod)
    if not any(p == process for p, _ in GENERATORS):
        load_all()
    return {key: g for key, g in GENERATORS.items() if key[0] == process}


def find(process: str, source_kind: str, where: str = ""):
    """The generator class for ``process`` on a ``source_kind`` source, or a one-line NudmsimError."""
    if (process, source_kind) in load_for(process):
        return GENERATORS[(process, source_kind)]
    load_all()
    if (process, source_kind) in GENERATORS:
        return GENERATORS[(process, source_kind)]
    known = sorted({p for p, _ in GENERATORS})
    if process not in known:
        hint = suggest(process, known)
        raise NudmsimError(f"unknown process '{process}'{where} ({hint + ' ' if hint else ''}"
                           f"known: {', '.join(known)})")
    kinds = sorted(k for p, k in GENERATORS if p == process)
    raise NudmsimError(f"process '{process}' needs a source of kind {' or '.join(kinds)}{where}, "
                       f"but the experiment's source is of kind '{source_kind}'")


__all__ = ["Generator", "GENERATORS", "register_generator", "find", "load_all", "load_for"]
