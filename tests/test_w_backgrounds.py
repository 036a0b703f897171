"""Backgrounds of the W lepton-pT analysis: the tau -> l energy fraction (closed form vs sampling), the tau path
of the kernels against the signal path, Z -> l l kinematics of the lost lepton, templates from the card, and the
card's [[analysis.background]] validation (one-line errors)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudmsim import cards
from nudmsim import constants as c
from nudmsim.analyses import _w_fits as wf
from nudmsim.analyses import _w_sample as ws
from nudmsim.analyses import w_boson as wb
from nudmsim.errors import CardError
from nudmsim.processes import w_backgrounds as wbk
from nudmsim.processes import w_decay as wd
from nudmsim.response.collider import load_response
from nudmsim.sources.pp import load_z_source

GeV = c.GeV


def test_tau_lepton_fraction_density_and_sampling():
    # (4/3)(1 - x^3) is the P = -1 (tau-) / P = +1 (tau+) collinear spectrum: normalised, <x> = 2/5; the
    # general formula (1/3)(1 - x)[(5 + 5x - 4x^2) + P (1 + x - 8x^2)] at P = -1 gives the same function
    x = np.linspace(0, 1, 200001)
    f = wbk.tau_lepton_fraction_density(x)
    assert np.trapezoid(f, x) == pytest.approx(1.0, abs=1e-9)
    assert np.trapezoid(x * f, x) == pytest.approx(0.4, abs=1e-9)
    general = (1 / 3) * (1 - x) * ((5 + 5 * x - 4 * x**2) - (1 + x - 8 * x**2))
    assert np.allclose(f, general)
    u = np.random.default_rng(3).random(1_000_000)
    xs = wbk.tau_lepton_fraction(u)
    edges = np.linspace(0, 1, 21)
    h = np.histogram(xs, edges)[0]
    expect = np.diff((4 * edges - edges**4) / 3) * len(xs)
    assert np.sum((h - expect) ** 2 / expect) < 20 + 5 * np.sqrt(40)


@pytest.fixture(scope="module")
def setup():
    card = cards.load_detector("atlas_7tev")
    return card, *wb._setup(card)


def test_tau_path_with_unit_fraction_equals_signal(setup):
    # the x-scaled lepton path of the kernels reproduces the signal exactly when x = 1 (and the numpy reference
    # with the sampled x)
    card, src, resp = setup
    s = ws.generate_sample(src, 100_000, np.random.default_rng(9))
    a = ws.reconstruct(s, resp, "mu", 0.0)
    s.xscale = np.ones(s.n)
    b = ws.reconstruct(s, resp, "mu", 0.0)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    s.xscale = wbk.tau_lepton_fraction(np.random.default_rng(1).random(s.n))
    k1, k2 = ws.reconstruct(s, resp, "e", 0.0), ws.reconstruct_numpy(s, resp, "e", 0.0)
    assert np.allclose(k1["pt"], k2["pt"]) and np.allclose(k1["met"], k2["met"])
    assert np.mean(k1["selected"] != k2["selected"]) < 1e-4
    assert np.allclose(k1["pt_true"], a["pt_true"] * s.xscale)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_z_second_lepton_is_the_rest_of_the_boson(seed):
    zsrc = load_z_source("pp_7tev")
    s = ws.generate_sample(zsrc, 8, np.random.default_rng(seed))
    pt2, aeta2 = wbk.second_lepton(s)
    t = s.truth
    e, px, py, pz = wd.w_four_momentum(t["m"], t["y"], t["pt"], t["phi"])
    ps = wd.p_star(t["m"], 0.0)
    l1 = np.array([ps * k for k in s.k])
    l2 = np.array([e, px, py, pz]) - l1
    assert np.allclose(l2[0] ** 2 - l2[1] ** 2 - l2[2] ** 2 - l2[3] ** 2, 0, atol=1e-6 * e.max() ** 2)
    assert np.allclose(np.hypot(l2[1], l2[2]), pt2)
    assert np.allclose(np.abs(np.arcsinh(l2[3] / pt2)), aeta2)
    assert np.all(np.abs(t["m"] - c.M_Z) < 15.01 * c.GAMMA_Z)


def test_background_templates_from_card(setup):
    card, src, resp = setup
    names = [b.name for b in resp.backgrounds]
    assert names == ["w_taunu", "z_lost_lepton", "multijet", "top"]
    edges = wf.analysis_edges(card)
    s = ws.generate_sample(src, 600_000, np.random.default_rng(4))
    cs = ws.preselect(s, resp, "mu", edges[0])
    light = ws.templates(cs, resp, "mu", 0.0, edges, ws.compact_weight(cs, resp, (1,)), heavy=False).light
    bk = dict((n, b) for n, b, _ in wf.background_templates(src, resp, "mu", edges, (1,), light,
                                                          np.random.default_rng(5), 600_000))
    # parametric ones: exactly their fraction of the selected W in the window, with the declared shape
    assert bk["multijet"].sum() == pytest.approx(0.006 * light.sum())
    assert bk["multijet"][0] > 5 * bk["multijet"][-1]
    assert bk["top"].sum() == pytest.approx(0.001 * light.sum()) and np.allclose(bk["top"], bk["top"][0])
    # generated ones: positive, softer than the signal (tau: x < 1), and the W -> tau nu rate is bounded by
    # B(tau -> mu nu nu) x the signal
    tau = bk["w_taunu"]
    assert np.all(tau >= 0) and 0 < tau.sum() < c.BR_TAU_MU * light.sum()
    assert tau[:8].sum() / tau.sum() > light[:8].sum() / light.sum()
    z = bk["z_lost_lepton"]
    assert np.all(z >= 0) and 0.003 < z.sum() / light.sum() < 0.2


def _card(tmp_path, extra):
    text = cards.load_detector("atlas_7tev").text
    head = text.split("[[analysis.background]]")[0]
    p = tmp_path / "atlas_bkg.toml"
    p.write_text(head.replace('name = "atlas_7tev"', 'name = "atlas_bkg"') + extra)
    return cards.load_detector(str(p))


def test_background_card_errors(tmp_path):
    ok = _card(tmp_path, '[[analysis.background]]\nname = "top"\ntemplate = "flat"\nfraction_e = 0.001\n'
                         'fraction_mu = 0.001\nnorm_error = 0.3\n')
    assert [b.name for b in load_response(ok).backgrounds] == ["top"]
    bad = {
        'template = "flatt"': "did you mean 'flat'",
        'template = "flat"\nfraction_mu = 0.001\nnorm_err = 0.3': "norm_err",
        'template = "flat"\nfraction_e = 0.001\nfraction_mu = 0.001\nnorm_error = -1': "norm_error",
        'template = "exponential"\nfraction_e = 0.001\nfraction_mu = 0.001\nnorm_error = 0.3': "slope_GeV",
    }
    for body, msg in bad.items():      # refused when the card is read (schema) or when the response is built
        with pytest.raises(CardError, match=msg):
            load_response(_card(tmp_path, f'[[analysis.background]]\nname = "x"\n{body}\n'))
