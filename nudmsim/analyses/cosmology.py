"""Cosmology analyses of the scalar-portal model (seed 004 §IV and §VII; physics in
:mod:`nudmsim.cosmology.kinetic` and :mod:`nudmsim.cosmology.thermal`, docs in ``docs/cosmology.md``).

* ``kinetic-decoupling``: upper limit on sigma_NC vs m_X at m_phi = r m_X from T_KD > T_min (Lyman-alpha,
  1.4 keV), with y_q at the kaon bound 1.58e-4 (seed Fig. 2).  ``--option channels=nu`` drops the
  nubar X -> phi -> nubar X pole, which dominates below m_X ~ 30 keV (r = 3).
  ``--option normalisation=computed`` (default: full numerical gamma(T) of seed eq. 14) or ``seed``
  (seed eq. 15 as printed, 0.4 keV; ~7x our T_KD).  Points with y_X^max > sqrt(4 pi) are NaN.
* ``thermal-relic``: the sigma_NC for which X is a thermal relic (Omega h^2 = 0.12), y_q = 1e-9 by default
  (seed Fig. 5); masses excluded by N_eff are kept in the CSV, the title states the N_eff bound.

Both run in-process (~0.02 s per mass for kinetic decoupling; thermal relic ~3 s for 30 masses,
cached freeze-out solutions every decade of mass).
"""
from __future__ import annotations

import math

import numpy as np

from .. import constants as c
from ..errors import NudmsimError
from ..registry import AnalysisEntry, register_analysis

_DEFAULT_MASSES = np.geomspace(0.1, 100.0, 16)  # MeV


def _ratio(req) -> float:
    r = 3.0 if req.ratio is None else float(req.ratio)
    if not (math.isfinite(r) and r > 1.0):
        raise NudmsimError(f"--ratio {r}: r = m_phi/m_X must be > 1 (X decays to phi nu otherwise)")
    return r


def _masses(req, lo=1e-3, hi=1e5) -> np.ndarray:
    m = _DEFAULT_MASSES if req.masses is None else np.asarray(req.masses, dtype=float)
    if np.any(m < lo) or np.any(m > hi):
        raise NudmsimError(f"--masses: cosmology analyses cover {lo:g}-{hi:g} MeV")
    return m


def _option_float(req, key, default, lo=0.0) -> float:
    txt = req.options.get(key)
    if txt is None:
        return float(default)
    try:
        v = float(txt)
    except ValueError:
        raise NudmsimError(f"--option {key}={txt}: not a number") from None
    if not (math.isfinite(v) and v > lo):
        raise NudmsimError(f"--option {key}={txt}: must be finite and > {lo:g}")
    return v


def _card_number(card, key, default):
    """The cosmology card's value (validated on load), or the documented default for a card of another kind."""
    if card is not None and card.card_kind == "cosmology":
        return float(card.number(key))
    return float(default)


def _sigma_nc_cm2(y_X, y_q, m, r):
    from ..models import scalar_portal as sp

    y_p, _ = sp.nucleon_couplings(y_q)
    return np.asarray(sp.sigma_nc(y_X, y_p, m, r * m)) * c.INV_MEV2_TO_CM2


def _kd_point(args):
    from ..cosmology import kinetic

    m, r, T_min, norm, channels = args
    if norm == "seed":  # invert eq. 15: T_KD = 0.4 keV (m/MeV)^1.25 (0.1/y) sqrt(r^2-1)
        return 0.1 * float(kinetic.t_kd_seed_eq15(0.1, m, r)) / T_min
    return kinetic.y_x_max(m, r * m, T_min, channels=channels)


def kinetic_decoupling_limit(req):
    from ..cosmology import kinetic
    from ..scan import map_points
    from ..stats.curves import LimitCurve

    r = _ratio(req)
    masses = _masses(req)
    if req.projected:
        raise NudmsimError("kinetic-decoupling is a bound from data already taken (drop --projected)")
    norm = str(req.options.get("normalisation", "computed"))
    if norm not in ("computed", "seed"):
        raise NudmsimError(f"--option normalisation={norm}: give computed or seed")
    m_wdm = _option_float(req, "m_wdm_keV", _card_number(req.card, "lyman_alpha.m_wdm_min_keV",
                                                         kinetic.M_WDM_MIN_KEV))
    y_q = _option_float(req, "y_q", _card_number(req.card, "couplings.y_q_kaon_bound", 1.58e-4))
    prefactor = None if norm == "computed" else kinetic.M_CUT_SEED
    m_f = _card_number(req.card, "lyman_alpha.m_f_prefactor_msun", kinetic.M_F_PREFACTOR)
    T_min = kinetic.t_kd_min_lyman_alpha(m_wdm, prefactor=prefactor, m_f_prefactor=m_f)
    channels = tuple(str(req.options.get("channels", "nu,nubar")).replace("+", ",").split(","))
    if not channels or any(ch not in ("nu", "nubar") for ch in channels):
        raise NudmsimError(f"--option channels={req.options.get('channels')}: give nu,nubar (default) or nu")
    if np.any(masses < 5.0 * T_min):
        raise NudmsimError(f"--masses: kinetic decoupling needs non-relativistic X, m_X >= 5 T_min = "
                           f"{5 * T_min / c.keV:.1f} keV")
    pts = [(float(m), r, T_min, norm, channels) for m in masses]
    y_max = np.array(map_points(_kd_point, pts, scheduler=req.scheduler, progress=req.progress,
                                label="kinetic-decoupling"), dtype=float)
    y_pert = math.sqrt(4.0 * math.pi)
    nonpert = y_max > y_pert  # bound weaker than perturbativity: the tree-level rate (and width) is meaningless
    sig = np.where(nonpert, np.nan, _sigma_nc_cm2(y_max, y_q, masses, r))
    note = (f"; NaN where y_X^max > sqrt(4 pi) (m_X = {', '.join(f'{v:g}' for v in masses[nonpert])} MeV)"
            if np.any(nonpert) else "")
    return LimitCurve(
        x=masses, observed=sig, x_label="m_X", y_label="sigma_NC", x_unit="MeV", y_unit="cm^2",
        title=f"kinetic decoupling T_KD > {T_min / c.keV:.2f} keV, m_phi = {r:g} m_X, y_q = {y_q:g}",
        provenance=(f"nudmsim kinetic-decoupling ({norm} T_KD): Lyman-alpha m_WDM > {m_wdm:g} keV -> "
                    f"T_KD > {T_min / c.keV:.3f} keV; y_X bound from gamma(T) = H(T) (seed 004 eq. 14), "
                    f"sigma_NC = y_X^2 y_p^2 m_X^2/(16 pi m_phi^4) with y_p(y_q = {y_q:g}){note}"))


def _relic_point(args):
    from ..cosmology import thermal

    masses, r, omega, exact = args
    return thermal.thermal_yX(np.asarray(masses), r, omega=omega, exact=exact)


def thermal_relic_curve(req):
    from ..cosmology import thermal
    from ..stats.curves import LimitCurve

    r = _ratio(req)
    masses = _masses(req, hi=1e5)
    if req.projected:
        raise NudmsimError("thermal-relic is a prediction, not a limit (drop --projected)")
    y_q = _option_float(req, "y_q", _card_number(req.card, "couplings.y_q_thermal", 1e-9))
    omega = _option_float(req, "omega_h2", _card_number(req.card, "relic.omega_dm_h2", thermal.OMEGA_DM_H2))
    neff_max = _card_number(req.card, "neff.neff_max", thermal.NEFF_MAX_PLANCK2018)
    exact = str(req.options.get("exact", "0")).lower() in ("1", "true", "yes")
    if exact:  # one freeze-out solution per mass: a scan on Dask like every nudmsim scan
        from ..scan import map_points

        y_X = np.concatenate([np.atleast_1d(v) for v in map_points(
            _relic_point, [(np.array([m]), r, omega, True) for m in masses], scheduler=req.scheduler,
            progress=req.progress, label="thermal-relic")])
    else:  # interpolation between exact solutions one decade apart: vectorised, milliseconds
        y_X = np.atleast_1d(_relic_point((masses, r, omega, exact)))
    sig = _sigma_nc_cm2(y_X, y_q, masses, r)
    m_neff = thermal.neff_mass_bound(neff_max)
    return LimitCurve(
        x=masses, observed=sig, x_label="m_X", y_label="sigma_NC (thermal relic)", x_unit="MeV", y_unit="cm^2",
        relation="=",
        title=(f"thermal relic Omega h^2 = {omega:g}, m_phi = {r:g} m_X, y_q = {y_q:g} "
               f"(N_eff excludes m_X < {m_neff:.1f} MeV)"),
        provenance=(f"nudmsim thermal-relic: Dirac X, X Xbar -> nu nubar via t-channel phi (Gondolo-Gelmini "
                    f"average of sigma(s)), freeze-out with computed g*(T); y_X^thermal in column via "
                    f"sigma_NC = y_X^2 y_p^2 m_X^2/(16 pi m_phi^4), y_q = {y_q:g}; N_eff < {neff_max:g} "
                    f"(Planck 2018) -> m_X > {m_neff:.2f} MeV (instantaneous nu decoupling at 2 MeV)"))


register_analysis(AnalysisEntry(
    name="kinetic-decoupling",
    summary="Lyman-alpha (T_KD > 1.4 keV) upper limit on sigma_NC vs m_X, y_q at the kaon bound (--ratio r)",
    default_detector="cosmology", limit=kinetic_decoupling_limit,
    limit_options={"normalisation": "computed (numerical gamma of eq. 14, default) or seed (eq. 15 as printed)",
                   "y_q": "phi-quark coupling for sigma_NC (default 1.58e-4, kaon bound)",
                   "channels": "nu,nubar (default: phi exchange + s-channel pole) or nu (drop the pole)",
                   "m_wdm_keV": "Lyman-alpha WDM mass bound (default 5.3)"}))
register_analysis(AnalysisEntry(
    name="thermal-relic",
    summary="sigma_NC vs m_X for which X is a thermal relic, Omega h^2 = 0.12 (--ratio r, seed Fig. 5)",
    default_detector="cosmology", limit=thermal_relic_curve,
    limit_options={"y_q": "phi-quark coupling (default 1e-9, seed Fig. 5)",
                   "omega_h2": "target abundance (default 0.120)",
                   "exact": "1 = solve the freeze-out at every mass (slow) instead of interpolating"}))
