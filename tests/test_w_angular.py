"""Lepton angular coefficients A0..A4 of W -> l nu at O(alpha_s) and the massive-nu4 decay density: the matrix
element against an explicit Dirac trace, closed forms, limits, normalisation, the helicity-state forms, and the
moments of generated events against the input coefficients (second method)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudmsim import cards
from nudmsim import constants as c
from nudmsim.generators import w_sample as ws
from nudmsim.generators import w_lepton as wl
from nudmsim.processes import w_angular as wa
from nudmsim.processes import w_decay as wd

GeV = c.GeV

# --- explicit Dirac algebra (independent of the module) -------------------------------------------------------
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_SIG = [np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]], complex)]
_G = [np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)] + [np.block([[_Z2, s], [-s, _Z2]]) for s in _SIG]
_G5 = 1j * _G[0] @ _G[1] @ _G[2] @ _G[3]
_PL = (np.eye(4) - _G5) / 2
_MET = np.diag([1.0, -1, -1, -1])


def _sl(p):
    return sum(_MET[m, m] * p[m] * _G[m] for m in range(4))


def _dot(a, b):
    return a[0] * b[0] - a[1:] @ b[1:]


def _bar(m):
    return _G[0] @ m.conj().T @ _G[0]


def _msq_trace(p1, p2, lep, lbar, k):
    """sum |M|^2 of u(p1) dbar(p2) -> nu(lep) l+(lbar) g(k), couplings stripped, from traces (gluon pol. -g)."""
    t, u = _dot(p1 - k, p1 - k), _dot(p2 - k, p2 - k)
    gam = [[_G[m] @ _PL @ _sl(p1 - k) @ _G[a] / t + _G[a] @ _sl(k - p2) @ _G[m] @ _PL / u for a in range(4)]
           for m in range(4)]
    h = np.array([[sum(-_MET[a, a] * np.trace(_sl(p2) @ gam[m][a] @ _sl(p1) @ _bar(gam[n][a])) for a in range(4))
                   for n in range(4)] for m in range(4)])
    lt = np.array([[np.trace(_sl(lep) @ _G[m] @ _PL @ _sl(lbar) @ _bar(_G[n] @ _PL)) for n in range(4)]
                   for m in range(4)])
    return float(np.real(np.sum(h * lt * np.outer(np.diag(_MET), np.diag(_MET)))))


def test_matrix_element_form_vs_dirac_trace():
    # the derivation's |M|^2 = 8 M^2 [(p1.lbar)^2 + (p2.l)^2] / ((p1.k)(p2.k)) against the full trace
    rng = np.random.default_rng(1)
    p1, p2 = np.array([300.0, 0, 0, 300]), np.array([200.0, 0, 0, -200])
    for _ in range(6):
        v = rng.normal(size=3)
        k = np.concatenate([[rng.uniform(10, 150)], rng.uniform(10, 150) * v / np.linalg.norm(v)])
        k[1:] *= k[0] / np.linalg.norm(k[1:])
        w = p1 + p2 - k
        m = np.sqrt(_dot(w, w))
        n = rng.normal(size=3)
        n /= np.linalg.norm(n)
        b, g = w[1:] / w[0], w[0] / m

        def boost(q):
            bp = b @ q[1:]
            return np.concatenate([[g * (q[0] + bp)], q[1:] + ((g - 1) * bp / (b @ b) + g * q[0]) * b])

        lep, lbar = boost(np.concatenate([[m / 2], m / 2 * n])), boost(np.concatenate([[m / 2], -m / 2 * n]))
        form = 8 * m * m * (_dot(p1, lbar) ** 2 + _dot(p2, lep) ** 2) / (_dot(p1, k) * _dot(p2, k))
        assert _msq_trace(p1, p2, lep, lbar, k) == pytest.approx(form, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(y=st.floats(-2.5, 2.5), pt=st.floats(0.5, 200.0), yk=st.floats(-3, 3))
def test_qqbar_closed_forms_and_lam_tung(y, pt, yk):
    m = 80.4
    kin = wa.partonic_kinematics(m, y, pt, yk, 7000.0)
    a = wa.channel_coefficients("qqbar", kin, m, y, pt, 1)
    s2 = pt * pt / (m * m + pt * pt)
    assert a[0] == pytest.approx(s2, abs=1e-9) and a[2] == pytest.approx(s2, abs=1e-9)
    assert a[4] == pytest.approx(-2 * m / np.hypot(m, pt), abs=1e-9)
    for ch in ("qg", "gqbar"):
        b = wa.channel_coefficients(ch, kin, m, y, pt, 1)
        assert b[0] == pytest.approx(b[2], abs=1e-12)            # Lam-Tung, channel by channel
        assert 0 <= b[0] <= 1 and abs(b[4]) <= 2
    am = wa.channel_coefficients("qg", kin, m, y, pt, -1)
    bp = wa.channel_coefficients("qg", kin, m, y, pt, 1)
    assert np.allclose(am[:3], bp[:3]) and np.allclose(am[3:], -bp[3:])   # W-: odd terms flip


@pytest.mark.parametrize("ch", ["qqbar", "qg", "gqbar"])
def test_coefficients_vanish_at_zero_pt_except_a4(ch):
    m = 80.4
    for yk in (-2.0, 0.3, 2.5):
        kin = wa.partonic_kinematics(m, 0.4, 1e-3, yk, 7000.0)
        a = wa.channel_coefficients(ch, kin, m, 0.4, 1e-3, 1)
        assert np.allclose(a[:4], 0, atol=1e-4) and a[4] == pytest.approx(-2.0, abs=1e-4)


def _random_physical(rng, n_terms=3):
    """A_i of a random mixture of pure states (1 + e.n)^2, e in the x-z plane: physical coefficients."""
    w = rng.uniform(0.1, 1, n_terms)
    ang = rng.uniform(0, 2 * np.pi, n_terms)
    return wa.coefficients_from_axes(list(w), [(np.sin(a), np.cos(a)) for a in ang])


def test_density_normalised_and_positive():
    rng = np.random.default_rng(7)
    cg, wc = np.polynomial.legendre.leggauss(80)
    ph = np.linspace(0, 2 * np.pi, 201)[:-1]
    cc, pp_ = np.meshgrid(cg, ph, indexing="ij")
    for _ in range(10):
        a = _random_physical(rng)
        for r in (0.0, 0.3, 0.9):
            f = wa.angular_density(cc, pp_, a, r)
            assert np.min(f) >= -1e-12
            assert np.sum(wc[:, None] * f) * (2 * np.pi / 200) == pytest.approx(1.0, rel=1e-10)


@settings(max_examples=50, deadline=None)
@given(alpha=st.floats(0, 6.283), r=st.floats(0, 0.99), c0=st.floats(-1, 1), ph=st.floats(0, 6.283),
       sign=st.sampled_from([-1, 1]))
def test_massive_density_equals_helicity_states(alpha, r, c0, ph, sign):
    # a pure spin state m = sign (or 0) along e = (sin alpha, 0, cos alpha): the density must be the helicity-amplitude
    # form of w_decay: (1 + s cos)^2 + r sin^2 (m = +-1), sin^2 + r cos^2 (m = 0), theta' = angle to e
    e = np.array([np.sin(alpha), 0.0, np.cos(alpha)])
    n = np.array([np.sqrt(1 - c0 * c0) * np.cos(ph), np.sqrt(1 - c0 * c0) * np.sin(ph), c0])
    cp = e @ n
    a = wa.coefficients_from_axes([1.0], [(sign * e[0], sign * e[2])])
    want = ((1 + sign * cp) ** 2 + r * (1 - cp * cp)) / (16 * np.pi / 3 * (1 + r / 2))
    assert wa.angular_density(c0, ph, a, r) == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_longitudinal_state_density():
    # m = 0 along z (A0 = 2, the rest 0): w_decay's 8 E M [1 - 2a cos^2], a = (1 - r)/2, i.e. sin^2 + r cos^2
    c0 = np.linspace(-1, 1, 11)
    for r in (0.0, 0.4):
        f = wa.angular_density(c0, 0.3, (2.0, 0, 0, 0, 0), r)
        want = 2 * ((1 - c0**2) + r * c0**2) / (16 * np.pi / 3 * (1 + r / 2))
        assert np.allclose(f, want)


@pytest.fixture(scope="module")
def sample():
    src, resp = wl.setup(cards.load_detector("atlas_7tev"))
    return src, ws.generate_sample(src, 3_000_000, np.random.default_rng(61))


def test_generated_moments_reproduce_input_coefficients(sample):
    # second method: the decay directions of generated events, weighted by the decay weight, have harmonic
    # moments equal to the A_i the source assigns (averaged over the events of a p_T, y_q cell)
    src, s = sample
    t = s.truth
    yq = t["y"] * t["qdir"]
    for ch in (1, -1):
        for lo, hi in ((15, 25), (35, 60)):
            cell = (t["charge"] == ch) & (t["pt"] > lo * GeV) & (t["pt"] < hi * GeV) & (np.abs(yq - 0.5) < 0.5)
            w = wd.decay_weight_eo(t["e_dens"][cell], t["o_dens"][cell], t["cos_q"][cell], 0.0, ch)
            mom, err = wa.moments(t["cos_q"][cell], t["phi_cs"][cell], w)
            ref = src.coefficients(t["pt"][cell], t["y"][cell], t["qdir"][cell], ch).mean(axis=1)
            pulls = (mom - ref) / err
            assert np.all(np.abs(pulls) < 4.5), (ch, lo, mom, ref, err)
            assert abs(ref[4]) > 1.0 and ref[0] > 0.02          # non-trivial coefficients in the cell


def test_source_coefficients_limits(sample):
    src, _ = sample
    for ch in (1, -1):
        a = src.coefficients(np.full(5, 0.2 * GeV), np.linspace(-2, 2, 5), np.ones(5), np.full(5, ch))
        assert np.allclose(a[:4], 0, atol=2e-3) and np.allclose(a[4], -2 * ch, atol=2e-3)
        hi = src.coefficients(np.full(3, 150 * GeV), np.zeros(3), np.ones(3), np.full(3, ch))
        assert np.all(hi[0] > 0.5) and np.allclose(hi[0], hi[2])     # A0 = A2 grows with p_T (Lam-Tung)


def test_decay_weights_normalised_and_width_unchanged(sample):
    # the decay weight is density / proposal: its mean is 1 for every m4 (the angular distribution integrates to
    # one), so the nu4 rate is set by the unchanged width factor (1 - r)^2 (1 + r/2) alone
    _, s = sample
    t = s.truth
    for r in (0.0, 0.25, 0.8):
        w = wd.decay_weight_eo(t["e_dens"], t["o_dens"], t["cos_q"], r, t["charge"])
        assert w.mean() == pytest.approx(1.0, abs=4 * w.std() / np.sqrt(s.n))
    assert float(wd.phase_space_factor(0.25)) == pytest.approx(0.75**2 * 1.125)
