"""Seed 001 Model 1: couplings, neutrino mass, annihilation (derived vs seed eq. 39), relic coupling at the
benchmark, direct detection vs eqs. 46-47, the Z -> nu chi H matrix element (explicit Dirac traces), constraints."""
import math
import warnings

import numpy as np
import pytest

from nudmsim import constants as c
from nudmsim.errors import NudmsimError
from nudmsim.models import model1 as M1
from nudmsim.models import model1_constraints as K


def test_param_registry_and_bad_input():
    m = M1.model1_point({"m_chi": "20MeV", "m_H0": "0.06GeV"})
    assert m.m_chi == pytest.approx(20.0) and m.m_H0 == pytest.approx(60.0)
    with pytest.raises(NudmsimError, match="raise m_H0"):
        M1.Model1(30.0, 20.0)
    with pytest.raises(NudmsimError, match="must be <="):
        M1.model1_point({"y_e": 20.0})
    with pytest.raises(NudmsimError):
        M1.g2_function(1.2)


def test_neutrino_mass_eq_28_limits():
    """Eq. 28 -> eq. 29 in the hierarchy m_chi << m_H0 << m_A, and eq. 30's 4e-3 coefficient."""
    m = M1.Model1(1.0, 1e3, 1e6, y_e=1.0)
    assert m.loop_factor() == pytest.approx(1.0 / (32 * math.pi**2) * math.log(1e6**2 / 1e3**2), rel=2e-3)
    y = M1.yukawa_bound_neutrino_mass(1.0, 1e3, 1e6)
    assert y == pytest.approx(4e-3 / math.sqrt(math.log(1e6**2 / 1e3**2)), rel=0.02)
    # lambda_5 -> 0 (m_A = m_H0): lepton number restored, no mass
    assert M1.Model1(1.0, 1e3, 1e3 * (1 + 1e-9), y_e=1.0).neutrino_mass() < 1e-9 * m.neutrino_mass()


def test_sigma_v_is_scalar_portal_with_y_over_sqrt2_and_seed_is_4x():
    from nudmsim.models import scalar_portal

    m = M1.Model1(20.0, 60.0, y_e=0.03, y_mu=0.04)
    y = 0.05
    assert m.sigma_v() == pytest.approx(float(scalar_portal.sigma_v_annihilation(y / math.sqrt(2), 20.0, 60.0)))
    assert m.sigma_v("seed") == pytest.approx(4 * m.sigma_v())
    assert m.c6m3() == pytest.approx(y * y / 2 * (1 / 60.0**2 + 1 / m.m_A**2))


def test_relic_coupling_benchmark_and_methods():
    """Seed: m_H0 = 50 MeV, y = 0.01 'consistent with the observed relic abundance'.  We find 0.0119 with the
    seed's eq. 39 and 0.0169 with the coupling of its eq. 37 (derived, sqrt2 larger)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ys = M1.relic_coupling(50 / 3, 50.0, convention="seed")
        yd = M1.relic_coupling(50 / 3, 50.0)
        yv = M1.relic_coupling_vectorised(np.array([50 / 3, 5000.0]), 3.0, convention="seed")
        ye = M1.relic_coupling(5000.0, 15000.0, convention="seed", exact=True)
    assert ys == pytest.approx(0.01, rel=0.25)
    assert yd == pytest.approx(math.sqrt(2) * ys, rel=1e-9)
    assert yv[0] == pytest.approx(ys, rel=0.01) and yv[1] == pytest.approx(ye, rel=2e-3)
    # the relic coupling put back into the freeze-out solver gives Omega h^2 = 0.12
    m = M1.Model1(50 / 3, 50.0, y_e=yd)
    assert m.omega_h2() == pytest.approx(0.12, rel=0.03)


def test_direct_detection_matches_eq_46_47():
    """sigma_n ~ 6.1e-44 cm^2 (mu/GeV)^2 y^4 (m/m_H)^4 for c_L ~ 10 (m_chi << m_H0), sigma_p/sigma_n = (1-4s^2)^2."""
    mchi, mH = 100.0, 1e4                      # x = 1e-4: G2 = x/3
    mA = mH * math.exp(4.5)                    # c_L = 1 + ln(m_A^2/m_H^2) = 10
    m = M1.Model1(mchi, mH, mA, y_e=1.0)
    mu = mchi * c.M_NEUTRON / (mchi + c.M_NEUTRON) / c.GeV
    coef = m.sigma_nucleon("n") * c.INV_MEV2_TO_CM2 / (mu**2 * (mchi / mH) ** 4)
    assert coef == pytest.approx(6.1e-44, rel=0.05)
    fp, fn = m.f_nucleon()
    assert (fp / fn) ** 2 == pytest.approx((1 - 4 * M1.SW2_Z) ** 2, rel=1e-9)
    assert m.sigma_nucleon("n", zeta_norm="eq43") == pytest.approx(16 * m.sigma_nucleon("n"))
    assert M1.g2_function(1e-4) == pytest.approx(1e-4 / 3, rel=1e-4)
    assert M1.g2_function(1.0001e-3) == pytest.approx(M1.g2_function(0.9999e-3), rel=1e-3)


def _z_trace(p1, p2, q, k, m2):
    """sum over Z polarisations and spins of |ubar(p1) g^mu qslash P_R v(p2) eps_mu|^2 with explicit matrices."""
    from tests.test_hnl_widths import ETA, G, PL, PR, _sl

    A = [G[mu] @ _sl(q) @ PR for mu in range(4)]
    Abar = [PL @ _sl(q) @ G[nu] for nu in range(4)]
    MZ2 = k[0] ** 2 - k[1:] @ k[1:]
    tot = 0.0
    for mu in range(4):
        for nu in range(4):
            pol = -ETA[mu, nu] + k[mu] * k[nu] * ETA[mu, mu] * ETA[nu, nu] / MZ2   # -g^{mu nu} + k^mu k^nu/M^2 (lower)
            t = np.trace(_sl(p1) @ A[mu] @ (_sl(p2) - m2 * np.eye(4)) @ Abar[nu])
            tot += (pol * t).real * ETA[mu, mu] * ETA[nu, nu]
    return tot


def test_z_matrix_element_against_dirac_traces():
    from nudmsim.processes.hnl_events import three_body

    rng = np.random.default_rng(2)
    MZ, m2, m3 = c.M_Z, 2000.0, 6000.0
    p4 = three_body(MZ, (0.0, m2, m3), np.array([3e7]), np.array([1.5e8]), rng)[0]
    p1, p2, p3 = p4
    q = p2 + p3
    k = p1 + q
    dot = lambda a, b: a[0] * b[0] - a[1:] @ b[1:]  # noqa: E731
    K4 = 2 * dot(q, p2) * q - dot(q, q) * p2
    formula = 2 * dot(p1, K4) + 4 * dot(k, p1) * dot(k, K4) / MZ**2
    assert _z_trace(p1, p2, q, k, m2) == pytest.approx(formula, rel=1e-9)


def test_z_width_normalisation_and_scaling():
    assert K.width_z_nunu() / c.MeV == pytest.approx(166.0, rel=0.01)
    g1 = K.width_z_nu_chi_h(10.0, 30.0, 1.0)
    assert K.width_z_nu_chi_h(10.0, 30.0, 0.3) == pytest.approx(0.09 * g1)
    assert K.width_z_nu_chi_h(10.0, 30.0, 1.0, n=160) == pytest.approx(g1, rel=1e-4)   # quadrature converged
    assert K.width_z_nu_chi_h(4e4, 6e4, 1.0) == 0.0


def test_meson_bounds_scale_and_close():
    b1 = K.meson_br(10.0, 30.0, 1.0, "K")
    assert K.meson_br(10.0, 30.0, 0.1, "K") == pytest.approx(0.01 * b1)
    assert K.meson_br(150.0, 450.0, 1.0, "K") == 0.0 and K.meson_br(150.0, 450.0, 1.0, "D") > 0
    for bound in K.K_BOUNDS:
        assert math.isinf(K.meson_y_max(200.0, 600.0, "K", bound=bound))
    with pytest.raises(NudmsimError, match="unknown K bound"):
        K.meson_y_max(10.0, 30.0, "K", bound="rk")


def test_k_bound_readings():
    """R_K applied inside the K_e2 missing-mass window: the windowed rate is part of the total (so its y_max is
    larger), grows with the window, equals the total for a window wider than the Dalitz range and vanishes
    when m_chi + m_H0 is above the window; "direct" is the smaller of the 3 nu search and the windowed R_K."""
    card = K._card()
    mcut = card.get("meson.k_e2_m_miss_max_MeV", float)
    assert mcut == pytest.approx(c.M_PION0, rel=0.01)          # K_e3 threshold: the generous window
    tot = K.meson_br(10.0, 30.0, 1.0, "K")
    parts = [K.meson_br_window(10.0, 30.0, 1.0, "K", "e", m) for m in (60.0, 100.0, 135.0, 600.0)]
    assert 0 < parts[0] < parts[1] < parts[2] < tot
    assert parts[3] == pytest.approx(tot, rel=1e-6)
    assert K.meson_br_window(40.0, 120.0, 1.0, "K", "e", 135.0) == 0.0
    y_inc, y_win, y_3nu = (K.meson_y_max(10.0, 30.0, "K", bound=b) for b in ("rk_inclusive", "rk_window", "3nu"))
    assert y_win == pytest.approx(y_inc * math.sqrt(tot / parts[2]), rel=1e-9)
    assert K.meson_y_max(10.0, 30.0, "K", bound="direct") == min(y_win, y_3nu)
    # the 3 nu search and R_K scale with the square root of their branching-ratio limits
    assert y_3nu / y_inc == pytest.approx(math.sqrt(card.get("meson.k_e_3nu_br_max", float)
                                                    / card.get("meson.k_e_invisible_br_max", float)), rel=1e-9)


def test_lz_2024_table_matches_published_numbers():
    """data/dd_limits/lz_2024_si.csv (HEPData 155182 v2) against arXiv:2410.17036's abstract: strongest SI limit
    2.1e-48 cm^2 near 36 GeV (table: 2.21e-48 at 36 GeV, 2.18e-48 at 40 GeV); best median sensitivity 5.0e-48
    at 40 GeV.  The curve is used only inside 9 GeV - 10 TeV."""
    m, s = K.read_limit_curve("dd_limits/lz_2024_si.csv")
    assert m[0] == pytest.approx(9 * c.GeV) and m[-1] == pytest.approx(1e4 * c.GeV)
    assert s.min() == pytest.approx(2.1e-48, rel=0.05) and 30 * c.GeV <= m[np.argmin(s)] <= 45 * c.GeV
    from nudmsim.paths import data_file

    rows = [ln.split(",") for ln in data_file("dd_limits", "lz_2024_si.csv").read_text().splitlines()
            if ln and not ln.startswith(("#", "m_"))]
    med = {float(r[0]): float(r[3]) for r in rows}
    assert med[40.0] == pytest.approx(5.0e-48, rel=0.02)
    lim = K.dd_limits_by_source(np.array([8.9 * c.GeV, 40 * c.GeV]))["dd_limits/lz_2024_si.csv"]
    assert math.isinf(lim[0]) and lim[1] == pytest.approx(s[m == 40 * c.GeV][0], rel=1e-12)


def test_dd_limit_is_the_strongest_applicable():
    ms = np.array([1.5, 4.0, 8.0, 12.0, 25.0]) * c.GeV
    by = K.dd_limits_by_source(ms)
    assert {"dd_limits/lz_2024_si.csv", "dd_limits/darkside50_2023_si.csv", "xenon1t-si (nudmsim)"} <= set(by)
    best = K.dd_limit(ms)
    assert np.array_equal(best, np.minimum.reduce(list(by.values())))
    assert np.all(np.isfinite(best))
    # a y_max from a given limit: sigma ~ y^4
    y1 = K.dd_y_max(10 * c.GeV, 30 * c.GeV, limit_cm2=1e-46)
    assert K.dd_y_max(10 * c.GeV, 30 * c.GeV, limit_cm2=16e-46) == pytest.approx(2 * y1)
    with pytest.raises(NudmsimError, match="not found"):
        K.read_limit_curve("dd_limits/no_such_file.csv")


def test_bbn_bound_boltzmann_suppressed():
    assert K.bbn_y_max(3.0, 9.0) < 1e-2 < K.bbn_y_max(30.0, 90.0)
    assert K.neff_m_chi_min() == pytest.approx(10.8, abs=0.2)


def test_fig4_window():
    """Seed 001 Fig. 4 window: m_chi from O(100) MeV to O(10) GeV.  nudmsim (derived relic normalisation,
    card defaults): the upper end is set by direct detection (LZ 2024) near 18 GeV; the lower end by N_eff / BBN
    near 11 MeV with the direct K bound, and by the K bound near 90 MeV (below the K+ kinematic edge
    (m_K - m_e)/4 = 123 MeV) with R_K applied to the whole 3-body rate.  The interpolated ends agree with the
    bounds evaluated there directly (relic = y_max to a few per cent)."""
    from nudmsim.figures.seed001 import RATIO, bounds_of, fig4_data, window_edges

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = fig4_data(18)
        w = window_edges(d["m_med"], d["relic"], bounds_of(d))
        w_rk = window_edges(d["m_med"], d["relic"], bounds_of(d, "K (R_K inclusive)"))
        w_x1t = window_edges(d["m_med"], d["relic"], bounds_of(d, direct_key="direct (XENON1T only)"))
        hi = w["hi"]
        y_rel = math.sqrt(2) * M1.relic_coupling_vectorised(np.array([hi]), RATIO, convention="seed")[0]
        y_dd = K.dd_y_max(hi, RATIO * hi, 1e6)
    assert w["hi_by"] == "direct" and 10 * c.GeV < hi < 30 * c.GeV
    assert y_rel == pytest.approx(y_dd, rel=0.05)
    assert w["lo_by"] in ("N_eff", "BBN") and 7.0 < w["lo"] < 16.0
    assert w_rk["lo_by"] == "K" and 60.0 < w_rk["lo"] < (c.M_KAON - c.M_ELECTRON) / 4 and w_rk["hi"] == hi
    assert w_x1t["hi_by"] == "end of grid"          # XENON1T alone: no upper end below m_chi = 33 GeV
