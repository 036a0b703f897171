"""Template fits on the lepton-p_T spectrum of W -> l + invisible: |U_l4|^2 limits vs m_4 and the M_W fit.

Statistical model (seed 002 sec. III F): lepton p_T 30-50 GeV in 0.5 GeV bins, Poisson statistics only,
expected counts

    nu_i(|U|^2, N, theta) = N [(1 - |U|^2) T_light,i + |U|^2 T_nu4,i(m_4)] + sum_b theta_b B_b,i,

N a normalisation with a Gaussian constraint of 2% (luminosity), B_b the background templates the detector card
declares (``[[analysis.background]]``: W -> tau nu -> l, Z -> l l with a lost lepton, multijet, top; see
:func:`background_templates`), each with a Gaussian-constrained normalisation theta_b (1 +- norm_error), built as
a :class:`nudmsim.stats.likelihood.Spec`
and turned into a 90% CL expected (Asimov, SM data) limit by :func:`nudmsim.stats.asimov.expected_limit`
(CCGV q~, critical value 1.642).  The ATLAS lepton-p_T histograms are not public, so there is no observed limit.

The M_W fit: pseudo-data are an independent unweighted sample; the template for any M_W is the template
sample reweighted by the ratio of Breit-Wigners (:func:`nudmsim.sources.pp.breit_wigner_ratio`); the chi^2
includes the template's MC variance.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
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


def kink_spec(light, heavy, m4, norm_sigma, name="", backgrounds=()):
    """The likelihood Spec for one m_4: POI ``U2`` in [0, 1], constrained normalisation ``norm``, and one
    component per background (name, counts, relative normalisation error) with its constrained ``norm_<name>``.
    The observed counts are the SM expectation (Asimov): light + backgrounds."""
    from ..stats.likelihood import Component, Parameter, Spec

    light = np.asarray(light, float)
    heavy = np.asarray(heavy, float)

    def expected(p):
        u = p["U2"]
        return p["norm"] * ((1.0 - u) * light + u * heavy)

    comps = [Component("w", expected)]
    params = [Parameter("U2", 0.0, bounds=(0.0, 1.0), step=1e-3),
              Parameter("norm", 1.0, bounds=(0.5, 1.5), constraint=(1.0, norm_sigma))]
    observed = light.copy()
    for bname, counts, err in backgrounds:
        counts = np.asarray(counts, float)
        pname = f"norm_{bname}"
        comps.append(Component(bname, lambda p, b=counts, k=pname: p[k] * b))
        params.append(Parameter(pname, 1.0, bounds=(0.0, 1.0 + 6.0 * err), constraint=(1.0, err)))
        observed = observed + counts
    return Spec(observed=observed, components=comps, parameters=params, poi="U2", name=name)


def limit_point(args):
    """(m4 [MeV], light template, heavy template, norm sigma[, backgrounds]) -> (median, bands dict, message) of
    the 90% CL limit."""
    from ..stats.asimov import expected_limit

    m4, light, heavy, norm_sigma = args[:4]
    bkgs = args[4] if len(args) > 4 else ()
    try:
        ex = expected_limit(kink_spec(light, heavy, m4, norm_sigma, name=f"m4={m4 / GeV:g} GeV", backgrounds=bkgs))
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


def background_templates(src, resp, flavour, edges, charges, light, rng, n_events=2_000_000):
    """Expected background counts per lepton-p_T bin for the card's ``[[analysis.background]]`` definitions:
    list of (name, counts, norm_error).  ``light`` is the selected SM W -> l nu template in ``edges`` (the
    reference of the parametric ``fraction_<l>`` normalisations).  Generated backgrounds use ``n_events`` events of
    the same source and response (:mod:`nudmsim.processes.w_backgrounds`)."""
    from ..processes import w_backgrounds as wbk
    from ..sources.pp import load_z_source

    out = []
    lo, hi = float(edges[0]), float(edges[-1])
    for b in resp.backgrounds:
        if b.template == "generator:w_tau":
            s = wbk.w_tau_sample(src, int(n_events), rng, flavour)
            rec = ws.reconstruct(s, resp, flavour, 0.0)
            w = ws.event_weight(s, resp, flavour, charges) * rec["w_decay"] * rec["selected"]
            counts = np.histogram(rec["pt"], edges, weights=w)[0]
        elif b.template == "generator:z_lost_lepton":
            zsrc = load_z_source(resp.source)
            s, lost = wbk.z_lost_lepton_sample(zsrc, int(n_events), rng, b.params["veto_eta_max"],
                                               b.params["veto_pt_min_GeV"] * GeV)
            rec = ws.reconstruct(s, resp, flavour, 0.0)
            # the candidate is l+ or l- with equal probability: a W+ (W-) only analysis keeps half
            w = ws.event_weight(s, resp, flavour, (1,)) * rec["w_decay"] * rec["selected"] * lost * len(charges) / 2
            counts = np.histogram(rec["pt"], edges, weights=w)[0]
        else:
            frac = b.params[f"fraction_{flavour}"]
            x = np.asarray(edges, float)
            if b.template == "exponential":
                tau = b.params["slope_GeV"] * GeV
                shape = np.exp(-(x[:-1] - lo) / tau) - np.exp(-(x[1:] - lo) / tau)
            else:                                                        # flat
                shape = np.diff(x) / (hi - lo)
            counts = frac * float(np.sum(light)) * shape / shape.sum()
        out.append((b.name, counts, b.norm_error))
    return out


# ------------------------------------------------------------------------------------------------
# M_W fit (template machinery unbiasedness)
# ------------------------------------------------------------------------------------------------
def _chunks(n, chunk):
    for a in range(0, n, chunk):
        yield min(n, a + chunk) - a


def pseudo_data_counts(source, resp, flavour, edges, n, rng, mw_true, observable="pt", chunk=1 << 20):
    """Histogram of an unweighted pseudo-data set of n generated W events with M_W = mw_true: events are
    generated at the PDG M_W and accepted with probability R(M)/max R (R = Breit-Wigner ratio) and
    w_decay/max w_decay (lepton density over the proposal density of the decay), in chunks (flat memory).  The
    decay-weight maximum is taken over the selected events of each chunk (only they enter the histogram; every
    chunk is an independent sample of the same distribution, so a per-chunk acceptance scale leaves the accepted
    shape unbiased)."""
    m_grid = np.linspace(source.mass_lo, source.mass_hi, 20001)
    rmax = float(pp.breit_wigner_ratio(m_grid, mw_true).max()) * (1 + 1e-9)
    h = np.zeros(len(edges) - 1)
    for k in _chunks(int(n), chunk):
        s = ws.generate_sample(source, k, rng, 0)
        keep = rng.random(k) * rmax < pp.breit_wigner_ratio(s.truth["m"], mw_true)
        s = s.subset(keep)
        rec = ws.reconstruct(s, resp, flavour, 0.0)
        sel = rec["selected"]
        wmax = float(rec["w_decay"][sel].max()) * (1 + 1e-9) if sel.any() else 1.0   # only selected events count
        keep = sel & (rng.random(s.n) * wmax < rec["w_decay"])
        h += np.histogram(rec[observable][keep], edges)[0]
    return h


def template_events(source, resp, flavour, edges, n, rng, observable="pt", chunk=1 << 20):
    """(bin index, decay weight, W mass) of the selected events inside ``edges`` of n generated events."""
    out = ([], [], [])
    for k in _chunks(int(n), chunk):
        s = ws.generate_sample(source, k, rng, 0)
        rec = ws.reconstruct(s, resp, flavour, 0.0)
        sel = rec["selected"] & (rec[observable] >= edges[0]) & (rec[observable] < edges[-1])
        x = rec[observable][sel]
        out[0].append(np.minimum(((x - edges[0]) / (edges[1] - edges[0])).astype(np.int64), len(edges) - 2))
        out[1].append(rec["w_decay"][sel])
        out[2].append(s.truth["m"][sel])
    return tuple(np.concatenate(o) for o in out)


def fit_mw(data, events, nbins, mw_ref=None, mw_start=None):
    """Fit M_W (and a free normalisation) of ``data`` counts with the template ``events`` = (bin index, weight,
    W mass) of :func:`template_events` reweighted in the Breit-Wigner; chi^2 with the data and template
    (MC) variances.  Returns dict: mw, mw_err [MeV], norm, chi2, ndf, valid."""
    from iminuit import Minuit

    mw_ref = c.M_W if mw_ref is None else mw_ref
    idx, w0, m = events
    data = np.asarray(data, float)

    def template(mw):
        w = w0 * pp.breit_wigner_ratio(m, mw, mw_ref)
        return np.bincount(idx, w, nbins), np.bincount(idx, w * w, nbins)

    def chi2(mw_gev, norm):
        t, v = template(mw_gev * GeV)
        scale = norm * data.sum() / t.sum()
        nu = scale * t
        var = np.maximum(data, 1.0) + scale**2 * v
        return float(np.sum((data - nu) ** 2 / var))

    chi2.errordef = Minuit.LEAST_SQUARES
    start = (mw_start or mw_ref) / GeV
    mi = Minuit(chi2, mw_gev=start, norm=1.0)
    mi.limits["mw_gev"] = (start - 2.0, start + 2.0)
    mi.errors["mw_gev"] = 0.05
    mi.migrad()
    mi.hesse()
    return {"mw": mi.values["mw_gev"] * GeV, "mw_err": mi.errors["mw_gev"] * GeV, "norm": mi.values["norm"],
            "chi2": mi.fval, "ndf": nbins - 2, "valid": bool(mi.valid)}
