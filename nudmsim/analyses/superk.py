"""``superk-x2nu``: bound on X + N -> nu_tau + N in the Earth (or Sun) from Super-Kamiokande's nu_tau
appearance (seed 004 §V, Fig. 4; physics in :mod:`nudmsim.processes.x_to_nu_flux`, docs in docs/superk.md).

Extra nu_tau flux F at energy E_nu produces N = F sigma_CC(nu_tau N)(E_nu) N_nucleons T taus in the fiducial volume.
SK measured the nu_tau normalisation alpha = 1.47 +- 0.32 of the oscillation expectation (PRD 98 (2018) 052006),
whose tau production rate is 180.1/1.42 per 2806 days (PRL 110 (2013) 181802).  At 90% CL (one-sided Gaussian)
the extra taus are at most (alpha + 1.2816 sigma - 1) x expected, and the per-nucleon conversion cross section
sigma (seed eq. 16) is bounded by

    sigma < N_allowed / (T N_nucleons sigma_CC(E_nu) F_1),    F_1 = flux per unit sigma (Earth: PREM; Sun: 1 AU).

Assumptions (stated in the curve's provenance): X couples to nu_tau (the seed compares with the nu_tau flux);
taus from a line at E_nu are selected like atmospheric ones; the nu_tau CC cross section is the parton-model
estimate of :mod:`nudmsim.processes.nutau_cc` (conservative near threshold).  Points with E_nu below the tau
threshold (3.46 GeV) are NaN: with exact kinematics the bound starts at m_X = 6.1 GeV, with the seed's
E_nu = m_X (``--option kinematics=seed``) at 3.46 GeV.

Options: ``source`` = earth (PREM, default) | earth-seed (seed eq. 17: mean density, r = R_Earth) | sun;
``kinematics`` = exact (default) | seed.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from ..errors import NudmsimError
from ..registry import AnalysisEntry, register_analysis

DEFAULT_MASSES_MEV = np.geomspace(4e3, 2e5, 40)   # the seed's window, 4-200 GeV
Z_ONE_SIDED = {0.90: 1.2815515655446004, 0.95: 1.6448536269514722}


def allowed_extra_taus(card) -> float:
    """Extra taus produced in the fiducial volume allowed at the card's CL."""
    alpha = card.number("measurement.tau_normalisation", positive=True)
    err = card.number("measurement.tau_normalisation_error", positive=True)
    cl = card.number("measurement.cl", positive=True)
    if cl not in Z_ONE_SIDED:
        raise NudmsimError(f"{card.path.name}: measurement.cl = {cl}: give 0.90 or 0.95")
    rate = (card.number("measurement.ref_taus_produced", positive=True)
            / card.number("measurement.ref_normalisation", positive=True)
            / card.number("measurement.ref_live_days", positive=True))
    expected = rate * card.number("exposure.live_days", positive=True)
    return max(alpha + Z_ONE_SIDED[cl] * err - 1.0, 0.0) * expected


def target_nucleons(card) -> float:
    from ..processes.x_to_nu_flux import NUCLEONS_PER_GRAM

    return card.number("exposure.fiducial_kt", positive=True) * 1e9 * NUCLEONS_PER_GRAM


def sigma_limit(card, masses_MeV, source: str = "earth", kinematics: str = "exact") -> np.ndarray:
    """Upper limit on the per-nucleon conversion cross section [cm^2] at each m_X [MeV] (NaN: no sensitivity)."""
    from ..processes import nutau_cc, x_to_nu_flux as xf

    m = np.asarray(masses_MeV, dtype=float)
    rho = card.number("halo.rho_GeV_cm3", positive=True)
    v0 = card.number("halo.v0_km_s", positive=True)
    if source == "earth":
        f1 = xf.flux_earth(1.0, m, rho, v0, depth_km=card.number("exposure.depth_km"))
    elif source == "earth-seed":
        f1 = xf.flux_earth_seed(1.0, m, rho, v0)
    elif source == "sun":
        f1 = xf.flux_sun(1.0, m, rho, v0)
    else:
        raise NudmsimError(f"--option source={source}: give earth, earth-seed or sun")
    e_nu = xf.neutrino_energy(m, kinematics)
    sig_cc = nutau_cc.sigma_cc_nutau_cm2(e_nu)
    T = card.number("exposure.live_days", positive=True) * 86400.0
    denom = T * target_nucleons(card) * sig_cc * f1
    with np.errstate(divide="ignore"):
        return np.where(denom > 0, allowed_extra_taus(card) / denom, np.nan)


def limit_entry(req):
    from ..stats.curves import LimitCurve

    req.refuse_unused("superk-x2nu", ("source", "kinematics"))
    card = req.card
    if card.get("card.kind", str, default="") != "nu-flux":
        raise NudmsimError(f"superk-x2nu needs a card of kind nu-flux (e.g. superk_nutau), '{card.name}' is not")
    masses = DEFAULT_MASSES_MEV if req.masses is None else np.asarray(req.masses, dtype=float)
    source = str(req.options.get("source", "earth"))
    kin = str(req.options.get("kinematics", "exact"))
    if kin not in ("exact", "seed"):
        raise NudmsimError(f"--option kinematics={kin}: give exact or seed")
    y = sigma_limit(card, masses, source, kin)
    if not np.any(np.isfinite(y)):
        raise NudmsimError(f"superk-x2nu: no mass in {masses.min() / c.GeV:g}-{masses.max() / c.GeV:g} GeV gives a "
                           "nu_tau above the CC threshold (3.46 GeV): choose m_X > 6.1 GeV (or 3.5 GeV with "
                           "--option kinematics=seed)")
    where = {"earth": "the Earth (PREM)", "earth-seed": "the Earth (seed eq. 17 estimate)", "sun": "the Sun"}[source]
    return LimitCurve(
        x=masses / c.GeV, observed=y, x_label="m_X", y_label="sigma(X N -> nu N) per nucleon", x_unit="GeV",
        y_unit="cm^2", title=f"Super-K nu_tau: X N -> nu_tau N in {where}, 90% CL",
        provenance=(f"nudmsim superk-x2nu, card {card.name} sha256 {card.sha256[:12]}; extra taus <= "
                    f"{allowed_extra_taus(card):.1f} (alpha + 1.28 sigma - 1); E_nu {kin} kinematics; "
                    "sigma_CC(nu_tau) parton model (conservative near threshold); X -> nu_tau assumed; "
                    "taus from the line selected like atmospheric nu_tau"))


register_analysis(AnalysisEntry(
    name="superk-x2nu",
    summary="Super-K nu_tau appearance: 90% CL on X + N -> nu_tau + N in the Earth/Sun vs m_X (seed 004 Fig. 4)",
    default_detector="superk_nutau", limit=limit_entry,
    limit_options={"source": "earth (PREM, default) | earth-seed (seed eq. 17) | sun",
                   "kinematics": "exact (E_nu = m_X(m_X+2m_N)/2(m_X+m_N), default) | seed (E_nu = m_X)"}))
