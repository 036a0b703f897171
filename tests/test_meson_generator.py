"""Meson-decay generators: four-momentum conservation (property test), exact |M|^2 sampling, response."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nudmsim import constants as c
from nudmsim.experiment import Experiment
from nudmsim.generators import meson_kinematics as mb
from nudmsim.models.neutrino_portal import NeutrinoPortal
from nudmsim.processes import meson_decays as md


def _mass2(v):
    e, px, py, pz = v
    return e * e - px * px - py * py - pz * pz


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frac=st.floats(0.01, 0.97), r=st.floats(1.05, 10.0), m4=st.sampled_from([50.0, 250.0, 4e5]),
       lepton=st.sampled_from(["mu", "e"]), p_beam=st.sampled_from([0.0, 75e3]), seed=st.integers(0, 10**6))
def test_four_momentum_conservation(frac, r, m4, lepton, p_beam, seed):
    M, ml = c.M_KAON, md.LEPTONS[lepton]
    m_chi = frac * (M - ml) / (1 + r)
    model = NeutrinoPortal(m_chi, r * m_chi, m4, 1.0, U_mu4=0.05, U_e4=0.05)
    rng = np.random.default_rng(seed)
    p_meson = p_beam * (1 + 0.01 * rng.standard_normal(500))
    lab, p_star, cos_k = mb.three_body_lab(model, "K", lepton, 500, rng, p_meson, return_cos=True)   # fused numba
    lab2 = mb.to_lab(mb.three_body_rest(model, "K", lepton, 500, rng), M, p_meson)   # numpy boost
    assert np.all(p_star <= float(md.two_body_momentum(M, ml, model.m_chi + model.m_phi)) + 1e-9)
    tot2 = [sum(v[i] for v in lab2) for i in range(4)]
    assert np.allclose(tot2[3], p_meson, atol=1e-9 * max(p_beam, M))
    e_k = np.sqrt(p_meson**2 + M * M)
    tot = [sum(v[i] for v in lab) for i in range(4)]
    scale = max(e_k[0], M)
    assert np.max(np.abs(tot[0] - e_k)) < 1e-9 * scale
    assert np.max(np.abs(tot[1])) < 1e-9 * scale and np.max(np.abs(tot[2])) < 1e-9 * scale
    assert np.max(np.abs(tot[3] - p_meson)) < 1e-9 * scale
    for v, m in zip(lab, (ml, model.m_chi, model.m_phi)):     # on-shell daughters
        assert np.allclose(_mass2(v), m * m, atol=1e-6 * scale**2)
    # the rest-frame angle the in-flight tracking stage reads is the inverse boost of the lab track
    cos = mb.rest_frame_cos(lab[0], M, p_meson)
    assert np.all(np.abs(cos) <= 1 + 1e-12)
    assert np.allclose(cos, cos_k, atol=1e-6)           # the kernel's rest-frame angle = the inverse boost
    p_t = np.hypot(lab[0][1], lab[0][2])
    assert np.allclose(p_t, p_star * np.sqrt(np.maximum(1 - cos**2, 0)), atol=1e-6 * scale)


def test_sampled_s_follows_dgamma_ds():
    """Histogram of generated s vs the analytic dGamma/ds (chi^2 per bin ~ 1)."""
    model = NeutrinoPortal(20.0, 60.0, 200.0, 4.0, U_mu4=1e-2)       # broad on-shell nu4 inside the range
    rng = np.random.default_rng(5)
    pl, pc, pp = mb.three_body_rest(model, "K", "mu", 400_000, rng)
    s = _mass2(tuple(a + b for a, b in zip(pc, pp)))
    lo, hi = md.s_range("K", "mu", 20.0, 60.0)
    edges = np.linspace(lo, hi, 41)
    h = np.histogram(s, edges)[0]
    from scipy import integrate

    exp = np.array([integrate.quad(lambda x: float(md.dgamma_ds(model, "K", "mu", x)), a, b)[0]
                    for a, b in zip(edges[:-1], edges[1:])])
    exp *= len(s) / exp.sum()
    chi2 = np.sum((h - exp) ** 2 / np.maximum(exp, 1))
    assert chi2 / len(h) < 2.0


def test_angular_distribution_matches_msq():
    """<p_chi.p_l> from the generator equals the |M|^2-weighted mean over the Dalitz plot (quadrature)."""
    model = NeutrinoPortal(30.0, 90.0, 1e9, 1.0, U_mu4=0.1)
    rng = np.random.default_rng(2)
    pl, pc, pp = mb.three_body_rest(model, "K", "mu", 400_000, rng)
    dot = pc[0] * pl[0] - pc[1] * pl[1] - pc[2] * pl[2] - pc[3] * pl[3]
    # quadrature: Gamma-weighted mean of p_chi.p_l = int |M|^2 (t-m_chi^2-m_l^2)/2 / int |M|^2
    M, ml = c.M_KAON, c.M_MUON
    s_lo, s_hi = md.s_range("K", "mu", 30.0, 90.0)
    xs, ws = np.polynomial.legendre.leggauss(200)
    s = 0.5 * (s_hi - s_lo) * xs + 0.5 * (s_hi + s_lo)
    e2 = (s - 90.0**2 + 30.0**2) / (2 * np.sqrt(s))
    e3 = (M * M - s - ml * ml) / (2 * np.sqrt(s))
    p2, p3 = np.sqrt(e2**2 - 900.0), np.sqrt(np.maximum(e3**2 - ml * ml, 0))
    tmin, tmax = (e2 + e3) ** 2 - (p2 + p3) ** 2, (e2 + e3) ** 2 - (p2 - p3) ** 2
    t = 0.5 * (tmax - tmin)[:, None] * xs[None, :] + 0.5 * (tmax + tmin)[:, None]
    f = md.msq_three_body(model, "K", "mu", s[:, None], t) * ws[None, :] * (0.5 * (tmax - tmin))[:, None]
    f = f * ws[:, None]
    mean = np.sum(f * 0.5 * (t - 900.0 - ml * ml)) / np.sum(f)
    assert dot.mean() == pytest.approx(mean, rel=3e-3)


def test_generate_weights_and_response_e949():
    exp = Experiment.load("e949")
    smp = exp.generate("meson-2body", {"m4": "250"}, 100_000, np.random.default_rng(1))
    ev = smp.events
    p_true = float(md.two_body_momentum(c.M_KAON, c.M_MUON, 250.0))
    reco = np.asarray(ev["p_star_MeV"])
    assert np.std(reco - p_true) == pytest.approx(0.011 * p_true, rel=0.02)   # card resolution
    br = float(md.br_two_body_heavy("K", "mu", 250.0, 1e-8))
    expected = 1.70e12 * br * 1e-3                                           # n_K x B x acceptance
    assert smp.expected_total == pytest.approx(expected, rel=1e-3)


def test_na62_reconstructed_k_frame_momentum():
    """In flight: the K-frame momentum rebuilt from smeared lab tracks peaks at the rest-frame value."""
    exp = Experiment.load("na62")
    ev = exp.generate("meson-2body", {"m4": "200"}, 100_000, np.random.default_rng(4)).events
    p_true = float(md.two_body_momentum(c.M_KAON, c.M_MUON, 200.0))
    reco = np.asarray(ev["p_star_MeV"])
    assert np.median(reco) == pytest.approx(p_true, abs=0.3)
    assert 0.1 < np.std(reco) < 10.0


def test_generate_same_seed_same_events():
    exp = Experiment.load("e949")
    a = exp.generate("meson-3body", {}, 1000, np.random.default_rng(9)).events
    b = exp.generate("meson-3body", {}, 1000, np.random.default_rng(9)).events
    assert np.array_equal(np.asarray(a["p_star_MeV"]), np.asarray(b["p_star_MeV"]))
