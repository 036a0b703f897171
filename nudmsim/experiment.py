"""The experiment engine: one card -> an :class:`Experiment` that every command uses the same way.

An experiment card (``detectors/*.toml``, ``kind = "experiment"``) is a whole experiment in one text file, in
the spirit of GLoBES' AEDL::

    [card]         name, description, label, processes the card serves
    [source]       the source card and the exposure in its natural unit (protons on target, ...)
    [target]       material (formula or composition; natural elements expand to isotopes), mass (optional:
                   processes without a target, e.g. meson decays, need none)
    [[response]]   the detector response: an ordered chain of stages (nudmsim/response/stage.py)
    [observables]  the analysis axes and their binning (nudmsim/observables.py)
    [analysis]     data, samples, modifiers, measurements (nudmsim/analysis_card.py -> a Workspace)

and the engine turns it into

* ``expected(process, point)``: the expected histogram on the observables (quadrature nodes of the process
  pushed through the response chain in expectation mode; no random numbers),
* ``generate(process, point, n, rng)``: weighted events with truth and observables (the same chain in Monte
  Carlo mode),
* ``workspace(...)``: the likelihood specification of the card's analysis (plain data, pyhf-exportable), from
  which fits, limits and Asimov sensitivities follow (:mod:`nudmsim.stats`).

Arrival time at a beam source is independent of the recoil energy given the timing class (prompt/delayed), so
in expectation mode the engine evaluates the energy chain and the time chain separately per class and takes
their outer product (exact, and ~100x cheaper than expanding every energy row over every time bin).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import cards
from . import constants as c
from . import targets
from .errors import CardError, NudmsimError
from .formfactors import FORM_FACTORS
from .observables import Observables
from .registry import EventSample, resolve_params
from .response.lattice import TailTables
from .response.stage import Batch, StageContext, build_stage, nominal_values, run_chain
from .schema import validate

from .card_schemas.experiment import CARD, TARGET  # the declared [card] and [target] tables



# ------------------------------------------------------------------------------------------------
# target
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """Isotopes of the detector with the number of nuclei of each in the fiducial mass.

    ``form_factors``: the form factor of each isotope (``form_factor`` unless ``[target]
    form_factor_by_isotope`` overrides it, e.g. a point-like free proton); ``nucleon_mass`` [MeV]: the
    nucleon mass of per-nucleon cross sections (1 u or m_p, ``[target] nucleon_mass``)."""

    nuclei: tuple
    n_targets: np.ndarray
    form_factor: str
    mass_kg: float
    formula: str
    form_factors: tuple = ()
    nucleon_mass: float = c.AMU

    def form_factor_of(self, i: int) -> str:
        return self.form_factors[i] if self.form_factors else self.form_factor

    def __repr__(self) -> str:
        return f"Target({self.formula}, {self.mass_kg:g} kg, {len(self.nuclei)} isotopes, {self.form_factor})"


def target_from_card(table, path) -> Target:
    """The [target] table: a formula or a composition (natural elements expanded with their abundances,
    :func:`nudmsim.targets.material`) and the fiducial mass; optionally one effective nucleus of mass
    number ``single_nucleus_A`` (mass A u) instead of the isotopes, per-isotope form factors and the
    nucleon-mass convention."""
    v = validate(table, TARGET, path=path, prefix="target")
    key = "target.material" if v["material"] is not None else "target.composition"
    try:
        mat = targets.material(v["material"] if v["material"] is not None else v["composition"])
        n = mat.n_targets(v["mass_kg"])
    except NudmsimError as exc:
        raise CardError(path, key, str(exc)) from None
    nuclei = tuple(mat.isotopes)
    A = v["single_nucleus_A"]
    if A is not None:
        symbols = {i.symbol for i in nuclei}
        if len(symbols) != 1:
            raise CardError(path, "target.single_nucleus_A", f"needs a one-element material, {mat.name} has "
                            f"{', '.join(sorted(symbols))}", "drop it or give a single element")
        sym = nuclei[0].symbol
        nuclei = (targets.Nucleus(sym, nuclei[0].Z, A, A * c.AMU, 1.0),)
        n = np.array([v["mass_kg"] * targets.KG_IN_MEV / (A * c.AMU)])
    names = [i.name for i in nuclei]
    for name, ff in v["form_factor_by_isotope"].items():
        if name not in names:
            from .schema import suggest

            raise CardError(path, f"target.form_factor_by_isotope.{name}", "is not an isotope of the target",
                            suggest(name, names) or f"isotopes: {', '.join(names)}")
        if ff not in FORM_FACTORS:
            raise CardError(path, f"target.form_factor_by_isotope.{name}", f"is '{ff}'",
                            f"choose one of {', '.join(FORM_FACTORS)}")
    ffs = tuple(v["form_factor_by_isotope"].get(nm, v["form_factor"]) for nm in names)
    nm = c.AMU if v["nucleon_mass"] == "amu" else c.M_PROTON
    return Target(nuclei, np.asarray(n, float), v["form_factor"], v["mass_kg"], mat.name, ffs, nm)


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------
@dataclass
class Expected:
    """Expected counts of one process at one model point on the experiment's observables (events in the
    exposure).  ``counts`` has shape ``observables.shape``; ``interactions`` = before any response."""

    process: str
    point: dict
    counts: np.ndarray
    observables: Observables
    interactions: float
    values: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(self.counts.sum())

    def projection(self, axis: str) -> np.ndarray:
        i = self.observables.names.index(axis)
        return self.counts.sum(axis=tuple(j for j in range(self.counts.ndim) if j != i))

    def __repr__(self) -> str:
        pt = ", ".join(f"{k}={v:g}" for k, v in self.point.items())
        return (f"Expected({self.process}{' @ ' + pt if pt else ''}: {self.total:.4g} events in "
                f"{self.observables!r}; {self.interactions:.4g} interactions)")


# ------------------------------------------------------------------------------------------------
# the experiment
# ------------------------------------------------------------------------------------------------
TOP_LEVEL = ("card", "source", "target", "response", "observables", "analysis", "published")


class Experiment:
    """An experiment built from its card (see the module docstring)."""

    def __init__(self, card: cards.Card):
        from .sources import source_kind

        self.card = card
        path = card.path
        data = card.data
        for key in data:
            if key not in TOP_LEVEL:
                from .schema import suggest

                hint = suggest(key, TOP_LEVEL)
                raise CardError(path, key, "is not a section of an experiment card",
                                hint or f"sections: {', '.join(TOP_LEVEL)}")
        self.info = validate(data.get("card"), CARD, path=path, prefix="card")
        src_table = data.get("source")
        if not isinstance(src_table, dict) or not isinstance(src_table.get("card"), str):
            raise CardError(path, "source.card", "is missing", "name the source card, e.g. card = \"sns\"")
        self.source_card = cards.load_source(self._find_source(src_table["card"]))
        kind = self.source_card.get("card.kind", str)
        sk = source_kind(kind)
        if sk is None:
            raise CardError(path, "source.card", f"names a source of kind '{kind}', which the engine cannot use "
                            "yet", "use a pi_dar source such as 'sns' or a halo such as 'shm_xenon1t_2018'")
        self.source_kind = sk.kind
        self.source_values = validate(src_table, sk.schema, path=path, prefix="source")
        self.source = sk.build(self.source_card, self.source_values, path, self.resolve_file)
        self.target = target_from_card(data["target"], path) if data.get("target") is not None else None
        self.observables = Observables.from_card(data.get("observables"), path, self.resolve_file)
        resp = data.get("response", [])
        if not isinstance(resp, list):
            raise CardError(path, "response", "must be an array of tables", "write each stage as [[response]]")
        ctx = dict(path=path, resolve_file=self.resolve_file, observables=self.observables.edges,
                   target=self.target)
        self.stages = tuple(build_stage(t, StageContext(key=f"response[{i}]", **ctx)) for i, t in enumerate(resp))
        self.nuisance_nominal = nominal_values(self.stages)
        self.published = data.get("published", {})
        if not isinstance(self.published, dict):
            raise CardError(path, "published", "must be a table of reference numbers")
        self._generators: dict = {}
        self._cache: OrderedDict = OrderedDict()
        self._tails = TailTables()
        self._time_hists: OrderedDict = OrderedDict()
        self.analysis = None
        if "analysis" in data:
            from .analysis_card import parse_analysis

            self.analysis = parse_analysis(data["analysis"], self)
        for p in self.info["processes"]:
            self.generator(p)

    # -- construction helpers -----------------------------------------------------------------------
    @classmethod
    def load(cls, name_or_path) -> "Experiment":
        """The experiment of a card (name in ``detectors/`` or a path); cached on the file's content (a card seen
        before is not parsed again: a scan loads it once per point)."""
        path = cards.find(str(name_or_path), "detector")
        return _load_cached(str(path), cards.content_hash(cards.read_text(path)))

    def _find_source(self, name: str) -> str:
        p = self.card.path.parent / f"{name}.toml"
        return str(p) if p.is_file() and p.resolve() != self.card.path.resolve() else name

    def resolve_file(self, name: str, key: str = "") -> Path:
        """A file the card names: absolute, or relative to the card, ``data/`` or ``fluxes/``."""
        from .paths import resource_dir

        p = Path(name)
        for base in ([Path()] if p.is_absolute() else []) + [self.card.path.parent, resource_dir("data"),
                                                             resource_dir("fluxes")]:
            q = base / p
            if q.is_file():
                return q
        raise CardError(self.card.path, key, f"names file '{name}', which does not exist",
                        "give a path relative to the card, to data/ or to fluxes/")

    @property
    def name(self) -> str:
        return self.info["name"]

    @property
    def label(self) -> str:
        return self.info["label"] or self.name

    def __repr__(self) -> str:
        return (f"Experiment({self.name!r}: {self.source_kind} source, {self.target!r}, "
                f"{len(self.stages)} response stages, {self.observables!r})")

    # -- processes ----------------------------------------------------------------------------------
    def generator(self, process: str):
        """The truth-level generator of ``process`` on this experiment's source."""
        if process not in self._generators:
            from .generators import find

            self._generators[process] = find(process, self.source_kind, where=f" (experiment {self.name})")()
        return self._generators[process]

    def point(self, process: str, overrides=None) -> dict:
        """The model point of ``process``: its parameters' defaults updated by ``overrides`` (numbers or
        strings with units, as ``--set`` gives them), range-checked, then checked against the kinematics."""
        gen = self.generator(process)
        pt = resolve_params(gen.params, overrides or {}, process)
        gen.check(pt, self)
        return pt

    # -- expectation --------------------------------------------------------------------------------
    def _time_columns(self) -> set:
        cols = {"t_us"}
        for st in self.stages:
            if st.on in cols:
                cols.add(st.to)
        return cols if self.source_kind == "pi_dar" else set()

    def _time_rows(self, timing_class: int) -> Batch:
        """The arrival-time distribution of one timing class as weighted rows (expectation mode)."""
        tim = self.source.timing
        prompt = timing_class == 0
        if tim.model == "released_pdf":
            edges = tim.pdf_edges_us
        else:
            ax = [self.observables[a].edges for a in self.observables.names if a in self._time_columns()]
            lo = min([e[0] for e in ax] + [0.0]) - 1.0
            hi = max([e[-1] for e in ax] + [12.0]) + 1.0
            edges = np.arange(lo, hi + 1e-9, 0.005)
        p = tim.bin_probabilities(edges, prompt)
        return Batch({"t_us": 0.5 * (edges[1:] + edges[:-1])}, p)

    def expected(self, process: str, point=None, values=None) -> Expected:
        """Expected counts of ``process`` at ``point`` on the observables, at nuisance ``values``
        (physical values by nuisance name; missing = nominal).  Deterministic (quadrature)."""
        pt = self.point(process, point)
        vals = {k: float(v) for k, v in (values or {}).items()}
        for k in vals:
            if k not in self.nuisance_nominal:
                raise NudmsimError(f"{self.name}: no response nuisance '{k}' "
                                   f"(nuisances: {', '.join(self.nuisance_nominal) or 'none'})")
        key = (process, tuple(sorted(pt.items())), tuple(sorted(vals.items())))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        nodes = self._nodes(process, pt)
        counts = self._expect_counts(nodes, vals)
        gen = self.generator(process)     # an MC-only generator's rows may be preselected: it counts them itself
        inter = gen.interactions(pt, self) if hasattr(gen, "interactions") else nodes.total
        out = Expected(process, dict(pt), counts, self.observables, inter, vals)
        self._cache[key] = out
        if len(self._cache) > 256:
            self._cache.popitem(last=False)
        return out

    def expected_without(self, process: str, point=None, families=("efficiency", "cut")) -> np.ndarray:
        """Expected counts on the observables with the stages of ``families`` left out (e.g. before
        efficiencies), at nominal nuisances."""
        pt = self.point(process, point)
        keep = tuple(s for s in self.stages if s.family not in families)
        return self._expect_counts(self._nodes(process, pt), {}, stages=keep)

    def source_summary(self) -> dict:
        """Printable numbers of the source as configured (label -> (value, unit))."""
        fn = getattr(self.source, "summary", None)
        return fn() if fn is not None else {}

    def _nodes(self, process: str, pt: dict) -> Batch:
        """Quadrature nodes of the process at ``pt`` (cached), or, for a Monte Carlo-only generator (``nodes``
        None), its weighted rows ``mc_rows(pt, exp)`` (deterministic: a fixed-seed sample the generator keeps and
        reweights; not cached here, the rows of a large sample are big)."""
        key = ("nodes", process, tuple(sorted(pt.items())))
        if key not in self._cache:
            gen = self.generator(process)
            nodes = gen.nodes(pt, self)
            if nodes is None:
                mc = getattr(gen, "mc_rows", None)
                if mc is None:
                    raise NudmsimError(f"process '{process}' has no quadrature; use generate")
                return mc(pt, self)
            self._cache[key] = nodes
        return self._cache[key]

    def expect_rows(self, batch: Batch, values=None, enter_at: str | None = None) -> np.ndarray:
        """Histogram of ``batch`` pushed through the chain in expectation mode (from the first stage whose
        input is ``enter_at``, when given: a sample that starts part way, e.g. a PE spectrum from a file)."""
        return self._expect_counts(batch, values or {}, enter_at)

    def _stages_from(self, enter_at):
        if enter_at is None:
            return self.stages
        for i, st in enumerate(self.stages):
            if st.on == enter_at:
                return self.stages[i:]
        return ()

    def _expect_counts(self, rows: Batch, vals: dict, enter_at: str | None = None, stages=None) -> np.ndarray:
        stages = self._stages_from(enter_at) if stages is None else stages
        tcols = self._time_columns()
        obs = self.observables
        if not tcols or "t_us" in rows:
            return self._tails.histogram(rows, stages, obs, vals)
        e_stages = [s for s in stages if s.on not in tcols]
        t_stages = [s for s in stages if s.on in tcols]
        e_names = [a for a in obs.names if a not in tcols]
        t_names = [a for a in obs.names if a in tcols]
        e_obs, t_obs = obs.subset(e_names), obs.subset(t_names)
        out = np.zeros(obs.shape)
        t_nu = {nu.name for st in t_stages for nu in st.nuisances()}
        t_vals = tuple(sorted((k, v) for k, v in vals.items() if k in t_nu))
        for k, part in self._by_timing_class(rows):
            he = self._tails.histogram(part, e_stages, e_obs, vals) if e_names else \
                np.array(run_chain(e_stages, part, values=vals).total)
            # the time histogram of a class depends only on the time stages' nuisances: one per value, cached
            tkey = (k, tuple(id(st) for st in t_stages), t_vals, tuple(t_names))
            ht = self._time_hists.get(tkey)
            if ht is None:
                tr = run_chain(t_stages, self._time_rows(k), values=vals)
                ht = self._time_hists[tkey] = t_obs.histogram(tr) if t_names else np.array(tr.total)
                if len(self._time_hists) > TailTables.CACHE:
                    self._time_hists.popitem(last=False)
            prod = np.multiply.outer(he, ht)
            order = [(e_names + t_names).index(a) for a in obs.names]
            out += np.transpose(prod, order) if prod.ndim == len(order) and order else prod
        return out

    @staticmethod
    def _by_timing_class(rows: Batch) -> list:
        """[(timing class, its rows)] of a batch (kept on the batch: the quadrature nodes of a point are pushed
        through the chain once per nuisance variation of a workspace)."""
        got = rows.__dict__.get("_by_timing_class")
        if got is None:
            cls = np.asarray(rows["timing_class"]) if "timing_class" in rows else np.zeros(len(rows))
            got = [(k, rows.take(cls == k)) for k in (0, 1) if np.any(cls == k)]
            rows.__dict__["_by_timing_class"] = got
        return got

    # -- events -------------------------------------------------------------------------------------
    def generate(self, process: str, point, n: int, rng: np.random.Generator, start: int = 0,
                 columns: str | None = None) -> EventSample:
        """``n`` weighted events of ``process`` at ``point``: truth columns, ``t_us`` (beam sources) and every
        column the response chain makes; ``weight`` = expected *detected* events per generated event
        (efficiencies applied), ``weight_truth`` = expected interactions per generated event.  ``columns``: the
        ``--columns`` choice, passed to a generator that declares ``takes_columns`` (it may then skip truth
        columns that will not be written; the events are the same)."""
        from .generate import make_events

        gen = self.generator(process)
        pt = self.point(process, point)
        if columns is not None and getattr(gen, "takes_columns", False):
            b = gen.sample(pt, self, n, rng, start, columns=columns)
        else:
            b = gen.sample(pt, self, n, rng, start)
        if self._time_columns():
            b = b.with_columns(t_us=self.source.timing.sample(np.asarray(b["timing_class"]) == 0, rng))
        b = b.with_columns(weight_truth=b.weight)
        b = run_chain(self.stages, b, rng=rng)
        cols = {k: np.asarray(v) for k, v in b.columns.items()}
        for k in ("flavour", "target_id", "timing_class"):
            if k in cols:
                cols[k] = cols[k].astype(np.int32)
        cols["process_id"] = np.full(len(b), gen.process_id, np.int32)
        cols["weight"] = b.weight
        info = {"codes": gen.codes(self), "experiment": self.name, "interactions": float(np.sum(b["weight_truth"]))}
        run_info = getattr(gen, "run_info", None)        # a generator's own run metadata (e.g. the halo)
        if run_info is not None:
            info.update(run_info(pt, self))
        return EventSample(make_events(cols), float(np.sum(b.weight)), info)

    # -- likelihood ---------------------------------------------------------------------------------
    def workspace(self, measurement: str | None = None, point=None, process: str | None = None, **kw):
        """The card's analysis as a :class:`~nudmsim.stats.workspace.Workspace` (plain data)."""
        if self.analysis is None:
            raise NudmsimError(f"experiment '{self.name}' has no [analysis] section (add one to fit or limit)")
        return self.analysis.workspace(measurement, point=point, process=process, **kw)


@lru_cache(maxsize=16)
def _load_cached(path: str, sha: str) -> Experiment:
    return Experiment(cards.load_detector(path))


__all__ = ["Experiment", "Expected", "Target", "target_from_card", "CARD", "TARGET"]
