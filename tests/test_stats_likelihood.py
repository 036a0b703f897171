"""Binned Poisson likelihood machinery (nudmsim.stats.likelihood) against closed forms."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import optimize

from nudmsim.errors import NudmsimError
from nudmsim.stats.likelihood import (Component, NLL, OnOffBackground, Parameter, Spec, TemplateGrid,
                                      asymmetric, fit, poisson_deviance, profile_on_off)


def counting(n, b, s=1.0, sigma_b=None, mu_lo=0.0):
    comps = [Component("sig", lambda p: np.array([p["mu"] * s])),
             Component("bkg", lambda p: np.array([b * p.get("bn", 1.0)]))]
    pars = [Parameter("mu", 1.0, bounds=(mu_lo, None))]
    if sigma_b:
        pars.append(Parameter("bn", 1.0, bounds=(0, None), constraint=(1.0, sigma_b)))
    return Spec(observed=[n], components=comps, parameters=pars, poi="mu")


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 200), m=st.integers(0, 200), s=st.floats(0.0, 100.0), tau=st.floats(0.2, 5.0))
def test_on_off_profile_is_the_maximum(n, m, s, tau):
    """Closed-form profiled b equals a numerical maximisation of the on/off likelihood."""
    b = float(profile_on_off(n, s, m, tau))

    def nll(x):
        return float(poisson_deviance(n, s + x) + poisson_deviance(m, tau * x))

    res = optimize.minimize_scalar(nll, bounds=(0.0, 5 * (n + m) / min(tau, 1) + 10), method="bounded",
                                   options={"xatol": 1e-10})
    assert nll(b) <= nll(res.x) + 1e-7
    assert b >= 0


def test_counting_mle_and_gaussian_error():
    """mu_hat = (n - b)/s; HESSE error = sqrt(n + (b sigma_b)^2)/s in the Gaussian regime."""
    n, b, s, sb = 250_000, 200_000.0, 100.0, 0.01
    res = fit(counting(n, b, s, sb))
    assert res.valid
    assert res.values["mu"] == pytest.approx((n - b) / s, rel=1e-4)
    assert res.errors["mu"] == pytest.approx(np.sqrt(n + (b * sb) ** 2) / s, rel=2e-3)
    assert res.twice_nll == pytest.approx(0.0, abs=1e-6)  # saturated: deviance 0, constraint at mean
    # the correlation of mu with the background normalisation: -b*sb / sqrt(n + (b sb)^2)
    assert res.correlation("mu", "bn") == pytest.approx(-b * sb / np.sqrt(n + (b * sb) ** 2), rel=5e-3)


def test_conditional_fit_equals_closed_form_deviance():
    n, b = 30, 20.0
    res = fit(counting(n, b), fix={"mu": 4.0})
    nu = 24.0
    assert res.twice_nll == pytest.approx(2 * (nu - n + n * np.log(n / nu)), rel=1e-8)
    assert res.free == []


def test_multibin_errors_equal_inverse_fisher_information():
    """Two free normalisations on two shapes: HESSE covariance = inverse of sum_i d nu d nu / nu."""
    x = np.linspace(0, 1, 40)
    s_shape = 200 * np.exp(-((x - 0.5) / 0.1) ** 2)
    b_shape = 300 * np.ones_like(x) / len(x) * 10
    spec = Spec(observed=s_shape + b_shape,  # Asimov-like data at mu = nb = 1
                components=[Component("s", lambda p: p["mu"] * s_shape),
                            Component("b", lambda p: p["nb"] * b_shape)],
                parameters=[Parameter("mu", 0.8), Parameter("nb", 1.2)], poi="mu")
    res = fit(spec)
    nu = s_shape + b_shape
    fisher = np.array([[np.sum(s_shape * s_shape / nu), np.sum(s_shape * b_shape / nu)],
                       [np.sum(s_shape * b_shape / nu), np.sum(b_shape * b_shape / nu)]])
    assert res.values["mu"] == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(res.covariance, np.linalg.inv(fisher), rtol=2e-3)


def test_on_off_fit_mle():
    """One bin with a control region: mu_hat = (n - m/tau)/s (no other information)."""
    n, m, tau, s = 80.0, 90.0, 3.0, 5.0
    spec = Spec(observed=[n], components=[Component("s", lambda p: np.array([p["mu"] * s]))],
                parameters=[Parameter("mu", 1.0)], poi="mu", on_off=[OnOffBackground("b", [m], tau)])
    res = fit(spec)
    assert res.values["mu"] == pytest.approx((n - m / tau) / s, rel=1e-4)
    # error propagation: var(n) + var(m)/tau^2
    assert res.errors["mu"] == pytest.approx(np.sqrt(n + m / tau**2) / s, rel=2e-3)


def test_mask_drops_bins():
    spec = Spec(observed=[10.0, 1000.0], components=[Component("s", lambda p: p["a"] * np.ones(2))],
                parameters=[Parameter("a", 1.0)], mask=[True, False])
    assert fit(spec).values["a"] == pytest.approx(10.0, rel=1e-4)
    assert NLL(spec).ndata == 1


def test_template_grid_and_asymmetric():
    knots = np.array([0.0, 1.0, 3.0])
    templates = np.array([2 * k + np.arange(3.0) for k in knots])  # linear in the knot value
    for kind in ("linear", "cubic"):
        g = TemplateGrid(knots, templates, kind=kind)
        for x in (0.3, 1.7, 2.9, 4.0):  # includes extrapolation
            np.testing.assert_allclose(g(x), 2 * x + np.arange(3.0))
        assert np.all(g(-10.0) >= 0)
    # the not-a-knot cubic spline reproduces a cubic exactly; linear does not
    knots = np.array([0.0, 0.5, 1.5, 2.0, 3.0])
    cubic = lambda x: 5 + x - 2 * x**2 + 0.7 * x**3  # noqa: E731  (positive on [0, 3])
    g = TemplateGrid(knots, np.array([[cubic(k)] for k in knots]))
    for x in (0.2, 1.0, 1.9, 2.6):
        assert g(x)[0] == pytest.approx(cubic(x), rel=1e-12)
    assert TemplateGrid(knots, np.array([[cubic(k)] for k in knots]), "linear")(1.0)[0] != pytest.approx(cubic(1.0))
    assert asymmetric(1.0, 10.0, 0.5, 0.2) == 10.5 and asymmetric(-2.0, 10.0, 0.5, 0.2) == pytest.approx(9.6)


def test_spec_errors():
    with pytest.raises(NudmsimError, match="parameter of interest"):
        Spec([1.0], [], [Parameter("a", 1.0)], poi="mu")
    with pytest.raises(NudmsimError, match=">= 0"):
        Spec([-1.0], [], [Parameter("a", 1.0)])
    with pytest.raises(NudmsimError, match="duplicate"):
        Spec([1.0], [], [Parameter("a", 1.0), Parameter("a", 2.0)])
    with pytest.raises(NudmsimError, match="sigma"):
        Spec([1.0], [], [Parameter("a", 1.0, constraint=(1.0, 0.0))])
    spec = counting(3, 1.0)
    with pytest.raises(NudmsimError, match="no parameter 'nope'"):
        fit(spec, fix={"nope": 1.0})
