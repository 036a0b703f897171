"""Likelihood kinds: how a workspace's expected counts meet the data.

The default kind, ``poisson``, is the binned Poisson likelihood of :class:`~nudmsim.stats.likelihood.Spec`
(HistFactory's).  A release that publishes its own procedure or result instead of its data (XENON1T's binwise
-2 ln L tables with toy-MC critical values, E949's upper limits on B(K+ -> pi+ X) as a function of m_X) or a
conservative bound without a background model (a most-constraining-bin Poisson bound) is a *named likelihood
kind* that any experiment card may use::

    [analysis]
    likelihood = "binwise_table"
    likelihood_options = { table = "...csv", threshold = "...csv" }

A kind declares

* ``schema``: the keys of ``[analysis] likelihood_options`` (strict, like every card table);
* ``prepare(options, exp, analysis) -> dict``: plain data (numbers and lists, JSON-serialisable) stored in the
  workspace (``Workspace.likelihood``), read once when the card loads;
* ``observed(options, exp, data) -> array | None``: the observed counts on the observables when the kind
  carries its own data (``[analysis] data`` then stays empty);
* ``evaluator(workspace)``: a Spec-compatible object — ``poi``, ``name``, ``mask``, ``observed``,
  ``expected(params)``, ``nominal()`` — that defines ``upper_limit(cl=, method=, power_constraint=)`` (called by
  :func:`nudmsim.stats.limits.upper_limit`) and, for kinds without a background model,
  ``expected_limit(...)`` raising a one-line error;
* ``methods``: the limit methods it supports (the first is its default); ``projection``: whether Asimov
  projections exist;
* ``at_point(likelihood, exp, point, process) -> dict`` (optional): the workspace's plain data at one model
  point (e.g. the signal's rate per decay that a published limit is compared with).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import NudmsimError
from ..schema import Section, suggest


@dataclass(frozen=True)
class LikelihoodKind:
    name: str
    schema: Section | None
    prepare: Callable[[dict, Any, dict], dict] | None
    evaluator: Callable[[Any], Any] | None
    methods: tuple[str, ...]
    projection: bool = True
    observed: Callable | None = None
    doc: str = ""
    at_point: Callable | None = None


LIKELIHOOD_KINDS: dict[str, LikelihoodKind] = {}

#: modules that register likelihood kinds (imported on first lookup)
KIND_MODULES = ["nudmsim.stats.binwise", "nudmsim.stats.bound", "nudmsim.stats.published", "nudmsim.stats.maxgap"]


def register_likelihood_kind(kind: LikelihoodKind) -> LikelihoodKind:
    LIKELIHOOD_KINDS[kind.name] = kind
    return kind


register_likelihood_kind(LikelihoodKind(
    "poisson", None, None, None, ("plr", "cls", "delta-chi2"), True,
    doc="binned Poisson likelihood with HistFactory modifiers (nudmsim.stats.likelihood.Spec); limits by the "
        "profile likelihood ratio (CCGV q~, method plr), CLs, or Delta chi^2 = 2.706 (delta-chi2)"))


def kinds() -> dict[str, LikelihoodKind]:
    for mod in KIND_MODULES:
        importlib.import_module(mod)
    return LIKELIHOOD_KINDS


def get_kind(name: str) -> LikelihoodKind:
    """The registered kind ``name`` or a one-line error with a suggestion (the kind modules are imported only
    for a kind not yet registered: a poisson card does not pay for scipy.stats at start-up)."""
    if name in LIKELIHOOD_KINDS:
        return LIKELIHOOD_KINDS[name]
    k = kinds()
    if name not in k:
        hint = suggest(name, k)
        raise NudmsimError(f"unknown likelihood kind '{name}' ({hint + ' ' if hint else ''}kinds: {', '.join(k)})")
    return k[name]


def check_kind_name(name) -> str | None:
    """Schema check of ``[analysis] likelihood``."""
    if name in LIKELIHOOD_KINDS:
        return None
    k = kinds()
    if name in k:
        return None
    hint = suggest(name, k)
    return f"is '{name}', not a likelihood kind ({hint + ' ' if hint else ''}kinds: {', '.join(k)})"


class PoissonBacked:
    """Shared part of the evaluators of named kinds that read the workspace's expected counts through the
    Poisson spec of the same plain data and have no background model: ``nominal``/``expected``, the signal
    per unit POI, and a one-line refusal of Asimov projections.  A subclass names its procedure in
    ``NO_NUISANCES`` / ``NO_PROJECTION`` (the error texts) and sets ``NUISANCES = True`` if it handles free
    nuisance parameters itself (e.g. as an envelope)."""

    NO_NUISANCES = "this likelihood has no nuisance parameters"
    NO_PROJECTION = "this likelihood has no background model"
    NUISANCES = False

    def __init__(self, ws):
        from dataclasses import replace

        self.ws = ws
        self.base = replace(ws, likelihood={"kind": "poisson"}).spec()
        self.name, self.poi, self.mask, self.observed = ws.name, ws.poi, ws.mask, ws.observed
        free = [p.name for p in ws.parameters.values() if not p.fixed and p.name != ws.poi]
        if free and not self.NUISANCES:
            raise NudmsimError(f"workspace {ws.name}: {self.NO_NUISANCES}, but the measurement has "
                               f"{', '.join(free)} (fix them or give the samples nuisances = \"none\")")

    def nominal(self, **overrides):
        return self.base.nominal(**overrides)

    def expected(self, params):
        return self.base.expected(params)

    def signal(self, masked: bool = False) -> np.ndarray:
        """Expected counts per bin proportional to the POI (at POI = 1), flattened; ``masked``: zero outside
        the analysis range."""
        on = self.base.expected(self.base.nominal(**{self.poi: 1.0}))
        off = self.base.expected(self.base.nominal(**{self.poi: 0.0}))
        return (np.where(self.mask, on - off, 0.0) if masked else on - off).ravel()

    def expected_limit(self, *args, **kw):
        raise NudmsimError(f"{self.name}: {self.NO_PROJECTION}, so no Asimov projection")


def check_likelihood_options(values: dict, path) -> dict:
    """The validated ``likelihood_options`` of a validated [analysis] table (strict, by the kind's schema)."""
    from ..errors import CardError
    from ..schema import validate

    kind = get_kind(values["likelihood"])
    opts = values["likelihood_options"]
    if kind.schema is None:
        if opts:
            raise CardError(path, "analysis.likelihood_options", f"is not used by the {kind.name} likelihood",
                            "drop it")
        return {}
    return validate(opts, kind.schema, path=path, prefix="analysis.likelihood_options")


__all__ = ["PoissonBacked", "LikelihoodKind", "LIKELIHOOD_KINDS", "register_likelihood_kind", "get_kind", "kinds",
           "check_kind_name", "check_likelihood_options"]
