"""NLO W production (nudmsim.sources.pp_nlo) with toy PDFs: the q_T-sliced rapidity distribution integrates to the
Altarelli-Ellis-Martinelli total (second method), does not depend on the cut, the real emission has the
collinear limit the slicing formula implies, the 2 -> 2 Jacobian is x1 x2; plus the committed NLO tables."""
import numpy as np
import pytest

from nudmsim import constants as c
from nudmsim.processes import w_angular as wa
from nudmsim.sources import pp_nlo as nl
from nudmsim.sources.pp import load_pp_source, load_z_source, sigma_hat_ll
from nudmsim.processes import w_decay as wd

M, SQRTS = 80.4, 7000.0


class ToyPDF:
    """Smooth analytic densities (not a fit to anything): valence-like quarks, sea, gluon."""

    alphas_mz = 0.118

    def __init__(self, gluon=1.0, sea=1.0):
        self.g, self.sea = gluon, sea

    def f(self, pid, x, q):
        x = np.asarray(x, float)
        inside = (x > 0) & (x < 1)
        xx = np.where(inside, x, 0.5)
        if pid == 21:
            v = self.g * 3 * xx**-1.2 * (1 - xx) ** 5
        elif pid in (1, 2):
            v = ((2.0 if pid == 2 else 1.0) * xx**-0.5 * (1 - xx) ** (3 + pid)
                 + self.sea * 0.3 * xx**-1.15 * (1 - xx) ** 7)
        else:
            v = self.sea * 0.3 * xx**-1.15 * (1 - xx) ** 7 * (1 + 0.1 * abs(pid))
        return np.where(inside, v, 0.0)


def _y_integral(pdf, qc):
    ymax = np.log(SQRTS / M)
    gx, gw = np.polynomial.legendre.leggauss(100)
    y = ymax * gx
    pairs = nl.w_pairs(1)
    val = nl.sliced(pdf, pairs, M, y, SQRTS, qc) + nl.real_above(pdf, pairs, M, y, SQRTS, qc)
    return 2 * np.sum(ymax * gw * val)          # both quark sides


@pytest.mark.parametrize("gluon,sea", [(0.0, 1.0), (1.0, 1.0), (1.0, 0.3)])
def test_slicing_integrates_to_aem_total(gluon, sea):
    pdf = ToyPDF(gluon, sea)
    lo, nlo = nl.total_nlo(pdf, nl.w_pairs(1), M, SQRTS)
    sl = _y_integral(pdf, 1.0)
    assert nlo / lo - 1 > 0.05 if gluon == 0 else True           # a sizeable O(alpha_s) correction is tested
    assert sl == pytest.approx(nlo, rel=1e-3)
    # the hard constant H = CF (pi^2 - 8) matters at this precision: half of it misses by > 1%
    a = nl.pdf_alphas(pdf, M) / (2 * np.pi)
    assert abs(sl - 0.5 * a * nl.H1 * lo - nlo) > 5e-3 * nlo


def test_slicing_independent_of_cut():
    pdf = ToyPDF()
    assert _y_integral(pdf, 0.7) == pytest.approx(_y_integral(pdf, 1.5), rel=5e-4)


def test_real_emission_collinear_limit_matches_slicing():
    # d Sigma(q_T < q)/d ln q^2 from the resummation expansion = q^2 d sigma/dq^2 of the exact real emission at
    # small q (differences O(q^2/M^2))
    pdf = ToyPDF()
    pairs = nl.w_pairs(1)
    y = np.array([-1.0, 0.0, 0.8, 2.0])
    for q in (0.5, 1.0):
        h = 0.01
        # d/d ln q^2 = (1/2) d/d ln q
        deriv = (nl.sliced(pdf, pairs, M, y, SQRTS, q * np.exp(h / 2)) -
                 nl.sliced(pdf, pairs, M, y, SQRTS, q * np.exp(-h / 2))) / h / 2
        real = q * q * nl.real_density(pdf, pairs, M, y, np.full_like(y, q), SQRTS, n_yk=200)
        assert np.allclose(deriv, real, rtol=0.005), (q, deriv, real)


def test_two_to_two_jacobian_is_x1x2():
    def f(v):
        y, yk, pt2 = v
        kin = wa.partonic_kinematics(M, y, np.sqrt(pt2), yk, SQRTS)
        return np.array([kin["x1"], kin["x2"], wa.mandelstam(kin, M)[1]])

    for v0 in ([0.3, -0.7, 625.0], [-1.5, 2.0, 40.0]):
        v0 = np.array(v0)
        h = np.array([1e-6, 1e-6, 1e-4])
        jac = np.array([(f(v0 + h[i] * np.eye(3)[i]) - f(v0 - h[i] * np.eye(3)[i])) / (2 * h[i]) for i in range(3)])
        x = f(v0)
        assert abs(np.linalg.det(jac)) == pytest.approx(x[0] * x[1], rel=1e-6)


def test_alphas_running():
    assert nl.alphas_two_loop(91.1876, 0.118) == pytest.approx(0.118, rel=1e-12)
    # two-loop running vs the one-loop formula at 10 GeV (the two-loop value is larger, by a few %)
    b0 = 23 / (12 * np.pi)
    one = 0.118 / (1 + 0.118 * b0 * np.log(100 / 91.1876**2))
    assert 1.0 < nl.alphas_two_loop(10.0, 0.118) / one < 1.06


def test_committed_tables_nlo_over_lo_and_z():
    # the NLO effective luminosity over the LO one (same NNPDF3.1 NLO PDF is not at hand here, so compare the
    # committed NLO table's y-integrated cross section with the K-factor-free LO Pythia table): NLO/LO(NNPDF2.3 LO)
    # of the total W cross section at 7 TeV is O(1.0-1.4) and the W+/W- ratio moves from the LO 1.49 to ~1.45
    src = load_pp_source("pp_7tev")
    assert src.order == "NLO"
    assert 1.40 < src.charge_ratio() < 1.47
    z = load_z_source("pp_7tev")
    ratio = src.sigma_lnu(0) / z.sigma_lnu(0)
    assert 10.0 < ratio < 11.5                 # ATLAS measures sigma_W/sigma_Z = 10.9 (66-116 GeV) at 7 TeV
    # Z narrow-width limit of the partonic cross section: (sqrt2 pi/3) G_F M_Z^2 x Gamma(Z -> l l)/Gamma_Z
    mz2, mg = c.M_Z**2, c.M_Z * c.GAMMA_Z
    shat = np.linspace(mz2 - 30 * mg, mz2 + 30 * mg, 400001)
    integ = np.trapezoid(sigma_hat_ll(np.sqrt(shat)), shat)
    vl, al = -0.5 + 2 * c.SIN2_THETA_EFF, -0.5
    gll = c.G_FERMI * c.M_Z**3 / (6 * np.sqrt(2) * np.pi) * (vl**2 + al**2)
    nw = np.sqrt(2) * np.pi / 3 * c.G_FERMI * c.M_Z**2 * gll / c.GAMMA_Z
    assert integ == pytest.approx(nw * 2 / np.pi * np.arctan(30), rel=1e-4)
    assert gll == pytest.approx(83.98 * c.MeV, rel=0.01)     # PDG Gamma(Z -> l l)
    assert wd.width_lnu(0.0) > 0
