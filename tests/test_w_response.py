"""ATLAS-like collider response: the |eta|-dependent muon resolution against the two numbers of its source
(EPJC 74 (2014) 3130: 1.7% at central |eta| and p_T ~ 10 GeV, 4% at large |eta| and p_T ~ 100 GeV), the kernels'
binned resolution against the numpy one, and bad resolution tables."""
import numpy as np
import pytest

from nudmsim import cards
from nudmsim import constants as c
from nudmsim.generators import w_sample as ws
from nudmsim.generators import w_lepton as wl
from nudmsim.errors import CardError
from nudmsim.experiment import Experiment

GeV = c.GeV


@pytest.mark.parametrize("name", ["atlas_7tev", "atlas_13tev"])
def test_muon_resolution_matches_the_paper_anchors(name):
    mu = wl.setup(cards.load_detector(name))[1].lepton("mu")
    central = mu.relative_resolution(np.array([10 * GeV]), np.array([0.3]))[0]
    forward = mu.relative_resolution(np.array([100 * GeV]), np.array([2.3]))[0]
    assert central == pytest.approx(0.017, abs=0.001)
    assert forward == pytest.approx(0.040, abs=0.002)
    # monotonic in |eta| at fixed p_T and in p_T at fixed |eta|
    for pt in (10, 40, 100):
        r = mu.relative_resolution(np.full(3, pt * GeV), np.array([0.5, 1.5, 2.3]))
        assert np.all(np.diff(r) > 0)
    r = mu.relative_resolution(np.array([10, 40, 100]) * GeV, np.full(3, 1.5))
    assert np.all(np.diff(r) > 0)


def test_kernel_resolution_bins_match_numpy():
    src, resp = wl.setup(cards.load_detector("atlas_7tev"))
    s = ws.generate_sample(src, 100_000, np.random.default_rng(2))
    a, b = ws.reconstruct(s, resp, "mu", 0.0), ws.reconstruct_numpy(s, resp, "mu", 0.0)
    assert np.allclose(a["pt"], b["pt"], rtol=1e-12, atol=1e-9)
    eta = np.abs(s.derived()["eta"])
    # the smearing is wider in the end caps: (reco - true)/true spread per |eta| bin
    spread = [np.std((a["pt"] / a["pt_true"] - 1)[(eta > lo) & (eta < hi)]) for lo, hi in ((0, 1), (2.1, 2.4))]
    assert spread[1] > 1.2 * spread[0]


def test_bad_resolution_tables(tmp_path):
    text = cards.load_detector("atlas_7tev").text
    cases = {"res_a = [0.0165, 0.0195, 0.023]": ("res_a = [0.0165, 0.0195]", "needs 3"),
             "res_eta_edges = [1.05, 2.0]": ("res_eta_edges = [2.0, 1.05]", "increasing")}
    for old, (new, msg) in cases.items():
        p = tmp_path / "atlas_res.toml"
        p.write_text(text.replace(old, new).replace('name = "atlas_7tev"', 'name = "atlas_res"'))
        with pytest.raises(CardError, match=msg):
            Experiment(cards.load_detector(str(p)))
