"""W lepton-pT analysis: Jacobian peak and nu_4 kink positions, the m4 > M_W dilution, reweighting vs direct
generation, M_W closure on 1e7 pseudo-data events, limits (Gaussian cross-check), CLI and bad input."""
import subprocess
import sys

import numpy as np
import pytest

from nudmsim import cards
from nudmsim import constants as c
from nudmsim.analyses import _w_fits as wf
from nudmsim.analyses import _w_sample as ws
from nudmsim.analyses import w_boson as wb
from nudmsim.errors import NudmsimError, ParameterError
from nudmsim.validation import w_boson as v

GeV = c.GeV


@pytest.fixture(scope="module")
def card():
    return cards.load_detector("atlas_7tev")


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
    # by the w-lepton process (component drawn per event): same selected spectrum within MC errors
    src, resp = wb._setup(card)
    m4, u2, n = 35 * GeV, 0.3, 1_000_000
    params = {"m4": 35.0, "U2": u2, "lepton": 13.0, "charge": 0.0}
    ev = wb.generate(params, card, n, np.random.default_rng(41)).events
    edges = wf.analysis_edges(card)
    sel = np.asarray(ev["selected"])
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


def test_mw_fit_closure_on_1e7_pseudo_data(card):
    # pseudo-data: 1e7 generated events (M_W + 20 MeV); templates: an independent sample reweighted in the BW
    r = wb.mw_closure(card, mw_true=c.M_W + 20 * c.MeV, n_data=10_000_000, n_template=3_000_000, seed=5)
    assert r["n_data"] > 5e5
    assert abs(r["pull"]) < 2.0, r          # within its statistical uncertainty (2 sigma: a 1-seed test)
    assert 5 * c.MeV < r["mw_err"] < 100 * c.MeV
    assert r["chi2"] / r["ndf"] < 2.0


def test_limit_gaussian_crosscheck_and_regimes(card):
    # for m4 > M_W the nu_4 is invisible in shape: the limit is the normalisation constraint,
    # U2_up ~ 1.2816 * sqrt(sigma_norm^2 + 1/N) (profile of a pure normalisation pull, CCGV first branch)
    src, resp = wb._setup(card)
    s = ws.generate_sample(src, 1_000_000, np.random.default_rng(51))
    curve = wb.limit_curve(card, lepton="mu", masses=np.array([10.0, 30.0, 120.0]) * GeV, sample=s)
    y = curve.expected
    edges = wf.analysis_edges(card)
    cs = ws.preselect(s, resp, "mu", edges[0])
    n_sel = ws.templates(cs, resp, "mu", 0.0, edges, ws.compact_weight(cs, resp, (1,)), heavy=False).light.sum()
    gauss = 1.2816 * np.sqrt(0.02**2 + 1 / n_sel)
    assert y[2] == pytest.approx(gauss, rel=0.03)
    # the kink inside the window (m4 = 30 GeV: p_T^peak = 34.6 GeV) is constrained by the shape, far below
    # the normalisation-only limit; at m4 = 10 GeV the shift is small and the limit weaker
    assert y[1] < 0.3 * y[2]
    assert y[1] < y[0]
    assert np.all(curve.bands["+1"] >= y) and np.all(curve.bands["-1"] <= y)


def test_bad_input_raises(card):
    with pytest.raises(ParameterError, match="outside"):
        wb.generate({"m4": 40.0, "U2": 1.2, "lepton": 13.0, "charge": 0.0}, card, 100, np.random.default_rng(1))
    with pytest.raises(ParameterError, match="lepton flavour"):
        wb.generate({"m4": 40.0, "U2": 0.1, "lepton": 15.0, "charge": 0.0}, card, 100, np.random.default_rng(1))
    with pytest.raises(NudmsimError, match="charge"):
        wb.limit_curve(card, lepton="mu", charge="neutral", n_events=10_000)
    with pytest.raises(ParameterError, match="lepton flavour"):
        wb.limit_curve(card, lepton="tau", n_events=10_000)


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
    r = _cli("limit", "atlas-w", "--option", "sqrts=0.05TeV", "-o", str(tmp_path / "l.csv"))
    assert r.returncode == 2 and "threshold" in r.stderr


def test_generate_reduced_columns_equal_full_record(card):
    # columns= produces only what is asked (+ weight, process_id, target_id) and, for the same seed, exactly the
    # values of the full record; an unknown column is a one-line error naming the valid ones
    params = {"m4": 40.0, "U2": 0.2, "lepton": 13.0, "charge": 0.0}
    full = wb.generate(params, card, 20_000, np.random.default_rng(8)).events
    part = wb.generate(params, card, 20_000, np.random.default_rng(8), columns=["reco_l_pt", "mt", "is_nu4"]).events
    assert set(part.fields) == {"reco_l_pt", "mt", "is_nu4", "weight", "process_id", "target_id"}
    for k in part.fields:        # the fused path works at W azimuth 0: equal up to rounding (m_T ~ 0 loses digits)
        assert np.allclose(np.asarray(part[k]), np.asarray(full[k]), rtol=1e-12, atol=1e-6), k
    assert set(full.fields) == set(wb.ALL_COLUMNS)
    with pytest.raises(NudmsimError, match="unknown column 'l_ptt'"):
        wb.generate(params, card, 10, np.random.default_rng(1), columns=["l_ptt"])


def test_limit_with_backgrounds_is_weaker_and_stats_only_backgrounds_cost_little(card):
    # the card's backgrounds (constrained normalisations) can only weaken the limit; with their normalisations
    # fixed (norm_error -> 0) they only add Poisson noise: the limit moves by about sqrt(1 + B/S)

    src, resp = wb._setup(card)
    s = ws.generate_sample(src, 1_000_000, np.random.default_rng(52))
    masses = np.array([15.0, 30.0, 45.0]) * GeV
    free = wb.limit_curve(card, lepton="mu", masses=masses, sample=s, backgrounds=False).expected
    withb = wb.limit_curve(card, lepton="mu", masses=masses, sample=s, n_background=300_000).expected
    assert np.all(withb >= free * 0.999)
    assert withb[1] > 1.2 * free[1]                    # the shape-like backgrounds cost at the kink
    edges = wf.analysis_edges(card)
    cs = ws.preselect(s, resp, "mu", edges[0])
    temps = wf.mass_templates(cs, resp, "mu", masses, edges, (1,))
    bk = wf.background_templates(src, resp, "mu", edges, (1,), temps[0][1], np.random.default_rng(3), 300_000)
    tight = [(n, b, 1e-6) for n, b, _ in bk]
    lim_tight = wf.limit_point((masses[1], temps[1][1], temps[1][2], resp.norm_sigma, tight))[0]
    ratio = lim_tight / free[1]
    btot = sum(b.sum() for _, b, _ in bk)
    assert 1.0 <= ratio < 1.0 + 2 * btot / temps[1][1].sum() + 0.02
