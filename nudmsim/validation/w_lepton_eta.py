"""W+ / W- charged-lepton |eta| distributions and charge asymmetry vs ATLAS 7 TeV 2011 data (``nudmsim validate w.``).

Reference: ATLAS, EPJC 77 (2017) 367 [arXiv:1612.03016], the same 4.6 fb^-1 as the W-mass measurement; file
``data/atlas_w_7tev/atlas_7TeV_W_lepton_eta_2011data.csv`` (values of the Rivet reference: d sigma/d eta per unit
eta, i.e. the |eta| histogram scaled by 0.5 (checked in the Rivet analysis ATLAS_2016_I1502620), so
sigma_fid = 2 sum value x bin width).  Fiducial region (paper): dressed lepton p_T > 25 GeV, |eta| < 2.5,
p_T^nu > 25 GeV, m_T > 40 GeV; applied here to the generator's truth leptons (no FSR: our leptons are "dressed").

The model prediction is the ``w-lepton`` generator at truth level with U2 = 0 (light-neutrino decay density
with the A_i of the source), weighted to d sigma/d eta [pb].  The PDF uncertainty quoted with the asymmetry and
the fiducial cross sections is the spread of independent global PDF fits (``fluxes/pp_w_pdf_spread_7tev.csv``,
made by ``tools/w_pdf_spread.py``; method in its docstring): half the max - min of the predictions of
NNPDF3.1 NLO (central), NNPDF3.1 NNLO, NNPDF2.3 NLO, NNPDF2.3 NNLO and PDF4LHC21, each with the same NLO
calculation.  Only central members ship with Pythia, so the within-set (replica) uncertainty is not included.
"""
from __future__ import annotations

import csv

import numpy as np

from .. import constants as c
from ..registry import check

GeV = c.GeV
PB = c.u.picobarn


def atlas_eta_table():
    """ATLAS 2011 |eta| bins: dict(edges, plus=(value, error), minus=(value, error), asym=(value, error)),
    cross sections per unit eta [pb]."""
    from ..paths import data_file

    with open(data_file("atlas_w_7tev", "atlas_7TeV_W_lepton_eta_2011data.csv")) as fh:
        rows = list(csv.DictReader(ln for ln in fh if not ln.startswith("#")))
    out = {}
    for key, name in (("plus", "W+ -> l+ nu"), ("minus", "W- -> l- nubar"), ("asym", "W charge asymmetry A_l")):
        sel = [r for r in rows if r["observable"] == name]
        out[key] = (np.array([float(r["value"]) for r in sel]), np.array([float(r["err_plus"]) for r in sel]))
        out["edges"] = np.array([float(r["abs_eta_low"]) for r in sel] + [float(sel[-1]["abs_eta_high"])])
    return out


def atlas_fiducial_pb():
    """ATLAS fiducial sigma(W+ -> l+ nu), sigma(W- -> l- nu) [pb] and their errors (bin errors added linearly:
    they are dominated by the fully correlated 1.8% luminosity uncertainty)."""
    t = atlas_eta_table()
    width = np.diff(t["edges"])
    return {k: (2 * np.sum(t[k][0] * width), 2 * np.sum(t[k][1] * width)) for k in ("plus", "minus")}


def fiducial_2011(s, sel_pt=25.0, eta_max=2.5, nu_pt=25.0, mt_min=40.0):
    """Truth fiducial selection of the 2011 measurement (massless neutrino): mask, lepton |eta|, lepton p_T."""
    from ..processes import w_decay as wd

    d = s.derived()
    lpt = wd.p_star(s.truth["m"], 0.0) * d["kt"]
    lpx, lpy = lpt * d["cphi"], lpt * d["sphi"]
    npx, npy = d["wpx"] - lpx, d["wpy"] - lpy
    npt = np.hypot(npx, npy)
    mt = np.sqrt(np.maximum(2 * (lpt * npt - lpx * npx - lpy * npy), 0))
    ae = np.abs(d["eta"])
    ok = (ae < eta_max) & (lpt > sel_pt * GeV) & (npt > nu_pt * GeV) & (mt > mt_min * GeV)
    return ok, ae, lpt


def eta_prediction(n=10_000_000, seed=15, source=None, sample=None, chunk=2_000_000):
    """Model d sigma/d eta [pb] per ATLAS bin for W+ and W- (and MC errors) and the fiducial cross sections, from
    n generated events (in chunks: flat memory) or a given ``sample``."""
    from ..generators import w_sample as ws
    from ..generate import make_rng
    from ..processes import w_decay as wd
    from ..sources.pp import load_pp_source

    src = load_pp_source("pp_7tev") if source is None else source
    t = atlas_eta_table()
    edges = t["edges"]
    acc = {k: np.zeros((3, len(edges) - 1)) for k in ("plus", "minus")}
    rng = make_rng(seed)
    todo = [sample] if sample is not None else [int(min(chunk, n - a)) for a in range(0, int(n), int(chunk))]
    n_tot = 0
    for item in todo:
        s = item if sample is not None else ws.generate_sample(src, item, rng, 0)
        n_tot += s.n
        ok, ae, _ = fiducial_2011(s)
        tr = s.truth
        w = wd.decay_weight_eo(tr["e_dens"], tr["o_dens"], tr["cos_q"], 0.0, tr["charge"]) * s.sigma / PB
        for key, ch in (("plus", 1), ("minus", -1)):
            m = ok & (tr["charge"] == ch)
            acc[key][0] += np.histogram(ae[m], edges, weights=w[m])[0]
            acc[key][1] += np.histogram(ae[m], edges, weights=w[m] ** 2)[0]
    out = {"edges": edges}
    width = np.diff(edges)
    for key in ("plus", "minus"):
        h, h2 = acc[key][0] / n_tot, acc[key][1] / n_tot**2
        out[key] = (h / width / 2.0, np.sqrt(h2) / width / 2.0)
        out["sigma_" + key] = float(np.sum(h))
    return out


def shape_chi2(pred, key):
    """(chi^2, ndf, max |model/data - 1|) of the normalised |eta| shape for key 'plus' or 'minus': both
    normalised to unit area over the measured range, errors = data errors (relative, scaled) + MC errors."""
    t = atlas_eta_table()
    width = np.diff(t["edges"])
    v, e = t[key]
    m, me = pred[key]
    nd, nm = np.sum(v * width), np.sum(m * width)
    r = (m / nm - v / nd) / np.hypot(e / nd, me / nm)
    return float(np.sum(r**2)), len(v) - 1, float(np.max(np.abs((m / nm) / (v / nd) - 1)))


def asymmetry(pred):
    """Lepton charge asymmetry per bin and its MC error."""
    p, pe = pred["plus"]
    m, me = pred["minus"]
    a = (p - m) / (p + m)
    ae = 2 * np.hypot(m * pe, p * me) / (p + m) ** 2
    return a, ae


def pdf_spread():
    """PDF uncertainty table: dict(asym (per bin), shape_plus, shape_minus (relative, per bin), sigma_plus,
    sigma_minus (relative)) from fluxes/pp_w_pdf_spread_7tev.csv."""
    from ..paths import flux_file

    with open(flux_file("pp_w_pdf_spread_7tev.csv")) as fh:
        rows = list(csv.DictReader(ln for ln in fh if not ln.startswith("#")))
    get = lambda k: np.array([float(r[k]) for r in rows])  # noqa: E731
    out = {k: get(k) for k in ("d_asym", "d_shape_plus", "d_shape_minus")}
    out["d_sigma_plus"], out["d_sigma_minus"] = float(rows[0]["d_sigma_plus"]), float(rows[0]["d_sigma_minus"])
    return out


def asymmetry_check(pred, pdf=None):
    """(max |A_model - A_data|, chi^2 with data + MC errors, chi^2 with the PDF uncertainty added, ndf)."""
    t = atlas_eta_table()
    a, ae = asymmetry(pred)
    v, e = t["asym"]
    dpdf = pdf_spread()["d_asym"] if pdf is None else pdf
    chi_data = float(np.sum((a - v) ** 2 / (e**2 + ae**2)))
    chi_pdf = float(np.sum((a - v) ** 2 / (e**2 + ae**2 + dpdf**2)))
    return float(np.max(np.abs(a - v))), chi_data, chi_pdf, len(v)


_CACHE = {}


def _pred():
    if "pred" not in _CACHE:
        _CACHE["pred"] = eta_prediction()
    return _CACHE["pred"]


# ------------------------------------------------------------------------------------------------
# registered checks
# ------------------------------------------------------------------------------------------------
@check("w.eta_shape_plus_chi2ndf", unit="", reference=1.0, tolerance=1.0,
       description="W+ -> l+ nu normalised |eta_l| shape vs ATLAS 2011 (EPJC 77 (2017) 367), truth fiducial "
                   "cuts, 2e6 events: chi2/ndf < 2 with the data errors")
def _():
    chi2, ndf, _ = shape_chi2(_pred(), "plus")
    return chi2 / ndf, chi2 / ndf < 2.0


@check("w.eta_shape_minus_chi2ndf", unit="", reference=1.0, tolerance=1.0,
       description="W- -> l- nu normalised |eta_l| shape vs ATLAS 2011: chi2/ndf < 2 with the data errors")
def _():
    chi2, ndf, _ = shape_chi2(_pred(), "minus")
    return chi2 / ndf, chi2 / ndf < 2.0


@check("w.charge_asym_max_dev", unit="", reference=0.0, tolerance=0.015,
       description="lepton charge asymmetry vs ATLAS 2011: max |model - data| over the 11 |eta| bins < 0.015")
def _():
    return asymmetry_check(_pred())[0]


@check("w.charge_asym_chi2ndf_pdf", unit="", reference=1.5, tolerance=1.5,
       description="lepton charge asymmetry vs ATLAS 2011: chi2/ndf < 3 with data errors + the PDF spread "
                   "(fluxes/pp_w_pdf_spread_7tev.csv)")
def _():
    dev, chi_data, chi_pdf, ndf = asymmetry_check(_pred())
    return chi_pdf / ndf, chi_pdf / ndf < 3.0


@check("w.sigma_fid_plus_pb", unit="pb", reference=atlas_fiducial_pb()["plus"][0], tolerance=0.0,
       description="fiducial sigma(W+ -> l+ nu) vs ATLAS 2011 within the PDF spread (+) the data error")
def _():
    return _fid_check("plus", "w.sigma_fid_plus_pb")


@check("w.sigma_fid_minus_pb", unit="pb", reference=atlas_fiducial_pb()["minus"][0], tolerance=0.0,
       description="fiducial sigma(W- -> l- nu) vs ATLAS 2011 within the PDF spread (+) the data error")
def _():
    return _fid_check("minus", "w.sigma_fid_minus_pb")


def _fid_check(key, name):
    """The tolerance is the quoted PDF spread (+) the ATLAS error, so the check returns its own CheckResult."""
    from ..registry import CHECKS, CheckResult

    val = _pred()["sigma_" + key]
    ref, err = atlas_fiducial_pb()[key]
    tol = float(np.hypot(pdf_spread()["d_sigma_" + key] * val, err))
    return CheckResult(name, float(val), float(ref), tol, "pb", bool(abs(val - ref) <= tol), CHECKS[name].description)
