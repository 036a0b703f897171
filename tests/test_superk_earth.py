"""Seed 004 §V (Fig. 4): PREM Earth, X N -> nu N fluxes from the Earth and the Sun, nu_tau CC, Super-K bound."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from nudmsim import cards
from nudmsim import constants as c
from nudmsim.analyses import superk
from nudmsim.processes import nutau_cc, x_to_nu_flux as xf
from nudmsim.sources import earth


def test_prem_integrates_to_the_earth_mass():
    assert earth.mass_kg() == pytest.approx(earth.M_EARTH_KG, rel=1e-3)


def test_prem_reference_densities():
    # Dziewonski & Anderson 1981 Table: centre 13.0885, top of the inner core 12.7636, bottom of the outer core
    # 12.1663, CMB mantle side 5.5665, surface (ocean) 1.02 g/cm^3
    assert earth.density(0.0) == pytest.approx(13.0885)
    assert earth.density(1221.4) == pytest.approx(12.7636, abs=2e-3)
    assert earth.density(1221.6) == pytest.approx(12.1663, abs=2e-3)
    assert earth.density(3480.1) == pytest.approx(5.5665, abs=2e-3)
    assert earth.density(6370.5) == pytest.approx(1.02)
    assert earth.density(6400.0) == 0.0


def test_vertical_column_equals_twice_the_radial_integral():
    """Straight down from the surface: N = 2 int_0^R rho dr (quad with the shell boundaries as breakpoints)."""
    radial = integrate.quad(lambda r: float(earth.density(r)), 0.0, earth.R_EARTH_KM,
                            points=[s[0] for s in earth.PREM_SHELLS[:-1]], limit=200)[0] * 1e5
    assert earth.column_density(1.0, 0.0) == pytest.approx(2.0 * radial, rel=2e-3)
    assert earth.column_density(1.0, 0.0) == pytest.approx(1.1e10, rel=0.02)  # the textbook 1.1e10 g/cm^2


@given(st.floats(-1.0, 1.0), st.floats(0.0, 5.0))
@settings(max_examples=60, deadline=None)
def test_chord_ends_on_the_surface(mu, depth):
    L = float(earth.chord_km(mu, depth))
    r0 = earth.R_EARTH_KM - depth
    end = math.sqrt(r0**2 + L**2 - 2.0 * r0 * L * mu)
    assert L >= 0.0 and end == pytest.approx(earth.R_EARTH_KM, rel=1e-9)


def test_flux_geometry_uniform_sphere_closed_form(monkeypatch):
    """A uniform sphere seen from its surface: (1/4pi) int dOmega column = rho R / 2."""
    monkeypatch.setattr(earth, "density", lambda r: np.where(np.asarray(r) <= earth.R_EARTH_KM, 5.5, 0.0))
    earth.flux_geometry.cache_clear()
    try:
        assert earth.flux_geometry(0.0) == pytest.approx(earth.uniform_sphere_geometry(5.5), rel=2e-3)
    finally:
        earth.flux_geometry.cache_clear()


def test_flux_geometry_equals_shell_decomposition():
    """Second method: a shell of radius r seen from radius r0 contributes (r / 2 r0) ln((r0 + r)/|r0 - r|) dr."""
    r0 = earth.R_EARTH_KM - 1.0

    def shell(r):
        return float(earth.density(r)) * r / (2.0 * r0) * math.log((r0 + r) / abs(r0 - r))

    brk = sorted({s[0] for s in earth.PREM_SHELLS[:-1]} | {r0})
    val = integrate.quad(shell, 0.0, earth.R_EARTH_KM, points=brk, limit=400)[0] * 1e5
    assert earth.flux_geometry(1.0) == pytest.approx(val, rel=3e-3)


def test_earth_flux_beats_the_sun_by_three_orders():
    """Seed §V: the Earth's flux is "several orders of magnitude" above the Sun's.  Independent numbers:
    G_earth N_A / (M_sun / m_u / 4 pi AU^2)."""
    ratio = float(xf.flux_earth(1e-40, 1e4) / xf.flux_sun(1e-40, 1e4))
    sun = 1.98841e33 * 6.02214076e23 / (4 * math.pi * 1.495978707e13**2)
    assert ratio == pytest.approx(earth.flux_geometry(1.0) * 6.02214076e23 / sun, rel=1e-9)
    assert 1e3 < ratio < 1e4


def test_seed_eq17_estimate_is_the_mean_density_times_r_over_3():
    rho_mean = earth.M_EARTH_KG * 1e3 / (4 / 3 * math.pi * (earth.R_EARTH_KM * 1e5) ** 3)
    assert rho_mean == pytest.approx(5.51, abs=0.01)
    f = float(xf.flux_earth_seed(1.0, 1e4, 0.3, 220.0))
    assert f == pytest.approx(220e5 * 0.3 / 10.0 * 6.02214076e23 * rho_mean * earth.R_EARTH_KM * 1e5 / 3, rel=1e-9)


@given(st.floats(1.0, 1e6))
@settings(max_examples=50, deadline=None)
def test_neutrino_line_energy_conserves_energy(m_X):
    """X + N at rest -> nu + N: sqrt(s) = E_nu + sqrt(E_nu^2 + m_N^2) with sqrt(s) = m_X + m_N."""
    e = float(xf.neutrino_energy(m_X))
    assert e + math.sqrt(e * e + c.M_NUCLEON**2) == pytest.approx(m_X + c.M_NUCLEON, rel=1e-12)


def test_neutrino_line_limits():
    assert float(xf.neutrino_energy(1.0)) == pytest.approx(1.0, rel=1e-3)        # m_X << m_N: E ~ m_X
    assert float(xf.neutrino_energy(1e7)) == pytest.approx(0.5e7, rel=1e-3)      # m_X >> m_N: E ~ m_X / 2
    assert float(xf.neutrino_energy(4000.0)) < nutau_cc.threshold_energy()       # 4 GeV X: below the tau threshold


def _angular(m2, s, antiquark):
    """sigma_hat(m)/sigma_hat(0) from the spin-summed |M|^2 integrated over the CM angle (second method)."""
    def integrand(cos, m2_):
        ep = (s - m2_) / (2 * math.sqrt(s))           # outgoing quark energy
        et = (s + m2_) / (2 * math.sqrt(s))           # tau energy
        if antiquark:
            msq = (1 + cos) * (et + ep * cos) * ep   # (k.p')(k'.p) up to constants
        else:
            msq = ep * (et + ep)                    # (k.p)(k'.p') up to constants: isotropic
        return msq * (s - m2_) / s                  # phase space |p_f|/|p_i|
    num = integrate.quad(integrand, -1, 1, args=(m2,))[0]
    den = integrate.quad(integrand, -1, 1, args=(0.0,))[0]
    return num / den


@pytest.mark.parametrize("z", [0.05, 0.3, 0.7, 0.95])
def test_tau_mass_factors_match_the_angular_integral(z):
    s, m2 = 10.0, 10.0 * z
    assert float(nutau_cc.s_factor_quark(s, math.sqrt(m2))) == pytest.approx(_angular(m2, s, False), rel=1e-9)
    assert float(nutau_cc.s_factor_antiquark(s, math.sqrt(m2))) == pytest.approx(_angular(m2, s, True), rel=1e-9)


def test_nutau_suppression_threshold_and_high_energy_limit():
    assert nutau_cc.threshold_energy() == pytest.approx(3458.4, abs=1.0)  # ((m_tau + m_N)^2 - m_N^2) / 2 m_N
    assert nutau_cc.suppression(3400.0) == 0.0
    assert nutau_cc.suppression(1e7) == pytest.approx(1.0, abs=1e-2)      # 10 TeV: m_tau^2 / s_hat -> 0
    assert nutau_cc.suppression(1e9) > nutau_cc.suppression(1e7)
    E = np.geomspace(3500.0, 1e6, 60)
    assert np.all(np.diff(nutau_cc.suppression(E)) > 0)


def test_superk_allowed_taus_from_the_published_numbers():
    card = cards.load_detector("superk_nutau")
    expected = 180.1 / 1.42 / 2806 * 5326                # PRL 110 181802 rate x PRD 98 052006 exposure
    assert superk.allowed_extra_taus(card) == pytest.approx((1.47 + 1.2815516 * 0.32 - 1) * expected, rel=1e-6)


def test_superk_bound_closes_and_windows():
    card = cards.load_detector("superk_nutau")
    m = np.array([4e3, 6e3, 6.2e3, 1e4, 1e5])
    lim = superk.sigma_limit(card, m)
    assert np.isnan(lim[:2]).all() and np.isfinite(lim[2:]).all()  # exact kinematics: starts at m_X = 6.1 GeV
    assert np.isfinite(superk.sigma_limit(card, m, kinematics="seed")).all()  # E_nu = m_X: from 3.46 GeV
    # closure with independent pieces: taus produced at the limit = the allowed number
    n = (xf.flux_earth(lim[3], m[3], 0.3, 220.0, 1.0) * nutau_cc.sigma_cc_nutau_cm2(xf.neutrino_energy(m[3]))
         * 22.5e9 * 6.02214076e23 * 5326 * 86400)
    assert float(n) == pytest.approx(superk.allowed_extra_taus(card), rel=1e-9)
    sun = superk.sigma_limit(card, m[2:], source="sun")
    assert np.allclose(sun / lim[2:], xf.flux_earth(1.0, 1e4) / xf.flux_sun(1.0, 1e4), rtol=1e-9)
