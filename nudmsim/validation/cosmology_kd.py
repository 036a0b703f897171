"""Cosmology checks for the scalar-portal model (seed 004 §IV, §VII): kinetic decoupling, thermal target, N_eff."""
from __future__ import annotations

import math

from .. import constants as c
from ..registry import check


@check("cosmology_kd.m_cut_prefactor", unit="1e8 M_sun", reference=1.8, tolerance=0.05, relative=True,
       description="(4 pi/3) rho_DM(T)/H(T)^3 at T_KD = 1 keV with our rho_DM and H vs seed eq. 12 (1.8e8 M_sun)")
def _mcut():
    from ..cosmology import kinetic

    return kinetic.m_cut_prefactor() / 1e8


@check("cosmology_kd.t_kd_min", unit="keV", reference=1.4, tolerance=0.05, relative=True,
       description="Lyman-alpha m_WDM > 5.3 keV -> M_f < 6.5e7 M_sun -> T_KD > 1.4 keV (seed §IV), our M_cut")
def _tmin():
    from ..cosmology import kinetic

    return kinetic.t_kd_min_lyman_alpha() / c.keV


@check("cosmology_kd.t_kd_mass_exponent", unit="", reference=1.25, tolerance=0.01,
       description="d ln T_KD / d ln m_X of the numerical T_KD (y_X = 0.1, r = 3, m_X = 1-4 MeV) vs seed eq. 15")
def _mexp():
    from ..cosmology import kinetic

    t1 = kinetic.t_kd(0.1, 1.0, 3.0)
    t4 = kinetic.t_kd(0.1, 4.0, 12.0)
    return math.log(t4 / t1) / math.log(4.0)


@check("cosmology_kd.t_kd_vs_small_e", unit="", reference=1.0, tolerance=0.01, relative=True,
       description="numerical T_KD (full kinematics, both channels) / closed-form small-E_nu limit, m_X = 10 MeV")
def _small_e():
    from ..cosmology import kinetic

    return kinetic.t_kd(0.1, 10.0, 30.0) / kinetic.t_kd_small_e(0.1, 10.0, 30.0)


@check("cosmology_kd.sigma_v_vs_seed002", unit="", reference=1.0, tolerance=1e-9, relative=True,
       description="derived s-wave sigma v(X Xbar -> nu nubar) / seed 002 eq. 7 (same topology, Dirac DM)")
def _sv():
    from ..models import neutrino_portal, scalar_portal

    m, mphi, y = 20.0, 50.0, 0.3
    np_model = neutrino_portal.NeutrinoPortal(m_chi=m, m_phi=mphi, m4=1000.0, y_L=y, U_e4=1.0)
    return float(scalar_portal.sigma_v_annihilation(y, m, mphi)) / np_model.sigma_v()


@check("cosmology_kd.neff_mass_bound", unit="MeV", reference=9.0, tolerance=2.0,
       description="N_eff < 3.33 (Planck 2018) for a neutrinophilic Dirac fermion, instantaneous decoupling "
                   "(seed 004 §VII: thermal DM lighter than ~8 MeV excluded; 8-10 MeV in the literature)")
def _neff():
    from ..cosmology import thermal

    return thermal.neff_mass_bound()


@check("cosmology_kd.thermal_y_mass_slope", unit="", reference=0.5, tolerance=0.03,
       description="d ln y_X^thermal / d ln m_X at r = 3, m_X = 30-100 MeV (g* flat): sigma v ~ y^4/m^2 => 1/2 "
                   "up to the logarithmic growth of x_f")
def _slope():
    from ..cosmology import thermal

    y1, y2 = thermal.thermal_yX(30.0, 3.0, exact=True), thermal.thermal_yX(100.0, 3.0, exact=True)
    return math.log(y2 / y1) / math.log(100.0 / 30.0)
