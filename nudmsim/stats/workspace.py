"""A likelihood specification as plain data — HistFactory's vocabulary, serialisable as JSON, exportable to pyhf.

A :class:`Workspace` is what an experiment card's ``[analysis]`` section becomes for one model point and one
measurement: the observed counts on the observables, the samples (each a nominal histogram and its
modifiers), the parameters (initial values, bounds, constraints) and the parameter of interest.  It holds
numbers only (no callables), so it pickles, hashes, travels to Dask workers and writes to JSON; the machinery
that evaluates it is :meth:`Workspace.spec` (-> :class:`nudmsim.stats.likelihood.Spec`, used by ``fit``,
``upper_limit`` and ``expected_limit``) and :meth:`Workspace.to_pyhf` (-> a pyhf workspace dict).

Modifiers (the names are HistFactory's; ``name`` is the parameter they act through):

=============  ==================================================================================  ===========
type           effect on the sample                                                                 parameter
=============  ==================================================================================  ===========
normfactor     × ``name``                                                                           free
normsys        × (1 + θ·hi) for θ ≥ 0, (1 + θ·lo) below  (``data = {hi, lo}``: relative 1σ errors)  θ ~ N(0, 1)
histosys       + T(θ) − nominal, T interpolated between templates at ``data["knots"]`` (θ values):  θ ~ N(0, 1)
               piecewise linear for 3 knots (pyhf's code0), cubic spline for more
onoff          a background b_i per bin measured in a control sample ``off_i ~ Poisson(tau b_i)``,   profiled
               profiled analytically (``data = {off, tau}``; pyhf: a shapefactor and a control     per bin
               channel, see :mod:`nudmsim.stats.pyhf_export`)
parametric     the sample *is* a registered shape function of free parameters
               (``data = {model, x, params}``; e.g. a power law); not exportable to pyhf
=============  ==================================================================================  ===========

A sample with ``unit_normalised = True`` is divided by its sum at every parameter point, so a normfactor on it
is the sample's event count (the shape nuisances then move only the shape).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import numpy as np

from ..errors import NudmsimError

MODIFIER_TYPES = ("normfactor", "normsys", "histosys", "onoff", "parametric")

#: parametric shapes: name -> (function(x, **params) -> expected counts per bin, parameter names)
PARAMETRIC: dict[str, tuple[Callable, tuple[str, ...]]] = {}


def register_parametric(name: str, params: tuple[str, ...]):
    """Register a parametric background shape (``data = {"model": name, "x": bin centres, ...}``)."""

    def deco(fn):
        PARAMETRIC[name] = (fn, tuple(params))
        return fn

    return deco


@register_parametric("power_law", ("norm", "index"))
def _power_law(x, norm, index, x_ref=1.0, width=None):
    """norm × (x / x_ref)^(−index) × bin width (counts per bin; norm in counts per unit of x at x_ref)."""
    w = 1.0 if width is None else np.asarray(width)
    return norm * (np.asarray(x) / x_ref) ** (-index) * w


def _bin_fractions(x, width, cdf):
    """Fractions of a distribution with cumulative ``cdf`` in the bins (centres x, widths), normalised over them."""
    x, w = np.asarray(x, float), np.asarray(width, float)
    f = cdf(x + 0.5 * w) - cdf(x - 0.5 * w)
    return f / f.sum()


@register_parametric("exponential", ())
def _exponential(x, slope, scale=1.0, width=None):
    """scale x the bin fractions of exp(-x/slope) over the bins (a falling shape with a fixed slope; ``scale`` =
    the events over the bins, e.g. set by a sample's ``scale_to``)."""
    w = np.ones_like(np.asarray(x, float)) if width is None else width
    return scale * _bin_fractions(x, w, lambda t: -np.exp(-(t - np.min(x)) / slope))


@register_parametric("flat", ())
def _flat(x, scale=1.0, width=None):
    """scale x the bin widths over their sum (flat in x)."""
    w = np.ones_like(np.asarray(x, float)) if width is None else np.asarray(width, float)
    return scale * w / w.sum()


# ------------------------------------------------------------------------------------------------
# the data
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Modifier:
    type: str
    name: str
    data: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if self.type not in MODIFIER_TYPES:
            raise NudmsimError(f"unknown modifier type '{self.type}' (types: {', '.join(MODIFIER_TYPES)})")


@dataclass(frozen=True)
class Sample:
    name: str
    nominal: np.ndarray
    modifiers: tuple = ()
    unit_normalised: bool = False
    doc: str = ""

    def __repr__(self) -> str:
        mods = ", ".join(f"{m.type}:{m.name}" for m in self.modifiers)
        return f"Sample({self.name!r}, {float(np.sum(self.nominal)):.4g} events{'; ' + mods if mods else ''})"


@dataclass(frozen=True)
class ParameterConfig:
    """init, bounds (None = open), constraint ``(mean, sigma)`` of a Gaussian auxiliary measurement, fixed.
    ``physical = (nominal, error_hi, error_lo, unit)`` maps a standardised nuisance θ to its physical value."""

    name: str
    init: float
    bounds: tuple = (None, None)
    constraint: tuple | None = None
    fixed: bool = False
    doc: str = ""
    physical: tuple | None = None


@dataclass
class Workspace:
    """Observed counts + samples + parameters (+ the POI): see the module docstring."""

    name: str
    observed: np.ndarray
    samples: tuple
    parameters: dict
    poi: str
    axes: dict = field(default_factory=dict)
    mask: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    likelihood: dict = field(default_factory=lambda: {"kind": "poisson"})

    def __post_init__(self):
        self.observed = np.asarray(self.observed, dtype=float)
        if self.mask is None:
            self.mask = np.ones(self.observed.shape, bool)
        for s in self.samples:
            if np.shape(s.nominal) != self.observed.shape:
                raise NudmsimError(f"workspace {self.name}: sample '{s.name}' has shape {np.shape(s.nominal)}, "
                                   f"the data {self.observed.shape}")
            for m in s.modifiers:
                if m.type == "parametric":
                    for p in m.data["params"].values():
                        self._need(p, s)
                elif m.type != "onoff":
                    self._need(m.name, s)
        if self.poi not in self.parameters:
            raise NudmsimError(f"workspace {self.name}: the parameter of interest '{self.poi}' is not a parameter "
                               f"(parameters: {', '.join(self.parameters)})")

    def _need(self, name, sample):
        if name not in self.parameters:
            raise NudmsimError(f"workspace {self.name}: sample '{sample.name}' uses parameter '{name}', "
                               "which has no configuration")

    def __repr__(self) -> str:
        return (f"Workspace({self.name!r}: {int(self.mask.sum())} bins, {self.observed.sum():.0f} observed, "
                f"samples {[s.name for s in self.samples]}, POI {self.poi!r}, {len(self.parameters)} parameters)")

    # -- variants ---------------------------------------------------------------------------------
    def sample(self, name: str) -> Sample:
        for s in self.samples:
            if s.name == name:
                return s
        raise NudmsimError(f"workspace {self.name}: no sample '{name}'")

    def with_parameters(self, **changes) -> "Workspace":
        """Parameter configs changed, e.g. ``with_parameters(mu=dict(fixed=True, init=0.0))``."""
        params = dict(self.parameters)
        for k, ch in changes.items():
            if k not in params:
                raise NudmsimError(f"workspace {self.name}: no parameter '{k}'")
            params[k] = replace(params[k], **ch)
        return replace(self, parameters=params)

    # -- evaluation -------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """The likelihood kind (nudmsim.stats.kinds): "poisson" or a named kind such as "binwise_table"."""
        return self.likelihood.get("kind", "poisson")

    def spec(self, compiled: bool = True):
        """The :class:`~nudmsim.stats.likelihood.Spec` that evaluates this workspace (fits, limits, Asimov):
        compiled into dense arrays with an analytic gradient (:mod:`nudmsim.stats.compiled`) unless
        ``compiled=False`` (the reference implementation from the same plain data, for tests); or the evaluator
        of its named likelihood kind (:mod:`nudmsim.stats.kinds`)."""
        from .likelihood import Component, OnOffBackground, Parameter, Spec, TemplateGrid

        if self.kind != "poisson":
            from .kinds import get_kind

            return get_kind(self.kind).evaluator(self)

        comps, on_off = [], []
        for s in self.samples:
            onoff = [m for m in s.modifiers if m.type == "onoff"]
            if onoff:
                on_off.append(OnOffBackground(s.name, np.asarray(onoff[0].data["off"], float),
                                              float(onoff[0].data.get("tau", 1.0))))
                continue
            comps.append(Component(s.name, _sample_function(s, TemplateGrid)))
        params = [Parameter(p.name, p.init, bounds=tuple(p.bounds), constraint=p.constraint, fixed=p.fixed,
                            doc=p.doc) for p in self.parameters.values()]
        spec = Spec(self.observed, comps, params, poi=self.poi, on_off=on_off, mask=self.mask, name=self.name)
        if not compiled:
            return spec
        from .compiled import compile_spec

        return compile_spec(self, spec)

    def physical(self, values: Mapping[str, float]) -> dict:
        """Physical values of the standardised nuisances (θ -> nominal + θ·error) at a fit result's values."""
        out = {}
        for k, v in values.items():
            p = self.parameters.get(k)
            if p is not None and p.physical is not None:
                nom, hi, lo = p.physical[:3]
                out[k] = nom + v * (hi if v >= 0 else lo)
        return out

    # -- serialisation ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        def arr(a):
            return np.asarray(a, float).tolist()

        def mdata(d):
            return {k: (arr(v) if isinstance(v, np.ndarray) or (isinstance(v, list) and v and
                                                                isinstance(v[0], np.ndarray)) else v)
                    for k, v in d.items()}

        return {"name": self.name, "poi": self.poi, "observed": arr(self.observed),
                "mask": np.asarray(self.mask).tolist(), "axes": {k: arr(v) for k, v in self.axes.items()},
                "samples": [{"name": s.name, "nominal": arr(s.nominal), "unit_normalised": s.unit_normalised,
                             "modifiers": [{"type": m.type, "name": m.name, "data": mdata(m.data)}
                                           for m in s.modifiers]} for s in self.samples],
                "parameters": [{"name": p.name, "init": p.init, "bounds": list(p.bounds),
                                "constraint": list(p.constraint) if p.constraint else None, "fixed": p.fixed,
                                "physical": list(p.physical) if p.physical else None, "doc": p.doc}
                               for p in self.parameters.values()],
                "meta": self.meta, "likelihood": self.likelihood}

    @classmethod
    def from_dict(cls, d: dict) -> "Workspace":
        shape = np.shape(d["observed"])

        def mdata(m):
            out = dict(m["data"])
            for k in ("off", "x", "width"):
                if k in out:
                    out[k] = np.asarray(out[k], float)
            if "templates" in out:
                out["templates"] = [np.asarray(t, float).reshape(shape) for t in out["templates"]]
            return out

        samples = tuple(Sample(s["name"], np.asarray(s["nominal"], float).reshape(shape),
                               tuple(Modifier(m["type"], m["name"], mdata(m)) for m in s["modifiers"]),
                               s.get("unit_normalised", False)) for s in d["samples"])
        params = {p["name"]: ParameterConfig(p["name"], p["init"], tuple(p["bounds"]),
                                             tuple(p["constraint"]) if p["constraint"] else None, p["fixed"],
                                             p.get("doc", ""), tuple(p["physical"]) if p.get("physical") else None)
                  for p in d["parameters"]}
        return cls(d["name"], np.asarray(d["observed"], float), samples, params, d["poi"],
                   {k: np.asarray(v, float) for k, v in d.get("axes", {}).items()},
                   np.asarray(d["mask"], bool), d.get("meta", {}), d.get("likelihood", {"kind": "poisson"}))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def to_pyhf(self, **options) -> dict:
        """A pyhf workspace dict (spec v1.0.0) of this likelihood: see :mod:`nudmsim.stats.pyhf_export` for the
        modifier mapping (exact for normfactor, onoff, 3-knot histosys and, with pyhf's ``code0``, normsys).
        Named likelihood kinds other than poisson are refused (they are not HistFactory)."""
        if self.kind != "poisson":
            raise NudmsimError(f"workspace {self.name}: likelihood kind '{self.kind}' is not a HistFactory "
                               "likelihood, which pyhf cannot express")
        from .pyhf_export import to_pyhf

        return to_pyhf(self, **options)


def _sample_function(s: Sample, TemplateGrid):
    """expected(params) of one sample from its plain-data modifiers."""
    nominal = np.asarray(s.nominal, float)
    factors, shapes, param_fn = [], [], None
    for m in s.modifiers:
        if m.type == "normfactor":
            factors.append(("f", m.name, None))
        elif m.type == "normsys":
            factors.append(("s", m.name, (float(m.data["hi"]), float(m.data["lo"]))))
        elif m.type == "histosys":
            knots = np.asarray(m.data["knots"], float)
            temps = np.asarray(m.data["templates"], float)
            kind = "linear" if len(knots) <= 3 else "cubic"
            shapes.append((m.name, TemplateGrid(knots, temps - nominal[None], kind=kind, clip=False)))
        elif m.type == "parametric":
            fn, names = PARAMETRIC[m.data["model"]]
            consts = {k: v for k, v in m.data.items() if k not in ("model", "params", "x")}
            pmap = dict(m.data["params"])
            x = np.asarray(m.data["x"], float)
            param_fn = (fn, names, pmap, x, consts)
    unit = s.unit_normalised

    def expected(p):
        if param_fn is not None:
            fn, names, pmap, x, consts = param_fn
            out = np.asarray(fn(x, **{n: p[pmap[n]] for n in names}, **consts), float).reshape(nominal.shape)
        else:
            out = nominal
            for name, grid in shapes:
                out = out + grid(p[name])
            if shapes:          # interpolated shapes may undershoot; a signed nominal (a difference) stays signed
                out = np.maximum(out, 0.0)
        if unit:
            tot = out.sum()
            out = out / tot if tot > 0 else out
        f = 1.0
        for kind, name, err in factors:
            v = p[name]
            f *= v if kind == "f" else (1.0 + v * (err[0] if v >= 0 else err[1]))
        return out * f

    return expected


__all__ = ["Workspace", "Sample", "Modifier", "ParameterConfig", "register_parametric", "PARAMETRIC",
           "MODIFIER_TYPES"]
