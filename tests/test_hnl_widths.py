"""HNL widths (seed 003 App. A): closed forms vs quadrature vs explicit Dirac traces, the A.4 -> A.3 limit,
and the total width against an independent published calculation (SensCalc, Ovchynnikov et al. 2023)."""
import math

import numpy as np
import pytest

from nudmsim import constants as c
from nudmsim.errors import NudmsimError
from nudmsim.processes import hnl_events as E
from nudmsim.processes import hnl_widths as W

DATA = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "hnl_widths" / "senscalc_hnl_total_width.csv"


# --- explicit Dirac algebra (independent of the analytic spin sums) ----------------------------------------
def _gammas():
    s = [np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]], complex)]
    z, i2 = np.zeros((2, 2)), np.eye(2)
    g = [np.block([[i2, z], [z, -i2]]).astype(complex)] + [np.block([[z, si], [-si, z]]) for si in s]
    g5 = 1j * g[0] @ g[1] @ g[2] @ g[3]
    return g, g5


G, G5 = _gammas()
ETA = np.diag([1.0, -1.0, -1.0, -1.0])
PL, PR = (np.eye(4) - G5) / 2, (np.eye(4) + G5) / 2


def _sl(p):
    return sum(ETA[m, m] * p[m] * G[m] for m in range(4))


def _trace_msq(p, k, p1, p2, M, m, gL, gR):
    """sum over spins of [ubar_nu(k) g^mu P_L u_N(p)][ubar_l(p1) g_mu (gL PL + gR PR) v_l(p2)] squared, x 64 G_F^2/2/16
    -> spin-averaged |M|^2 with the 4 G_F/sqrt2 normalisation."""
    tot = 0.0
    A, B = gL * PL + gR * PR, gL * PR + gR * PL
    for mu in range(4):
        for nu in range(4):
            t1 = np.trace(_sl(k) @ G[mu] @ PL @ (_sl(p) + M * np.eye(4)) @ PR @ G[nu])
            t2 = np.trace((_sl(p1) + m * np.eye(4)) @ G[mu] @ A @ (_sl(p2) - m * np.eye(4)) @ B @ G[nu])
            tot += (t1 * t2).real * ETA[mu, mu] * ETA[nu, nu]
    return 8.0 * c.G_FERMI**2 * tot / 2.0


@pytest.mark.parametrize("gL,gR", [(1.0, 0.0), (-0.5 + W.S2W, W.S2W), (0.5 + W.S2W, W.S2W)])
def test_nll_matrix_element_matches_dirac_traces(gL, gR):
    rng = np.random.default_rng(3)
    M, m = 1000.0, 105.66
    ch = W.Channel("x", "nu l+ l-", 1.0, (12, 13, -13), (0.0, m, m), "nll", True, (gL, gR))
    p4, _ = E.sample_channel(ch, M, 5, rng)
    p = np.array([M, 0, 0, 0.0])
    for ev in p4:
        k, p1, p2 = ev
        s12 = E_dot(k + p1, k + p1)
        s23 = E_dot(p1 + p2, p1 + p2)
        ours = E.msq("nll", M, (0.0, m, m), s12, s23, (gL, gR))
        assert float(ours) == pytest.approx(_trace_msq(p, k, p1, p2, M, m, gL, gR), rel=1e-9)


def E_dot(a, b):
    return a[0] * b[0] - a[1:] @ b[1:]


def test_cc_matrix_element_is_the_gl1_structure():
    """N -> l_a- l_b+ nu_b: |M|^2 = 64 G^2 (p.p_b+)(p_a-.p_nu) (seed eq. A.1 squared) = the Dirac trace of the
    Fierzed CC amplitude with g_L = 1 and the lepton masses put on l_a- and l_b+."""
    rng = np.random.default_rng(4)
    M, ma, mb = 2500.0, 105.66, 1776.86
    ch = W.Channel("x", "l- l'+ nu", 1.0, (13, -15, 16), (ma, mb, 0.0), "cc", True)
    p4, _ = E.sample_channel(ch, M, 4, rng)
    for ev in p4:
        l_a, l_b, nu = ev
        s12, s23 = E_dot(l_a + l_b, l_a + l_b), E_dot(l_b + nu, l_b + nu)
        direct = 64 * c.G_FERMI**2 * E_dot(np.array([M, 0, 0, 0.0]), l_b) * E_dot(l_a, nu)
        assert float(E.msq("cc", M, (ma, mb, 0.0), s12, s23)) == pytest.approx(direct, rel=1e-12)


# --- A.4 -> A.3 and closed forms vs quadrature -----------------------------------------------------------------
@pytest.mark.parametrize("x", [0.05, 0.1, 0.3, 0.6, 0.9])
def test_a4_reduces_to_a3_massless_limit(x):
    """Seed: 'this formula reduces to eq. A.3 in the limit m_beta -> 0' -- to 1e-6 (acceptance)."""
    a3 = float(W.a3_bracket(x))
    for xb in (1e-5, 1e-6):
        assert W.a4_bracket(x, xb) / a3 - 1 == pytest.approx(0, abs=1e-6)
        assert W.a4_bracket(xb, x) / a3 - 1 == pytest.approx(0, abs=1e-6)   # symmetric in a <-> b
    assert W.a4_bracket(x, 0.0) == pytest.approx(a3, rel=1e-14)


@pytest.mark.parametrize("M,a,b", [(300.0, "e", "mu"), (2000.0, "mu", "tau"), (3500.0, "tau", "mu"), (2200.0, "tau", "e")])
def test_a4_against_dalitz_quadrature(M, a, b):
    ma, mb = c.LEPTON_MASS[a], c.LEPTON_MASS[b]
    num = E.dalitz_width("cc", M, (ma, mb, 0.0), n=128)
    assert W.width_cc_lllnu(M, ma, mb) == pytest.approx(num, rel=1e-6)


def test_a3_error_for_mu_tau_is_percent_level():
    """The seed's footnote 6: A.3 is worse for (mu, tau) than (e, mu); at M = 3 GeV it is 3.9% high."""
    M = 3000.0
    exact = W.width_cc_lllnu(M, c.M_MUON, c.M_TAU)
    approx = W.width_cc_lllnu_a3(M, c.M_TAU)
    assert approx / exact - 1 == pytest.approx(0.0385, abs=0.001)
    assert W.width_cc_lllnu_a3(M, c.M_MUON) / W.width_cc_lllnu(M, c.M_ELECTRON, c.M_MUON) - 1 < 1e-5


@pytest.mark.parametrize("M", [300.0, 1500.0, 4000.0])
@pytest.mark.parametrize("a,b", [("e", "e"), ("mu", "mu"), ("e", "mu"), ("tau", "tau")])
def test_nu_ll_closed_form_against_quadrature(M, a, b):
    mb = c.LEPTON_MASS[b]
    if M <= 2 * mb:
        assert W.width_nu_ll(M, a, b) == 0.0 or M > 2 * mb
        return
    num = E.dalitz_width("nll", M, (0.0, mb, mb), W.nc_couplings(a, b), n=160)
    assert W.width_nu_ll(M, a, b) == pytest.approx(num, rel=2e-5)


def test_massless_limits():
    """Muon-decay normalisation: with massless leptons the CC width is G_F^2 M^5/(192 pi^3) and nu l l is
    (g_L^2 + g_R^2) times it; 3 nu summed is the same G_F^2 M^5/(192 pi^3) (Dirac)."""
    M = 1e5
    base = c.G_FERMI**2 * M**5 / (192 * math.pi**3)
    assert W.width_cc_lllnu(M, 1e-6, 0.0) == pytest.approx(base, rel=1e-8)
    gL, gR = W.nc_couplings("mu", "e")
    assert W.width_nu_ll(M, "mu", "e") == pytest.approx(base * (gL**2 + gR**2), rel=1e-6)
    assert W.width_3nu(M) == pytest.approx(base)


def test_two_body_widths_from_spin_sums():
    """N -> nu pi0 and N -> l pi+ against the spin sums derived in the docstring, and the charged/neutral
    ratio 2 |V_ud|^2 for massless leptons."""
    M = 5000.0
    pi0 = W.NEUTRAL_MESONS[0]
    x2 = (pi0.mass / M) ** 2
    # sum|M|^2 = G^2 f^2 M^2 (M^2 - m^2); Gamma = p/(8 pi M^2) x sum/2
    p = (M * M - pi0.mass**2) / (2 * M)
    assert W.width_nu_meson(M, pi0) == pytest.approx(p / (8 * math.pi * M * M) * c.G_FERMI**2 * pi0.f**2
                                                     * M * M * (M * M - pi0.mass**2) / 2, rel=1e-12)
    pic = W.CHARGED_MESONS[0]
    r = W.width_l_meson(M, 1e-9, pic) / W._width_nu_meson(M, W.Meson("x", 0, pic.mass, pic.f, "P", False, kappa=1), pic.mass)
    assert r == pytest.approx(2 * c.V_UD**2, rel=1e-9)
    assert x2 > 0


def test_rho_breit_wigner_goes_to_narrow_width_far_above_threshold():
    rho = next(m for m in W.CHARGED_MESONS if m.name == "rho+")
    M = 40000.0
    narrow = W._width_l_meson(M, c.M_ELECTRON, rho, rho.mass)
    assert W.width_l_meson(M, c.M_ELECTRON, rho) == pytest.approx(narrow, rel=0.02)


# --- total width vs SensCalc (independent published calculation) -------------------------------------------
def _senscalc():
    rows = [ln.split(",") for ln in DATA.read_text().splitlines() if ln and not ln.startswith(("#", "M_"))]
    return np.array(rows, dtype=float)


@pytest.mark.parametrize("col,flav", [(1, "e"), (2, "mu"), (3, "tau")])
def test_total_width_matches_senscalc_within_5_percent(col, flav):
    """SensCalc (Ovchynnikov, Tastet, Mikulenko, Bondarenko, PRD 108 (2023) 075028) tabulates the Majorana
    total width for |U|^2 = 1; both use exclusive single-meson channels below ~1 GeV (Bondarenko et al. 2018),
    so 'where both apply' is M <= 1 GeV (above, SensCalc switches to quark level + QCD corrections)."""
    ref = _senscalc()
    sel = (ref[:, 0] >= 0.001) & (ref[:, 0] <= 1.0)
    ratios = []
    for m_gev, g in zip(ref[sel, 0], ref[sel, col]):
        h = W.HNL(m_gev * 1000.0, **{f"U2_{flav}": 1.0}, majorana=True)
        ratios.append(h.total_width() / (g * 1000.0))
    ratios = np.array(ratios)
    assert np.all(np.abs(ratios - 1) < 0.05), (ratios.min(), ratios.max())


def test_hnl_bad_input_one_line_errors():
    with pytest.raises(NudmsimError, match="must be > 0"):
        W.HNL(0.0, U2_mu=1e-6)
    with pytest.raises(NudmsimError, match="sum"):
        W.HNL(500.0, U2_mu=0.8, U2_e=0.5)
    with pytest.raises(NudmsimError, match="below its mass"):
        W.HNL(500.0, U2_mu=1e-6).decay_length(100.0)


def test_dirac_majorana_and_lifetime_scaling():
    h = W.HNL(800.0, U2_mu=1e-6)
    hm = W.HNL(800.0, U2_mu=1e-6, majorana=True)
    assert hm.total_width() == pytest.approx(2 * h.total_width())
    assert W.HNL(800.0, U2_mu=1e-4).lifetime() == pytest.approx(h.lifetime() / 100)
    # lab decay length at E: p/M c tau
    E_ = 25000.0
    assert float(h.decay_length(E_)) == pytest.approx(math.sqrt(E_**2 - 800.0**2) / 800.0 * c.C_LIGHT * h.lifetime())
