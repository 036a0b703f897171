"""90% CL limits of the direct-detection analyses (``nudmsim limit xenon1t-si|xenon1t-x2nu|borexino-x2nu``).

* ``xenon1t-si``: sigma_n upper limit vs WIMP mass from the release's binwise likelihood and toy-MC threshold
  (:class:`nudmsim.response.binwise.BinwiseLikelihood`), overlaid on the official curve.
* ``xenon1t-x2nu``: the same likelihood for the X -> nu recoil line; the limit on the signal multiple mu
  converts exactly into sigma_NC (rates scale as y_X^2 y_q^2, sigma_NC as y_X^2 y_p^2).
* ``borexino-x2nu``: conservative, background-free bound: the signal (Birks-quenched, smeared) may not exceed
  the 90% CL Poisson upper limit of the observed counts in any bin of the Phase-II spectrum (212-2629 keVee;
  counts = (rate/error)^2), nor the C-14 rate in the 70-212 keVee window; the most constraining bin sets the
  limit (no background subtraction).  Masses whose visible line falls outside these windows give NaN.

Points where the detector cannot see the recoil give NaN (printed as nan); if every point is blind the
command stops with "the experiment is blind there" instead of writing an empty curve.  Scans run through
:func:`nudmsim.scan.map_points` (Dask; ``--scheduler sync`` in-process).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import constants as c
from ..errors import NudmsimError
from ..scan import map_points
from ..stats.curves import LimitCurve



@lru_cache(maxsize=8)
def _detector(path: str, sha: str):
    from .. import cards
    from ..response import dd_detectors

    return dd_detectors.load(cards.load_detector(path))


def _det_of(card):
    return _detector(str(card.path), card.sha256)


def _flag(opts, key) -> bool:
    v = str(opts.get(key, "0")).lower()
    if v not in ("0", "1", "true", "false", "yes", "no"):
        raise NudmsimError(f"--option {key}={v}: give 0 or 1")
    return v in ("1", "true", "yes")


def _finish(x, y, what: str, det) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if not np.any(np.isfinite(y)):
        raise NudmsimError(det.blind_message(f"no mass in {what} gives a detectable recoil"))
    return y


# ------------------------------------------------------------------------------------------------
# XENON1T SI
# ------------------------------------------------------------------------------------------------
def si_reco_counts(det, m_chi_GeV: float, sigma_n_cm2: float = 1e-45) -> np.ndarray:
    """Expected counts per reconstructed bin (likelihood convention) for an SI WIMP."""
    from ..response.binwise import bin_integrals_smooth
    from .direct_detection import wimp_spectrum

    params = {"m_chi": m_chi_GeV, "sigma_n": sigma_n_cm2}
    tb = bin_integrals_smooth(det.matrix.true_edges, lambda ek: wimp_spectrum(ek * c.keV, params, det) * c.keV)
    return det.counts_from_true_bins(tb)


def _si_point(args):
    path, sha, m, asymptotic = args
    det = _detector(path, sha)
    rec = si_reco_counts(det, m)
    mu = det.likelihood.upper_limit(rec, asymptotic=asymptotic)
    return mu * 1e-45 if np.isfinite(mu) else np.nan


def official_si_curve(det):
    from ..response.binwise import read_table

    def read(path):
        head, arr = read_table(path)
        read_table(path, increasing=head[:1], nonnegative=head[:2])
        return arr

    arr = det.card.read_file("likelihood.reference_limit", read)
    return arr[:, 0], arr[:, 1], arr


def xenon1t_si(req) -> LimitCurve:
    req.refuse_unused("xenon1t-si", ("asymptotic",), projected=True)  # --projected: own message below
    det = _det_of(req.card)
    if not hasattr(det, "likelihood"):
        raise NudmsimError(f"xenon1t-si needs a dd-xenon card, '{det.name}' is {det.kind}")
    if req.projected:
        raise NudmsimError("xenon1t-si: no background model is released, so no Asimov projection "
                           "(drop --projected; the official sensitivity band is in the reference CSV)")
    mo, so, _ = official_si_curve(det)
    masses = mo if req.masses is None else np.asarray(req.masses) / c.GeV
    asym = _flag(req.options, "asymptotic")
    pts = [(str(det.card.path), det.card.sha256, float(m), asym) for m in masses]
    y = np.asarray(map_points(_si_point, pts, scheduler=req.scheduler, progress=req.progress,
                              label="xenon1t-si"), dtype=float)
    if not np.any(np.isfinite(y)):  # the generic message speaks of x-to-nu and m_X; the usual cause is GeV
        shown = ", ".join(f"{m:.4g}" for m in masses[:5]) + (", ..." if len(masses) > 5 else "")
        raise NudmsimError(f"xenon1t-si: no WIMP mass in the scan ({shown} GeV) gives a detectable recoil; "
                           "--masses is in MeV (for 10 and 50 GeV write --masses 10000,50000)")
    return LimitCurve(x=np.asarray(masses, float), observed=y, x_label="m_chi", y_label="sigma_SI (nucleon)",
                      x_unit="GeV", y_unit="cm^2", title="XENON1T 2018 SI limit (binwise likelihood)",
                      provenance=f"nudmsim xenon1t-si, card {det.card.path.name} sha256 {det.card.sha256[:12]}, "
                                 f"halo {det.halo.name}, threshold {'asymptotic' if asym else 'toy-MC'}",
                      reference=(mo, so, "XENON1T official"))


# ------------------------------------------------------------------------------------------------
# X -> nu
# ------------------------------------------------------------------------------------------------
REF_Y_X, REF_Y_Q = 1.0, 1e-6


def _ref_params(m_X, ratio):
    return {"m_X": float(m_X), "m_phi": float(ratio * m_X), "y_X": REF_Y_X, "y_q": REF_Y_Q}


def x2nu_xenon_counts(det, params) -> np.ndarray:
    """Expected counts per reconstructed bin for X -> nu (likelihood convention)."""
    from ..processes import x_to_nu as X
    from .direct_detection import nucleus_couplings

    _, _, y_N = nucleus_couplings(params, det)
    edges = det.matrix.true_edges * c.keV
    tb = 0.0
    for t, yN in zip(det.targets, y_N):
        tb = tb + t.per_kg * X.line_bin_integrals(edges, det.halo, params["m_X"], params["m_phi"], t.nucleus.mass,
                                                  t.nucleus.A, params["y_X"], yN, t.form_factor)
    return det.counts_from_true_bins(tb)


def _x2nu_xe_point(args):
    from .direct_detection import sigma_nc_cm2

    path, sha, m, ratio, asym = args
    det = _detector(path, sha)
    p = _ref_params(m, ratio)
    rec = x2nu_xenon_counts(det, p)
    if not np.any(rec[det.likelihood.table.any(axis=1)] > 0):
        return np.nan
    mu = det.likelihood.upper_limit(rec, asymptotic=asym)
    return mu * sigma_nc_cm2(p) if np.isfinite(mu) else np.nan


def _x2nu_curve(req, det, point_fn, default_masses, title, extra):
    ratio = 10.0 if req.ratio is None else float(req.ratio)
    if ratio <= 0 or not np.isfinite(ratio):
        raise NudmsimError(f"--ratio {ratio}: r = m_phi/m_X must be > 0")
    masses = default_masses if req.masses is None else np.asarray(req.masses, dtype=float)
    pts = [(str(det.card.path), det.card.sha256, float(m), ratio) + extra for m in masses]
    y = map_points(point_fn, pts, scheduler=req.scheduler, progress=req.progress, label=title)
    y = _finish(masses, y, f"m_X = {masses.min():g}-{masses.max():g} MeV", det)
    return LimitCurve(x=np.asarray(masses, float), observed=y, x_label="m_X", y_label="sigma_NC",
                      x_unit="MeV", y_unit="cm^2", title=f"{title}: X + N -> nu + N, m_phi = {ratio:g} m_X",
                      provenance=(f"nudmsim {title}, card {det.card.path.name} sha256 {det.card.sha256[:12]}, "
                                  f"halo {det.halo.name}; sigma_NC = y_X^2 y_p^2 m_X^2/(16 pi m_phi^4) (seed 004); "
                                  f"rates from |M|^2 (sigma v = 4 A^2 sigma_NC in the contact limit)"))


def xenon1t_x2nu(req) -> LimitCurve:
    req.refuse_unused("xenon1t-x2nu", ("asymptotic",), ratio=True, projected=True)
    det = _det_of(req.card)
    if not hasattr(det, "likelihood"):
        raise NudmsimError(f"xenon1t-x2nu needs a dd-xenon card, '{det.name}' is {det.kind}")
    if req.projected:
        raise NudmsimError("xenon1t-x2nu: no released background model, no Asimov projection (drop --projected)")
    asym = _flag(req.options, "asymptotic")
    return _x2nu_curve(req, det, _x2nu_xe_point, np.geomspace(20.0, 200.0, 31), "xenon1t-x2nu", (asym,))


# ------------------------------------------------------------------------------------------------
# Borexino
# ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _borexino_data(path: str):
    from ..response.binwise import read_table

    from scipy.stats import chi2

    head, a = read_table(path)
    if len(head) < 6:
        raise NudmsimError(f"{path}: needs columns index, bin, energy_keV, keV_per_bin, rate, rate_err")
    read_table(path, increasing=head[2:3], nonnegative=head[3:6])
    centre, width, rate, err = a[:, 2], a[:, 3], a[:, 4], a[:, 5]
    # adjacent centres are ~ one width apart; use midpoints between centres as shared edges
    mid = 0.5 * (centre[1:] + centre[:-1])
    edges = np.concatenate([[centre[0] - 0.5 * width[0]], mid, [centre[-1] + 0.5 * width[-1]]])
    # the errors are Poisson: counts n = (rate/err)^2 in an exposure rate/err^2 [100 t day] (582 for this file)
    with np.errstate(divide="ignore", invalid="ignore"):
        counts = np.where(err > 0, (rate / err) ** 2, 0.0)
        expo = np.where(err > 0, rate / err**2, np.nan)
    expo = np.where(np.isfinite(expo), expo, np.nanmedian(expo))
    counts = np.round(counts)
    ul_counts = 0.5 * chi2.ppf(0.90, 2.0 * (counts + 1.0))  # one-sided 90% Poisson upper limit
    return edges, ul_counts / expo, float(np.nanmedian(expo))


def borexino_signal(det, params, edges_keVee, n_nodes: int = 41) -> np.ndarray:
    """Signal rate per visible-energy bin [events / (day 100 t)] (all targets)."""
    from ..processes import x_to_nu as X
    from .direct_detection import nucleus_couplings

    _, _, y_N = nucleus_couplings(params, det)
    out = np.zeros(len(edges_keVee) - 1)
    for i, (t, yN) in enumerate(zip(det.targets, y_N)):
        lo, hi = X.recoil_support(det.halo, params["m_X"], t.nucleus.mass)
        fine = np.linspace(lo, hi, n_nodes + 1)
        r = X.line_bin_integrals(fine, det.halo, params["m_X"], params["m_phi"], t.nucleus.mass, t.nucleus.A,
                                 params["y_X"], yN, t.form_factor) * t.per_kg
        out += det.smear_to_bins(0.5 * (fine[1:] + fine[:-1]), r, i, edges_keVee)
    return out * c.DAY * 1e5  # per kg per ns -> per (day x 100 t)


def _x2nu_bx_point(args):
    from .direct_detection import sigma_nc_cm2

    path, sha, m, ratio, quench = args
    det = _detector(path, sha).with_quenching(quench)
    p = _ref_params(m, ratio)
    edges, bound, _ = det.card.read_file("background.spectrum", lambda p: _borexino_data(str(p)))
    s = borexino_signal(det, p, edges)
    lo_c14, hi_c14 = det.card.array("background.c14_window_keVee", length=2)
    lo_c14 = max(lo_c14, det.threshold)
    s14 = borexino_signal(det, p, np.array([lo_c14, hi_c14]))[0]
    bound14 = det.card.number("background.c14_rate_Bq_per_100t", positive=True) * c.DAY / c.s
    # the analysed windows must hold a real part of the visible signal (not a Gaussian tail)
    total = borexino_signal(det, p, np.array([det.threshold, 1e9]))[0]  # visible above threshold
    if total <= 0 or (s.sum() + s14) < 1e-2 * total:
        return np.nan
    mus = []
    ok = s > 1e-6 * s.sum()
    if ok.any():
        mus.append(np.min(bound[ok] / s[ok]))
    if s14 > 1e-6 * total:
        mus.append(bound14 / s14)
    if not mus:
        return np.nan
    return float(min(mus)) * sigma_nc_cm2(p)


def borexino_x2nu(req) -> LimitCurve:
    req.refuse_unused("borexino-x2nu", ("quenching",), ratio=True, projected=True)
    det = _det_of(req.card)
    if not hasattr(det, "visible"):
        raise NudmsimError(f"borexino-x2nu needs a dd-scintillator card, '{det.name}' is {det.kind}")
    if req.projected:
        raise NudmsimError("borexino-x2nu: conservative data bound only, no Asimov projection (drop --projected)")
    quench = str(req.options.get("quenching", "birks"))
    det.with_quenching(quench)  # validates the option
    return _x2nu_curve(req, det, _x2nu_bx_point, np.geomspace(20.0, 1000.0, 31), "borexino-x2nu", (quench,))
