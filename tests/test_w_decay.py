"""W -> l nu_4 decay: width and angular distribution vs closed forms, kinematics invariants (hypothesis),
the Collins-Soper construction vs an independent boost, and the numba kernels vs the numpy physics."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudmsim import constants as c
from nudmsim.errors import ParameterError
from nudmsim.processes import w_decay as wd

GeV = c.GeV


def test_width_closed_form_vs_helicity_amplitudes():
    # closed form (1-r)^2 (1+r/2) vs the helicity amplitudes integrated numerically over cos(theta)
    for m4 in np.array([0.0, 5.0, 20.0, 40.0, 60.0, 79.0]) * GeV:
        assert wd.width_lnu(m4) == pytest.approx(wd.width_lnu_helicity(m4), rel=1e-9)
    # massless: the textbook G_F M_W^3 / (6 sqrt2 pi) ~ 227 MeV; above M_W: closed
    assert wd.width_lnu(0.0) == pytest.approx(c.G_FERMI * c.M_W**3 / (6 * np.sqrt(2) * np.pi), rel=1e-12)
    assert wd.width_lnu(90 * GeV) == 0.0 and wd.width_lnu_helicity(90 * GeV) == 0.0


@pytest.mark.parametrize("charge", [1, -1])
@pytest.mark.parametrize("r", [0.0, 0.25, 0.8])
def test_angular_density_normalised_and_limits(charge, r):
    x = np.linspace(-1, 1, 200001)
    f = wd.angular_density(x, r, charge)
    assert np.trapezoid(f, x) == pytest.approx(1.0, abs=1e-9)
    # forward-backward asymmetry: A_FB = -(3/4)/(1+r/2) * charge for the l+ of W+ emitted against the quark
    afb = np.trapezoid(f[x > 0], x[x > 0]) - np.trapezoid(f[x < 0], x[x < 0])
    assert afb == pytest.approx(-charge * 0.75 / (1 + r / 2), abs=1e-6)
    if r == 0.0:  # the textbook (1 -+ cos)^2
        assert np.allclose(f, 3 / 8 * (1 - charge * x) ** 2)


@pytest.mark.parametrize("charge", [1, -1])
def test_sampled_cos_theta_reweights_to_closed_form(charge):
    rng = np.random.default_rng(5)
    n = 400_000
    x = wd.sample_cos_theta(n, rng, charge)
    edges = np.linspace(-1, 1, 21)
    for r in (0.0, 0.5):
        w = wd.decay_weight(x, r, charge)
        h, _ = np.histogram(x, edges, weights=w)
        h2, _ = np.histogram(x, edges, weights=w * w)
        xx = np.linspace(-1, 1, 20001)
        cdf = np.concatenate([[0], np.cumsum(0.5 * np.diff(xx) * (wd.angular_density(xx[1:], r, charge)
                                                                    + wd.angular_density(xx[:-1], r, charge)))])
        expect = n * np.diff(np.interp(edges, xx, cdf))
        pull = (h - expect) / np.sqrt(np.maximum(h2, 1))
        assert np.sum(pull**2) < 45  # chi2 with 20 bins: p ~ 1e-3
        assert abs(w.mean() - 1.0) < 0.01   # weights are normalised densities over the proposal


def test_phase_space_factor_mc_vs_closed_form():
    # fraction of nu4 decays per |U|^2: the mean of (1-r)^2 (1+r/2) over the BW-distributed mass, and
    # for fixed M the exact closed form at r = 0.5
    assert float(wd.phase_space_factor(0.5)) == pytest.approx(0.25 * 1.25)
    assert float(wd.phase_space_factor(1.2)) == 0.0


@settings(max_examples=200, deadline=None)
@given(m=st.floats(50e3, 110e3), y=st.floats(-4, 4), pt=st.floats(0, 200e3), phi=st.floats(0, 6.283),
       qdir=st.sampled_from([-1, 1]), cq=st.floats(-1, 1), phics=st.floats(0, 6.283), frac=st.floats(0, 0.999))
def test_energy_momentum_conservation(m, y, pt, phi, qdir, cq, phics, frac):
    m4 = frac * m
    k = np.array(wd.lepton_direction_lab(m, y, pt, phi, qdir, cq, phics), dtype=float)
    pw = np.array(wd.w_four_momentum(m, y, pt, phi), dtype=float)
    pl = wd.p_star(m, m4) * k
    pn = pw - pl

    def mass2(p):
        return p[0] ** 2 - p[1] ** 2 - p[2] ** 2 - p[3] ** 2

    scale = pw[0] ** 2
    assert abs(mass2(pl)) < 1e-9 * scale                       # massless lepton
    assert mass2(pw) == pytest.approx(m * m, rel=1e-9)
    assert abs(mass2(pn) - m4 * m4) < 1e-8 * scale              # invisible nu_4 on its mass shell
    assert pl[0] > 0 and pn[0] > 0


def _collins_soper_cos(pl, pw, sqrts=7000 * GeV):
    """cos(theta_CS) of the lepton by an explicit pure boost to the W rest frame (independent of the code)."""
    E, p = pw[0], pw[1:]
    m = np.sqrt(E**2 - p @ p)
    b = p / E
    g = E / m

    def boost(v):
        bp = b @ v[1:]
        e = g * (v[0] - bp)
        vec = v[1:] + ((g - 1) * bp / (b @ b) - g * v[0]) * b if b @ b > 0 else v[1:]
        return np.concatenate([[e], vec])

    beam1 = boost(np.array([sqrts / 2, 0, 0, sqrts / 2]))
    beam2 = boost(np.array([sqrts / 2, 0, 0, -sqrts / 2]))
    axis = beam1[1:] / np.linalg.norm(beam1[1:]) - beam2[1:] / np.linalg.norm(beam2[1:])
    axis /= np.linalg.norm(axis)
    lr = boost(pl)[1:]
    return lr @ axis / np.linalg.norm(lr)


@settings(max_examples=100, deadline=None)
@given(m=st.floats(60e3, 100e3), y=st.floats(-3, 3), pt=st.floats(0.1e3, 100e3), phi=st.floats(0, 6.283),
       qdir=st.sampled_from([-1, 1]), cq=st.floats(-0.999, 0.999), phics=st.floats(0, 6.283))
def test_collins_soper_angle_recovered_by_explicit_boost(m, y, pt, phi, qdir, cq, phics):
    k = np.array(wd.lepton_direction_lab(m, y, pt, phi, qdir, cq, phics), dtype=float)
    pw = np.array(wd.w_four_momentum(m, y, pt, phi), dtype=float)
    assert _collins_soper_cos(wd.p_star(m, 0.0) * k, pw) == pytest.approx(qdir * cq, abs=1e-6)


def test_bad_input_messages():
    with pytest.raises(ParameterError, match="outside"):
        wd.check_mixing(1.5)
    with pytest.raises(ParameterError, match="outside"):
        wd.check_mixing(-0.1)
    with pytest.raises(ParameterError, match="outside"):
        wd.check_mixing(float("nan"))
    with pytest.raises(ParameterError, match="lepton flavour"):
        wd.check_lepton("tau")
