"""Seed 003 model: HNL mixings (eqs. 4.2-4.4) against the seed's printed numbers, mu_bar bounds, r(M_N), and the
asymmetric relic (eqs. 3.8-3.16) against closed forms and the symmetric solver."""
import math
import warnings

import numpy as np
import pytest

from nudmsim import constants as c
from nudmsim.cosmology import asymmetric, relic
from nudmsim.errors import NudmsimError
from nudmsim.models import hnl_dm as D
from nudmsim.models import hnl_dm_relic as R


def test_pmns_unitary_and_masses():
    for o in D.ORDERINGS:
        U = D.pmns(o)
        assert np.allclose(U @ U.conj().T, np.eye(3), atol=1e-12)
        assert D.light_masses(o)[D.dm_index(o)] == 0.0


@pytest.mark.parametrize("order,mu_seed,ubar_seed", [("NH", 5.7, (0.00099, 0.0028, 0.0025)),
                                                      ("IH", 9.8, (0.0027, 0.0019, 0.0021))])
def test_delphi_saturating_scale_and_ubar_match_seed(order, mu_seed, ubar_seed):
    """Seed eqs. 4.13-4.15: mu_bar = 5.7 (9.8) MeV saturates Ubar < 0.0039 at 4.5 GeV, with these Ubar_l."""
    mu = D.mu_bar_delphi(order)
    assert mu / c.MeV == pytest.approx(mu_seed, rel=0.03)
    ub = D.ubar(4.5 * c.GeV, mu_seed * c.MeV, order)
    tol = 0.08 if order == "NH" else 0.3   # the seed used PDG 2018 oscillation data; theta_23/delta moved since
    assert ub == pytest.approx(ubar_seed, rel=tol)
    assert math.sqrt(float((ub**2).sum())) == pytest.approx(0.0039, rel=0.03)


def test_eta_matrix_nh_matches_eq_4_14_magnitudes():
    eta = np.abs(D.eta_transpose(5.7 * c.MeV, "NH")) * 1e5
    seed = np.abs(np.array([[0, 2.1, -1.0 - 0.9j], [0, 2.3 - 0.2j, 6.9], [0, -2.2 - 0.1j, 6.1]]))
    assert np.allclose(eta, seed, rtol=0.1, atol=0.05)


def test_mixings_scale_and_dm_column_vanishes():
    u_a = D.U2(1 * c.GeV, 1 * c.MeV, "NH")
    u_b = D.U2(2 * c.GeV, 4 * c.MeV, "NH")
    assert np.allclose(u_a / 16.0, u_b)                   # |U|^2 ~ 1/(mu_bar M^2)
    assert np.all(u_a[:, 0] == 0) and np.all(D.U2(1 * c.GeV, 1 * c.MeV, "IH")[:, 2] == 0)


def test_ewpd_bound_definition_and_scaling():
    """eps_ee + eps_mumu at mu_bar_min_ewpd equals 2.64e-3; mu_bar_min ~ M^-2.  (Seed: 5.9 keV; we get 9.7 keV
    with its eq. 4.7 -- the seed's own Ubar_e, Ubar_mu of eq. 4.11 give 4.3e-3 > 2.64e-3.)"""
    M = 4.5 * c.GeV
    mu = D.mu_bar_min_ewpd(M, "NH")
    assert float(D.eps_ewpd(M, mu, "NH")) == pytest.approx(2.64e-3, rel=1e-12)
    assert D.mu_bar_min_ewpd(M / 2, "NH") == pytest.approx(4 * mu)
    assert 0.5 * (0.031**2 + 0.087**2) == pytest.approx(4.3e-3, rel=0.02)   # the inconsistency, as a number
    assert mu / c.keV == pytest.approx(9.7, rel=0.05)


def test_r_is_one_at_45_gev_and_rescales_mixing():
    r = D.r_of_M([4.5 * c.GeV, 1 * c.GeV], "NH")
    assert r[0] == pytest.approx(1.0, rel=1e-9)
    M = 1 * c.GeV
    u_max = np.sqrt(D.U2(M, D.mu_bar_min(M, "NH"), "NH"))
    u_ref = np.sqrt(D.U2(4.5 * c.GeV, D.mu_bar_delphi("NH"), "NH"))
    assert np.allclose(u_max, r[1] * u_ref)


def test_limit_curves_load_with_units():
    m, u = D.limit_curve("mu", "e949_curve")
    assert m.min() > 100 * c.MeV and m.max() < 500 * c.MeV and np.all(u > 0)
    assert np.isinf(D.limit_at("e", "charm_curve", 10 * c.GeV))[0]
    with pytest.raises(NudmsimError):
        D.pmns("XH")


# --- relic -------------------------------------------------------------------------------------------------
def test_m_max_is_4p5_gev():
    """Seed eq. 3.8: fully asymmetric N' saturates Omega_c = 0.265 at m_N' = 4.5 GeV."""
    assert R.m_max_asymmetric() / c.GeV == pytest.approx(4.5, rel=0.02)


def test_asymmetric_solver_symmetric_limit_equals_relic_abundance():
    m, sv = 2000.0, 8e-26 * relic.CM3_PER_S
    a = asymmetric.asymmetric_abundance(m, lambda x: sv, 0.0)["omega_h2"]
    assert a == pytest.approx(relic.relic_abundance(m, sv, g_chi=2.0, dirac=True), rel=1e-3)


def test_vectorised_solver_matches_adaptive():
    eta = R.EPS_ASYM * R.ETA_B
    svs = np.array([1e-26, 5e-26, 1e-25]) * relic.CM3_PER_S
    fast = asymmetric.asymmetric_abundance_many(np.full(3, 4000.0), lambda x: svs, eta)["omega_h2"]
    slow = [asymmetric.asymmetric_abundance(4000.0, lambda x, s=s: s, eta)["omega_h2"] for s in svs]
    assert np.allclose(fast, slow, rtol=5e-4)


def test_large_cross_section_gives_asymmetric_value():
    res = asymmetric.asymmetric_abundance(4500.0, lambda x: 1e-23 * relic.CM3_PER_S, R.EPS_ASYM * R.ETA_B)
    assert res["r"] < 1e-10
    assert res["omega_h2"] / R.H_PLANCK**2 == pytest.approx(0.265 * 4500 / (R.m_max_asymmetric()), rel=2e-3)


def test_sigma_ss_threshold_limit_is_eq_3_10():
    for eps in (1e-4, 1e-3):
        s = 4 * (1 + eps)
        assert R.sigma_ss(s, 1.0, 0.0) == pytest.approx(R.sigma_ss_seed(s, 1.0), rel=4e-4)


def test_F_fit_vs_integral():
    """Seed eq. 3.12: the polynomial fit equals the integral to 0.3% at x = 15, F(20) = 0.028 ('F ~ 0.03'),
    but overestimates it by 7% at x = 30 and 33% at x = 70 (the seed claims 15 < x < 70)."""
    assert R.F_seed_fit(15) / R.F_integral(15) == pytest.approx(1.0, abs=0.005)
    assert R.F_integral(20) == pytest.approx(0.0284, rel=0.01)
    assert R.F_seed_fit(70) / R.F_integral(70) == pytest.approx(1.33, abs=0.02)
    # F is the GG average of eq. 3.10 divided by 3 g^4/(16 pi m^2)
    gg = R.gg_average(lambda s: R.sigma_ss_seed(s, 1.0), 1.0, 25.0) / (3 / (16 * math.pi))
    assert gg == pytest.approx(R.F_integral(25.0), rel=1e-6)


@pytest.mark.parametrize("y", [1.3, 1.4])
def test_resonance_resolved_average_reduces_to_nwa_eq_3_16(y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in (10.0, 20.0):
            assert R.sigma_v_res(x, 1.0, y, 0.003) == pytest.approx(R.sigma_v_res_nwa(x, 1.0, y, 0.003), rel=2e-3)
        # a wide resonance is enhanced by the Boltzmann factor on its low side
        assert R.sigma_v_res(20.0, 1.0, y, 1.0) > 1.5 * R.sigma_v_res_nwa(20.0, 1.0, y, 1.0)


def test_nwa_is_inverse_decay_rate():
    """eq. 3.16 = n_s^eq <Gamma(s -> N'N'bar)> / n_eq(N')^2 (Maxwell-Boltzmann, g_s = 1, g_N' = 2)."""
    from scipy import special

    m, y, g, x = 1.0, 1.3, 0.2, 20.0
    T, M = m / x, 2 * y * m
    n_s_gamma = M * M * T * special.kn(1, M / T) / (2 * math.pi**2) * R.width_s_to_NN(M, m, g)
    n_eq = 2 * m * m * T * special.kn(2, x) / (2 * math.pi**2)
    assert R.sigma_v_res_nwa(x, m, y, g) == pytest.approx(n_s_gamma / n_eq**2, rel=1e-9)


def test_fig1_contour_points():
    """Seed Fig. 1 left: for g_s >~ 0.14 the asymmetric maximum 4.5 GeV is reached; Omega decreases with g_s."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        om, r = R.omega_grid(np.array([4500.0]), np.array([0.05, 0.1, 0.16, 0.2]), 0.0)
    assert np.all(np.diff(om[0]) < 0)
    assert om[0, 2] == pytest.approx(0.265, rel=0.03) and r[0, 3] < 0.01
    with pytest.raises(NudmsimError, match="threshold"):
        R.omega_grid([3000.0], [0.3], 1.5)
