"""Asimov data and projected limits (nudmsim.stats.asimov) against closed forms and toys."""
import numpy as np
import pytest
from scipy import optimize, stats

from nudmsim.stats.asimov import asimov_spec, band_formula, expected_limit
from nudmsim.stats.likelihood import Component, OnOffBackground, Parameter, Spec
from nudmsim.stats.limits import upper_limit


def counting(n, b, s=1.0):
    return Spec(observed=[n], components=[Component("sig", lambda p: np.array([p["mu"] * s])),
                                          Component("bkg", lambda p: np.array([b]))],
                parameters=[Parameter("mu", 1.0, bounds=(0, None))], poi="mu")


def test_asimov_data_is_the_expectation():
    shape = np.array([1.0, 2.0, 3.0])
    spec = Spec(observed=[0, 0, 0], components=[Component("s", lambda p: p["mu"] * shape),
                                               Component("b", lambda p: 10 * p["nb"] * np.ones(3))],
                parameters=[Parameter("mu", 3.0), Parameter("nb", 1.3, constraint=(1.1, 0.1))],
                poi="mu", on_off=[OnOffBackground("ss", np.array([4.0, 8.0, 0.0]), tau=2.0)])
    a = asimov_spec(spec)
    np.testing.assert_allclose(a.observed, 11 * np.ones(3) + np.array([2.0, 4.0, 0.0]))
    a1 = asimov_spec(spec, poi_value=1.0)
    np.testing.assert_allclose(a1.observed - a.observed, shape)
    assert a.parameter("nb").constraint == (1.1, 0.1)


def test_median_is_closed_form_asimov_root():
    """Known background b, Asimov n = b: q_A(mu) = 2(mu s - b ln(1 + mu s/b)) = 1.642 at the median."""
    b, s = 10.0, 1.0
    el = expected_limit(counting(0, b, s))
    ref = optimize.brentq(lambda m: 2 * (m * s - b * np.log1p(m * s / b)) - 1.2815516**2, 1e-6, 100)
    assert el.median == pytest.approx(ref, rel=1e-4)


def test_gaussian_bands_and_truncation():
    b, s = 1e6, 1e4
    sigma = np.sqrt(b) / s
    el = expected_limit(counting(0, b, s), truncation="none")
    raw = band_formula(sigma)
    assert el.median == pytest.approx(raw["0"], rel=2e-3)
    for k in ("-1", "+1", "+2"):
        assert el.bands[k] == pytest.approx(raw[k], rel=3e-3)
    assert el.bands["-2"] < 0  # Phi^-1(0.9) - 2 < 0 at 90% CL
    pcl = expected_limit(counting(0, b, s))
    assert pcl.bands["-2"] == pytest.approx(pcl.bands["-1"]) and pcl.bands["-1"] > 0
    cls = expected_limit(counting(0, b, s), method="cls")
    assert cls.median == pytest.approx(sigma * stats.norm.ppf(0.95), rel=2e-3)
    assert cls.bands["-2"] == pytest.approx(sigma * (stats.norm.ppf(1 - 0.1 * stats.norm.cdf(-2)) - 2),
                                            rel=3e-3)


def test_toy_limits_median_and_band_match_asimov():
    """Quantiles of limits on background-only toys vs the Asimov median and +-1 sigma band."""
    b, s = 400.0, 1.0
    rng = np.random.default_rng(3)
    lims = np.array([upper_limit(counting(n, b, s)).mu_up for n in rng.poisson(b, 150)])
    el = expected_limit(counting(0, b, s))
    med_err = 1.2533 * np.std(lims) / np.sqrt(len(lims))  # standard error of the median
    assert np.median(lims) == pytest.approx(el.median, abs=3 * med_err + 0.5)
    assert np.quantile(lims, 0.8413) == pytest.approx(el.bands["+1"], rel=0.12)
