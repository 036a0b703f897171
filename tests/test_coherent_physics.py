"""COHERENT physics: scalar portal, SNS source, CEvNS and nu->X cross sections and kinematics, response."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.integrate import quad

from nudmsim import cards, constants as c, targets
from nudmsim.models import scalar_portal as sp
from nudmsim.processes import cevns, nu_to_x as nx
from nudmsim.response import efficiency, photostatistics, quenching
from nudmsim.response.tables import read_csv_table
from nudmsim.paths import data_file
from nudmsim.sources import sns

CS = targets.isotope("Cs133")


# --- scalar portal ------------------------------------------------------------------------------
def test_yp_over_yq_seed_value():
    y_p, y_n = sp.nucleon_couplings(1.0)
    assert y_p == pytest.approx(17.5, rel=0.03) and y_n == pytest.approx(17.5, rel=0.03)


def test_nucleus_coupling_counts_each_nucleon_once():
    # hydrogen: y_N = y_p; a nucleus of Z protons and N neutrons sums them (seed eq. 7 misprint: A y_p)
    assert sp.nucleus_coupling(2.0, 3.0, Z=1, A=1) == 2.0
    assert sp.nucleus_coupling(2.0, 3.0, Z=55, A=133) == 55 * 2.0 + 78 * 3.0


@settings(deadline=None)
@given(st.floats(1e-8, 1.0), st.floats(1e-3, 50.0), st.floats(1.01, 20.0))
def test_sigma_nc_inverse(yxyp, m_X, r):
    s = sp.sigma_nc(yxyp, 1.0, m_X, r * m_X)
    assert sp.coupling_product_from_sigma_nc(s, m_X, r * m_X) == pytest.approx(yxyp, rel=1e-10)


def test_decay_width_scaling_and_value():
    g1 = sp.decay_width_x_to_nu_gamma(1e-3, 1e-4, 10.0, 30.0)
    assert sp.decay_width_x_to_nu_gamma(1e-3, 1e-4, 20.0, 60.0) == pytest.approx(2.0 * g1)  # m^5/m^4
    # hand evaluation: 1e-6 * 1e-8 * (1/137.036) * 1e5 / (192 pi^4 * 30^4) MeV
    assert g1 == pytest.approx(1e-14 / 137.035999 * 1e5 / (192 * math.pi**4 * 810000.0), rel=1e-9)


# --- SNS source ---------------------------------------------------------------------------------
def test_prompt_line_and_michel_moments():
    assert sns.PROMPT_ENERGY == pytest.approx(29.79, abs=0.01)      # textbook pi-DAR line
    for fl, mean in ((sns.NU_E, 0.3 * c.M_MUON), (sns.NU_MU_BAR, 0.35 * c.M_MUON)):  # 31.7, 37.0 MeV
        norm = quad(lambda e: sns.michel_pdf(fl, e), 0, sns.E_MAX)[0]
        m1 = quad(lambda e: e * sns.michel_pdf(fl, e), 0, sns.E_MAX)[0]
        assert norm == pytest.approx(1.0, rel=1e-10) and m1 == pytest.approx(mean, rel=1e-10)
        u = np.linspace(0.001, 0.999, 50)
        assert sns.michel_cdf(fl, sns.michel_inverse_cdf(fl, u)) == pytest.approx(u, abs=1e-9)


def test_pot_and_fluence_from_si_units():
    # GWh -> POT at 1 GeV per proton (the source card's default conversion), from SI units
    joules = 7.47594e9 * 3600.0
    n_pot_1gev = joules / (1.0e9 * 1.602176634e-19)
    assert sns.protons_on_target(7.47594 * c.GWH, 1.0 * c.GeV) == pytest.approx(n_pot_1gev, rel=1e-9)
    assert n_pot_1gev == pytest.approx(1.680e23, rel=1e-3)
    # the 2017 card gives the paper's POT directly: 1.76e23 for those 7.47594 GWh = 0.954 GeV per proton
    card = cards.load_detector("coherent_csi_2017")
    src = sns.from_detector_card(card)
    assert src.n_pot == 1.76e23
    assert joules / src.n_pot / 1.602176634e-10 == pytest.approx(0.9544, abs=1e-4)   # GeV per proton
    assert src.fluence * 100.0 == pytest.approx(0.08 * 1.76e23 / (4 * math.pi * 1930.0**2), rel=1e-9)  # per cm^2


def test_physical_timing_reproduces_released_pdfs():
    """Pulse (card FWHM, offset) folded with the PDG pi and mu lifetimes vs the released arrival-time PDFs."""
    card = cards.load_source("sns")
    tim = sns.load_timing(card, "physical")
    tab = read_csv_table(data_file("coherent_csi_2017", "csi2018_arrival_time_pdfs.csv"))
    edges = np.arange(0, 12.01, 0.5)
    for prompt, col in ((True, "pdf_prompt_nu"), (False, "pdf_delayed_nu")):
        ref = tab[col] / tab[col].sum()
        assert tim.bin_probabilities(edges, prompt) == pytest.approx(ref, abs=3e-3)


def test_released_timing_and_physical_model():
    card = cards.load_detector("coherent_csi_2017")
    tim = sns.from_detector_card(card).timing
    tab = read_csv_table(data_file("coherent_csi_2017", "csi2018_arrival_time_pdfs.csv"))
    edges = np.arange(0, 12.01, 0.5)
    assert tim.bin_probabilities(edges, True) == pytest.approx(tab["pdf_prompt_nu"] / tab["pdf_prompt_nu"].sum())
    phys = sns.Timing("physical", pulse_sigma_us=0.15, offset_us=0.75)
    fine = np.linspace(-2, 60, 200001)
    for prompt, mean in ((True, 0.75 + c.TAU_PION / 1000), (False, 0.75 + (c.TAU_PION + c.TAU_MUON) / 1000)):
        p = phys.bin_probabilities(fine, prompt)
        assert p.sum() == pytest.approx(1.0, abs=1e-6)
        assert np.sum(p * 0.5 * (fine[1:] + fine[:-1])) == pytest.approx(mean, rel=1e-4)
        t = phys.sample(np.full(200000, prompt), np.random.default_rng(1))
        assert t.mean() == pytest.approx(mean, rel=0.02)


# --- kinematics ---------------------------------------------------------------------------------
def _boost_recoil(e_nu, m_X, m_N, cos_star):
    """E_R from explicit 4-vectors: CM frame with the given scattering angle, boosted to the lab.

    E_R = gamma (E* + beta p_z*) - m_N, written without cancellations:
    gamma (E* - m_N) + (gamma - 1) m_N + gamma beta p_z*, with E* - m = p^2/(E* + m), gamma - 1 = (gamma beta)^2/(gamma + 1)."""
    s = m_N**2 + 2 * m_N * e_nu
    rs = math.sqrt(s)
    pf = math.sqrt((s - (m_X + m_N) ** 2) * (s - (m_N - m_X) ** 2)) / (2 * rs)
    e_n_star = math.sqrt(pf**2 + m_N**2)
    gb = e_nu / rs                         # gamma*beta of the CM frame (p_lab / sqrt(s))
    gamma = (e_nu + m_N) / rs
    pz_star = -pf * cos_star               # nucleus recoils opposite to X
    return gamma * pf**2 / (e_n_star + m_N) + gb**2 / (gamma + 1) * m_N + gb * pz_star


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 50.0), st.sampled_from(["Cs133", "I127", "Ar40", "Xe131"]), st.floats(0.0, 1.0),
       st.floats(-1.0, 1.0))
def test_recoil_range_from_four_vectors(m_X, iso, frac, cos_star):
    N = targets.isotope(iso)
    thr = nx.threshold(m_X, N.mass)
    e_nu = thr + 0.01 + frac * 60.0
    lo, hi = nx.recoil_range(e_nu, m_X, N.mass)
    er = _boost_recoil(e_nu, m_X, N.mass, cos_star)
    assert lo * (1 - 1e-7) - 1e-15 <= er <= hi * (1 + 1e-9)
    assert _boost_recoil(e_nu, m_X, N.mass, 1.0) == pytest.approx(lo, rel=1e-5, abs=1e-15)
    assert _boost_recoil(e_nu, m_X, N.mass, -1.0) == pytest.approx(hi, rel=1e-9)
    # E_nu,min(E_R) is the inverse of both range ends
    assert nx.e_nu_min(hi, m_X, N.mass) == pytest.approx(e_nu, rel=1e-7)
    if m_X == 0:
        assert hi == pytest.approx(float(cevns.t_max(e_nu, N.mass)), rel=1e-12)


def test_threshold():
    for m_X in (1.0, 10.0, 40.0):
        thr = m_X + m_X**2 / (2 * CS.mass)
        assert nx.threshold(m_X, CS.mass) == pytest.approx(thr)
        assert np.all(np.isnan(nx.recoil_range(thr * (1 - 1e-9), m_X, CS.mass)))
        lo, hi = nx.recoil_range(thr * (1 + 1e-12), m_X, CS.mass)
        assert hi == pytest.approx(lo, rel=1e-4)             # the range closes at threshold
        assert nx.dsigma_dER_noff(thr * 0.999, lo, 1, 1, m_X, 30.0, CS.mass) == 0.0


def test_massless_limit_equals_scalar_cevns():
    e_nu = np.array([[10.0], [29.8], [50.0]])
    e_r = np.geomspace(1e-6, 0.0015, 40)[None, :]      # inside the range for all three energies
    full = nx.dsigma_dER_noff(e_nu, e_r, 1e-3, 0.3, 0.0, 20.0, CS.mass)
    assert np.all(full > 0)
    std = nx.standard_scalar_cevns(e_nu, e_r, 1e-3, 0.3, 20.0, CS.mass)
    assert full == pytest.approx(std * (1 + e_r / (2 * CS.mass)), rel=1e-12)
    assert full == pytest.approx(std, rel=1e-6)   # the recoil factor is O(E_R/m_N)


def test_cevns_total_closed_form_vs_quadrature():
    for e in (10.0, 29.8, 52.8):
        num = quad(lambda t: float(cevns.dsigma_dT_noff(e, t, CS.Z, CS.N, CS.mass)), 0, float(cevns.t_max(e, CS.mass)))[0]
        assert num == pytest.approx(float(cevns.sigma_total_noff(e, CS.Z, CS.N, CS.mass)), rel=1e-9)
    # textbook coherent cross section G_F^2 Q_w^2 E^2 / (4 pi), valid up to O(E/M) ~ 5e-4
    e = 30.0
    approx = c.G_FERMI**2 * cevns.weak_charge(CS.Z, CS.N) ** 2 * e**2 / (4 * math.pi)
    assert float(cevns.sigma_total_noff(e, CS.Z, CS.N, CS.mass)) == pytest.approx(approx, rel=1e-3)


def test_nu_to_x_total_quadrature_vs_mc():
    rng = np.random.default_rng(7)
    m_X, m_phi, e = 10.0, 30.0, 40.0
    lo, hi = nx.recoil_range(e, m_X, CS.mass)
    f = lambda er: nx.dsigma_dER_noff(e, er, 1e-3, 0.2, m_X, m_phi, CS.mass)  # noqa: E731
    exact = quad(f, lo, hi, limit=200, points=[lo * 10, hi / 100])[0]
    # MC with a log-uniform proposal
    u = rng.random(400_000)
    er = lo * (hi / lo) ** u
    w = f(er) * er * np.log(hi / lo)
    est, err = w.mean(), w.std() / math.sqrt(len(w))
    assert abs(est - exact) < 3 * err and err / exact < 0.01


# --- response ------------------------------------------------------------------------------------
def test_acceptance_matches_released_table():
    tab = read_csv_table(data_file("coherent_csi_2017", "csi2018_acceptance_nominal_1PE.csv"))
    got = efficiency.coherent_logistic(tab["pe_center"], 0.6655, 0.4942, 10.8507)
    assert got == pytest.approx(tab["acceptance"], abs=1e-6)


def test_pe_bin_matrix_matches_sampling():
    mu = np.array([3.0, 12.5])
    edges = np.arange(0, 61)
    P = photostatistics.pe_bin_matrix(mu, edges)
    assert P.sum(1) == pytest.approx(1 - 0.5 * photostatistics.poisson_pmf(0, mu), abs=1e-12)
    rng = np.random.default_rng(3)
    for i, m in enumerate(mu):
        x = photostatistics.sample_pe(np.full(200_000, m), rng)
        h = np.histogram(x, edges)[0] / 200_000
        assert h == pytest.approx(P[i], abs=4e-3)


def test_quenching_fit_reproduces_release_constant():
    a = read_csv_table(data_file("coherent_csi_2017", "csi2018_qf_chicago.csv"))
    b = read_csv_table(data_file("coherent_csi_2017", "csi2018_qf_tunl.csv"))
    x = np.concatenate([a["Enr_keV"], b["Enr_keV"]])
    y = np.concatenate([a["QF"], b["QF"]])
    s = np.concatenate([a["QF_err"], 0.5 * (b["QF_err_hi"] + b["QF_err_lo"])])
    fit = quenching.fit_polynomial(x, y, s, 0, (5.0, 30.0), "auto")
    assert fit.chi2 == pytest.approx(fit.ndf, rel=1e-6)
    assert fit.coefficients[0] == pytest.approx(0.0878, abs=0.0166 / 4)   # release: 0.0878 +- 0.0166
    lin = quenching.fit_polynomial(x, 2.0 + 0.01 * x, np.full_like(x, 0.01), 1)   # exact line recovered
    assert lin.coefficients == pytest.approx((2.0, 0.01), rel=1e-9)
