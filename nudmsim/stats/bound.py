"""The ``bin_bound`` likelihood kind: a conservative bound from the most constraining bin (background-free, or
with a released background expectation where there is one).

For a published spectrum without a background model (or with bins known only through an upper bound on
their rate), the signal may not exceed, in any bin i, the ``cl`` Poisson upper limit of the observed count
n_i (no background subtracted), nor a rate bound where one is given.  With S_i the expected signal in the
card's exposure at POI = 1,

    mu_up = min_i  B_i / S_i,     B_i = N_cl(n_i) E / e_i      (counting bins of a rate spectrum)
                                  B_i = N_cl(n_i) - min(b_i, n_i)   (counts in the card's exposure, known b_i)
                                  B_i = R_i E                   (rate-bound bins),

N_cl(n) = chi2.ppf(cl, 2 (n + 1)) / 2 the one-sided Poisson upper limit, e_i the data's exposure in bin i,
E the card's exposure and R_i a bound on the rate.  Where a release gives a background expectation b_i for a
bin (``background``, with counts ``observed`` in the card's exposure), B_i is the classical upper limit with
known background, P(N <= n_i | B_i + b_i) = 1 - cl, i.e. N_cl(n_i) - b_i; a background above the count is
lowered to it (B_i = N_cl(n_i) - n_i), which is conservative.  Without a background a bin is background-free.  Bins with S_i < 1e-6 of the constrained signal are
skipped (numerical tails), and no limit is claimed (one-line error: the point is NaN) when the constrained
bins hold less than ``min_fraction`` of the signal in all observable bins.

A released rate spectrum with Poisson errors gives the counts and the exposure of every bin:
n_i = (rate_i / error_i)^2 and e_i = rate_i / error_i^2 (in the rate's exposure unit; bins with a zero error
take the median exposure).  Each spectrum row must fall in its own observable bin (build the axis from the
spectrum's bin centres: ``[observables] X = { centres = { file = ..., column = ... } }``).

Response nuisances (e.g. a quenching kB with an error) enter as an envelope: the bound is evaluated with
each nuisance at each of its template knots within +-``nuisance_sigma`` (others nominal) and the weakest
(largest) mu_up is the limit; no limit is claimed if any of them claims none.  A bound is not a
likelihood: there is no fit, no profile and no Asimov projection.

Card syntax::

    [analysis]
    likelihood = "bin_bound"
    [analysis.likelihood_options]
    spectrum = { file = "borexino/...csv", x = "c2_energy_keV", rate = "c4_rate", error = "c5_rate_err" }
    rate_exposure_kg_days = 1.0e5                 # rates per (100 t x day)
    rate_bounds = [ { range = [0.0, 212.0], rate = 3.456e6 } ]

or, for counts per analysis bin with a known background where there is one (DarkSide-50 S2-only)::

    likelihood_options = { observed = [680.0, 630.0, 4130.0], background = [0.0, 0.0, 4080.0] }
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from ..errors import CardError, NudmsimError
from ..schema import Field, Section, suggest
from .kinds import LikelihoodKind, PoissonBacked, register_likelihood_kind

SPECTRUM = Section("analysis.likelihood_options.spectrum", "a released rate spectrum with Poisson errors",
                   fields=(
    Field("file", str, doc="CSV of the spectrum"),
    Field("x", str, doc="column of bin centres (the observable's unit)"),
    Field("rate", str, doc="column of rates per bin (per rate_exposure_kg_days)"),
    Field("error", str, doc="column of their Poisson errors"),
))
def _increasing(v) -> str | None:
    return None if len(v) == 2 and v[0] < v[1] else "must be [low, high] with low < high (increasing)"


RATE_BOUND = Section("analysis.likelihood_options.rate_bounds[]", "bins bounded by a rate", fields=(
    Field("range", list, length=2, check=_increasing, doc="[low, high]: observable bins whose centre lies inside"),
    Field("rate", float, lo=0, lo_open=True, doc="upper bound on the rate in those bins (per rate_exposure_kg_days)"),
))
OPTIONS = Section("analysis.likelihood_options", "bin_bound: most-constraining-bin Poisson bound", fields=(
    Field("spectrum", SPECTRUM, default=None, doc=SPECTRUM.doc),
    Field("observed", list, default=None, lo=0, doc="counts observed in the card's exposure, one per "
                                                    "observable bin (instead of a spectrum)"),
    Field("background", list, default=None, lo=0,
          doc="with observed: known background per bin in the card's exposure (classical limit with known "
              "background; a background above the count is lowered to it)"),
    Field("rate_exposure_kg_days", float, default=None, lo=0, lo_open=True, unit="kg day",
          doc="the exposure unit of the rates of spectrum and rate_bounds (1e5 = per 100 t x day)"),
    Field("rate_bounds", list, item=RATE_BOUND, default=[], doc="bins known through a rate upper bound"),
    Field("min_fraction", float, default=0.01, lo=0, hi=1,
          doc="no limit unless the constrained bins hold at least this fraction of the signal in all bins"),
    Field("nuisance_sigma", float, default=1.0, lo=0, doc="envelope of the response nuisances: knots within "
                                                          "+- this many sigma"),
))


def poisson_upper(n, cl: float, background=0.0) -> np.ndarray:
    """One-sided ``cl`` Poisson upper limit on a signal for n observed with a known ``background`` b:
    P(N <= n | s + b) = 1 - cl, i.e. s = chi2.ppf(cl, 2 (n + 1)) / 2 - b, with b lowered to n when it
    exceeds it (conservative; b = 0: the background-free limit)."""
    n = np.asarray(n, float)
    return 0.5 * sps.chi2.ppf(cl, 2.0 * (n + 1.0)) - np.minimum(np.asarray(background, float), n)


def _spectrum(opts, exp):
    from ..response.tables import read_table

    sp = opts["spectrum"]
    key = "analysis.likelihood_options.spectrum"
    path = exp.resolve_file(sp["file"], f"{key}.file")
    try:
        header, arr = read_table(path)
    except NudmsimError as exc:
        raise CardError(exp.card.path, f"{key}.file", str(exc)) from None
    cols = {}
    for k in ("x", "rate", "error"):
        if sp[k] not in header:
            raise CardError(exp.card.path, f"{key}.{k}", f"file {path.name} has no column '{sp[k]}'",
                            suggest(sp[k], header) or f"columns: {', '.join(header)}")
        cols[k] = arr[:, header.index(sp[k])]
    try:    # centres increase, rates and errors >= 0: errors name the file, line and column
        read_table(path, increasing=(sp["x"],), nonnegative=(sp["rate"], sp["error"]))
    except NudmsimError as exc:
        raise CardError(exp.card.path, f"{key}.file", str(exc)) from None
    return cols


def prepare(opts: dict, exp, analysis: dict) -> dict:
    """Per observable bin: the bound B_i on the signal in the card's exposure (inf: unconstrained) and the
    observed count (NaN: none)."""
    path = exp.card.path
    obs = exp.observables
    if len(obs.axes) != 1:
        raise CardError(path, "analysis.likelihood", "bin_bound needs exactly one observable axis")
    ax = obs.axes[0]
    cl = float(analysis["cl"])
    n_obs = np.full(ax.nbins, math.nan)
    bound = np.full(ax.nbins, math.inf)
    key = "analysis.likelihood_options"
    if opts["observed"] is not None:
        if opts["spectrum"] is not None:
            raise CardError(path, f"{key}.observed", "is given with spectrum", "give one of them")
        n = np.asarray(opts["observed"], float)
        b = np.zeros(len(n)) if opts["background"] is None else np.asarray(opts["background"], float)
        for k, v in (("observed", n), ("background", b)):
            if len(v) != ax.nbins:
                raise CardError(path, f"{key}.{k}", f"has {len(v)} entries but {ax.name} has {ax.nbins} bins",
                                "give one per observable bin")
        n_obs[:] = n
        bound = poisson_upper(n, cl, b)
    elif opts["background"] is not None:
        raise CardError(path, f"{key}.background", "needs observed", "give the observed counts per bin")
    if opts["spectrum"] is None and not opts["rate_bounds"]:
        if opts["observed"] is None:
            raise CardError(path, key, "gives no counts", "give observed = [...], or spectrum / rate_bounds")
        return {"bound": bound.tolist(), "n_obs": n_obs.tolist(), "min_fraction": opts["min_fraction"],
                "nuisance_sigma": opts["nuisance_sigma"]}
    if opts["rate_exposure_kg_days"] is None:
        raise CardError(path, f"{key}.rate_exposure_kg_days", "is missing",
                        "give the exposure unit of the rates (e.g. 1.0e5 = per 100 t x day)")
    exposure = getattr(exp.source, "exposure_kg_days", None)
    if exposure is None:
        raise CardError(path, "analysis.likelihood", "bin_bound needs a source with an exposure in kg days "
                        "(a halo source: target mass x live days)")
    card_exp = exposure(exp.target.mass_kg) / opts["rate_exposure_kg_days"]   # in the rates' exposure unit
    if opts["spectrum"] is not None:
        cols = _spectrum(opts, exp)
        rate, err = cols["rate"], cols["error"]
        with np.errstate(divide="ignore", invalid="ignore"):
            counts = np.where(err > 0, (rate / err) ** 2, 0.0)
            expo = np.where(err > 0, rate / err**2, np.nan)
        expo = np.where(np.isfinite(expo), expo, np.nanmedian(expo))
        counts = np.round(counts)
        idx = ax.index(cols["x"])
        ok = idx >= 0
        if len(np.unique(idx[ok])) != ok.sum():
            raise CardError(path, "analysis.likelihood_options.spectrum", "several spectrum rows fall in one "
                            f"observable bin of {ax.name}", "build the axis from the spectrum's bin centres "
                            "(observables ... centres = { file, column })")
        n_obs[idx[ok]] = counts[ok]
        bound[idx[ok]] = poisson_upper(counts[ok], cl) * card_exp / expo[ok]
    for i, rb in enumerate(opts["rate_bounds"]):
        lo, hi = rb["range"]
        sel = (ax.centres >= lo) & (ax.centres <= hi)
        if not sel.any():
            raise CardError(path, f"analysis.likelihood_options.rate_bounds[{i}].range",
                            f"[{lo:g}, {hi:g}] holds no bin centre of {ax.name}")
        bound[sel] = np.minimum(bound[sel], rb["rate"] * card_exp)
    return {"bound": bound.tolist(), "n_obs": n_obs.tolist(), "min_fraction": opts["min_fraction"],
            "nuisance_sigma": opts["nuisance_sigma"]}


def observed(opts, exp, data) -> np.ndarray:
    n = np.asarray(data["n_obs"], float)
    return np.where(np.isfinite(n), n, 0.0).reshape(exp.observables.shape)


class BinBound(PoissonBacked):
    """Spec-compatible evaluator of a ``bin_bound`` workspace (response nuisances as an envelope)."""

    NO_PROJECTION = "a bin bound has no background model"
    NUISANCES = True

    def __init__(self, ws):
        super().__init__(ws)
        self.bound = np.asarray(ws.likelihood["bound"], float)
        self.min_fraction = float(ws.likelihood["min_fraction"])
        self.nuisance_sigma = float(ws.likelihood["nuisance_sigma"])

    def variations(self) -> list[dict]:
        """Nuisance points of the envelope: nominal, then each histosys knot within +-nuisance_sigma."""
        pts = [{}]
        for s in self.ws.samples:
            for m in s.modifiers:
                if m.type == "histosys":
                    pts += [{m.name: float(k)} for k in m.data["knots"]
                            if k != 0 and abs(k) <= self.nuisance_sigma + 1e-12]
        return pts

    def _mu(self, extra: dict) -> float:
        on = self.base.expected(self.base.nominal(**{self.poi: 1.0}, **extra))
        off = self.base.expected(self.base.nominal(**{self.poi: 0.0}, **extra))
        s = np.where(self.mask, on - off, 0.0).ravel()
        total = s.sum()
        if not total > 0:
            raise NudmsimError(f"{self.name}: no expected signal in the observables")
        con = np.isfinite(self.bound) & self.mask.ravel()
        s_con = s[con].sum()
        if s_con < self.min_fraction * total:
            raise NudmsimError(f"{self.name}: the constrained bins hold {s_con / total:.2g} of the visible signal "
                               f"(< {self.min_fraction:g}): no bound claimed")
        use = con & (s > 1e-6 * s_con)
        return float(np.min(self.bound[use] / s[use]))

    def upper_limit(self, *, cl: float = 0.9, method: str = "bound", power_constraint=None, **_):
        from .limits import UpperLimit

        if method != "bound":
            raise NudmsimError(f"{self.name}: the bin_bound kind has one method, bound (got {method})")
        mus = [(self._mu(v), v) for v in self.variations()]
        mu, worst = max(mus, key=lambda t: t[0])
        note = ""
        if worst:
            k, v = next(iter(worst.items()))
            note = f"envelope: weakest at {k} = {v:+g} sigma ({mu / mus[0][0]:.3g} x nominal)"
        return UpperLimit(mu, math.nan, math.nan, cl, method, math.nan, 0, None, note=note)


register_likelihood_kind(LikelihoodKind(
    "bin_bound", OPTIONS, prepare, BinBound, ("bound",), projection=False, observed=observed,
    doc="conservative bound: the signal may not exceed the Poisson upper limit of the observed counts (a known "
        "background subtracted where given, else none) or a rate bound in any bin; response nuisances as an "
        "envelope"))

__all__ = ["BinBound", "poisson_upper", "OPTIONS"]
