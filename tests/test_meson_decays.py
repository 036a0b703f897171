"""Meson-decay physics: two-body SM/Shrock, the derived three-body |M|^2 vs seed eq. 12, K+ -> pi+ phi."""
import math

import numpy as np
import pytest

from nudmsim import constants as c
from nudmsim.errors import ParameterError
from nudmsim.models.neutrino_portal import NeutrinoPortal
from nudmsim.processes import meson_decays as md


def test_pi_e_over_mu_tree_level():
    # textbook tree-level value 1.283e-4 (e.g. Cirigliano & Rosell 2007 quote 1.2352e-4 after radiative
    # corrections; the tree-level helicity ratio is (me/mmu)^2 ((mpi^2-me^2)/(mpi^2-mmu^2))^2 = 1.283e-4)
    r = md.width_two_body("pi", "e") / md.width_two_body("pi", "mu")
    assert r == pytest.approx(1.283e-4, rel=5e-3)


def test_two_body_lepton_momenta():
    assert float(md.two_body_momentum(c.M_KAON, c.M_MUON, 0.0)) == pytest.approx(235.5, abs=0.05)
    assert float(md.two_body_momentum(c.M_PION, c.M_MUON, 0.0)) == pytest.approx(29.8, abs=0.05)


def test_sm_width_against_measured_lifetime():
    # tree-level Gamma(K -> mu nu) with PDG f_K, V_us vs tau_K x B(K -> mu nu): radiative corrections ~2%
    g = md.width_two_body("K", "mu")
    assert g / (md.total_width("K") * c.BR_K_MU2) == pytest.approx(1.0, abs=0.04)


def test_shrock_limits():
    a = (c.M_MUON / c.M_KAON) ** 2
    assert md.shrock_rho(a, 0.0) == pytest.approx(a * (1 - a) ** 2, rel=1e-12)
    # vanishes at the kinematic endpoint m4 = m_K - m_mu
    b = ((c.M_KAON - c.M_MUON) / c.M_KAON) ** 2
    assert md.shrock_rho(a, b) == pytest.approx(0.0, abs=1e-6)


# --- Dirac-matrix check of the spin sum ---------------------------------------------------------
def _gammas():
    i2, z2 = np.eye(2), np.zeros((2, 2))
    sig = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
    g0 = np.block([[i2, z2], [z2, -i2]]).astype(complex)
    gs = [np.block([[z2, s], [-s, z2]]).astype(complex) for s in sig]
    g5 = np.block([[z2, i2], [i2, z2]]).astype(complex)
    return [g0] + gs, g5


def _slash(p, g):
    return p[0] * g[0] - p[1] * g[1] - p[2] * g[2] - p[3] * g[3]


def test_trace_matches_explicit_dirac_matrices():
    """Tr[(pchi+mchi) G (pl-ml) Gbar], G = s P_L - ml qslash P_R, computed with explicit matrices."""
    g, g5 = _gammas()
    PL, PR = (np.eye(4) - g5) / 2, (np.eye(4) + g5) / 2
    rng = np.random.default_rng(3)
    M, ml, mc, mp = c.M_KAON, c.M_MUON, 20.0, 60.0
    from nudmsim.models.neutrino_portal import NeutrinoPortal
    from nudmsim.generators.meson_kinematics import three_body_rest

    model = NeutrinoPortal(mc, mp, 1e6, 1.0, U_mu4=0.1)
    pl, pchi, pphi = three_body_rest(model, "K", "mu", 5, rng)
    for i in range(5):
        l = np.array([x[i] for x in pl])
        ch = np.array([x[i] for x in pchi])
        ph = np.array([x[i] for x in pphi])
        q = ch + ph
        s = q[0] ** 2 - q[1:] @ q[1:]
        G = s * PL - ml * _slash(q, g) @ PR
        Gbar = g[0] @ G.conj().T @ g[0]
        T = np.trace((_slash(ch, g) + mc * np.eye(4)) @ G @ (_slash(l, g) - ml * np.eye(4)) @ Gbar).real
        pchi_pl = ch[0] * l[0] - ch[1:] @ l[1:]
        assert md.msq_reduced(s, pchi_pl, M, ml, mc, mp) == pytest.approx(T, rel=1e-9)


@pytest.mark.parametrize("meson,lepton,mc,mp", [("K", "mu", 30.0, 90.0), ("K", "e", 10.0, 30.0),
                                               ("pi", "e", 5.0, 15.0), ("K", "mu", 1.0, 3.0)])
def test_eq12_pointwise_and_dalitz_integral(meson, lepton, mc, mp):
    """m4 >> m_M: our t-integrated |M|^2 equals seed eq. 12 pointwise; 2-d Dalitz integral of |M|^2
    equals the integral of eq. 12 within 1%."""
    m = NeutrinoPortal(mc, mp, 1e9, 1.0, **{f"U_{lepton}4": 0.1})
    M = md.meson_mass(meson)
    s_lo, s_hi = md.s_range(meson, lepton, mc, mp)
    s = np.linspace(s_lo, s_hi, 50)[1:-1]
    x = md.x_of_s(meson, lepton, s)
    ours = md.dgamma_ds(m, meson, lepton, s) * M**2 / md.width_two_body(meson, lepton)
    eq12 = md.eq12_dgamma_dx_over_gamma_sm(m, meson, lepton, x)
    np.testing.assert_allclose(ours, eq12, rtol=1e-6)
    from scipy import integrate

    x_lo, x_hi = md.x_of_s(meson, lepton, s_hi), md.x_of_s(meson, lepton, s_lo)
    int12 = integrate.quad(lambda xx: float(md.eq12_dgamma_dx_over_gamma_sm(m, meson, lepton, xx)), x_lo, x_hi,
                           limit=200)[0] * md.width_two_body(meson, lepton)
    assert md.dalitz_width(m, meson, lepton) == pytest.approx(int12, rel=0.01)


def test_narrow_width_reduces_to_shrock():
    """Light on-shell nu4 with a narrow width: Gamma(K -> mu chi phi) -> Gamma(K -> mu nu4) x B(nu4 -> chi phi)=1."""
    m = NeutrinoPortal(10.0, 30.0, 200.0, 1e-2, U_mu4=0.01)
    assert m.width_nu4() / m.m4 < 1e-5
    shrock = md.width_two_body("K", "mu", 200.0, 1e-4)
    assert md.width_three_body(m, "K", "mu") == pytest.approx(shrock, rel=1e-3)
    assert md.dalitz_width(m, "K", "mu", n_s=2000) == pytest.approx(shrock, rel=1e-3)


def test_forbidden_three_body_names_kinematic_limit():
    with pytest.raises(ParameterError, match=r"kinematically forbidden.*m_K - m_mu = 388"):
        md.check_three_body("K", "mu", 100.0, 300.0)
    m = NeutrinoPortal(30.0, 120.0, 1e6, 1.0, U_mu4=0.1)
    with pytest.raises(ParameterError, match="kinematic limit"):
        md.width_three_body(m, "pi", "mu")


def test_k_pi_phi_closed_form_and_inverse():
    # m_phi = 0: Gamma = g^2 A^2 p/(8 pi m_K^2), p = (m_K^2 - m_pi^2)/(2 m_K)
    g = md.g_sd_per_yq() * 1e-4
    A = (c.M_KAON**2 - c.M_PION**2) / (2 * (c.M_STRANGE - c.M_DOWN))
    p = (c.M_KAON**2 - c.M_PION**2) / (2 * c.M_KAON)
    assert float(md.width_k_pi_phi(1e-4, 0.0)) == pytest.approx(g * g * A * A * p / (8 * math.pi * c.M_KAON**2),
                                                                rel=1e-12)
    assert float(md.yq_from_br(md.br_k_pi_phi(2e-4, 100.0), 100.0)) == pytest.approx(2e-4, rel=1e-12)
    with pytest.raises(ParameterError, match="kinematic limit"):
        md.check_k_pi_phi(400.0)
