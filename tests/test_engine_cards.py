"""Experiments are data: a detector written as a card inside the test (no code outside the card) is predicted,
simulated and fitted by the engine; and the generic analysis-section features the new cards use (template
samples, histosys from files, a file shape through selected stages)."""
import numpy as np
import pytest

from nudmsim import cards
from nudmsim.errors import CardError
from nudmsim.experiment import Experiment
from nudmsim.generate import make_rng
from nudmsim.response.stages_efficiency import logistic
from nudmsim.runner import fit_measurement

TOY = """
[card]
name = "toy_nai"
kind = "experiment"
description = "toy NaI CEvNS detector at the SNS (test card)"
processes = ["cevns"]

[source]
card = "sns"
protons_on_target = 5e23
baseline_m = 20.0
nu_per_flavour_per_proton = 0.09

[target]
material = "NaI"
mass_kg = 300.0

[[response]]                 # polynomial quenching: QF = 0.10 + 0.002 E_nr/keV
stage = "quenching"
model = "polynomial_qf"
unit = "keV"
coefficients = [0.10, 0.002]

[[response]]                 # Gaussian keVee response: sigma = 0.4 sqrt(E/keV) (+) 0.3 keV
stage = "resolution"
model = "gaussian"
on = "E_ee_keV"
to = "E_rec_keV"
b = 0.4
c = 0.3
unit = "keV"

[[response]]                 # logistic efficiency with an offset, clipped
stage = "efficiency"
model = "logistic"
on = "E_rec_keV"
to = "eff"
a = 1.2
b = 1.5
c = 2.0
d = -0.15

[observables]
E_rec_keV = { range = [0.0, 30.0], width = 1.0 }
"""

ANALYSIS = """
[analysis]
data = {DATA}

[[analysis.sample]]
name = "cevns_count"
process = "cevns"
unit_normalised = true
modifiers = [ { type = "normfactor", name = "n_cevns" } ]

[[analysis.sample]]
name = "background"
shapes = { E_rec_keV = { file = "toy_background.csv", x = "E_rec_keV", value = "rate" } }
norm = 400.0
response = "none"
modifiers = [ { type = "normfactor", name = "b_scale" } ]

[analysis.measurement.fit]
poi = "n_cevns"
"""

INJECT = 0.8          # injected signal = 0.8 x the card's SM prediction
BKG = 400.0           # injected background events on 0-30 keV


def _write_background(tmp_path):
    x = np.arange(30) + 0.5
    rate = np.exp(-x / 12.0)
    (tmp_path / "toy_background.csv").write_text("# toy: exponential background, 12 keV slope\nE_rec_keV,rate\n" +
                                                 "".join(f"{a:g},{b:.9g}\n" for a, b in zip(x, rate)))
    return x, rate / rate.sum()


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy card without data (a projection): its prediction and Monte Carlo events."""
    d = tmp_path_factory.mktemp("toy")
    p = d / "toy_nai.toml"
    p.write_text(TOY)
    exp = Experiment(cards.load_detector(str(p)))
    return d, exp


def test_toy_card_prediction_is_physical(toy):
    """Quadrature (expectation mode) against Monte Carlo (sampling mode) of the same card, and the card's
    efficiency formula against the per-event efficiency the chain recorded."""
    _, exp = toy
    ex = exp.expected("cevns")
    raw = exp.expected_without("cevns")
    assert 0 < ex.total < raw.sum() <= ex.interactions * (1 + 1e-9)
    ev = exp.generate("cevns", {}, 200_000, make_rng(2)).events
    e, w, wt = (ev[k].to_numpy() for k in ("E_rec_keV", "weight", "weight_truth"))
    eff = logistic(e, 1.2, 1.5, 2.0, -0.15)             # the card's numbers, independently of the stage
    np.testing.assert_allclose(ev["eff"].to_numpy(), eff, rtol=0, atol=1e-12)
    np.testing.assert_allclose(w, wt * eff, rtol=1e-12)
    assert logistic(0.5, 1.2, 1.5, 2.0, -0.15) == 0.0 and logistic(29.5, 1.2, 1.5, 2.0, -0.15) == 1.0  # clip
    inside = (e >= 0) & (e <= 30)
    err = np.sqrt(np.sum(w[inside] ** 2))
    assert abs(w[inside].sum() - ex.total) < 4 * err and err < 0.01 * ex.total
    assert abs(wt.sum() - ex.interactions) < 4 * np.sqrt(np.sum(wt**2))


def test_toy_card_fit_returns_injected_signal(toy):
    """Data written by the test from the engine's *Monte Carlo* (sampling mode: Poisson/Gaussian draws, a
    different path from the quadrature templates): 0.8 x SM signal + 400 background events as expected
    counts.  The fit of the card returns the injected signal within a small fraction of its error."""
    d, exp = toy
    x, shape = _write_background(d)
    s = exp.generate("cevns", {}, 400_000, make_rng(3))
    ev = s.events
    e = ev["E_rec_keV"].to_numpy()
    h = np.histogram(e, np.arange(31.0), weights=INJECT * ev["weight"].to_numpy())[0]
    truth = INJECT * exp.expected("cevns").total
    counts = h + BKG * shape
    (d / "toy_counts.csv").write_text("# toy Asimov data from MC\nE_rec_keV,n\n" +
                                      "".join(f"{a:g},{b:.9g}\n" for a, b in zip(x, counts)))
    p = d / "toy_fit.toml"
    p.write_text(TOY + ANALYSIS.replace("{DATA}", '{ counts = "toy_counts.csv", value = "n" }'))
    fitted = Experiment(cards.load_detector(str(p)))
    r = fit_measurement(fitted, "fit", minos=False)
    assert r.valid
    # the data carry the Monte Carlo's noise (0.8 x 29 events on the total, ~0.3 of the fit error)
    assert abs(r.value - truth) < 0.5 * r.error, (r.value, truth, r.error)
    assert r.values["b_scale"] == pytest.approx(1.0, abs=r.errors["b_scale"])
    assert 5.0 < r.error < 0.5 * truth            # a real measurement, not a degenerate fit


def test_toy_card_fit_of_poisson_events(toy):
    """Unweighted Poisson pseudo-data (an events file, binned on load): the fit is within 3 sigma of the
    injected signal and the pull of ten such experiments has mean ~0 and width ~1."""
    d, exp = toy
    x, shape = _write_background(d)
    s = exp.generate("cevns", {}, 200_000, make_rng(4))
    e_all = s.events["E_rec_keV"].to_numpy()
    w = s.events["weight"].to_numpy()
    inside = (e_all >= 0) & (e_all <= 30)
    truth = INJECT * exp.expected("cevns").total
    rng = make_rng(5)
    pulls = []
    for k in range(10):
        n_sig = rng.poisson(INJECT * w[inside].sum())
        sig = rng.choice(e_all[inside], size=n_sig, p=w[inside] / w[inside].sum())
        n_bkg = rng.poisson(BKG)
        bkg = rng.choice(x, size=n_bkg, p=shape) + rng.uniform(-0.5, 0.5, size=n_bkg)
        ev = np.concatenate([sig, np.clip(bkg, 0.0, 29.999)])
        (d / f"toy_events_{k}.csv").write_text("# toy pseudo-data\nE_rec_keV\n" + "".join(f"{v:.6g}\n" for v in ev))
        p = d / f"toy_events_{k}.toml"
        p.write_text(TOY + ANALYSIS.replace("{DATA}", f'{{ events = "toy_events_{k}.csv" }}'))
        r = fit_measurement(Experiment(cards.load_detector(str(p))), "fit", minos=False, cross_checks=False)
        assert r.valid
        pulls.append((r.value - truth) / r.error)
    pulls = np.array(pulls)
    assert np.all(np.abs(pulls) < 3.0), pulls
    assert abs(pulls.mean()) < 3.0 / np.sqrt(len(pulls)) and 0.4 < pulls.std(ddof=1) < 1.7, pulls


# ------------------------------------------------------------------------------------------------
# generic sample features used by the new cards
# ------------------------------------------------------------------------------------------------
def _lar_text():
    return cards.load_detector("coherent_lar_2020").text


def _load(tmp_path, text, name="c.toml"):
    p = tmp_path / name
    p.write_text(text)
    return Experiment(cards.load_detector(str(p)))


def test_template_sample_is_the_file_histogram_and_histosys_mirrors():
    """A template is the file's histogram on the observables (closed form: the file's own column), and a
    histosys with only `up` gets down = 2 nominal - up (clipped at 0)."""
    from nudmsim.paths import data_file
    from nudmsim.response.tables import read_csv_table

    exp = Experiment.load("coherent_lar_2020")
    tab = read_csv_table(data_file("coherent_lar_2020", "cenns10_analysisA_3d.csv"))
    ws = exp.workspace("fit")
    brn = ws.sample("brn_prompt")
    np.testing.assert_allclose(brn.nominal.ravel(), tab["brn_prompt"], rtol=1e-12)   # E, F90, t in file order
    m = {x.name: x for x in brn.modifiers}
    down, nom, up = m["brn_twidth"].data["templates"]
    np.testing.assert_allclose(up.ravel(), tab["brn_twidth"], rtol=1e-12)
    np.testing.assert_allclose(down, np.maximum(2 * nom - up, 0.0))
    d2, _, _ = m["brn_energy"].data["templates"]
    np.testing.assert_allclose(d2.ravel(), tab["brn_energy_down"], rtol=1e-12)
    np.testing.assert_allclose(ws.observed.ravel(), tab["data"])
    # the likelihood moves the sample along the files: at theta = +1 the expectation is the up file
    spec = ws.spec()
    at = spec.component_counts(spec.nominal(brn_energy=1.0))["brn_prompt"]
    np.testing.assert_allclose(at.ravel(), tab["brn_energy_up"], rtol=1e-9, atol=1e-12)


def test_template_and_histosys_errors(tmp_path):
    text = _lar_text()
    bad = text.replace('name = "signal"\nprocess = "signal"\n',
                       'name = "signal"\nprocess = "signal"\n', 1).replace(
        '{ type = "normfactor", name = "mu" }, { type = "normsys", name = "flux", error = 0.10 }',
        '{ type = "normfactor", name = "mu" }, { type = "histosys", name = "x", up = { counts = '
        '"coherent_lar_2020/cenns10_analysisA_3d.csv", value = "cevns" } }', 1)
    with pytest.raises(CardError, match=r"modifiers\[1\].type.*only template"):
        _load(tmp_path, bad).workspace("limit", point={}, process="nu-to-x")
    bad = text.replace('{ type = "normsys", name = "brn_delayed_norm", error = 1.0 }',
                       '{ type = "histosys", name = "bd" }')
    with pytest.raises(CardError, match=r"brn_delayed.*modifiers\[0\].up.*missing"):
        _load(tmp_path, bad).workspace("fit")
    bad = text.replace('{ type = "normsys", name = "brn_delayed_norm", error = 1.0 }',
                       '{ type = "normsys", name = "bd", error = 1.0, up = { counts = "x.csv", value = "v" } }')
    with pytest.raises(CardError, match="up.*not used by normsys"):
        _load(tmp_path, bad).workspace("fit")
    bad = text.replace('value = "ss" }\n', 'value = "ss" }\nresponse = "all"\n')
    with pytest.raises(CardError, match="reconstructed quantities"):
        _load(tmp_path, bad).workspace("fit")


def test_file_shape_through_named_stages_only():
    """BRN of the CsI 2021 card: PE shape x time counts through the timing efficiency only (closed form)."""
    from nudmsim.paths import data_file
    from nudmsim.response.tables import read_csv_table

    exp = Experiment.load("coherent_csi_2021")
    b = exp.workspace("fit").sample("brn").nominal
    pe = read_csv_table(data_file("coherent_csi_2021", "csi2021_brn_PE.csv"))
    t = read_csv_table(data_file("coherent_csi_2021", "csi2021_brn_trec.csv"))
    f_pe = pe["value"][pe["pe_center"] < 60].sum() / pe["value"].sum()
    teff = np.where(t["t_us"] < 0.52, 1.0, np.exp(-0.0494 * (t["t_us"] - 0.52)))
    inside = (t["t_us"] > 0) & (t["t_us"] < 6)
    assert b.sum() == pytest.approx(f_pe * np.sum((t["value"] * teff)[inside]), rel=1e-9)
    # the PE efficiency is *not* applied again: the PE projection is the file's shape
    proj = b.sum(axis=1) / b.sum()
    ref = np.add.reduceat(pe["value"][pe["pe_center"] < 60], np.arange(0, 60, 4))
    np.testing.assert_allclose(proj, ref / ref.sum(), rtol=1e-9)


def test_response_list_errors(tmp_path):
    text = cards.load_detector("coherent_csi_2021").text
    key = '\nresponse = ["time_eff"]\nmodifiers = [ { type = "normsys", name = "brn_norm"'
    assert text.count(key) == 1
    bad = text.replace(key, key.replace("time_eff", "time_ef"))
    with pytest.raises(CardError, match=r"brn\].response.*no response stage 'time_ef'.*did you mean 'time_eff'"):
        _load(tmp_path, bad).workspace("fit")
    bad = text.replace(key, key.replace('["time_eff"]', '["qf"]'))
    with pytest.raises(CardError, match="acts on 'E_R_keV'"):
        _load(tmp_path, bad).workspace("fit")
    bad = text.replace(key, key.replace('["time_eff"]', '"everything"'))
    with pytest.raises(CardError, match="choose auto, all, efficiencies, none or a list"):
        _load(tmp_path, bad).workspace("fit")


def test_nuisance_list_accepted(tmp_path):
    """`nuisances = ["qf_shape0"]` restricts a process sample's shape nuisances (a list of names used to be
    refused as 'must be a number')."""
    text = cards.load_detector("coherent_csi_2021").text
    new = text.replace('name = "cevns_count"\nprocess = "cevns"\n',
                       'name = "cevns_count"\nprocess = "cevns"\nnuisances = ["qf_shape0"]\n', 1)
    assert new != text
    ws = _load(tmp_path, new).workspace("fit")
    assert [m.name for m in ws.sample("cevns_count").modifiers if m.type == "histosys"] == ["qf_shape0"]
