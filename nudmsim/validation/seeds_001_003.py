"""Published numbers of seeds 001 (Model 1, operator catalogue) and 003 (HNL-portal DM) that nudmsim reproduces.

Known disagreements (seed 001 eq. 39 normalisation, eq. 43 vs 46; seed 003 EWPD scale 5.9 vs 9.7 keV, r(M_N)
formula) are documented in docs/eft_and_models.md and docs/hnl.md rather than registered as checks.  The ends of
the seed 001 Fig. 4 window are registered (seed: "O(100) MeV" to "O(10) GeV", so the tolerance is half a decade);
with the card's default K bound the lower end FAILS (11 MeV, N_eff/BBN) -- a documented disagreement."""
from __future__ import annotations

import math

from .. import constants as c
from ..registry import check


@check("seed001.benchmark_C_over_GF", unit="G_F", reference=1.7e3, tolerance=0.05, relative=True,
       description="C_6M^{1,3} = y^2/(2 m_H0^2) at m_H0 = 50 MeV, y = 0.01 (seed §4: ~1.7e3 G_F)")
def _c_bench():
    from ..models.model1 import Model1

    return Model1(50.0 / 3, 50.0, m_A=1e9, y_e=0.01).c6m3() / c.G_FERMI


@check("seed001.relic_y_benchmark", unit="", reference=0.01, tolerance=0.25, relative=True,
       description="relic coupling at m_H0 = 50 MeV, m_chi = m_H0/3 with seed eq. 39 normalisation (seed: 0.01; "
                   "the derived y/sqrt2 coupling gives sqrt2 x this)")
def _relic_bench():
    from ..models.model1 import relic_coupling

    return relic_coupling(50.0 / 3, 50.0, convention="seed")


@check("seed001.yukawa_numass_eq30", unit="", reference=1.0, tolerance=0.02,
       description="y giving m_nu = 0.05 eV (eq. 28, one chi) / eq. 30 hierarchical form, m_chi = 1 MeV, m_H0 = 1 GeV, m_A = 1 TeV")
def _eq30():
    from ..models.model1 import yukawa_bound_neutrino_mass

    y = yukawa_bound_neutrino_mass(1.0, 1e3, 1e6)
    return y / (4e-3 / math.sqrt(math.log(1e6**2 / 1e3**2)))


@check("seed001.dd_proton_over_neutron", unit="", reference=3.4e-46 / 6.1e-44, tolerance=0.03, relative=True,
       description="sigma_p/sigma_n of the Z penguin = ((2v_u+v_d)/(v_u+2v_d))^2 vs seed eqs. 46-47")
def _pn():
    from ..models.model1 import Model1

    m = Model1(1000.0, 3000.0, y_e=1.0)
    return m.sigma_nucleon("p") / m.sigma_nucleon("n")


def _window(k_key: str):
    import warnings

    from ..figures.seed001 import bounds_of, fig4_data, window_edges

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = fig4_data(44)
        return window_edges(d["m_med"], d["relic"], bounds_of(d, k_key))


@check("seed001.window_upper_edge", unit="log10(m/10 GeV)", reference=0.0, tolerance=0.5,
       description="upper end of the Fig. 4 allowed window, m_chi where the relic coupling (derived normalisation) "
                   "meets the direct-detection bound (LZ 2024 HEPData + DarkSide-50 2023, card defaults); seed: "
                   "O(10) GeV, i.e. within half a decade of 10 GeV")
def _win_hi():
    return math.log10(_window("K")["hi"] / (10 * c.GeV))


@check("seed001.window_lower_edge", unit="log10(m/100 MeV)", reference=0.0, tolerance=0.5,
       description="lower end of the Fig. 4 allowed window with the card's default K bound ('direct': K+ -> e+ 3nu "
                   "search and R_K only inside the K_e2 missing-mass window), set by N_eff/BBN at ~11 MeV; seed: "
                   "O(100) MeV.  Expected to FAIL: the seed's edge needs R_K applied to the whole 3-body rate "
                   "(docs/eft_and_models.md)")
def _win_lo():
    return math.log10(_window("K")["lo"] / (100 * c.MeV))


@check("seed001.window_lower_edge_rk_inclusive", unit="log10(m/100 MeV)", reference=0.0, tolerance=0.5,
       description="lower end of the Fig. 4 allowed window with R_K applied to the whole K+ -> e+ chi H2^0 rate "
                   "(the seed's reading, card meson.k_bound = rk_inclusive), set by the K bound below the K+ "
                   "kinematic edge; seed: O(100) MeV")
def _win_lo_rk():
    return math.log10(_window("K (R_K inclusive)")["lo"] / (100 * c.MeV))


@check("seed003.delphi_mu_bar_NH", unit="MeV", reference=5.7, tolerance=0.04, relative=True,
       description="mu_bar saturating Ubar < 0.0039 at M_N = 4.5 GeV, normal hierarchy (seed §4.1.2: 5.7 MeV)")
def _mu_nh():
    from ..models import hnl_dm

    return hnl_dm.mu_bar_delphi("NH") / c.MeV


@check("seed003.delphi_mu_bar_IH", unit="MeV", reference=9.8, tolerance=0.04, relative=True,
       description="same, inverted hierarchy (seed: 9.8 MeV)")
def _mu_ih():
    from ..models import hnl_dm

    return hnl_dm.mu_bar_delphi("IH") / c.MeV


@check("seed003.ubar_mu_NH", unit="", reference=0.0028, tolerance=0.05, relative=True,
       description="Ubar_mu at 4.5 GeV, mu_bar = 5.7 MeV, NH (seed eq. 4.14: 0.0028)")
def _ubar():
    from ..models import hnl_dm

    return float(hnl_dm.ubar(4.5 * c.GeV, 5.7 * c.MeV, "NH")[1])


@check("seed003.m_max_asymmetric", unit="GeV", reference=4.5, tolerance=0.03, relative=True,
       description="largest N' mass for a purely asymmetric relic, Omega = 0.265 (seed eq. 3.8: 4.5 GeV)")
def _mmax():
    from ..models import hnl_dm_relic

    return hnl_dm_relic.m_max_asymmetric() / c.GeV


@check("seed003.F_at_x20", unit="", reference=0.03, tolerance=0.1, relative=True,
       description="thermal-average function F(x = 20) of eq. 3.12 (seed: F ~ 0.03)")
def _f20():
    from ..models import hnl_dm_relic

    return hnl_dm_relic.F_integral(20.0)


@check("seed003.a4_to_a3", unit="", reference=0.0, tolerance=1e-6,
       description="max |A.4(x, 1e-6)/A.3(x) - 1| over x = 0.05..0.9 (seed: A.4 reduces to A.3 for m_beta -> 0)")
def _a4():
    import numpy as np

    from ..processes import hnl_widths as W

    return max(abs(W.a4_bracket(x, 1e-6) / float(W.a3_bracket(x)) - 1) for x in np.linspace(0.05, 0.9, 18))


@check("seed003.hnl_width_vs_senscalc", unit="", reference=1.0, tolerance=0.05, relative=True,
       description="Majorana HNL total width at M = 1 GeV, |U_mu|^2 = 1 / SensCalc (Ovchynnikov et al., PRD 108 075028)")
def _senscalc():
    from ..paths import data_file
    from ..processes.hnl_widths import HNL

    rows = [ln.split(",") for ln in data_file("hnl_widths", "senscalc_hnl_total_width.csv").read_text().splitlines()
            if ln and not ln.startswith(("#", "M_"))]
    ref = next(float(r[2]) for r in rows if abs(float(r[0]) - 1.0) < 1e-9)
    return HNL(1000.0, U2_mu=1.0, majorana=True).total_width() / (ref * c.GeV)


@check("seed003.g_s_asymmetric", unit="", reference=0.14, tolerance=0.03,
       description="g_s at which Omega(m_N' = 4.4 GeV, m_s << m_N') = 0.265 (seed Fig. 1: max mass reached for g_s >~ 0.14)")
def _gs():
    import warnings

    import numpy as np
    from scipy import optimize

    from ..models import hnl_dm_relic as R

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = lambda g: float(R.omega_grid(np.array([4400.0]), np.array([g]), 0.0)[0][0, 0]) - R.OMEGA_OBS  # noqa: E731
        return optimize.brentq(f, 0.05, 0.3, xtol=1e-3)
