"""Direct-detection limits (issue 3): binwise likelihood, XENON1T SI limit vs the official curve, X -> nu
limits on sigma_NC (XENON1T, Borexino)."""
import math

import numpy as np
import pytest

from nudmsim import cards
from nudmsim.analyses import _dd_limits as L
from nudmsim.errors import NudmsimError
from nudmsim.response.binwise import CHI2_1_90, BinwiseLikelihood
from nudmsim.stats.curves import LimitRequest
from nudmsim.validation.direct_detection import si_limit_ratios


def test_binwise_upper_limit_counting_closed_form():
    """One bin, nothing observed, no background: -2 ln L(s) = 2 s, so the asymptotic limit is s = 2.706/2."""
    s = np.linspace(0, 3, 101)
    ll = BinwiseLikelihood([0, 1], s, (2 * s)[None, :])
    assert ll.upper_limit(np.array([1.0]), asymptotic=True) == pytest.approx(CHI2_1_90 / 2, rel=1e-6)
    # two bins sharing the signal equally behave like one bin with the total
    ll2 = BinwiseLikelihood([0, 1, 2], s, np.vstack([2 * s, 2 * s]))
    assert ll2.upper_limit(np.array([0.5, 0.5]), asymptotic=True) == pytest.approx(CHI2_1_90 / 2, rel=1e-6)
    # a bin with one observed event and no background: -2 ln L = 2 (s - ln s) + const; q(s) from s_hat = 1
    s10 = np.linspace(0, 10, 1001)
    q = 2 * (s10 - 1 - np.log(np.where(s10 > 0, s10, 1e-300)))
    ll3 = BinwiseLikelihood([0, 1], s10, q[None, :])
    ul = ll3.upper_limit(np.array([1.0]), asymptotic=True, n_grid=20000)
    assert 2 * (ul - 1 - math.log(ul)) == pytest.approx(CHI2_1_90, rel=2e-3)


@pytest.fixture(scope="module")
def ratios():
    return si_limit_ratios()


def test_si_limit_within_25_percent_15GeV_to_1TeV(ratios):
    m, r = ratios
    sel = (m >= 15) & (m <= 1000)
    assert sel.sum() == 11
    assert np.all(np.abs(r[sel] - 1) < 0.25), dict(zip(m[sel], r[sel]))
    assert r[m == 30][0] * 4.05e-47 == pytest.approx(4.05e-47, rel=0.25)


@pytest.mark.xfail(strict=True, reason="known: the binwise approximate likelihood gives a 1.56x weaker limit than "
                                       "the official full-likelihood curve at 10 GeV (docs/direct_detection.md)")
def test_si_limit_10GeV_within_25_percent(ratios):
    m, r = ratios
    assert abs(r[m == 10][0] - 1) < 0.25


def _req(name, masses, ratio=10.0, **opts):
    return LimitRequest(card=cards.load_detector(name), masses=np.asarray(masses, float), ratio=ratio,
                        scheduler="sync", progress=False, options=opts)


def test_xenon_x2nu_window_and_independence_of_reference_couplings(monkeypatch):
    curve = L.xenon1t_x2nu(_req("xenon1t_2018", [10.0, 40.0, 60.0, 90.0, 150.0]))
    y = curve.observed
    assert np.isnan(y[0]) and np.isnan(y[-1])  # 10 MeV: E_R = 0.4 keV; 150 MeV: E_R = 92 keV
    assert np.all(np.isfinite(y[1:4])) and np.all(y[1:4] < 1e-48)
    monkeypatch.setattr(L, "REF_Y_X", 0.01)
    monkeypatch.setattr(L, "REF_Y_Q", 3e-9)
    y2 = L.xenon1t_x2nu(_req("xenon1t_2018", [40.0, 60.0, 90.0])).observed
    assert np.allclose(y2, y[1:4], rtol=1e-6)


def test_x2nu_limit_weaker_for_r3_than_naive_scaling():
    """At fixed sigma_NC the rate carries (m_phi^2/(m_X^2 + m_phi^2))^2: r = 3 loses 0.81 vs the contact limit,
    r = 10 only 0.98, so sigma_NC limits differ by ~ 0.98/0.81 (same spectrum shape)."""
    y3 = L.xenon1t_x2nu(_req("xenon1t_2018", [60.0], ratio=3.0)).observed[0]
    y10 = L.xenon1t_x2nu(_req("xenon1t_2018", [60.0], ratio=10.0)).observed[0]
    assert y3 / y10 == pytest.approx((1 + 1 / 9) ** 2 / (1 + 1 / 100) ** 2, rel=0.02)


def test_all_blind_scan_is_an_error():
    with pytest.raises(NudmsimError, match="blind"):
        L.xenon1t_x2nu(_req("xenon1t_2018", [1.0, 3.0]))


def test_borexino_limits():
    req = _req("borexino", [30.0, 80.0, 100.0])
    y = L.borexino_x2nu(req).observed
    assert np.all(np.isfinite(y[1:])) and np.all(y[1:] < 1e-46)
    # 30 MeV: proton line below 70 keVee with Birks: only the resolution tail and the C-14 window
    assert y[0] > 1e3 * y[1]
    ys = L.borexino_x2nu(_req("borexino", [80.0], quenching="seed")).observed
    assert np.isfinite(ys[0]) and abs(ys[0] / y[1] - 1) > 0.05
    with pytest.raises(NudmsimError, match="quenching"):
        L.borexino_x2nu(_req("borexino", [80.0], quenching="nope"))
