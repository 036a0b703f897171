"""Asimov data sets and projected (median expected) upper limits with ±1σ/±2σ bands.

The Asimov data set (CCGV, arXiv:1007.1727, §3.2) replaces every observation by its expectation:
the counts by ν(θ₀) at nominal parameters with μ = μ' (0 for a background-only projection), the control
counts of on/off backgrounds by τ·b₀ (b₀ = off/τ, the control measurement taken at face value), and the
constraint means by the nominal values.  Its q_μ,A gives σ_A = μ/√q_μ,A (eq. 31), the median limit and
the bands (eqs. 88–89 for the profile likelihood ratio; the CLs form below):

    PLR:  μ_up^{med+N} = σ_A (Φ⁻¹(1 − α) + N),
    CLs:  μ_up^{med+N} = σ_A (Φ⁻¹(1 − α Φ(N)) + N).

**Truncation of the lower bands.**  For the PLR at 90% CL, Φ⁻¹(0.9) − 2 = −0.72 < 0: the −2σ edge would be
a *negative* limit (a downward fluctuation that excludes every μ > 0, including ones the experiment has
no sensitivity to).  CCGV and Cowan, Cranmer, Gross & Vitells, arXiv:1105.3166 ("power-constrained
limits", PCL) handle this by not quoting limits below a minimum power: with ``truncation="pcl"``
(default) the band edges are floored at the −1σ edge (power 16%); ``"zero"`` floors them at 0 and
``"none"`` returns the raw values.  CLs bands are positive and never truncated.

The median itself is computed by inverting the test on the Asimov data (not only from the closed form),
so it includes the μ dependence of σ_A; the bands scale it with σ_A evaluated at the median.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from scipy import stats

from ..errors import NudmsimError
from .likelihood import Spec

__all__ = ["asimov_spec", "ExpectedLimit", "expected_limit", "band_formula"]

BANDS = ("-2", "-1", "+1", "+2")


def asimov_spec(spec: Spec, params: dict | None = None, *, poi_value: float = 0.0) -> Spec:
    """The Asimov version of ``spec``: data = expectation at ``params`` (default: nominal values, with
    the POI at ``poi_value``), control counts = τ·b₀ with b₀ = off/τ (unchanged), constraint means =
    the generating values of the constrained parameters.  The background-only Asimov spec of the nominal point is
    kept on ``spec`` (specs are values), so an observed limit and its expected limit share it and its fits."""
    default = not params and poi_value == 0.0
    if default and "_asimov0" in spec.__dict__:
        return spec.__dict__["_asimov0"]
    p = spec.nominal()
    if params:
        p.update(params)
    if spec.poi is not None and not (params and spec.poi in params):
        p[spec.poi] = poi_value
    data = spec.expected_components(p)
    for o in spec.on_off:
        data = data + o.off / o.tau
    glob = {q.name: p[q.name] for q in spec.parameters if q.constraint is not None}
    out = spec.with_data(data, global_obs=glob)
    # start the fits at the generating point
    import dataclasses

    params_ = tuple(dataclasses.replace(q, value=p[q.name]) if not q.fixed else q for q in out.parameters)
    out = out.replace(parameters=params_, name=(spec.name + " (Asimov)").strip())
    if default:
        spec.__dict__["_asimov0"] = out
    return out


def band_formula(sigma: float, cl: float = 0.90, method: str = "plr") -> dict[str, float]:
    """Closed-form median and band edges (keys "0", "-2", "-1", "+1", "+2") for σ_A (no truncation)."""
    alpha = 1.0 - cl
    out = {}
    for key, n in (("0", 0), ("-2", -2), ("-1", -1), ("+1", 1), ("+2", 2)):
        if method == "cls":
            out[key] = sigma * (stats.norm.ppf(1 - alpha * stats.norm.cdf(n)) + n)
        else:
            out[key] = sigma * (stats.norm.ppf(1 - alpha) + n)
    return out


@dataclass
class ExpectedLimit:
    """Median expected limit and bands (keys "-2", "-1", "+1", "+2") on the POI."""

    median: float
    bands: dict
    sigma_A: float
    cl: float
    method: str
    truncation: str
    raw_bands: dict = field(default_factory=dict)
    n_fits: int = 0


def expected_limit(spec: Spec, *, cl: float = 0.90, method: str = "plr", truncation: str = "pcl",
                   params: dict | None = None, scale: float | None = None) -> ExpectedLimit:
    """Projected limit of ``spec``'s POI from its background-only Asimov data (see module docstring).

    params: generating values other than the nominal ones (e.g. a different background level).
    scale: an estimate of σ_A in POI units, where the caller has one (a starting point of the inversion only).
    A named likelihood kind defines its own ``expected_limit`` (or refuses: no background model)."""
    from .limits import upper_limit

    if hasattr(spec, "expected_limit"):
        return spec.expected_limit(cl=cl, method=method, truncation=truncation, params=params)

    if truncation not in ("pcl", "zero", "none"):
        raise NudmsimError(f"band truncation '{truncation}' unknown (choose pcl, zero or none)")
    if method not in ("plr", "cls"):
        raise NudmsimError(f"expected limits support methods plr and cls, not '{method}'")
    a = asimov_spec(spec, params)
    ul = upper_limit(a, cl=cl, method=method, asimov=a, scale=scale)
    med = ul.mu_up
    if not med > 0:
        raise NudmsimError("median expected limit is zero: the Asimov data do not constrain the signal")
    sigma = ul.sigma  # sigma_A at the median (the Asimov data are their own Asimov data set)
    raw = band_formula(sigma, cl, method)
    tie = med / raw["0"] if raw["0"] > 0 else 1.0  # tie the closed form to the inverted median
    raw = {k: v * tie for k, v in raw.items() if k != "0"}
    bands = dict(raw)
    if method == "plr":
        if truncation == "pcl":
            floor = max(raw["-1"], 0.0)
            bands = {k: max(v, floor) for k, v in raw.items()}
        elif truncation == "zero":
            bands = {k: max(v, 0.0) for k, v in raw.items()}
    return ExpectedLimit(median=float(med), bands={k: float(v) for k, v in bands.items()},
                         sigma_A=float(sigma * tie), cl=cl, method=method, truncation=truncation,
                         raw_bands={k: float(v) for k, v in raw.items()}, n_fits=ul.n_fits)
