"""Upper limits from the profile likelihood ratio (Cowan, Cranmer, Gross & Vitells, EPJC 71 (2011) 1554,
arXiv:1007.1727 — "CCGV" below), with a toy Monte Carlo cross-check.

Test statistic for upper limits (CCGV eq. 16, "q̃_μ"), with λ the profile likelihood ratio and the
maximum-likelihood μ̂ computed with μ ≥ 0:

    q̃_μ = −2 ln[L(μ, θ̂̂_μ) / L(max(μ̂, 0), θ̂)]   for μ̂ ≤ μ,        0 for μ̂ > μ.

Asymptotically (Wald), with σ the standard deviation of μ̂ (from the Asimov data set, CCGV eq. 31:
σ² = μ² / q_μ,A), its distribution under μ is (CCGV eq. 66)

    F(q̃|μ) = Φ(√q̃)                               for 0 < q̃ ≤ μ²/σ²,
            = Φ((q̃ + μ²/σ²) / (2μ/σ))            for q̃ > μ²/σ²,

and p_μ = 1 − F(q̃_obs|μ).  The 1 − α = CL upper limit is the μ with p_μ = α.

**The critical value.**  In the first branch p_μ = α ⇔ q̃ = [Φ⁻¹(1 − α)]²: for 90% CL that is
1.2816² = **1.642**, not 2.706.  (2.706 = χ²₁ 90% quantile is the *two-sided* Wilks threshold, i.e. the
one-sided 95% CL test; it is the "Δχ² = 2.71" convention of many phenomenology fits.)  The Gaussian
limit μ_up = μ̂ + 1.2816 σ and the toy Monte Carlo coverage tests (tests/test_stats_limits.py) both
confirm 1.642.  ``method="delta-chi2"`` is provided for comparison with fits that used 2.706.

Methods: ``"plr"`` (default; CCGV p_μ), ``"cls"`` (p_μ / (1 − p_b), asymptotic, as pyhf/ATLAS/CMS),
``"delta-chi2"`` (q̃_μ = χ²₁ quantile at CL, i.e. 2.706 for 90%).

Toys (:func:`toy_pvalue`): data, control counts and constraint means ("global observables") drawn at
the tested μ with nuisances at their conditional fit to the observed data (the LHC convention), q̃ refit
on every toy, p = fraction of toys with q̃ ≥ q̃_obs.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

from ..errors import NudmsimError
from .likelihood import NLL, FitResult, Spec, fit

__all__ = ["TestStatistic", "UpperLimit", "test_statistic", "pvalue_asymptotic", "cls_asymptotic",
           "sigma_asimov", "upper_limit", "toy_pvalue", "ToyResult", "critical_value"]

METHODS = ("plr", "cls", "delta-chi2")
NEAR_BOUND = 3.0  # mu_hat below this many MIGRAD/HESSE errors counts as on the bound mu >= 0 (see _upper_limit)


def _poi(spec: Spec) -> str:
    if spec.poi is None:
        raise NudmsimError(f"spec {spec.name!r} has no parameter of interest (set Spec.poi)")
    return spec.poi


def _nonnegative_poi(spec: Spec) -> Spec:
    """The spec with the POI's lower bound raised to 0 (the μ̂ ≥ 0 of q̃_μ); the spec itself when it already is
    (a new spec would lose a compiled spec's cached kernel arguments, on every profile fit)."""
    poi = _poi(spec)
    p = spec.parameter(poi)
    if p.bounds[0] is not None and p.bounds[0] >= 0.0 and p.value >= 0.0:
        return spec
    params = []
    for p in spec.parameters:
        if p.name == poi:
            lo, hi = p.bounds
            p = dataclasses.replace(p, bounds=(0.0 if lo is None else max(lo, 0.0), hi),
                                    value=max(p.value, 0.0))
        params.append(p)
    return spec.replace(parameters=tuple(params))


def _strategy(spec: Spec) -> int:
    """MIGRAD strategy of the profile fits inside a test statistic: 0 when the spec gives the analytic gradient
    (a compiled workspace: 4x fewer calls, the same minimum to ~1e-9 in -2 ln L; an invalid fit is retried at
    strategy 2 by :func:`~nudmsim.stats.likelihood.fit`), 1 otherwise (numerical derivatives need it)."""
    return 0 if hasattr(spec, "twice_nll") else 1


def critical_value(cl: float = 0.90, method: str = "plr") -> float:
    """q̃ at which p_μ = 1 − cl in the first (Gaussian) branch: Φ⁻¹(cl)² (1.642 for 90%), or the χ²₁
    quantile (2.706 for 90%) for ``method="delta-chi2"``."""
    if method == "delta-chi2":
        return float(stats.chi2.ppf(cl, 1))
    return float(stats.norm.ppf(cl) ** 2)


@dataclass
class TestStatistic:
    q: float
    mu: float
    mu_hat: float
    free: FitResult
    conditional: FitResult


def test_statistic(spec: Spec, mu: float, *, free: FitResult | None = None, kind: str = "qtilde",
                   init: dict | None = None) -> TestStatistic:
    """q̃_μ (``kind="qtilde"``, μ̂ ≥ 0) or q_μ (``kind="q"``, μ̂ unrestricted within the spec's bounds),
    both set to 0 for μ̂ > μ.  ``free`` reuses an existing unconditional fit."""
    poi = _poi(spec)
    s = _nonnegative_poi(spec) if kind == "qtilde" else spec
    if free is None:
        free = fit(s, hesse=False, strategy=_strategy(s))
    start = dict(free.values)
    start.update(init or {})
    start.pop(poi, None)
    cond = fit(s, fix={poi: mu}, init=start, hesse=False, strategy=_strategy(s))
    mu_hat = free.values[poi]
    q = max(cond.twice_nll - free.twice_nll, 0.0) if mu_hat <= mu else 0.0
    return TestStatistic(q=q, mu=mu, mu_hat=mu_hat, free=free, conditional=cond)


def _norm_sf(x: float) -> float:
    """Φ̄(x) = 1 − Φ(x): ``scipy.stats.norm.sf`` without its ~0.1 ms of argument handling (the same ``ndtr``)."""
    return float(special.ndtr(-x))


def pvalue_asymptotic(q: float, mu: float, sigma: float | None, kind: str = "qtilde") -> float:
    """p_μ = 1 − F(q|μ) of CCGV eq. 66 (q̃_μ) or eq. 59 (q_μ).  ``sigma=None`` uses the first branch."""
    q = max(float(q), 0.0)
    if kind == "q" or sigma is None or not np.isfinite(sigma) or sigma <= 0 or mu <= 0:
        return _norm_sf(math.sqrt(q))
    r = (mu / sigma) ** 2
    if q <= r:
        return _norm_sf(math.sqrt(q))
    return _norm_sf((q + r) / (2 * mu / sigma))


def cls_asymptotic(q: float, mu: float, sigma: float | None) -> float:
    """CLs = p_μ / (1 − p_b) for q̃_μ (CCGV eq. 65 with μ' = 0 for the background-only hypothesis)."""
    q = max(float(q), 0.0)
    p_mu = pvalue_asymptotic(q, mu, sigma)
    if sigma is None or not np.isfinite(sigma) or sigma <= 0:
        return p_mu
    r = (mu / sigma) ** 2
    if q <= r:
        one_minus_pb = float(special.ndtr(mu / sigma - math.sqrt(q)))
    else:
        one_minus_pb = _norm_sf((q - r) / (2 * mu / sigma))
    return float(p_mu / one_minus_pb) if one_minus_pb > 0 else 1.0


def sigma_asimov(spec: Spec, mu: float, *, asimov: Spec | None = None) -> float:
    """σ of μ̂ from the background-only Asimov data (CCGV eq. 31): σ = μ / √q_μ,A."""
    from .asimov import asimov_spec

    a = asimov if asimov is not None else asimov_spec(spec)
    ts = test_statistic(a, mu)
    return mu / math.sqrt(ts.q) if ts.q > 0 else math.inf


@dataclass
class UpperLimit:
    """Result of :func:`upper_limit`.  ``mu_up`` in units of the POI; ``sigma`` the σ used (Asimov)."""

    mu_up: float
    mu_hat: float
    sigma: float
    cl: float
    method: str
    q_at_limit: float
    n_fits: int
    free: FitResult
    note: str = ""
    scan: list = field(default_factory=list)  # (mu, q, p) evaluations
    mu_up_raw: float | None = None             # before the power constraint (if one was requested)
    power_floor: float | None = None           # the -N sigma expected limit used as the floor
    sigma_asimov: dict = field(default_factory=dict)  # sigma_A(mu) measured on the way {mu: sigma_A}


def upper_limit(spec: Spec, *, cl: float = 0.90, method: str = "plr", sigma: float | str = "asimov",
                mu_max: float | None = None, rtol: float = 1e-4, asimov: Spec | None = None,
                power_constraint: float | None = None, scale: float | None = None,
                expected=None) -> UpperLimit:
    """The ``cl`` upper limit on the spec's POI by inverting p_μ(q̃_μ) (see the module docstring).

    sigma: ``"asimov"`` (σ_A(μ) from the background-only Asimov data at every tested μ; needed only in the
    second branch of F and for CLs), ``"hesse"`` (the MIGRAD/HESSE error of μ̂) or a number.
    mu_max: give up (NudmsimError) if the limit exceeds it (default: the POI's upper bound or 1e12).
    power_constraint: N (e.g. -1.0) to floor the limit at the N-sigma edge of the expected band,
    median × (Φ⁻¹(cl) + N)/Φ⁻¹(cl), the edge :func:`~nudmsim.stats.asimov.expected_limit` draws
    ("power-constrained limit", Cowan, Cranmer, Gross & Vitells, arXiv:1105.3166):
    with the PLR a downward fluctuation otherwise gives limits far below the sensitivity, down to 0.
    scale: an estimate of σ(μ̂) in POI units (only a starting point: it replaces the HESSE step and the search
    for the scale when μ̂ sits on its bound; the limit itself does not depend on it beyond ``rtol``).
    expected: an :class:`~nudmsim.stats.asimov.ExpectedLimit` of the same spec, cl and method (truncation
    "none" or "pcl"; its median is used) for the power constraint, instead of computing it again.

    A named likelihood kind (:mod:`nudmsim.stats.kinds`) whose evaluator defines ``upper_limit`` follows its
    own procedure (e.g. a release's critical-value tables or its published limit curve)."""
    if hasattr(spec, "upper_limit"):
        return spec.upper_limit(cl=cl, method=method, power_constraint=power_constraint)
    ul = _upper_limit(spec, cl=cl, method=method, sigma=sigma, mu_max=mu_max, rtol=rtol, asimov=asimov,
                      scale=scale)
    if power_constraint is None:
        return ul
    from .asimov import expected_limit

    z = float(stats.norm.ppf(cl)) + float(power_constraint)
    if z <= 0:
        raise NudmsimError(f"power constraint at {power_constraint} sigma is below zero for CL {cl}")
    # the floor is the N-sigma edge of the expected band exactly as expected_limit draws it (the Asimov median
    # scaled by (Phi^-1(cl) + N) / Phi^-1(cl)), so a power-constrained limit never sits below the plotted band.
    # The observed inversion already measured sigma_A near mu_up: z sigma_A(mu_up) starts the median's root find
    # (it is 10-20% off when sigma_A depends on mu, so it is only a start, never the answer)
    el = expected
    if el is None:
        hint = _median_sigma_guess(ul, float(stats.norm.ppf(cl))) if sigma == "asimov" else None
        el = expected_limit(spec, cl=cl, method=method if method in ("plr", "cls") else "plr", truncation="none",
                            scale=hint)
        ul.n_fits += el.n_fits
    mu_f = el.median * z / float(stats.norm.ppf(cl))
    ul.mu_up_raw, ul.power_floor = ul.mu_up, mu_f
    if ul.mu_up < mu_f:
        ul.mu_up = mu_f
        ul.note = (ul.note + "; " if ul.note else "") + \
            f"power-constrained: raw limit {ul.mu_up_raw:.4g} below the {power_constraint:+g} sigma expected limit"
    return ul


def _median_sigma_guess(ul: UpperLimit, z: float) -> float | None:
    """sigma_A at the Asimov median, predicted from the sigma_A(mu) the observed inversion measured: a line through
    its two most distant points, solved for mu_med = z sigma_A(mu_med) (the first-branch median).  Only a start
    for the median's own inversion; clamped to [0.5, 2] x sigma_A(mu_up)."""
    base = ul.sigma
    if not (math.isfinite(base) and base > 0):
        return None
    pts = sorted((m, sg) for m, sg in ul.sigma_asimov.items() if math.isfinite(sg) and sg > 0 and m > 0)
    if len(pts) < 2 or pts[-1][0] <= 1.01 * pts[0][0]:
        return base
    (m0, s0), (m1, s1) = pts[0], pts[-1]
    b = (s1 - s0) / (m1 - m0)
    a = s0 - b * m0
    if not (a > 0 and z * b < 0.9):
        return base
    return min(max(a / (1.0 - z * b), 0.5 * base), 2.0 * base)


def _transformed_pvalue(p: float) -> float:
    """Φ⁻¹(1 − p): √q̃ in the first branch of CCGV eq. 66, (q̃ + μ²/σ²)/(2μ/σ) in the second — close to linear
    in μ, so a secant step from two points lands within ~1e-3 of the root."""
    return -float(special.ndtri(min(max(p, 1e-300), 1.0)))


def _profile_starts(spec: Spec) -> list:
    """(mu, parameter values) of the profile fits done on this spec so far: each new profile fit starts from the
    nearest (kept on the spec, so that the Asimov fits of an observed limit warm-start those of its expected limit;
    specs are values: a new data set is a new spec)."""
    return spec.__dict__.setdefault("_profile_starts", [])


def _remember(starts: list, mu: float, values: dict, keep: int = 64) -> None:
    starts.append((mu, values))
    if len(starts) > keep:
        del starts[0]


def _saturated(spec: Spec) -> FitResult | None:
    """The unconditional fit of an Asimov spec without MINUIT, when its generating point (the parameters' start
    values) has −2 ln L = 0: the deviance and the constraints are sums of non-negative terms, so that point is
    the global minimum.  None otherwise (e.g. clipped templates): then fit."""
    t0 = time.perf_counter()
    vals = [float(p.value) for p in spec.parameters]
    twice = float(NLL(spec)(*vals))
    if not (math.isfinite(twice) and abs(twice) <= 1e-9):
        return None
    free = [p.name for p in spec.parameters if not p.fixed]
    return FitResult(values=dict(zip(spec.names, vals)), errors={n: math.nan for n in spec.names}, covariance=None,
                     free=free, twice_nll=twice, valid=True, status="saturated (Asimov data at their generating point)",
                     nfcn=1, time_s=time.perf_counter() - t0)


def _root_increasing(f, lo: float, scale: float, x_max: float, rtol: float, name: str, *,
                     x0: float | None = None, known: dict | None = None) -> float:
    """Root of an increasing, near-linear ``f`` above ``lo`` (f(lo) < 0), with slope ≈ 1/scale.

    ``known``: values {x: f(x)} already computed (they seed the secant); ``x0``: the first trial when fewer than
    two are known.  Secant steps through the two trials with the smallest |f| (the slope 1/scale until two
    trials differ); converged when the next step is below rtol/2 of the root.  A step that leaves the bracket
    the trials have found (or that stalls) hands the bracket to Brent's method; ``f`` is cached, so Brent's
    endpoint calls are free.  Typically 3–4 evaluations of ``f`` where a bracket grown from ``lo`` in steps of
    ``scale`` and Brent's method took 8–10."""
    cache: dict[float, float] = dict(known or {})

    def fc(x):
        if x not in cache:
            cache[x] = f(x)
        return cache[x]

    def brent():
        a = max([x for x, v in cache.items() if v < 0], default=lo)
        b = min(x for x, v in cache.items() if v >= 0)
        return optimize.brentq(fc, a, b, rtol=rtol, xtol=1e-12 * max(b, 1e-300))

    if x0 is not None and len(cache) < 2:
        fc(x0)
    for _ in range(40):
        bracketed = any(v >= 0 for v in cache.values())
        a = max([x for x, v in cache.items() if v < 0], default=lo)
        b = min([x for x, v in cache.items() if v >= 0], default=math.inf)
        (x, fx), *rest = sorted(cache.items(), key=lambda kv: abs(kv[1]))
        slope = (fx - rest[0][1]) / (x - rest[0][0]) if rest and rest[0][0] != x else math.nan
        secant = slope > 0 and math.isfinite(slope)
        nx = x - fx / (slope if secant else 1.0 / scale)
        if secant and abs(nx - x) <= 0.5 * rtol * abs(nx) and a <= nx <= b:
            return nx
        if bracketed and not a < nx < b:
            return brent()
        if nx <= lo:
            nx = lo + 0.5 * (x - lo)
        if nx > x_max:
            if x >= x_max:
                raise NudmsimError(f"upper limit on {name} above {x_max:g}: the data do not constrain it "
                                   f"(check the signal template is non-zero)")
            nx = x_max
        if nx in cache:
            if bracketed:
                return brent()
            nx = x + 2.0 * abs(nx - x) + scale
        fc(nx)
    if any(v >= 0 for v in cache.values()):
        return brent()
    raise NudmsimError(f"upper limit on {name}: no root found after 40 trials")


def _upper_limit(spec: Spec, *, cl, method, sigma, mu_max, rtol, asimov, scale=None) -> UpperLimit:
    if method not in METHODS:
        raise NudmsimError(f"limit method '{method}' unknown (choose one of {', '.join(METHODS)})")
    if not 0 < cl < 1:
        raise NudmsimError(f"confidence level {cl} must be between 0 and 1")
    poi = _poi(spec)
    s = _nonnegative_poi(spec)
    have_scale = scale is not None and math.isfinite(scale) and scale > 0
    own_asimov = asimov is spec  # the spec is its own Asimov data set (expected_limit): q_mu,A is q_mu itself
    # "near the bound": mu_hat within NEAR_BOUND errors of 0.  There the error of a bounded parameter is distorted
    # by MINUIT's transformation (COHERENT 2017 at 50 MeV: mu_hat = 4e-4, HESSE error 50, sigma_A 2000) and the
    # scale comes from the profile below; HESSE runs only where its error is used (mu_hat away from the bound)
    free = _saturated(s) if (own_asimov and have_scale) else None
    if free is None:
        free = fit(s, hesse=False, strategy=_strategy(s))
    n_fits = 1
    if not have_scale and free.values[poi] > NEAR_BOUND * free.errors[poi]:
        free = fit(s, hesse=True, init=free.values)
        n_fits += 1
    mu_hat = max(free.values[poi], 0.0)
    a_spec = None
    if sigma == "asimov" and method in ("plr", "cls"):
        from .asimov import asimov_spec

        a_spec = s if own_asimov else (asimov if asimov is not None else asimov_spec(s))
    err = free.errors[poi] if np.isfinite(free.errors[poi]) and free.errors[poi] > 0 else 1.0
    if have_scale:
        err = float(scale)
    alpha = 1.0 - cl
    hi_bound = s.parameter(poi).bounds[1]
    mu_max = mu_max if mu_max is not None else (hi_bound if hi_bound is not None else 1e12)
    scan = []
    sig_cache: dict[float, float] = {}
    a_free: list = [free] if own_asimov else []
    # warm starts: every profile fit starts from the nuisances of the nearest profile fit done so far
    conds = _profile_starts(s)      # (mu, values) of conditional fits to the data
    a_conds = _profile_starts(a_spec) if a_spec is not None else []   # the same for the Asimov data

    def near(lst, mu):
        if not lst:
            return None
        return dict(min(lst, key=lambda t: abs(t[0] - mu))[1])

    data_ts: dict = {}

    def ts_data(mu):
        if mu in data_ts:
            return data_ts[mu]
        ts = data_ts[mu] = test_statistic(s, mu, free=free, init=near(conds, mu))
        _remember(conds, mu, ts.conditional.values)
        if own_asimov:
            sig_cache.setdefault(mu, mu / math.sqrt(ts.q) if ts.q > 0 else math.inf)
        return ts

    step = max(err, 1e-12 * max(1.0, abs(mu_hat)))
    boundary = not mu_hat > NEAR_BOUND * step
    probes = []  # mu of the profile fits of the search for the scale (their q are reused by the root finder)
    if boundary and not have_scale:
        # the error of a parameter near its bound is unreliable: take the scale from the profile instead,
        # q~(mu1) ~ ((mu1 - mu_hat)/sigma)^2, with mu1 moved until it is within ~3 sigma of mu_hat
        d1 = step
        for _ in range(6):
            mu1 = mu_hat + d1
            q1 = ts_data(mu1).q
            probes.append(mu1)
            n_fits += 1
            if not q1 > 0:
                d1 *= 10.0
                continue
            sg = d1 / math.sqrt(q1)
            step = sg
            if 0.3 < d1 / sg < 3.0:
                break
            d1 = 1.3 * sg

    def sig_of(mu):
        nonlocal n_fits
        if isinstance(sigma, (int, float)):
            return float(sigma)
        if sigma == "hesse" or a_spec is None:
            return step
        if not a_free:
            a0 = _nonnegative_poi(a_spec)
            a_free.append(_saturated(a0) or fit(a0, hesse=False, strategy=_strategy(a_spec)))
            n_fits += 1
        mu = max(mu, 0.05 * step)  # q_mu,A ~ mu^2/sigma^2 is numerically meaningless for mu << sigma
        if mu not in sig_cache:
            if own_asimov:
                ts = ts_data(mu)
            else:
                ts = test_statistic(a_spec, mu, free=a_free[0], init=near(a_conds, mu))
                _remember(a_conds, mu, ts.conditional.values)
            n_fits += 1
            sig_cache[mu] = mu / math.sqrt(ts.q) if ts.q > 0 else math.inf
        return sig_cache[mu]

    def pval(mu):
        """(q, p) at mu, recorded in ``scan``."""
        nonlocal n_fits
        n_fits += mu not in data_ts
        ts = ts_data(mu)
        if method == "delta-chi2":
            p = float(stats.chi2.sf(ts.q, 1))
        else:
            if method == "plr" and not boundary and ts.q <= (mu / step) ** 2 * 0.25 and sigma == "asimov":
                sg = None  # deep in the first branch: sigma not needed (saves the Asimov fits)
            else:
                sg = sig_of(mu)
            p = pvalue_asymptotic(ts.q, mu, sg) if method == "plr" else cls_asymptotic(ts.q, mu, sg)
        scan.append((mu, ts.q, p))
        return ts.q, p

    if method == "delta-chi2":
        target = math.sqrt(critical_value(cl, method))

        def t(mu):  # sqrt(q) - sqrt(critical value): increasing, ~ (mu - mu_hat)/sigma - const
            return math.sqrt(pval(mu)[0]) - target
    else:
        target = _transformed_pvalue(alpha)

        def t(mu):  # Phi^-1(1 - p) - Phi^-1(1 - alpha): increasing, ~ linear in mu
            return _transformed_pvalue(pval(mu)[1]) - target

    lo = mu_hat
    known = {}
    if boundary:
        tiny = 1e-3 * step
        if not own_asimov and mu_hat < tiny:
            # mu_hat on the bound: p(0+) < alpha happens when the data are far below the background-only
            # expectation; then every mu > 0 is excluded and the limit is 0 (the PLR pathology CLs avoids).
            # Asimov data are their own expectation (p(0+) = 1/2 > alpha): no check needed there
            known[tiny] = t(tiny)
            if known[tiny] > 0:
                return UpperLimit(0.0, free.values[poi], sig_of(tiny), cl, method, scan[-1][1], n_fits, free,
                                  note="every mu > 0 is excluded (data below the background-only expectation)",
                                  scan=scan)
        lo = max(lo, tiny)
        if probes and lo < probes[-1] <= mu_max:
            known[probes[-1]] = t(probes[-1])  # its profile fit is done: only sigma_A there is new
    x0 = lo + max(target, 0.5) * step
    mu_up = _root_increasing(t, lo, step, mu_max, rtol, poi, x0=min(x0, mu_max), known=known)
    q_up = min(scan, key=lambda r: abs(r[0] - mu_up))[1]
    # sigma_A at the limit: the root finder's last trials sit within ~rtol of mu_up, and sigma_A(mu) varies far
    # more slowly than mu, so a sigma already measured within 1e-3 of mu_up is taken instead of one more fit
    close = [m for m in sig_cache if abs(m - mu_up) <= 1e-3 * mu_up]
    sig_up = sig_cache[min(close, key=lambda m: abs(m - mu_up))] if close else sig_of(mu_up)
    return UpperLimit(float(mu_up), free.values[poi], sig_up if method != "delta-chi2" else step,
                      cl, method, float(q_up), n_fits, free, scan=scan, sigma_asimov=dict(sig_cache))


# ------------------------------------------------------------------------------------------------
# toys
# ------------------------------------------------------------------------------------------------
@dataclass
class ToyResult:
    p: float
    p_err: float
    q_obs: float
    q_toys: np.ndarray
    n_failed: int


def generate_toy(spec: Spec, params: dict, rng: np.random.Generator) -> Spec:
    """One pseudo-experiment at ``params``: Poisson counts (and control counts for on/off backgrounds,
    at their profiled values on the spec's data) and Gaussian-fluctuated constraint means."""
    comps = spec.expected_components(params)
    bs = spec.profiled_on_off(params)
    nu = comps + sum(bs.values()) if bs else comps
    data = rng.poisson(np.maximum(nu, 0.0)).astype(float)
    off = {o.name: rng.poisson(np.maximum(o.tau * bs[o.name], 0.0)).astype(float) for o in spec.on_off}
    glob = {p.name: rng.normal(params[p.name], p.constraint[1]) for p in spec.parameters
            if p.constraint is not None and not p.fixed}
    return spec.with_data(data, off=off, global_obs=glob)


def toy_pvalue(spec: Spec, mu: float, *, n_toys: int = 500, seed: int | None = None,
               q_obs: float | None = None, truth: dict | None = None) -> ToyResult:
    """Empirical p_μ = P(q̃_μ ≥ q̃_obs | μ) from ``n_toys`` pseudo-experiments.

    truth: parameter values to generate at (default: the conditional fit at μ to the observed data).
    Binomial error on p.  Toys whose fits fail are counted in ``n_failed`` and dropped."""
    poi = _poi(spec)
    s = _nonnegative_poi(spec)
    if q_obs is None or truth is None:
        ts = test_statistic(s, mu)
        q_obs = ts.q if q_obs is None else q_obs
        truth = dict(ts.conditional.values) if truth is None else truth
    truth = dict(truth)
    truth[poi] = mu
    rng = np.random.default_rng(seed)
    qs, failed = [], 0
    for _ in range(n_toys):
        toy = generate_toy(s, truth, rng)
        t = test_statistic(toy, mu)
        if not (t.free.valid and t.conditional.valid):
            failed += 1
            continue
        qs.append(t.q)
    qs = np.asarray(qs)
    if qs.size == 0:
        raise NudmsimError("all toy fits failed")
    p = float(np.mean(qs >= q_obs - 1e-9))
    return ToyResult(p, math.sqrt(max(p * (1 - p), 1.0 / qs.size) / qs.size), float(q_obs), qs, failed)
