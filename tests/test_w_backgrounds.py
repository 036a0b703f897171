"""Backgrounds of the W lepton-pT analysis: the tau -> l energy fraction (closed form vs sampling), the tau path
of the kernels against the signal path, Z -> l l kinematics of the lost lepton, templates from the card, and the
card's [[analysis.background]] validation (one-line errors)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudmsim import cards
from nudmsim import constants as c
from nudmsim.generators import w_sample as ws
from nudmsim.generators import w_lepton as wl
from nudmsim.errors import CardError
from nudmsim.processes import w_backgrounds as wbk
from nudmsim.processes import w_decay as wd
from nudmsim.experiment import Experiment
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
    return card, *wl.setup(card)


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


def _card(tmp_path, extra="", replace=(), name="atlas_bkg"):
    """The 7 TeV card without its backgrounds (and with smaller MC samples), plus ``extra`` sample tables."""
    text = cards.load_detector("atlas_7tev").text
    head, tail = text.split('[[analysis.sample]]\nname = "w_taunu"')
    tail = tail[tail.index("[analysis.measurement.default]"):]
    text = head.replace('name = "atlas_7tev"', f'name = "{name}"') + extra + "\n" + tail
    for a, b in replace:
        assert a in text
        text = text.replace(a, b)
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return cards.load_detector(str(p))


def test_background_templates_from_card(tmp_path):
    # the card's background samples at the muon, W+ point of the limit scan (600k events per generated sample)
    text = cards.load_detector("atlas_7tev").text.replace("mc_events = 4000000", "mc_events = 600000").replace(
        "background_mc_events = 2000000", "background_mc_events = 600000").replace('name = "atlas_7tev"',
                                                                                  'name = "atlas_small"')
    p = tmp_path / "atlas_small.toml"
    p.write_text(text)
    exp = Experiment(cards.load_detector(str(p)))
    pt = {"m4": 30.0, "U2": 1.0, "sm_subtracted": 1.0, "lepton": 13.0, "charge": 1.0, "lumi_fb": 0.0}
    ws_ = exp.workspace(point=pt, process="w-lepton")
    bk = {smp.name: np.asarray(smp.nominal) for smp in ws_.samples}
    assert list(bk) == ["signal", "w_sm", "w_taunu", "z_lost_lepton", "multijet_mu", "top"]
    light = bk["w_sm"]
    # parametric ones: exactly their fraction of the selected W in the window, with the declared shape
    assert bk["multijet_mu"].sum() == pytest.approx(0.006 * light.sum())
    assert bk["multijet_mu"][0] > 5 * bk["multijet_mu"][-1]
    assert bk["top"].sum() == pytest.approx(0.001 * light.sum()) and np.allclose(bk["top"], bk["top"][0])
    # ... and their expectation in the likelihood (parametric evaluation) equals the nominal
    spec = ws_.spec()
    comps = spec.component_counts(spec.nominal())
    assert np.allclose(comps["multijet_mu"], bk["multijet_mu"]) and np.allclose(comps["top"], bk["top"])
    # the electron point takes the electron fraction (the multijet sample of the other flavour is left out)
    ws_e = exp.workspace(point=dict(pt, lepton=11.0), process="w-lepton")
    bke = {smp.name: np.asarray(smp.nominal) for smp in ws_e.samples}
    assert "multijet_mu" not in bke and bke["multijet_e"].sum() == pytest.approx(0.010 * bke["w_sm"].sum())
    # generated ones: positive, softer than the signal (tau: x < 1), and the W -> tau nu rate is bounded by
    # B(tau -> mu nu nu) x the signal
    tau = bk["w_taunu"]
    assert np.all(tau >= 0) and 0 < tau.sum() < c.BR_TAU_MU * light.sum()
    assert tau[:8].sum() / tau.sum() > light[:8].sum() / light.sum()
    z = bk["z_lost_lepton"]
    assert np.all(z >= 0) and 0.003 < z.sum() / light.sum() < 0.2


def test_background_card_errors(tmp_path):
    ok = _card(tmp_path, '[[analysis.sample]]\nname = "top"\nparametric = { model = "flat", on = "reco_l_pt" }\n'
                         'scale_to = { sample = "w_sm", fraction = 0.001 }\n'
                         'modifiers = [ { type = "normsys", name = "norm_top", error = 0.3 } ]\n')
    assert [s["name"] for s in Experiment(ok).analysis.samples] == ["signal", "w_sm", "top"]
    base = 'name = "x"\nparametric = { model = "flat", on = "reco_l_pt" }\n'
    bad = {
        'name = "x"\nparametric = { model = "flatt", on = "reco_l_pt" }': "flat",
        base + 'modifiers = [ { type = "normsys", name = "n", err = 0.3 } ]': "err",
        base + 'modifiers = [ { type = "normsys", name = "n", error = -1.0 } ]': "error",
        'name = "x"\nparametric = { model = "exponential", on = "reco_l_pt" }': "slope",
        base + 'scale_to = { sample = "w_smm", fraction = 0.001 }': "w_sm",
        base + 'scale_to = { sample = "w_sm" }': "fraction",
        'name = "x"\nprocess = "w-taunu"\ninherit = ["lepton"]\nwhen = { lepton = 13 }\nscal_to = {}': "scal_to",
    }
    for body, msg in bad.items():      # refused when the card is read (schema) or when the analysis is built
        with pytest.raises(CardError, match=msg):
            exp = Experiment(_card(tmp_path, f'[[analysis.sample]]\n{body}\n', name="atlas_bad"))
            exp.workspace(point={"m4": 30.0, "U2": 1.0, "sm_subtracted": 1.0, "lepton": 13.0, "charge": 1.0,
                                 "lumi_fb": 0.0}, process="w-lepton")
