"""Template fits on the lepton-p_T spectrum of W -> l + invisible: |U_l4|^2 limits vs m_4 and the M_W fit.

Statistical model (seed 002 sec. III F): lepton p_T 30-50 GeV in 0.5 GeV bins, Poisson statistics only,
expected counts

    nu_i(|U|^2, N) = N [(1 - |U|^2) T_light,i + |U|^2 T_nu4,i(m_4)],

N a normalisation with a Gaussian constraint of 2% (luminosity), built as a :class:`nudmsim.stats.likelihood.Spec`
and turned into a 90% CL expected (Asimov, SM data) limit by :func:`nudmsim.stats.asimov.expected_limit`
(CCGV q~, critical value 1.642).  The ATLAS lepton-p_T histograms are not public, so there is no observed limit.

The M_W fit: pseudo-data are an independent unweighted sample; the template for any M_W is the template
sample reweighted by the ratio of Breit-Wigners (:func:`nudmsim.sources.pp.breit_wigner_ratio`); the chi^2
includes the template's MC variance.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from ..processes import w_decay as wd
from ..sources import pp
from . import _w_sample as ws

GeV = c.GeV


def analysis_edges(card):
    lo = card.number("analysis.pt_lo_GeV", positive=True)
    hi = card.number("analysis.pt_hi_GeV", positive=True)
    width = card.number("analysis.bin_GeV", positive=True)
    n = int(round((hi - lo) / width))
    if n < 1 or abs(lo + n * width - hi) > 1e-6 * hi:
        raise card.error("analysis.bin_GeV", f"{width} GeV does not divide {lo}-{hi} GeV")
    return np.linspace(lo, hi, n + 1) * GeV


def kink_spec(light, heavy, m4, norm_sigma, name=""):
    """The likelihood Spec for one m_4: POI ``U2`` in [0, 1], constrained normalisation ``norm``."""
    from ..stats.likelihood import Component, Parameter, Spec

    light = np.asarray(light, float)
    heavy = np.asarray(heavy, float)

    def expected(p):
        u = p["U2"]
        return p["norm"] * ((1.0 - u) * light + u * heavy)

    return Spec(observed=light, components=[Component("w", expected)],
                parameters=[Parameter("U2", 0.0, bounds=(0.0, 1.0), step=1e-3),
                            Parameter("norm", 1.0, bounds=(0.5, 1.5), constraint=(1.0, norm_sigma))],
                poi="U2", name=name)


def limit_point(args):
    """(m4 [MeV], light template, heavy template, norm sigma) -> (median, bands dict) of the 90% CL limit."""
    from ..stats.asimov import expected_limit

    m4, light, heavy, norm_sigma = args
    try:
        ex = expected_limit(kink_spec(light, heavy, m4, norm_sigma, name=f"m4={m4 / GeV:g} GeV"))
    except Exception as exc:  # noqa: BLE001 - a point that cannot be constrained is reported as NaN
        return float("nan"), {}, str(exc)
    return ex.median, ex.bands, ""


def mass_templates(sample, resp, flavour, masses, edges, charges):
    """Light template and the nu_4 template of every mass (MeV), on a preselected (compact) sample."""
    w = ws.compact_weight(sample, resp, charges)
    out = []
    for m4 in masses:
        t = ws.templates(sample, resp, flavour, float(m4), edges, w)
        out.append((float(m4), t.light, t.heavy))
    return out


# ------------------------------------------------------------------------------------------------
# M_W fit (template machinery unbiasedness)
# ------------------------------------------------------------------------------------------------
def unweighted_counts(sample, resp, flavour, edges, rng, observable="pt"):
    """Histogram of an unweighted pseudo-data set: the proposal decay weight is unweighted by accept-reject."""
    rec = ws.reconstruct(sample, resp, flavour, 0.0)
    wmax = 1.0 / (1.0 - wd.PROPOSAL_UNIFORM)
    keep = rec["selected"] & (rng.random(sample.n) * wmax < rec["w_decay"])
    h, _ = np.histogram(rec[observable][keep], edges)
    return h.astype(float)


def fit_mw(data, sample, resp, flavour, edges, mw_start=None, observable="pt"):
    """Fit M_W (and a free normalisation) of ``data`` counts with templates from ``sample`` reweighted in the
    Breit-Wigner.  Returns dict: mw, mw_err [MeV], norm, chi2, ndf, valid."""
    from iminuit import Minuit

    rec = ws.reconstruct(sample, resp, flavour, 0.0)
    sel = rec["selected"] & (rec[observable] >= edges[0]) & (rec[observable] < edges[-1])
    x = rec[observable][sel]
    w0 = rec["w_decay"][sel]
    m = sample.truth["m"][sel]
    idx = np.minimum(((x - edges[0]) / (edges[1] - edges[0])).astype(np.int64), len(edges) - 2)
    nb = len(edges) - 1
    data = np.asarray(data, float)

    def template(mw):
        w = w0 * pp.breit_wigner_ratio(m, mw, sample.mw_ref)
        return np.bincount(idx, w, nb), np.bincount(idx, w * w, nb)

    def chi2(mw_gev, norm):
        t, v = template(mw_gev * GeV)
        scale = norm * data.sum() / t.sum()
        nu = scale * t
        var = np.maximum(data, 1.0) + scale**2 * v
        return float(np.sum((data - nu) ** 2 / var))

    chi2.errordef = Minuit.LEAST_SQUARES
    start = (mw_start or sample.mw_ref) / GeV
    mi = Minuit(chi2, mw_gev=start, norm=1.0)
    mi.limits["mw_gev"] = (start - 2.0, start + 2.0)
    mi.errors["mw_gev"] = 0.05
    mi.migrad()
    mi.hesse()
    return {"mw": mi.values["mw_gev"] * GeV, "mw_err": mi.errors["mw_gev"] * GeV, "norm": mi.values["norm"],
            "chi2": mi.fval, "ndf": nb - 2, "valid": bool(mi.valid)}
