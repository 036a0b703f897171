"""The response chain of an experiment card: weighted rows (:class:`Batch`) and the :class:`Stage` protocol.

An experiment card declares its detector response as an ordered list of stages::

    [[response]]
    stage = "quenching"          # family
    model = "polynomial_eee"     # model within the family (a registered type)
    on = "E_R_keV"               # input column
    to = "E_ee_keV"              # output column
    coefficients = [0.0554628, 4.30681, -111.707, 840.384]
    unit = "MeV"                 # unit of the polynomial's argument and value

Each registered type (``@register_stage``) is a small class that

* declares its card keys as a :class:`~nudmsim.schema.Section` (``schema``; the common keys ``stage``,
  ``model``, ``on``, ``to``, ``name`` are added by :func:`stage_schema`),
* is built from the validated table by ``from_card(values, ctx)``,
* exposes its uncertain parameters as :class:`Nuisance` s (``nuisances()``; e.g. a quenching constant with
  its error), which the analysis turns into constrained parameters,
* transforms a :class:`Batch` in two modes with the same physics:

  - ``sample(batch, rng, values)``: Monte Carlo (a Poisson count is drawn, a Gaussian smearing is drawn);
  - ``expect(batch, values)``: deterministic expectation (quadrature).  A stochastic stage *expands* each
    row into several rows (the possible outcomes, e.g. the 1-PE bins or fine sub-bins of the observable)
    whose weights carry the probabilities, so histogramming the result gives the exact expected counts
    (up to the fineness of the expansion grid) with no random numbers.

``values`` maps nuisance names to *physical* values (missing names take their nominal values), so the same
stage serves the nominal chain, the ±1σ variations of a likelihood and a fit at any nuisance point.

Columns carry their unit in the name (``E_R_keV`` nuclear recoil in keVnr, ``E_ee_keV`` electron-equivalent
keV, ``pe`` photoelectrons, ``t_us`` microseconds, ``p_mu_MeV``, ``pt_GeV``, ``eta``); row weights are
expected events in the card's exposure.  Stages are pure: they return a new :class:`Batch` and never modify
their input.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Protocol, runtime_checkable

import numpy as np

from ..errors import CardError, NudmsimError
from ..schema import Field, Section, suggest


# ------------------------------------------------------------------------------------------------
# rows
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Batch:
    """Weighted rows: named 1-d float columns of equal length and a weight per row.

    ``weight`` is expected events in the card's exposure (a generated event or a quadrature node)."""

    columns: Mapping[str, np.ndarray]
    weight: np.ndarray

    def __post_init__(self):
        n = len(self.weight)
        for k, v in self.columns.items():
            if len(v) != n:
                raise ValueError(f"Batch column '{k}' has {len(v)} rows, weight has {n}")

    def __len__(self) -> int:
        return len(self.weight)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"no column '{name}' (columns: {', '.join(self.columns)})") from None

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    @property
    def total(self) -> float:
        return float(np.sum(self.weight))

    def with_columns(self, weight: np.ndarray | None = None, **cols: np.ndarray) -> "Batch":
        """A new batch with ``cols`` added or replaced (and optionally new weights)."""
        new = dict(self.columns)
        new.update(cols)
        return Batch(new, self.weight if weight is None else weight)

    def scaled(self, factor) -> "Batch":
        """Weights multiplied by ``factor`` (a number or a per-row array)."""
        return Batch(self.columns, self.weight * factor)

    def take(self, index) -> "Batch":
        """Rows ``index`` (an integer index array or a boolean mask)."""
        return Batch({k: v[index] for k, v in self.columns.items()}, self.weight[index])

    def expand(self, values: np.ndarray, probabilities: np.ndarray, to: str) -> "Batch":
        """Each row i becomes ``k`` rows with column ``to`` = ``values[i, j]`` (or ``values[j]`` if 1-d) and
        weight ``weight[i] * probabilities[i, j]`` (the expectation-mode expansion of a stochastic stage).
        Rows with zero probability are dropped."""
        probabilities = np.asarray(probabilities, dtype=float)
        n, k = probabilities.shape
        w = (self.weight[:, None] * probabilities).ravel()
        flat = np.flatnonzero(w)                 # row-major: row i's outcomes in order, rows in order
        if np.ndim(values) == 1:
            rows, j = np.divmod(flat, k)
            vals = np.asarray(values, dtype=float)[j]
        else:
            rows = flat // k
            vals = np.asarray(values, dtype=float).ravel()[flat]
        cols = {c: v[rows] for c, v in self.columns.items()}
        cols[to] = vals
        return Batch(cols, w[flat])

    @staticmethod
    def concatenate(batches) -> "Batch":
        batches = list(batches)
        if not batches:
            raise ValueError("no batches")
        names = list(batches[0].columns)
        return Batch({c: np.concatenate([b[c] for b in batches]) for c in names},
                     np.concatenate([b.weight for b in batches]))


# ------------------------------------------------------------------------------------------------
# nuisances and the protocol
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Nuisance:
    """An uncertain stage parameter: nominal value and (asymmetric) 1σ errors, in ``unit``.

    The analysis makes it a constrained parameter; ``knots`` (odd, >= 3) asks for templates at that many
    values over ±``span``σ (cubic interpolation between them) instead of the default ±1σ histosys."""

    name: str
    nominal: float
    error_hi: float
    error_lo: float
    unit: str = ""
    doc: str = ""
    knots: int = 3
    span: float = 1.0
    bounds: tuple = (None, None)

    def value(self, theta: float) -> float:
        """Physical value at ``theta`` standard deviations (piecewise linear in the asymmetric errors)."""
        return self.nominal + theta * (self.error_hi if theta >= 0 else self.error_lo)


@dataclass(frozen=True)
class StageContext:
    """What a stage may need from its card when it is built.

    ``path``: the card file (for errors); ``key``: the dotted position, e.g. ``response[2]``;
    ``resolve_file(name) -> Path``: a table file named in the card (relative to the card, ``data/``,
    ``fluxes/``); ``observables``: {column: bin edges} of the analysis (for expansion grids);
    ``target``: the experiment's target (isotopes, Z, A, masses) for stages such as Lindhard or Birks."""

    path: Any
    key: str
    resolve_file: Any = None
    observables: Mapping[str, np.ndarray] = field(default_factory=dict)
    target: Any = None

    def error(self, key: str, problem: str, fix: str = "") -> CardError:
        return CardError(self.path, f"{self.key}.{key}" if key else self.key, problem, fix)


@runtime_checkable
class Stage(Protocol):
    """A response stage (see the module docstring).  Implementations are registered with
    :func:`register_stage` and list their own keys in ``schema``."""

    family: ClassVar[str]
    model: ClassVar[str]
    schema: ClassVar[Section]
    doc: ClassVar[str]
    on: str
    to: str

    @classmethod
    def from_card(cls, values: dict, ctx: StageContext) -> "Stage": ...

    def nuisances(self) -> tuple[Nuisance, ...]: ...

    def sample(self, batch: Batch, rng: np.random.Generator,
               values: Mapping[str, float] | None = None) -> Batch: ...

    def expect(self, batch: Batch, values: Mapping[str, float] | None = None) -> Batch: ...


# ------------------------------------------------------------------------------------------------
# registry
# ------------------------------------------------------------------------------------------------
STAGES: dict[tuple[str, str], type] = {}

COMMON_KEYS = Section("response", "keys every stage has", fields=(
    Field("stage", str, doc="stage family (quenching, yield, resolution, efficiency, cut, axis, ...)"),
    Field("model", str, doc="model within the family"),
    Field("name", str, default="", doc="optional label (names the stage's nuisances)"),
))


def register_stage(cls):
    """Class decorator: register a stage type under (``cls.family``, ``cls.model``)."""
    key = (cls.family, cls.model)
    if key in STAGES and STAGES[key] is not cls:
        raise ValueError(f"stage {key} registered twice")
    STAGES[key] = cls
    return cls


def stage_schema(cls) -> Section:
    """The full schema of a stage type: the common keys plus its own."""
    own = cls.schema
    return Section(f"response: {cls.family} / {cls.model}", cls.doc, tuple(COMMON_KEYS.fields) + tuple(own.fields),
                   own.extra, own.one_of, own.check)     # keep the stage's own one_of / check


def lookup(family: str, model: str, ctx: StageContext) -> type:
    """The registered class for (family, model), or a CardError with a suggestion."""
    _load_builtin_stages()
    if (family, model) in STAGES:
        return STAGES[(family, model)]
    families = sorted({f for f, _ in STAGES})
    if family not in families:
        hint = suggest(family, families)
        raise ctx.error("stage", f"unknown stage family '{family}'",
                        hint or f"families: {', '.join(families)}")
    models = sorted(m for f, m in STAGES if f == family)
    hint = suggest(model, models)
    raise ctx.error("model", f"unknown {family} model '{model}'", hint or f"models: {', '.join(models)}")


def build_stage(table: dict, ctx: StageContext):
    """Validate one ``[[response]]`` table and build its stage."""
    from ..schema import validate

    if not isinstance(table, dict):
        raise ctx.error("", "must be a table ([[response]] with stage = ..., model = ...)")
    for k in ("stage", "model"):
        if not isinstance(table.get(k), str):
            raise ctx.error(k, "is missing" if k not in table else f"must be a string, got {table[k]!r}")
    cls = lookup(table["stage"], table["model"], ctx)
    values = validate(table, stage_schema(cls), path=ctx.path, prefix=ctx.key)
    return cls.from_card(values, ctx)


def run_chain(stages, batch: Batch, *, rng: np.random.Generator | None = None,
              values: Mapping[str, float] | None = None) -> Batch:
    """Apply ``stages`` in order: Monte Carlo when ``rng`` is given, otherwise the expectation."""
    for st in stages:
        batch = st.sample(batch, rng, values) if rng is not None else st.expect(batch, values)
    return batch


_BUILTIN_LOADED = False


def _load_builtin_stages() -> None:
    """Import the modules that register the built-in stage types (listed explicitly, as pyhf does)."""
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    import importlib

    for mod in BUILTIN_MODULES:
        importlib.import_module(mod)
    _BUILTIN_LOADED = True


#: modules that define built-in stages (each registers its types on import)
BUILTIN_MODULES: list[str] = [
    "nudmsim.response.stages_energy",       # quenching/*, yield/linear
    "nudmsim.response.stages_resolution",   # resolution/poisson, gaussian, migration_matrix
    "nudmsim.response.stages_efficiency",   # efficiency/*, cut/window
    "nudmsim.response.stages_axis",         # axis/conditional_table, resolution/bin_efficiencies
    "nudmsim.response.stages_tracking",     # resolution/parent_frame_momentum
    "nudmsim.response.stages_collider",     # collider/atlas_w
]


def nominal_values(stages) -> dict[str, float]:
    """{nuisance name: nominal value} over a chain; duplicate names are an error."""
    out: dict[str, float] = {}
    for st in stages:
        for nu in st.nuisances():
            if nu.name in out:
                raise NudmsimError(f"two response stages declare the nuisance '{nu.name}' (give one a name =)")
            out[nu.name] = nu.nominal
    return out


__all__ = ["Batch", "Nuisance", "StageContext", "Stage", "STAGES", "register_stage", "stage_schema",
           "build_stage", "run_chain", "lookup", "nominal_values", "BUILTIN_MODULES"]
