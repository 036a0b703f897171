"""Cosmology checks (SPEC section 4.4): relic abundance and the contact-operator solution of seed 000."""
from __future__ import annotations

from .. import constants as c
from ..registry import check


@check("cosmology.relic_100GeV_majorana", unit="Omega h^2", reference=0.11, tolerance=0.05, relative=True,
       description="Omega h^2 for a 100 GeV Majorana WIMP with <sigma v> = 2.2e-26 cm^3/s "
                   "(Steigman, Dasgupta & Beacom 2012, who normalise to Omega h^2 = 0.11)")
def _relic_100():
    from ..cosmology.relic import CM3_PER_S, relic_abundance

    return relic_abundance(100 * c.GeV, 2.2e-26 * CM3_PER_S)


@check("cosmology.relic_peak_sigmav", unit="1e-26 cm^3/s", reference=5.2, tolerance=0.15, relative=True,
       description="largest <sigma v> needed for Omega h^2 = 0.11 (Steigman et al. 2012: 5.2e-26 near 0.3 GeV); "
                   "tests g*(T) through the QCD crossover")
def _relic_peak():
    from ..cosmology.relic import CM3_PER_S, relic_abundance

    sv = 2.2e-26 * CM3_PER_S
    return max(2.2 * relic_abundance(m * c.MeV, sv) / 0.11 for m in (200.0, 300.0, 500.0))


@check("cosmology.contact_operator_mchi", unit="MeV", reference=0.45, tolerance=0.075,
       description="seed 000: m_chi solving m_nu = 0.1 eV and Omega h^2 = 0.12 (seed: 0.4-0.5 MeV)")
def _contact_m():
    from ..models.contact import solve_relic_and_mass

    return solve_relic_and_mass(0.1 * c.eV)[0] / c.MeV


@check("cosmology.contact_operator_lambda", unit="GeV", reference=1.8, tolerance=0.35,
       description="seed 000: Lambda solving m_nu = 0.1 eV and Omega h^2 = 0.12 (seed: 1.5 GeV estimate, "
                   "~2 GeV in its Fig. 2)")
def _contact_lambda():
    from ..models.contact import solve_relic_and_mass

    return solve_relic_and_mass(0.1 * c.eV)[1] / c.GeV
