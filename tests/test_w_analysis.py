"""W lepton-pT analysis: Jacobian peak and nu_4 kink positions, the m4 > M_W dilution, reweighting vs direct
generation, M_W closure on 1e7 pseudo-data events, limits (Gaussian cross-check), CLI and bad input."""
import subprocess
import sys

import numpy as np
import pytest

from nudmsim import cards
from nudmsim import constants as c
from nudmsim.errors import NudmsimError, ParameterError
from nudmsim.experiment import Experiment
from nudmsim.generators import w_lepton as wl
from nudmsim.generators import w_sample as ws
from nudmsim.runner import limit_curve
from nudmsim.stats.w_mass import mw_closure
from nudmsim.validation import w_boson as v

GeV = c.GeV


@pytest.fixture(scope="module")
def card():
    return cards.load_detector("atlas_7tev")


def _small(tmp_path, name, mc_events, seed, background_events=300_000, replace=()):
    """The 7 TeV card with a smaller (seeded) W sample for the limit tests."""
    text = cards.load_detector("atlas_7tev").text.replace('name = "atlas_7tev"', f'name = "{name}"')
    for a, b in (("mc_events = 4000000", f"mc_events = {mc_events}"), ("mc_seed = 1", f"mc_seed = {seed}"),
                 ("background_mc_events = 2000000", f"background_mc_events = {background_events}")) + tuple(replace):
        assert a in text
        text = text.replace(a, b)
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return Experiment(cards.load_detector(str(p)))


PT_MU_PLUS = {"U2": 1.0, "sm_subtracted": 1.0, "lepton": 13.0, "charge": 1.0, "lumi_fb": 0.0}


def test_massless_jacobian_peak_at_half_mw():
    # truth lepton pT, W pT = 0, no detector smearing: the peak bin (0.5 GeV) is within one bin of M_W/2
    peak = v.truth_pt_peak(0.0, n=1_000_000, seed=31)
    assert abs(peak - c.M_W / GeV / 2) <= 0.5


@pytest.mark.parametrize("m4", [25.0, 40.0, 60.0])
def test_massive_kink_at_spec_formula(m4):
    # zero width: the peak bin contains M_W (1 - m4^2/M_W^2)/2 exactly (SPEC eq. 13)
    kink = v.kink_expected(m4)
    peak = v.truth_pt_peak(m4, n=300_000, seed=32, fixed_mass=True)
    assert peak - 0.25 <= kink < peak + 0.25, (peak, kink)
    # with the Breit-Wigner line shape the peak bin is within one bin of the formula (the width pulls the
    # maximum ~0.4 GeV down)
    peak = v.truth_pt_peak(m4, n=1_000_000, seed=32)
    assert abs(np.floor(2 * kink) - np.floor(2 * (peak - 0.25))) <= 1, (peak, kink)


def test_heavier_than_w_only_dilutes():
    assert v.heavy_over_dilution(100.0, 0.1, n=300_000, seed=33) < 1e-12
    assert v.heavy_over_dilution(150.0, 0.5, n=300_000, seed=33) < 1e-12


def test_reweighting_equals_direct_generation(card):
    # the nu_4 template from the reweighted light sample vs events generated *directly* at the model point
    # by the w-lepton process on the engine (component drawn per event): same selected spectrum within MC errors
    src, resp = wl.setup(card)
    m4, u2, n = 35 * GeV, 0.3, 1_000_000
    params = {"m4": 35.0, "U2": u2, "lepton": 13.0, "charge": 0.0}
    ev = Experiment.load("atlas_7tev").generate("w-lepton", params, n, np.random.default_rng(41)).events
    edges = wl.analysis_edges(card)
    sel = np.asarray(ev["selected"]).astype(bool)
    x, w = np.asarray(ev["reco_l_pt"])[sel] * GeV, np.asarray(ev["weight"])[sel]
    h_direct, _ = np.histogram(x, edges, weights=w)
    v_direct, _ = np.histogram(x, edges, weights=w * w)
    s = ws.generate_sample(src, n, np.random.default_rng(42))
    cs = ws.preselect(s, resp, "mu", edges[0])
    t = ws.templates(cs, resp, "mu", m4, edges, ws.compact_weight(cs, resp))
    h_rw = (1 - u2) * t.light + u2 * t.heavy
    v_rw = (1 - u2) ** 2 * t.light_var + u2**2 * t.heavy_var
    chi2 = np.sum((h_direct - h_rw) ** 2 / (v_direct + v_rw))
    assert chi2 < 40 + 4 * np.sqrt(80), chi2
    assert abs(h_direct.sum() / h_rw.sum() - 1) < 0.01
    # and the engine's expectation (the card's reweighted 4e6-event sample through the response stage) agrees
    ex = Experiment.load("atlas_7tev").expected("w-lepton", params).counts
    assert abs(ex.sum() / h_rw.sum() - 1) < 0.01
    assert np.sum((ex - h_rw) ** 2 / (v_rw + v_rw * (n / 4e6))) < 40 + 4 * np.sqrt(80)


def test_mw_fit_closure_on_1e7_pseudo_data(card):
    # pseudo-data: 1e7 generated events (M_W + 20 MeV); templates: an independent sample reweighted in the BW
    r = mw_closure(card, mw_true=c.M_W + 20 * c.MeV, n_data=10_000_000, n_template=3_000_000, seed=5)
    assert r["n_data"] > 5e5
    assert abs(r["pull"]) < 2.0, r          # within its statistical uncertainty (2 sigma: a 1-seed test)
    assert 5 * c.MeV < r["mw_err"] < 100 * c.MeV
    assert r["chi2"] / r["ndf"] < 2.0


def test_limit_gaussian_crosscheck_and_regimes(tmp_path):
    # for m4 > M_W the nu_4 is invisible in shape: the limit is the normalisation constraint,
    # U2_up ~ 1.2816 * sqrt(sigma_norm^2 + 1/N) (profile of a pure normalisation pull, CCGV first branch)
    exp = _small(tmp_path, "atlas_g", 1_000_000, 51)
    curve = limit_curve(exp, masses=[10.0, 30.0, 120.0], progress=False, scheduler="sync")
    y = curve.expected
    n_sel = exp.expected("w-lepton", dict(PT_MU_PLUS, m4=30.0, U2=0.0, sm_subtracted=0.0)).total
    gauss = 1.2816 * np.sqrt(0.02**2 + 1 / n_sel)
    assert y[2] == pytest.approx(gauss, rel=0.03)
    # the kink inside the window (m4 = 30 GeV: p_T^peak = 34.6 GeV) is constrained by the shape, far below
    # the normalisation-only limit; at m4 = 10 GeV the shift is small and the limit weaker
    assert y[1] < 0.3 * y[2]
    assert y[1] < y[0]
    assert np.all(curve.bands["+1"] >= y) and np.all(curve.bands["-1"] <= y)


def test_bad_input_raises(card):
    exp = Experiment.load("atlas_7tev")
    with pytest.raises(ParameterError, match="outside"):
        exp.generate("w-lepton", {"m4": 40.0, "U2": 1.2, "lepton": 13.0, "charge": 0.0}, 100,
                     np.random.default_rng(1))
    with pytest.raises(ParameterError, match="lepton flavour"):
        exp.generate("w-lepton", {"m4": 40.0, "U2": 0.1, "lepton": 15.0, "charge": 0.0}, 100,
                     np.random.default_rng(1))
    with pytest.raises(NudmsimError, match="charge"):
        limit_curve(exp, masses=[30.0], options={"charge": "neutral"}, progress=False, scheduler="sync")
    with pytest.raises(ParameterError, match="lepton flavour"):
        limit_curve(exp, masses=[30.0], options={"lepton": "tau"}, progress=False, scheduler="sync")
    with pytest.raises(NudmsimError, match="lumi_fb"):
        limit_curve(exp, masses=[30.0], options={"lumi_fb": "-3"}, progress=False, scheduler="sync")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "nudmsim", *args], capture_output=True, text=True, timeout=300)


def test_cli_generate_root_and_errors(tmp_path):
    out = tmp_path / "w.root"
    r = _cli("generate", "w-lepton", "-n", "20000", "--set", "m4=40", "--set", "U2=0.05", "--seed", "3",
             "-o", str(out))
    assert r.returncode == 0, r.stderr
    import uproot

    t = uproot.open(out)["events"]
    a = t.arrays(["w_m", "l_E", "l_px", "l_py", "l_pz", "nu_E", "nu_px", "nu_py", "nu_pz", "is_nu4", "weight"],
                 library="np")
    m2 = (a["l_E"] + a["nu_E"]) ** 2 - (a["l_px"] + a["nu_px"]) ** 2 - (a["l_py"] + a["nu_py"]) ** 2 \
        - (a["l_pz"] + a["nu_pz"]) ** 2
    assert np.allclose(np.sqrt(m2), a["w_m"], rtol=1e-6)
    mnu2 = a["nu_E"] ** 2 - a["nu_px"] ** 2 - a["nu_py"] ** 2 - a["nu_pz"] ** 2
    assert np.allclose(np.sqrt(np.maximum(mnu2[a["is_nu4"]], 0)), 40.0, rtol=1e-4)
    assert 0.01 < a["is_nu4"].mean() < 0.06        # |U|^2 x phase space (0.64) / total
    for bad, msg in ((["--set", "U2=2"], "outside"), (["--set", "lepton=15"], "lepton flavour")):
        r = _cli("generate", "w-lepton", "-n", "10", *bad, "-o", str(tmp_path / "x.root"))
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr
    r = _cli("limit", "atlas-w", "--option", "sqrts=13TeV", "-o", str(tmp_path / "l.csv"))
    assert r.returncode == 2 and "unknown --option sqrts" in r.stderr and "Traceback" not in r.stderr


def test_generated_record_is_the_kernel_reconstruction(card):
    # the engine's event record (generator truth -> collider/atlas_w stage) equals the array path of the kernels
    # on the same random numbers (same seed): truth columns, reconstructed observables, weights
    params = {"m4": 40.0, "U2": 0.2, "lepton": 13.0, "charge": 0.0}
    exp = Experiment.load("atlas_7tev")
    n = 20_000
    full = exp.generate("w-lepton", params, n, np.random.default_rng(8)).events
    for k in exp.generator("w-lepton").truth_columns + exp.generator("w-lepton").observables + ("weight",):
        assert k in full.fields, k
    src, resp = wl.setup(card)
    u, z, uh = next(ws.draw_chunks(n, np.random.default_rng(8), extra=1))
    s = ws.sample_from_uniforms(src, u, z, 0, n_generated=n)
    m4_evt = np.where(np.asarray(full["is_nu4"]).astype(bool), 40 * GeV, 0.0)
    rec = ws.reconstruct(s, resp, "mu", m4_evt)
    assert np.allclose(np.asarray(full["w_m"]) * GeV, s.truth["m"], rtol=1e-12)
    for k, col in (("reco_l_pt", "pt"), ("met", "met"), ("mt", "mt"), ("ut", "ut")):
        assert np.allclose(np.asarray(full[k]) * GeV, rec[col], rtol=1e-9, atol=1e-6), k
    assert np.array_equal(np.asarray(full["selected"]).astype(bool), rec["selected"])
    r = np.minimum((40 * GeV / s.truth["m"]) ** 2, 1.0)
    from nudmsim.processes import w_decay as wd

    total = 1 - 0.2 + 0.2 * wd.phase_space_factor(r)
    want = src.sigma_lnu(0) * resp.luminosity["mu"] * resp.lepton("mu").efficiency / n * total * rec["w_decay"]
    assert np.allclose(np.asarray(full["weight"]), want, rtol=1e-9)


def test_limit_with_backgrounds_is_weaker_and_stats_only_backgrounds_cost_little(tmp_path):
    # the card's backgrounds (constrained normalisations) can only weaken the limit; with their normalisations
    # fixed (error -> 0) they only add Poisson noise: the limit moves by about sqrt(1 + B/S)
    masses = [15.0, 30.0, 45.0]
    exp = _small(tmp_path, "atlas_b", 1_000_000, 52)
    free = limit_curve(exp, masses=masses, options={"measurement": "signal_only"}, progress=False,
                       scheduler="sync").expected
    withb = limit_curve(exp, masses=masses, progress=False, scheduler="sync").expected
    assert np.all(withb >= free * 0.999)
    assert withb[1] > 1.2 * free[1]                    # the shape-like backgrounds cost at the kink
    tight = _small(tmp_path, "atlas_t", 1_000_000, 52, replace=tuple(
        (f'name = "{n}", error = {e}', f'name = "{n}", error = 1e-6') for n, e in
        (("norm_w_taunu", "0.03"), ("norm_z_lost_lepton", "0.10"), ("norm_multijet", "0.5"), ("norm_top", "0.3"))))
    lim_tight = limit_curve(tight, masses=[30.0], progress=False, scheduler="sync").expected[0]
    ratio = lim_tight / free[1]
    ws_ = exp.workspace(point=dict(PT_MU_PLUS, m4=30.0), process="w-lepton")
    tot = {smp.name: float(np.sum(smp.nominal)) for smp in ws_.samples}
    btot = sum(v for k, v in tot.items() if k not in ("signal", "w_sm"))
    assert 1.0 <= ratio < 1.0 + 2 * btot / tot["w_sm"] + 0.02


@pytest.mark.parametrize("measurement", ["signal_only", "default"])
def test_pyhf_roundtrip(measurement):
    # the kink likelihood (a signed signal template x mu, the SM W, the backgrounds incl. the fixed parametric
    # shapes) exported to pyhf and fitted there gives the same |U|^2 on pseudo-data with a signal injected
    from _pyhf_roundtrip import assert_pyhf_roundtrip

    exp = Experiment.load("atlas_7tev")
    pt = dict(PT_MU_PLUS, m4=30.0)
    ws0 = exp.workspace(measurement, point=pt, process="w-lepton")
    spec = ws0.spec()
    data = spec.expected(dict(spec.nominal(), mu=0.004))
    ws_ = exp.workspace(measurement, point=pt, process="w-lepton", observed=np.round(data))
    a, err, b = assert_pyhf_roundtrip(ws_)
    assert abs(a - 0.004) < 3 * err


def test_columns_hint_skips_truth_but_not_events():
    """`--columns observables` lets the w-lepton generator skip the derived truth columns (~25% of its time);
    the events are the same: every column both runs write is identical for one seed."""
    import numpy as np

    from nudmsim import cards
    from nudmsim.experiment import Experiment

    exp = Experiment(cards.load_detector("atlas_7tev"))
    point = {"m4": 30.0, "U2": 0.05}
    full = exp.generate("w-lepton", point, 20_000, np.random.default_rng(3))
    lean = exp.generate("w-lepton", point, 20_000, np.random.default_rng(3), columns="observables")
    some = exp.generate("w-lepton", point, 20_000, np.random.default_rng(3), columns="reco_l_pt,l_eta")
    assert "nu_E" in full.events.fields and "nu_E" not in lean.events.fields and "l_eta" not in lean.events.fields
    assert "l_eta" in some.events.fields and "nu_E" not in some.events.fields
    for f in lean.events.fields:
        assert np.array_equal(np.asarray(lean.events[f]), np.asarray(full.events[f])), f
    assert np.array_equal(np.asarray(some.events["l_eta"]), np.asarray(full.events["l_eta"]))
    assert lean.expected_total == full.expected_total
