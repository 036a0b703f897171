"""The M_W fit of the W lepton-p_T analysis (``nudmsim fit atlas-w``): closure of the template machinery.

Pseudo-data are an independent unweighted sample generated with M_W = mw_true; the template for any M_W is a
template sample generated at the PDG M_W and reweighted by the ratio of Breit-Wigners
(:func:`nudmsim.sources.pp.breit_wigner_ratio`); the chi^2 (iminuit) includes the template's MC variance.  The
source and the response are the experiment card's (``pp_w`` source, ``collider / atlas_w`` stage;
:func:`nudmsim.generators.w_lepton.setup`).  Units: MeV.

This fit stays outside the Workspace: its parameter M_W moves every event's weight (a Breit-Wigner ratio per
event), which a histosys interpolation in M_W would approximate; docs/w_boson.md.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from ..errors import NudmsimError, ParameterError
from ..generators import w_sample as ws
from ..sources import pp

GeV = c.GeV
#: memory per generated W held by the fit (WSample truth of a chunk)
W_BYTES_PER_EVENT = 300


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


def lepton_name(code) -> str:
    """'e' or 'mu' from a name or a PDG code (11, 13); anything else is a ParameterError."""
    name = {"electron": "e", "muon": "mu", "11": "e", "13": "mu", "11.0": "e", "13.0": "mu"}.get(
        str(code).strip().lower(), str(code).strip().lower())
    if name not in ("e", "mu"):
        raise ParameterError(f"unknown lepton flavour '{code}' (use lepton=e or lepton=mu; PDG 11 or 13)")
    return name


def mw_closure(card, *, mw_true=None, lepton="mu", n_data=10_000_000, n_template=10_000_000, seed=7):
    """Fit M_W on an unweighted pseudo-data sample generated with M_W = mw_true (MeV) using templates from an
    independent sample generated at the PDG M_W and reweighted.  Returns the fit dict plus the pull."""
    from ..generate import make_rng
    from ..generators import w_lepton as wl

    flavour = lepton_name(lepton)
    src, resp = wl.setup(card)
    mw_true = c.M_W + 20.0 * c.MeV if mw_true is None else float(mw_true)
    edges = wl.analysis_edges(card)
    rng = make_rng(seed)
    data = pseudo_data_counts(src, resp, flavour, edges, int(n_data), rng, mw_true)
    events = template_events(src, resp, flavour, edges, int(n_template), rng)
    out = fit_mw(data, events, len(edges) - 1)
    out.update(mw_true=mw_true, pull=(out["mw"] - mw_true) / out["mw_err"], n_data=float(data.sum()))
    return out


def fit_entry(card, params, plot=None, **_):
    """``nudmsim fit atlas-w --set mw_true=<GeV> events=<N> seed=<S> lepton=<e|mu>``: the M_W closure fit."""
    o = dict(params)
    try:
        mw_true = float(o.pop("mw_true", (c.M_W + 20 * c.MeV) / GeV)) * GeV
        n = int(float(o.pop("events", 1e7)))
        seed = int(o.pop("seed", 7))
    except (ValueError, OverflowError):
        raise NudmsimError("atlas-w fit: --set mw_true=<GeV> events=<N> seed=<S> must be finite numbers") from None
    lepton = o.pop("lepton", "mu")
    if o:
        raise NudmsimError(f"atlas-w fit: unknown --set {sorted(o)[0]} (use mw_true, events, seed, lepton)")
    from ..generate import check_memory

    if n < 10_000 or seed < 0:
        raise NudmsimError("atlas-w fit: --set events must be >= 10000 and seed >= 0")
    check_memory(W_BYTES_PER_EVENT * n, f"--set events={n:.3g}", "use fewer events, e.g. --set events=1e7")
    if not abs(mw_true - c.M_W) < 1.5 * GeV:
        raise ParameterError(f"mw_true = {mw_true / GeV:g} GeV: stay within 1.5 GeV of M_W (reweighting range)")
    r = mw_closure(card, mw_true=mw_true, lepton=lepton, n_data=n, n_template=n, seed=seed)
    return {"M_W input": (r["mw_true"] / GeV, "GeV"), "M_W fitted": (r["mw"] / GeV, "GeV"),
            "M_W uncertainty (stat)": (r["mw_err"] / c.MeV, "MeV"), "pull": (r["pull"], ""),
            "chi2/ndf": (f"{r['chi2']:.1f}/{r['ndf']}", ""), "pseudo-data events in window": (r["n_data"], "")}
