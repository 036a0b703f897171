"""COHERENT nu -> X limits on sigma_NC (nudmsim.analyses.coherent_fit): scaling, closed forms, CLI."""
import csv
import subprocess
import sys

import numpy as np
import pytest
from scipy import optimize

from nudmsim import cards
from nudmsim.analyses import coherent, coherent_fit as cf
from nudmsim.errors import NudmsimError
from nudmsim.stats.asimov import expected_limit
from nudmsim.stats.curves import LimitRequest


@pytest.fixture(scope="module")
def card():
    return cards.load_detector("coherent_csi_2017")


def test_signal_rate_proportional_to_sigma_nc(card):
    """At fixed masses the nu->X rate scales like (y_X y_p)^2, i.e. like sigma_NC: doubling y_X and
    tripling y_q multiplies both the template and sigma_NC by 36."""
    p = cf.reference_point(8.0, 3.0)
    t1 = coherent.pe_time_template("nu-to-x", p, card)["accepted"]
    p2 = dict(p, y_X=2 * p["y_X"], y_q=3 * p["y_q"])
    t2 = coherent.pe_time_template("nu-to-x", p2, card)["accepted"]
    s1 = cf.sigma_nc_reference(8.0, 3.0)
    s2 = cf.sigma_nc_reference(8.0, 3.0, {"y_X": p2["y_X"], "y_q": p2["y_q"]})
    assert s2 / s1 == pytest.approx(36.0, rel=1e-12)
    np.testing.assert_allclose(t2, 36.0 * t1, rtol=1e-10, atol=1e-300)


def test_sigma_nc_limit_independent_of_reference_couplings(card):
    """One fit per mass: mu_up x sigma_NC(reference) is the same for two different reference points."""
    a = cf.limit_point((str(card.path), 8.0, 3.0, False, {}))
    b = cf.limit_point((str(card.path), 8.0, 3.0, False, {"y_X": 1e-5, "y_q": 2e-4}))
    assert np.isfinite(a["observed"]) and a["observed"] > 0
    p0 = cf.reference_point(8.0, 3.0)  # y_p is linear in y_q, sigma_NC ~ (y_X y_p)^2
    assert b["sigma_ref"] / a["sigma_ref"] == pytest.approx((1e-5 / p0["y_X"] * 2e-4 / p0["y_q"]) ** 2, rel=1e-9)
    assert b["observed"] == pytest.approx(a["observed"], rel=2e-3)


def test_expected_limit_matches_fisher_information_without_systematics(card):
    """Nuisances fixed, steady state known (factorised, fixed normalisation): the Asimov median solves the
    closed-form q_A = 1.2816^2, close to 1.2816 sigma with 1/sigma^2 = sum_i s_i^2 / b_i (Fisher)."""
    model = cf.model_for(card)
    spec = cf.limit_spec(model, 5.0, 3.0, steady_state="factorised")
    fixed = {n: spec.nominal()[n] for n in spec.names if n != "mu"}
    spec = spec.with_fixed(**fixed)
    el = expected_limit(spec, truncation="none")
    p = spec.nominal(mu=1.0)
    comps = spec.component_counts(p)
    s = comps["signal"][spec.mask]
    b = sum(v for k, v in comps.items() if k != "signal")[spec.mask]
    # exact Asimov q_A(mu) = 2 sum [mu s - b ln(1 + mu s / b)] (no nuisances): its root at 1.2816^2
    q_a = lambda mu: 2 * np.sum(mu * s - b * np.log1p(mu * s / b)) - 1.2815516**2  # noqa: E731
    assert el.median == pytest.approx(optimize.brentq(q_a, 1e-6, 1e3), rel=1e-3)
    # and its small-signal (Gaussian Fisher) limit, 1/sigma^2 = sum s^2/b, within a few per cent
    sigma = 1.0 / np.sqrt(np.sum(s**2 / b))
    assert el.median == pytest.approx(1.2815516 * sigma, rel=0.06)
    assert el.bands["+1"] == pytest.approx(2.2815516 * sigma, rel=0.08)


def test_projection_card_is_more_sensitive_and_bands_are_ordered():
    now = cf.limit_point((str(cards.load_detector("coherent_csi_2017").path), 10.0, 3.0, True, {}))
    fut = cf.limit_point((str(cards.load_detector("coherent_csi_future").path), 10.0, 3.0, True, {}))
    assert fut["expected"] < now["expected"]
    # 10x exposure: at best sqrt(10) better (statistics only); systematics (flux, QF) limit the gain
    assert fut["expected"] > now["expected"] / np.sqrt(10.0) * 0.95
    b = fut["bands"]
    assert b["-2"] <= b["-1"] < fut["expected"] < b["+1"] < b["+2"]


def test_limit_entry_drops_masses_above_reach_and_errors(card):
    reach = cf.mx_reach(card)
    # analytic reach: m_N (sqrt(1 + 2 E_max/m_N) - 1) < E_max = m_mu/2
    assert 50.0 < reach < 52.83
    req = LimitRequest(card=card, masses=np.array([6.0, 60.0]), ratio=10.0, scheduler="sync", progress=False)
    curve = cf._limit_entry(req)
    assert list(curve.x) == [6.0] and np.isfinite(curve.observed).all()
    with pytest.raises(NudmsimError, match="kinematic reach"):
        cf._limit_entry(LimitRequest(card=card, masses=np.array([70.0]), scheduler="sync", progress=False))
    with pytest.raises(NudmsimError, match="ratio"):
        cf._limit_entry(LimitRequest(card=card, masses=np.array([5.0]), ratio=0.5, scheduler="sync"))
    for opt, msg in (({"method": "bayes"}, "method"), ({"nope": "1"}, "unknown --option"),
                     ({"y_X": "-1"}, "reference coupling")):
        with pytest.raises(NudmsimError, match=msg):
            cf._limit_entry(LimitRequest(card=card, masses=np.array([5.0]), scheduler="sync", options=opt))
    fut = cards.load_detector("coherent_csi_future")
    with pytest.raises(NudmsimError, match="--projected"):
        cf._limit_entry(LimitRequest(card=fut, masses=np.array([5.0]), scheduler="sync"))


def test_cli_limit_writes_csv_and_png(tmp_path):
    out_csv = tmp_path / "lim.csv"
    r = subprocess.run([sys.executable, "-m", "nudmsim", "limit", "coherent2017", "--ratio", "10", "--masses",
                        "2,20", "--scheduler", "sync", "--quiet", "-o", str(out_csv)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = [row for row in csv.reader(open(out_csv)) if row and not row[0].startswith("#")]
    assert rows[0] == ["x", "observed"]
    vals = np.array([[float(x) for x in row] for row in rows[1:]])
    assert vals.shape == (2, 2) and np.all(vals[:, 1] > 1e-48) and np.all(vals[:, 1] < 1e-38)
    assert (tmp_path / "lim.png").stat().st_size > 10_000
