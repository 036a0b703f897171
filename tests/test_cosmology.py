"""Cosmology: degrees of freedom, Gondolo-Gelmini average, freeze-out, contact operator (seed 000)."""
import math

import numpy as np
import pytest

from nudmsim import constants as c
from nudmsim.cosmology import dof, relic
from nudmsim.models import contact


def test_dof_textbook_plateaus():
    # analytic: after e+e- annihilation with instantaneous nu decoupling
    assert dof.g_s(1e-3) == pytest.approx(2 + 7 / 8 * 6 * 4 / 11, rel=3e-3)
    assert dof.g_eff(1e-3) == pytest.approx(2 + 7 / 8 * 6 * (4 / 11) ** (4 / 3), rel=3e-3)
    assert dof.g_eff(10.0) == pytest.approx(10.75, rel=2e-3)  # gamma, e, 3 nu
    assert dof.g_eff(5e6) == pytest.approx(106.75, rel=2e-3)  # full SM


def test_gondolo_gelmini_constant_cross_section():
    """Constant sigma: <sigma v_Mol> -> sigma <v_rel>, <v_rel> = 4/sqrt(pi x) (Maxwell) at large x."""
    m = 1000.0
    sigma0 = 1e-10
    for x in (200.0, 1000.0):
        got = relic.thermal_average_gg(lambda s: np.full_like(np.asarray(s, float), sigma0), m, x)
        assert got == pytest.approx(sigma0 * 4 / math.sqrt(math.pi * x), rel=3 / x)


def test_freeze_out_vs_analytic_estimate():
    """Y_inf vs the standard s-wave estimate Y_inf = x_f / (lambda <sigma v>) (Kolb & Turner), ~10%."""
    m = 100 * c.GeV
    sv = 2.2e-26 * relic.CM3_PER_S
    r = relic.relic_abundance(m, sv, full_output=True)
    T_f = m / r["x_f"]
    gsh = dof.g_s(T_f) / math.sqrt(dof.g_eff(T_f))
    lam = math.sqrt(math.pi / 45) * relic.M_PLANCK * m * gsh
    assert r["Y_inf"] == pytest.approx(r["x_f"] / (lam * sv), rel=0.12)
    assert 20 < r["x_f"] < 28


def test_steigman_normalisation_and_dirac_factor():
    sv = 2.2e-26 * relic.CM3_PER_S
    maj = relic.relic_abundance(100 * c.GeV, sv)
    assert maj == pytest.approx(0.11, rel=0.05)  # Steigman et al. 2012 (normalised to 0.11)
    # Dirac with twice the cross section gives the same total abundance (Y_chi + Y_chibar), up to the
    # logarithmic shift of x_f (x_f -> x_f + ln 2: ~3%)
    dirac = relic.relic_abundance(100 * c.GeV, 2 * sv, dirac=True)
    assert dirac == pytest.approx(maj * (1 + math.log(2) / 23), rel=0.01)


def test_sub_gev_freeze_out_later_and_weaker():
    sv = 2.2e-26 * relic.CM3_PER_S
    r = relic.relic_abundance(10 * c.MeV, sv, full_output=True)
    assert 13 < r["x_f"] < 18  # SPEC: x_f falls towards ~15 for sub-GeV DM


def test_contact_operator_seed000():
    m, lam = contact.solve_relic_and_mass(0.1 * c.eV)
    assert 0.4 <= m / c.MeV <= 0.5
    assert 1.5 <= lam / c.GeV <= 2.1
    # the solution reproduces the neutrino mass it was asked for
    assert contact.neutrino_mass(m, lam, 0.1 * c.eV) == pytest.approx(0.1 * c.eV, rel=1e-9)
