"""CRESST-III and DarkSide-50 from their public releases: maximum gap, Poisson limits, line signals."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nudmsim import cards
from nudmsim import constants as c
from nudmsim.analyses import low_threshold as lt
from nudmsim.stats import maxgap


def test_maximum_gap_with_no_event_is_the_poisson_limit():
    assert maxgap.upper_limit_scale(3.7, 3.7) * 3.7 == pytest.approx(-math.log(0.1), rel=1e-9)  # 2.303 events


@pytest.mark.parametrize("x,mu", [(1.0, 3.0), (2.0, 5.0), (1.5, 8.0)])
def test_c0_matches_monte_carlo(x, mu):
    """C0(x, mu) = P(max gap < x) for Poisson(mu) points uniform on [0, mu] (signal density 1)."""
    rng = np.random.default_rng(7)
    n = rng.poisson(mu, 40_000)
    below = 0
    for k in n:
        pts = np.sort(rng.uniform(0, mu, k))
        gaps = np.diff(np.concatenate([[0.0], pts, [mu]]))
        below += gaps.max() < x
    p = below / len(n)
    assert maxgap.c0(x, mu) == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / len(n)) + 1e-3)


def test_c0_decimal_branch_agrees_with_float():
    assert maxgap._c0_decimal(2.0, 5.0, 2) == pytest.approx(maxgap.c0(2.0, 5.0), rel=1e-12)
    assert 0.0 <= maxgap.c0(0.3, 12.0) <= 1.0  # m = 40: the 80-digit branch


@pytest.mark.parametrize("n,b", [(0, 0.0), (5, 0.0), (50, 40.0), (3, 10.0)])
def test_poisson_upper_limit(n, b):
    from scipy import stats

    s = lt.poisson_upper_limit(n, b)
    assert stats.poisson.cdf(n, s + min(b, n)) == pytest.approx(0.10, abs=1e-8)
    if n == 0:
        assert s == pytest.approx(2.302585, rel=1e-6)


def test_cresst_limit_scales_inversely_with_exposure(monkeypatch):
    card = cards.load_detector("cresst3_detA")
    args = (str(card.path), card.sha256, 8.0, 10.0)
    a = lt._point(args)
    det = lt._detector(str(card.path), card.sha256)
    monkeypatch.setattr(det, "exposure", det.exposure * 2.0)
    assert lt._point(args) == pytest.approx(a / 2.0, rel=1e-9)


def test_cresst_lines_sit_at_m_x_squared_over_2_m_n():
    det = lt._detector(*(lambda cd: (str(cd.path), cd.sha256))(cards.load_detector("cresst3_detA")))
    p = lt._ref(8.0, 10.0)
    for sym, nuc, e, n in det._lines(p):
        centre = float(np.sum(e * n) / np.sum(n))
        assert centre == pytest.approx((8.0**2) / (2 * nuc.mass), rel=2e-3)


def test_darkside_bins_follow_the_efficiency_table():
    card = cards.load_detector("darkside50_s2")
    det = lt._detector(str(card.path), card.sha256)
    p = lt._ref(10.0, 10.0)
    counts = det.bin_counts(p)
    e0 = 10.0**2 / (2 * det.targets[-1][1].mass)          # Ar40 line
    eff = np.array([np.interp(e0, det.bin_e, det.bin_eff[:, k]) for k in range(3)])
    total = sum(float(np.sum(n)) for *_, n in det._lines(p))
    assert counts == pytest.approx(eff * total, rel=0.05)  # narrow line: the table at E_0 (Ar36/38 lines differ)


def test_limits_are_nan_outside_the_ranges():
    from nudmsim.figures import FigureOptions, compute

    cr = compute.limit("cresst3-x2nu", FigureOptions(progress=False), masses=[0.3, 8.0, 200.0], ratio=10)
    assert np.isnan(cr.observed[[0, 2]]).all() and np.isfinite(cr.observed[1])
    ds = compute.limit("darkside50-x2nu", FigureOptions(progress=False), masses=[1.0, 10.0], ratio=10)
    assert np.isnan(ds.observed[0]) and np.isfinite(ds.observed[1]) and ds.x_unit == "MeV"
