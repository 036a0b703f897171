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
    assert math.isinf(K.meson_y_max(200.0, 600.0, "K"))


def test_bbn_bound_boltzmann_suppressed():
    assert K.bbn_y_max(3.0, 9.0) < 1e-2 < K.bbn_y_max(30.0, 90.0)
    assert K.neff_m_chi_min() == pytest.approx(10.8, abs=0.2)


def test_fig4_window():
    """Seed Fig. 4: allowed m_chi from ~100 MeV; our lower edge is the K+ kinematic edge of the R_K bound."""
    from nudmsim.figures.seed001 import allowed_window, fig4_data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = fig4_data(18)
    win = allowed_window(d["m_med"], d["relic"], {k: d[k] for k in ("BBN", "N_eff", "K", "D", "Z", "direct")})
    assert win is not None
    assert 60.0 < win[0] < 200.0 and win[1] > 10 * c.GeV
