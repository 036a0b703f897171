"""Registry: maps CLI names to processes, analyses and validation checks.

Adding a process, analysis or check is a single decorated entry in a module under
``nudmsim/analyses/`` or ``nudmsim/validation/`` (modules there are imported automatically), e.g.::

    register_process(ProcessEntry(name="cevns", summary="SM CEvNS", params={...},
                                  default_detector="coherent_csi_2017", generate=generate_cevns))

    @check("coherent.sm_events", unit="events", reference=173.0, tolerance=0.15 * 173.0,
           description="SM CEvNS events expected for the 2017 exposure")
    def _(): return predicted_sm_events()
"""
from __future__ import annotations

import importlib
import math
import pkgutil
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import constants as c
from .errors import NudmsimError, ParameterError


# ------------------------------------------------------------------------------------------------
# model parameters
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """A model parameter: default value (in ``unit``), documentation and allowed range (inclusive)."""

    default: float
    unit: str = ""
    doc: str = ""
    lo: float | None = 0.0
    hi: float | None = None
    strictly_positive: bool = False

    def scale(self) -> float:
        return _UNIT_SCALE.get(self.unit, 1.0)

    def range_text(self) -> str:
        """The allowed range for listings and messages, e.g. '(0, 4pi]' or '>= 0'."""
        lo_b = "(" if self.strictly_positive else "["
        lo = "0" if self.strictly_positive and self.lo in (None, 0.0) else (f"{self.lo:g}" if self.lo is not None
                                                                            else "-inf")
        if self.hi is None:
            return f"> {lo}" if lo_b == "(" else ("any" if self.lo is None else f">= {lo}")
        return f"{lo_b}{lo}, {self.hi:g}]"


_UNIT_SCALE = {"eV": c.eV, "keV": c.keV, "MeV": c.MeV, "GeV": c.GeV, "TeV": c.TeV, "": 1.0}
_VALUE_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|-inf)\s*([A-Za-z]*)\s*$", re.I)


def parse_value(name: str, text: str, param: Param) -> float:
    """Parse ``"10"``, ``"10MeV"``, ``"0.05 GeV"`` into the parameter's unit."""
    m = _VALUE_RE.match(text)
    if not m:
        raise ParameterError(f"--set {name}={text}: not a number (write e.g. {name}={param.default:g}"
                             f"{param.unit})")
    val = float(m.group(1))
    unit = m.group(2)
    if unit:
        if unit not in _UNIT_SCALE or not param.unit:
            raise ParameterError(f"--set {name}={text}: unit '{unit}' not understood "
                                 + (f"(parameter is in {param.unit})" if param.unit else
                                    "(the parameter takes a plain number, no unit)"))
        val = val * _UNIT_SCALE[unit] / param.scale()
    return val


def resolve_params(params: dict[str, Param], overrides: dict[str, Any] | None = None,
                   process: str = "") -> dict[str, float]:
    """Defaults updated by ``overrides`` (numbers or strings), each checked: finite, in range."""
    out = {k: float(p.default) for k, p in params.items()}
    for k, v in (overrides or {}).items():
        if k not in params:
            raise ParameterError(f"{process}: unknown parameter '{k}'{did_you_mean(k, params)} "
                                 f"(parameters: {', '.join(params)})")
        out[k] = parse_value(k, v, params[k]) if isinstance(v, str) else float(v)
    for k, v in out.items():
        p = params[k]
        unit = f" {p.unit}" if p.unit else ""
        if not math.isfinite(v):
            raise ParameterError(f"{process}: parameter {k} is {v} (give a finite number{unit})")
        if p.strictly_positive and v <= 0:
            raise ParameterError(f"{process}: parameter {k} = {v:g}{unit} must be > 0")
        if p.lo is not None and v < p.lo:
            raise ParameterError(f"{process}: parameter {k} = {v:g}{unit} must be >= {p.lo:g}{unit}")
        if p.hi is not None and v > p.hi:
            raise ParameterError(f"{process}: parameter {k} = {v:g}{unit} must be <= {p.hi:g}{unit}")
    return out


def parse_set_options(items: list[str] | None, flag: str = "--set") -> dict[str, str]:
    """``["m_X=10", "y_q=1e-5"]`` -> dict (values still strings, parsed by :func:`resolve_params`).
    A name given twice is refused (it silently took the last value)."""
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise ParameterError(f"{flag} {item}: expected name=value (e.g. {flag} m_X=10)")
        k, v = item.split("=", 1)
        k, v = k.strip(), v.strip()
        if not k:
            raise ParameterError(f"{flag} {item}: the name is empty (e.g. {flag} m_X=10)")
        if k in out and out[k] != v:
            raise ParameterError(f"{flag} {k} is given twice ({k}={out[k]} and {k}={v}); give it once")
        out[k] = v
    return out


def did_you_mean(name: str, known) -> str:
    """' (did you mean 'x'?)' for the closest known name, or ''."""
    import difflib

    best = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    if not best:
        low = {str(k).lower(): str(k) for k in known}
        best = [low[str(name).lower()]] if str(name).lower() in low else []
    return f" (did you mean '{best[0]}'?)" if best else ""


# ------------------------------------------------------------------------------------------------
# entries
# ------------------------------------------------------------------------------------------------
@dataclass
class EventSample:
    """Generated events (awkward record array) with the run information.

    ``events`` has at least the fields ``weight`` (expected events per generated event in the card's
    exposure), ``process_id`` and ``target_id``.  ``expected_total`` = sum of weights in exposure.
    ``info`` is free metadata (flux normalisation, target names for the ids, ...)."""

    events: Any
    expected_total: float
    info: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        fields = list(getattr(self.events, "fields", None) or (self.events.keys() if isinstance(self.events, dict)
                                                                else []))
        shown = ", ".join(fields[:6]) + (", ..." if len(fields) > 6 else "")
        return (f"EventSample({len(self.events)} events, {self.expected_total:.4g} expected in the exposure; "
                f"fields: {shown})")


@dataclass
class ProcessEntry:
    """A CLI-visible process.

    generate(params: dict[str, float], card: Card, n: int, rng: numpy.random.Generator) -> EventSample
    predict(params, card) -> dict of printable numbers (name -> (value, unit)) and optional arrays.
    observables: the event columns that are detector-level (``--columns observables``); the others, except
        ``weight`` and ``process_id`` (always written), are truth.
    final_state(columns, info) -> :class:`nudmsim.hepmc.FinalState` (four-vectors in GeV of the decaying
        particle and its products) for HepMC3 output, or None when the events are not particles (recoils).
    columns_hint: ``generate`` also takes ``columns=`` (the ``--columns`` choice), so that a generator can skip
        columns that will not be written (never changing the events).
    """

    name: str
    summary: str
    params: dict[str, Param]
    default_detector: str
    generate: Callable
    predict: Callable | None = None
    detectors: tuple[str, ...] = ()
    process_id: int = 0
    observables: tuple[str, ...] = ()
    final_state: Callable | None = None
    columns_hint: bool = False


@dataclass
class AnalysisEntry:
    """A fit and/or limit on one experiment.

    fit(card, params: dict[str, str], **options) -> dict  (printable results)
    limit(request: LimitRequest) -> LimitCurve
    """

    name: str
    summary: str
    default_detector: str
    fit: Callable | None = None
    limit: Callable | None = None
    limit_options: dict = field(default_factory=dict)


@dataclass
class CheckResult:
    """``status``: "" (pass/fail by ``passed``), "info" (an informational number: never fails the run) or
    "skip" (cannot run here, e.g. an optional package is missing: does not fail the run)."""

    name: str
    value: float
    reference: float
    tolerance: float
    unit: str
    passed: bool
    description: str = ""
    status: str = ""

    def as_dict(self) -> dict:
        d = {"name": self.name, "value": float(self.value), "reference": float(self.reference),
             "tolerance": float(self.tolerance), "unit": self.unit, "passed": bool(self.passed)}
        if self.status:
            d["status"] = self.status
        return d


class CheckSkipped(Exception):
    """Raised by a check that cannot run here (the reason is its message); the run does not fail."""


@dataclass
class CheckEntry:
    name: str
    run: Callable[[], Any]
    reference: float
    tolerance: float
    unit: str
    description: str
    relative: bool = False
    informational: bool = False

    def __call__(self) -> CheckResult:
        tol = self.tolerance * abs(self.reference) if self.relative else self.tolerance
        try:
            out = self.run()
        except CheckSkipped as exc:
            return CheckResult(self.name, math.nan, self.reference, tol, self.unit, True,
                               f"{self.description} (skipped: {exc})", "skip")
        if isinstance(out, CheckResult):
            return out
        if isinstance(out, tuple):  # (value, passed) for criteria that are not |v - ref| <= tol
            value, passed = out
        else:
            value, passed = out, None
        if passed is None:
            passed = bool(np.isfinite(value) and abs(value - self.reference) <= tol)
        if self.informational:
            return CheckResult(self.name, float(value), self.reference, tol, self.unit, True, self.description,
                               "info")
        return CheckResult(self.name, float(value), self.reference, tol, self.unit, bool(passed),
                           self.description)


PROCESSES: dict[str, ProcessEntry] = {}
ANALYSES: dict[str, AnalysisEntry] = {}
CHECKS: dict[str, CheckEntry] = {}


#: name -> the module whose import registered it (tools/make_entry_index.py writes nudmsim/entry_index.py from it)
ORIGINS: dict[tuple[str, str], str] = {}


def _origin() -> str:
    """The registering module: the first caller inside nudmsim.analyses / nudmsim.validation."""
    f = sys._getframe(1)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if mod.startswith(("nudmsim.analyses.", "nudmsim.validation.")):
            return mod
        f = f.f_back
    return ""


def register_process(entry: ProcessEntry) -> ProcessEntry:
    PROCESSES[entry.name] = entry
    ORIGINS[("process", entry.name)] = _origin()
    return entry


def register_analysis(entry: AnalysisEntry) -> AnalysisEntry:
    ANALYSES[entry.name] = entry
    ORIGINS[("analysis", entry.name)] = _origin()
    return entry


def check(name: str, *, unit: str, reference: float, tolerance: float, description: str,
          relative: bool = False, informational: bool = False):
    """Decorator registering a validation check (see module docstring).  ``informational``: a documented
    number that is reported but never fails the run (e.g. a known deviation of a release from a paper);
    a check raising :class:`CheckSkipped` is reported as skipped."""

    def deco(fn):
        CHECKS[name] = CheckEntry(name, fn, reference, tolerance, unit, description, relative, informational)
        return fn

    return deco


_LOADED = False


def load_all() -> None:
    """Import every module in nudmsim.analyses and nudmsim.validation (which register entries)."""
    global _LOADED
    if _LOADED:
        return
    for pkgname in ("nudmsim.analyses", "nudmsim.validation"):
        pkg = importlib.import_module(pkgname)
        for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{pkgname}.{mod.name}")
    _LOADED = True


def load_one(what: str, name: str) -> None:
    """Import only the module that registers ``name`` (nudmsim.entry_index), so that a command does not import
    every analysis (start-up time); a name the index does not know falls back to :func:`load_all`."""
    from .entry_index import ANALYSIS_MODULES, PROCESS_MODULES

    mod = {"process": PROCESS_MODULES, "analysis": ANALYSIS_MODULES}.get(what, {}).get(name)
    if mod is not None:
        try:
            importlib.import_module(mod)
        except ImportError:
            pass


def _lookup(table: dict, name: str, what: str):
    if name not in table:
        load_one(what, name)
    if name not in table:
        load_all()
    if name not in table:
        raise NudmsimError(f"unknown {what} '{name}'{did_you_mean(name, table)} "
                           f"(known: {', '.join(sorted(table)) or 'none'})")
    return table[name]


def get_process(name: str) -> ProcessEntry:
    return _lookup(PROCESSES, name, "process")


def get_analysis(name: str) -> AnalysisEntry:
    return _lookup(ANALYSES, name, "analysis")


def get_check(name: str) -> CheckEntry:
    return _lookup(CHECKS, name, "validation check")
