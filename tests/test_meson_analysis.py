"""Meson analyses: profile-likelihood limit vs closed form, E949 calibration, K->pi phi bound, CLI errors."""
import math
import subprocess
import sys

import numpy as np
import pytest

from nudmsim import cards
from nudmsim.analyses import _meson_limits as ml


def test_asimov_limit_single_bin_closed_form():
    """One signal bin on a large flat background with fixed shape: mu_up -> 1.645 sqrt(b)/s (CLs median)."""
    edges = np.linspace(100.0, 200.0, 101)
    sig = np.zeros(100)
    sig[50] = 1.0
    a = 1e6                                   # counts per MeV, index 0 -> 1e6 per bin
    mu, bands = ml.asimov_limit(sig, edges, a, 150.0, 0.0, float_index=False)
    # profiling the normalisation over 100 bins barely changes it: within 1%
    assert mu == pytest.approx(1.645 * math.sqrt(1e6), rel=0.01)
    assert bands["-1"] < mu < bands["+1"] and bands["-2"] < bands["-1"] and bands["+2"] > bands["+1"]


def test_limit_scales_as_sqrt_background():
    card = cards.load_detector("e949")
    a, p0, k, fl = ml.background_params(card)
    l1 = ml.u2_limit(card, 250.0, (a, p0, k, fl))[0]
    l4 = ml.u2_limit(card, 250.0, (4 * a, p0, k, fl))[0]
    assert l4 / l1 == pytest.approx(2.0, rel=0.02)


def test_e949_calibration_within_factor_2():
    rep = ml.calibration_report(cards.load_detector("e949"))
    assert rep["max_factor_smoothed"] < 2.0
    for src in ("GAMBIT_NeutrinoBit", "HNLimits_bnl_e949", "HNLimits_peak_searches"):
        assert 0.5 < rep[f"median ratio ours/{src}"] < 2.0


def test_na62_projection_improves_by_sqrt10():
    """NA62 card: 10x E949 kaons x acceptance with the same background per accepted kaon -> limit / sqrt(10)
    up to the (better) resolution."""
    e, n = cards.load_detector("e949"), cards.load_detector("na62")
    r = ml.u2_limit(n, 250.0)[0] / ml.u2_limit(e, 250.0)[0]
    assert 0.15 < r < 1 / math.sqrt(10) * 1.05


def test_kaon_yq_bound_vs_seed():
    m, y = ml.yq_bound()
    # the seed's 1.58e-4 lies within the range our bound spans over 0 < m_phi < 100 MeV
    sel = m < 100
    assert y[sel].min() < 1.58e-4 < y[sel].max()


def test_cli_forbidden_decay_message():
    r = subprocess.run([sys.executable, "-m", "nudmsim", "predict", "meson-3body", "--set", "m_chi=100",
                        "--set", "m_phi=300"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "kinematically forbidden" in r.stderr and "m_K - m_mu" in r.stderr and "kinematic limit" in r.stderr


def test_profile_limit_agrees_with_nudmsim_stats():
    """Our profiled (norm + index) Asimov CLs limit vs nudmsim.stats.asimov.expected_limit on the same spec."""
    pytest.importorskip("nudmsim.stats.asimov")
    from nudmsim.stats.asimov import expected_limit
    from nudmsim.stats.likelihood import Component, Parameter, Spec

    card = cards.load_detector("e949")
    a, p0, k, _ = ml.background_params(card)
    edges = ml._edges(card)
    sig = ml.template_2body(card, 250.0, 1e-8)
    b0 = ml.power_law_bins(edges, a, p0, k)
    logc = np.log(0.5 * (edges[1:] + edges[:-1]) / p0)
    spec = Spec(observed=b0, components=[
        Component("signal", lambda p: p["mu"] * sig),
        Component("bkg", lambda p: b0 * p["norm"] * np.exp(p["dk"] * logc))],
        parameters=[Parameter("mu", 1.0, bounds=(0, None)), Parameter("norm", 1.0, bounds=(0.5, 2.0)),
                    Parameter("dk", 0.0, bounds=(-2.0, 2.0))], poi="mu")
    theirs = expected_limit(spec, method="cls")
    ours, bands = ml.asimov_limit(sig, edges, a, p0, k, True)
    assert ours == pytest.approx(theirs.median, rel=0.03)
    assert bands["+1"] == pytest.approx(theirs.bands["+1"], rel=0.05)


def test_y_limit_independent_of_yL_off_shell():
    """Off-shell nu4 (m4 = 500 MeV > m_K): rate ~ y_L^2 |U|^2 exactly, so the Y_mu limit does not depend on y_L."""
    card = cards.load_detector("e949")
    bkg = ml.background_params(card)
    a = ml._limit_point_3body((str(card.path), 50.0, 3.0, 500.0, 1.0, bkg))[0]
    b = ml._limit_point_3body((str(card.path), 50.0, 3.0, 500.0, 4 * math.pi, bkg))[0]
    assert a == pytest.approx(b, rel=0.02)


def test_zero_mixing_is_a_clear_error():
    from nudmsim import registry
    from nudmsim.analyses import meson as am
    from nudmsim.errors import ParameterError

    params = registry.resolve_params(am.PARAMS_3BODY, {"lepton": "11"}, "meson-3body")   # U_e4 = 0 default
    with pytest.raises(ParameterError, match="U_e4 = 0"):
        am.predict_3body(params, cards.load_detector("e949"))
