"""Neutrino-portal model: widths vs a generic two-body width from |M|^2, limits, input validation."""
import math

import pytest

from nudmsim import constants as c
from nudmsim.errors import ParameterError
from nudmsim.models.neutrino_portal import NeutrinoPortal, sqrt_kallen


def _two_body(msq, M, m1, m2):
    p = float(sqrt_kallen(M * M, m1 * m1, m2 * m2)) / (2 * M)
    return msq * p / (8 * math.pi * M * M)


def test_phi_width_from_msq():
    # phi -> chi nubar_L: y^2 sum|U|^2 |ubar_chi P_L v_nu|^2 = y^2 sum|U|^2 2 p_chi.p_nu = y^2 (m_phi^2 - m_chi^2)
    m = NeutrinoPortal(10.0, 35.0, 1e3, 0.7, U_mu4=0.2, U_e4=0.1)
    msq = m.y_L**2 * m.sum_U2 * (m.m_phi**2 - m.m_chi**2)
    assert m.width_phi_to_chi_nu() == pytest.approx(_two_body(msq, m.m_phi, m.m_chi, 0.0), rel=1e-12)


def test_nu4_width_from_msq():
    # nu4 -> chi phi*: (1/2) y^2 |U_N4|^2 Tr[(pchi + mchi) P_L (p4 + m4) P_R] = y^2 |U_N4|^2 p_chi.p_4
    m = NeutrinoPortal(10.0, 35.0, 300.0, 0.7, U_mu4=0.2)
    pchi_p4 = (m.m4**2 + m.m_chi**2 - m.m_phi**2) / 2
    msq = m.y_L**2 * m.UN4_sq * pchi_p4
    assert m.width_nu4_to_chi_phi() == pytest.approx(_two_body(msq, m.m4, m.m_chi, m.m_phi), rel=1e-12)


def test_weak_width_large_mass_limit():
    # m4 >> m_W: G_F m4^3 |U|^2/(8 sqrt2 pi); and zero below m_W
    m = NeutrinoPortal(10.0, 30.0, 1e8, 1.0, U_mu4=0.1)
    assert m.width_nu4_to_lW("mu") == pytest.approx(c.G_FERMI * m.m4**3 * 0.01 / (8 * math.sqrt(2) * math.pi),
                                                    rel=1e-5)
    assert NeutrinoPortal(10.0, 30.0, 5e4, 1.0, U_mu4=0.1).width_nu4_to_lW("mu") == 0.0


def test_Y_and_sigma_v_relation():
    # seed: <sigma v> ~ Y/(32 pi m_chi^2) up to (1 + m_chi^2/m_phi^2)^-2
    m = NeutrinoPortal(20.0, 60.0, 200.0, 2.0, U_mu4=0.1)
    assert m.sigma_v() == pytest.approx(m.Y / (32 * math.pi * m.m_chi**2) / (1 + 1 / 9) ** 2, rel=1e-12)
    assert m.UN4_sq == pytest.approx(0.99)
    # seed eq. 7 normalisation: y sqrt(sum U^2) = 0.2 at 10 GeV, r = 3 gives ~1 pb ~ 3e-26 cm^3/s (x 1/(1+1/9)^2)
    m = NeutrinoPortal(10e3, 30e3, 1e6, 1.0, U_mu4=0.2)
    assert m.sigma_v_cm3_s() == pytest.approx(3e-26, rel=0.35)


@pytest.mark.parametrize("kw,match", [(dict(U_mu4=0.8, U_e4=0.7), "sum"), (dict(m_chi=float("nan")), "m_chi"),
                                      (dict(m_chi=50.0), "m_chi = 50 MeV >= m_phi")])
def test_bad_input(kw, match):
    args = dict(m_chi=10.0, m_phi=30.0, m4=100.0, y_L=1.0)
    args.update(kw)
    with pytest.raises(ParameterError, match=match):
        NeutrinoPortal(**args)
