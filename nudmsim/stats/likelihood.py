"""Binned Poisson likelihood: a *spec* (what is measured and predicted) and the machinery that fits it.

The spec is plain data in the spirit of pyhf's workspace, but with Python callables instead of a JSON
modifier language:

* :class:`Parameter` — a named parameter with an initial/nominal value, bounds, and optionally a
  Gaussian constraint ``(mean, sigma)`` (an auxiliary measurement; ``mean`` is the *global observable*
  that toys fluctuate).  Asymmetric constraints are written as a standardised nuisance ``theta``
  (mean 0, sigma 1) that the component maps to its physical value (see :func:`asymmetric`).
* :class:`Component` — a named callable ``expected(p) -> counts`` where ``p`` maps parameter names to
  values and ``counts`` has the shape of the observed histogram (any shape; it is flattened).
* :class:`OnOffBackground` — a background measured bin by bin in a control ("off") sample,
  ``m_i ~ Poisson(tau * b_i)``, with one free ``b_i`` per bin profiled *analytically*
  (the on/off profile likelihood; Barlow–Beeston-lite for a single background).
* :class:`Spec` — the observed counts (optionally a boolean ``mask`` of bins to use), the components,
  the parameters, the name of the parameter of interest (``poi``) and the on/off backgrounds.

The machinery: :class:`NLL` is an iminuit cost function (``errordef = 1``: it returns −2 ln L) equal to
the Poisson deviance ``2 Σ [ν − n + n ln(n/ν)]`` plus the constraint terms ``((x − mean)/sigma)²``
(so the minimum is a χ²-like goodness of fit, and differences are −2 ln λ); :func:`fit` runs MIGRAD
(+ HESSE, optionally MINOS) and returns a :class:`FitResult` of plain numbers.

Example (a counting experiment with a 10% background uncertainty)::

    spec = Spec(observed=[12], components=[
                    Component("signal", lambda p: [p["mu"] * 5.0]),
                    Component("bkg", lambda p: [8.0 * p["b_norm"]])],
                parameters=[Parameter("mu", 1.0, bounds=(0, None)),
                            Parameter("b_norm", 1.0, bounds=(0, None), constraint=(1.0, 0.1))],
                poi="mu")
    res = fit(spec)          # res.values["mu"], res.errors["mu"], res.twice_nll, res.valid
    res0 = fit(spec, fix={"mu": 0.0})

Limits (:mod:`nudmsim.stats.limits`) and Asimov sensitivities (:mod:`nudmsim.stats.asimov`) use only
this interface, so any analysis that builds a :class:`Spec` gets them for free.
"""
from __future__ import annotations

import bisect
import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
from scipy.special import xlogy

from ..errors import NudmsimError

__all__ = ["Parameter", "Component", "OnOffBackground", "Spec", "NLL", "FitResult", "fit",
           "asymmetric", "TemplateGrid", "profile_on_off"]


# ------------------------------------------------------------------------------------------------
# the spec
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """A fit parameter.

    value: initial value (and the nominal value used for Asimov data when no other is given).
    bounds: (lo, hi), ``None`` = unbounded.  constraint: ``(mean, sigma)`` adds ((x-mean)/sigma)² to
    −2 ln L.  fixed: held at ``value`` in every fit.  step: initial step for MIGRAD (default: sigma of the
    constraint, else 10% of |value| or 0.1)."""

    name: str
    value: float
    bounds: tuple = (None, None)
    constraint: tuple | None = None
    fixed: bool = False
    step: float | None = None
    doc: str = ""

    def initial_step(self) -> float:
        if self.step is not None:
            return float(self.step)
        if self.constraint is not None:
            return float(self.constraint[1])
        return 0.1 * abs(self.value) if self.value != 0 else 0.1


@dataclass(frozen=True)
class Component:
    """A named contribution to the expected counts: ``expected(params) -> array`` (observed's shape)."""

    name: str
    expected: Callable[[Mapping[str, float]], np.ndarray]
    doc: str = ""


@dataclass(frozen=True)
class OnOffBackground:
    """A background known only through a control measurement: ``off[i] ~ Poisson(tau * b[i])`` while the
    signal region sees ``b[i]``.  Every ``b[i]`` is a nuisance parameter, profiled analytically
    (:func:`profile_on_off`), so it adds no MIGRAD parameters.  ``tau`` = control/signal exposure ratio."""

    name: str
    off: np.ndarray
    tau: float = 1.0
    doc: str = ""


@dataclass
class Spec:
    """Observed counts + components + parameters (+ on/off backgrounds).  See the module docstring."""

    observed: np.ndarray
    components: Sequence[Component]
    parameters: Sequence[Parameter]
    poi: str | None = None
    on_off: Sequence[OnOffBackground] = ()
    mask: np.ndarray | None = None
    name: str = ""

    def __post_init__(self):
        self.observed = np.asarray(self.observed, dtype=float)
        self.shape = self.observed.shape
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise NudmsimError(f"spec {self.name!r}: duplicate parameter names in {names}")
        if self.poi is not None and self.poi not in names:
            raise NudmsimError(f"spec {self.name!r}: parameter of interest '{self.poi}' is not a parameter")
        if np.any(self.observed < 0) or not np.all(np.isfinite(self.observed)):
            raise NudmsimError(f"spec {self.name!r}: observed counts must be finite and >= 0")
        for p in self.parameters:
            if p.constraint is not None and not (p.constraint[1] > 0):
                raise NudmsimError(f"spec {self.name!r}: constraint sigma of '{p.name}' must be > 0")
        if self.mask is None:
            self.mask = np.ones(self.shape, dtype=bool)
        else:
            self.mask = np.broadcast_to(np.asarray(self.mask, dtype=bool), self.shape).copy()
        self.on_off = tuple(dataclasses.replace(o, off=np.asarray(o.off, dtype=float)) for o in self.on_off)
        for o in self.on_off:
            if o.off.shape != self.shape:
                raise NudmsimError(f"spec {self.name!r}: on/off background '{o.name}' has shape "
                                   f"{o.off.shape}, observed has {self.shape}")

    # -- parameter bookkeeping ---------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise NudmsimError(f"spec {self.name!r}: no parameter '{name}' (parameters: {', '.join(self.names)})")

    def nominal(self, **overrides) -> dict[str, float]:
        """Parameter values: ``value`` of each parameter (constraint mean for constrained ones) + overrides."""
        out = {p.name: float(p.constraint[0] if p.constraint is not None else p.value) for p in self.parameters}
        for k, v in overrides.items():
            self.parameter(k)
            out[k] = float(v)
        return out

    # -- predictions -------------------------------------------------------------------------------
    def component_counts(self, params: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Expected counts of each component (not the on/off backgrounds) at ``params``."""
        out = {}
        for c in self.components:
            arr = np.asarray(c.expected(params), dtype=float)
            out[c.name] = arr if arr.shape == self.shape else np.broadcast_to(arr, self.shape)
        return out

    def expected_components(self, params: Mapping[str, float]) -> np.ndarray:
        """Sum of the components (without the profiled on/off backgrounds)."""
        tot = np.zeros(self.shape)
        for arr in self.component_counts(params).values():
            tot = tot + arr
        return tot

    def profiled_on_off(self, params: Mapping[str, float], observed=None, components=None) -> dict[str, np.ndarray]:
        """The profiled on/off background(s) at ``params`` (conditional MLE given the other components;
        ``components`` = their summed expectation if already computed)."""
        if not self.on_off:
            return {}
        n = self.observed if observed is None else observed
        s = self.expected_components(params) if components is None else components
        out = {}
        if len(self.on_off) == 1:
            o = self.on_off[0]
            out[o.name] = profile_on_off(n, s, o.off, o.tau)
        else:  # several: profile their sum with a pooled control sample (same tau required)
            taus = {o.tau for o in self.on_off}
            if len(taus) != 1:
                raise NudmsimError(f"spec {self.name!r}: several on/off backgrounds need the same tau")
            off = sum(o.off for o in self.on_off)
            b = profile_on_off(n, s, off, self.on_off[0].tau)
            for o in self.on_off:
                frac = np.divide(o.off, off, out=np.full(self.shape, 1 / len(self.on_off)), where=off > 0)
                out[o.name] = b * frac
        return out

    def expected(self, params: Mapping[str, float]) -> np.ndarray:
        """Total expected counts at ``params`` (profiled on/off backgrounds included)."""
        tot = self.expected_components(params)
        for b in self.profiled_on_off(params).values():
            tot = tot + b
        return tot

    # -- variants ----------------------------------------------------------------------------------
    def replace(self, **changes) -> "Spec":
        return dataclasses.replace(self, **changes)

    def with_data(self, observed, *, off: Mapping[str, np.ndarray] | None = None,
                  global_obs: Mapping[str, float] | None = None) -> "Spec":
        """Same model, new data: ``observed`` counts, control counts ``off`` (by on/off name) and
        constraint means ``global_obs`` (by parameter name) — used for toys and Asimov data."""
        off = dict(off or {})
        gl = dict(global_obs or {})
        on_off = tuple(dataclasses.replace(o, off=off.pop(o.name)) if o.name in off else o for o in self.on_off)
        if off:
            raise NudmsimError(f"spec {self.name!r}: no on/off background named {', '.join(off)}")
        params = []
        for p in self.parameters:
            if p.name in gl:
                if p.constraint is None:
                    raise NudmsimError(f"spec {self.name!r}: '{p.name}' has no constraint to move")
                p = dataclasses.replace(p, constraint=(float(gl.pop(p.name)), p.constraint[1]))
            params.append(p)
        if gl:
            raise NudmsimError(f"spec {self.name!r}: unknown constrained parameters {', '.join(gl)}")
        return dataclasses.replace(self, observed=np.asarray(observed, dtype=float), on_off=on_off,
                                   parameters=tuple(params))

    def with_fixed(self, **values) -> "Spec":
        """Parameters fixed at the given values (e.g. a component switched off)."""
        params = []
        for p in self.parameters:
            if p.name in values:
                p = dataclasses.replace(p, value=float(values[p.name]), fixed=True)
            params.append(p)
        for k in values:
            self.parameter(k)
        return dataclasses.replace(self, parameters=tuple(params))


def profile_on_off(n, s, m, tau=1.0) -> np.ndarray:
    """Conditional MLE of b >= 0 for n ~ Poisson(s + b), m ~ Poisson(tau b), given s >= 0 (elementwise).

    Root of (1+tau) b² + ((1+tau) s − n − m) b − m s = 0 (the on/off profile; Cousins, Linnemann &
    Tucker 2008, eq. 21 with known s); written in the cancellation-free form."""
    n, s, m = np.asarray(n, float), np.asarray(s, float), np.asarray(m, float)
    if not (n.shape == s.shape == m.shape):
        n, s, m = np.broadcast_arrays(n, s, m)
    t1 = 1.0 + tau
    B = t1 * s - n - m
    disc = np.sqrt(B * B + 4.0 * t1 * m * s)
    den = B + disc
    alt = np.divide(2 * m * s, den, out=np.zeros_like(den), where=den > 0)
    pos = np.where(B <= 0, (disc - B) / (2 * t1), alt)
    return np.maximum(pos, 0.0)


def asymmetric(theta: float, nominal: float, err_hi: float, err_lo: float) -> float:
    """Physical value of a parameter with asymmetric 1σ errors, from a standard-normal nuisance theta
    (piecewise linear: nominal + theta*err_hi for theta > 0, nominal + theta*err_lo below)."""
    return nominal + theta * (err_hi if theta >= 0 else err_lo)


class TemplateGrid:
    """Template interpolation along one nuisance (a pyhf 'histosys' with many knots).

    ``knots``: increasing parameter values x_k; ``templates``: array (len(knots), ...) of expected counts at
    each knot.  ``__call__(x)`` interpolates bin by bin: ``kind="cubic"`` (default; not-a-knot cubic spline,
    continuous first and second derivatives, which MIGRAD needs — piecewise-linear interpolation has kinks
    at the knots that stall it) or ``"linear"``.  Beyond the ends the end pieces are extrapolated; the result
    is clipped at 0 (unless ``clip=False``: templates of differences, e.g. a histosys delta)."""

    def __init__(self, knots, templates, kind: str = "cubic", clip: bool = True):
        self.clip = clip
        self.knots = np.asarray(knots, dtype=float)
        self.templates = np.asarray(templates, dtype=float)
        if self.knots.ndim != 1 or len(self.knots) < 2 or np.any(np.diff(self.knots) <= 0):
            raise ValueError("TemplateGrid: knots must be >= 2 increasing values")
        if self.templates.shape[0] != len(self.knots):
            raise ValueError("TemplateGrid: one template per knot")
        if kind not in ("cubic", "linear"):
            raise ValueError(f"TemplateGrid: kind '{kind}' (choose cubic or linear)")
        self.kind = kind if len(self.knots) >= 4 else "linear"
        self._knots = [float(k) for k in self.knots]
        if self.kind == "cubic":
            from scipy.interpolate import CubicSpline

            self._c = CubicSpline(self.knots, self.templates, axis=0).c   # (4, n_knots - 1, ...)
        else:
            self._slopes = np.diff(self.templates, axis=0) / np.diff(self.knots).reshape(
                (-1,) + (1,) * (self.templates.ndim - 1))

    def __call__(self, x: float) -> np.ndarray:
        k = min(max(bisect.bisect_right(self._knots, x) - 1, 0), len(self._knots) - 2)
        t = x - self._knots[k]
        if self.kind == "cubic":
            c = self._c[:, k]
            out = ((c[0] * t + c[1]) * t + c[2]) * t + c[3]
        else:
            out = self.templates[k] + t * self._slopes[k]
        return np.maximum(out, 0.0) if self.clip else out


# ------------------------------------------------------------------------------------------------
# the machinery
# ------------------------------------------------------------------------------------------------
_TINY = 1e-300


def poisson_deviance(n, nu) -> np.ndarray:
    """Per-bin 2[ν − n + n ln(n/ν)] (0 where n = ν; ν clipped at 1e-300)."""
    nu = np.maximum(nu, _TINY)
    ratio = np.divide(n, nu, out=np.ones_like(nu), where=n > 0)  # n/nu ~ 1: small rounding noise
    return 2.0 * (nu - n + xlogy(n, ratio))


class NLL:
    """iminuit cost: −2 ln L of a :class:`Spec` (Poisson deviance + Gaussian constraints).

    ``errordef = 1`` (−2 ln L convention).  Call with the free parameters in ``spec.names`` order
    (fixed parameters are also accepted and then held fixed by :func:`fit`)."""

    errordef = 1.0

    def __init__(self, spec: Spec):
        self.spec = spec
        self._names = spec.names
        self._parameters = {p.name: p.bounds if p.bounds != (None, None) else None for p in spec.parameters}
        self._cons = [(i, p.constraint[0], p.constraint[1]) for i, p in enumerate(spec.parameters)
                      if p.constraint is not None]
        self._mask = spec.mask
        self.ncall = 0

    @property
    def ndata(self) -> int:
        return int(self._mask.sum())

    def params(self, values) -> dict[str, float]:
        return dict(zip(self._names, map(float, values)))

    def grad(self, *values) -> np.ndarray:
        """Analytic gradient (compiled specs only; see nudmsim.stats.compiled)."""
        if len(values) == 1 and np.ndim(values[0]) == 1:
            values = values[0]
        return self.spec.twice_nll(values, want_grad=True)[1]

    @property
    def has_grad(self) -> bool:
        return hasattr(self.spec, "twice_nll")

    def __call__(self, *values) -> float:
        if len(values) == 1 and np.ndim(values[0]) == 1:
            values = values[0]
        self.ncall += 1
        if self.has_grad:
            return self.spec.twice_nll(values)
        p = self.params(values)
        spec = self.spec
        n = spec.observed
        s = spec.expected_components(p)
        total = 0.0
        if spec.on_off:
            bs = spec.profiled_on_off(p, components=s)
            nu = s + sum(bs.values())
            for o in spec.on_off:
                total += float(np.sum(poisson_deviance(o.off, o.tau * bs[o.name])[self._mask]))
        else:
            nu = s
        if np.any(~np.isfinite(nu)):
            return 1e30
        total += float(np.sum(poisson_deviance(n, nu)[self._mask]))
        for i, mean, sig in self._cons:
            total += ((values[i] - mean) / sig) ** 2
        return total


@dataclass
class FitResult:
    """Plain-number fit result (picklable; the Minuit object is kept in ``minuit`` unless dropped)."""

    values: dict
    errors: dict
    covariance: np.ndarray | None
    free: list
    twice_nll: float
    valid: bool
    status: str
    nfcn: int
    time_s: float
    minos: dict = field(default_factory=dict)
    minuit: object = None

    def correlation(self, a: str, b: str) -> float:
        i, j = self.free.index(a), self.free.index(b)
        c = self.covariance
        return float(c[i, j] / math.sqrt(c[i, i] * c[j, j]))

    def summary(self) -> str:
        lines = [f"-2lnL = {self.twice_nll:.4f}  valid={self.valid}  nfcn={self.nfcn}  ({self.time_s:.3f} s)"]
        for k, v in self.values.items():
            e = self.errors.get(k, 0.0)
            m = self.minos.get(k)
            extra = f"  minos [{m[0]:+.4g}, {m[1]:+.4g}]" if m else ""
            lines.append(f"  {k:<20} {v:12.6g} ± {e:.4g}{extra}")
        return "\n".join(lines)


def fit(spec: Spec, *, fix: Mapping[str, float] | None = None, init: Mapping[str, float] | None = None,
        minos: bool | Sequence[str] = False, hesse: bool = True, strategy: int = 1,
        tol: float = 0.001, precision: float = 1e-12, keep_minuit: bool = False) -> FitResult:
    """Minimise −2 ln L with MIGRAD (retrying with SIMPLEX + MIGRAD at strategy 2 if it fails).

    fix: parameter values to hold fixed (in addition to ``Parameter.fixed``); init: starting values;
    minos: True (all free parameters) or a list of names; returns a :class:`FitResult` whose
    ``twice_nll`` is −2 ln L at the minimum (deviance + constraints)."""
    from iminuit import Minuit

    t0 = time.perf_counter()
    cost = NLL(spec)
    fix = dict(fix or {})
    start = {p.name: float(p.value) for p in spec.parameters}
    start.update({k: float(v) for k, v in (init or {}).items()})
    start.update({k: float(v) for k, v in fix.items()})
    for k in list(fix) + list(init or {}):
        spec.parameter(k)
    m = Minuit(cost, *[start[n] for n in spec.names], name=spec.names,
               grad=cost.grad if cost.has_grad else None)
    m.strategy = strategy
    m.tol = tol
    m.print_level = 0
    # relative FCN precision: the deviance is accurate to ~1e-12 of its scale; telling MIGRAD/HESSE so
    # makes it take finite-difference steps above the rounding noise (with the default, HESSE errors of
    # strongly correlated parameters came out 10-20% off in tests/test_stats_likelihood.py)
    m.precision = precision
    # whole-vector assignments (one call each, not one per parameter: a profile fit is ~1.5 ms in all)
    m.limits = [(-np.inf if p.bounds[0] is None else p.bounds[0], np.inf if p.bounds[1] is None else p.bounds[1])
                for p in spec.parameters]
    m.errors = [p.initial_step() for p in spec.parameters]
    fixed = [bool(p.fixed or p.name in fix) for p in spec.parameters]
    m.fixed = fixed
    free = [n for n, f in zip(spec.names, fixed) if not f]
    status = "no free parameters"
    if free:
        m.migrad()
        if not m.valid:
            m.strategy = 2
            m.simplex().migrad()
        if not m.valid:  # last resort: 10x looser EDM goal (still 10x tighter than iminuit's default)
            m.tol = 10 * tol
            m.migrad()
        if hesse and m.valid:
            m.hesse()
        status = "valid" if m.valid else _why_invalid(m)
        minos_names = free if minos is True else [n for n in (minos or []) if n in free]
        mres = {}
        if minos_names and m.valid:
            m.minos(*minos_names)
            for n in minos_names:
                me = m.merrors[n]
                mres[n] = (me.lower, me.upper)
    else:
        mres = {}
    vals = [float(v) for v in m.values]
    errs = [float(e) for e in m.errors]
    twice = float(cost(*vals)) if not free else float(m.fval)
    cov = None
    if free and m.covariance is not None:
        ix = [spec.names.index(n) for n in free]
        cov = np.asarray(m.covariance, float)[np.ix_(ix, ix)]
    return FitResult(values=dict(zip(spec.names, vals)),
                     errors={n: (e if not f else 0.0) for n, e, f in zip(spec.names, errs, fixed)},
                     covariance=cov, free=free, twice_nll=twice, valid=bool(m.valid) if free else True,
                     status=status, nfcn=int(m.nfcn) if free else 1, time_s=time.perf_counter() - t0,
                     minos=mres, minuit=m if keep_minuit else None)


def _why_invalid(m) -> str:
    fm = m.fmin
    if fm is None:
        return "not run"
    reasons = [k for k in ("has_reached_call_limit", "is_above_max_edm", "hesse_failed")
               if getattr(fm, k, False)]
    return "invalid (" + ", ".join(reasons or ["MIGRAD did not converge"]) + ")"
