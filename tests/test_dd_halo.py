"""Halo (issue 3): closed-form eta vs quadrature and Monte Carlo, normalisation, card errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.special import erf

from nudmsim.errors import CardError, NudmsimError
from nudmsim.sources import halo as H

KM = H.KM_S


def test_normalisation_is_one_not_nesc_squared():
    h = H.load_halo("shm_xenon1t_2018")
    z = 544.0 / 220.0
    nesc = erf(z) - 2 * z * math.exp(-z * z) / math.sqrt(math.pi)
    assert h.n_esc == pytest.approx(nesc, rel=1e-14)
    assert h.n_esc**2 == pytest.approx(0.98677, abs=1e-5)  # the factor of the reference spectrum (data README)
    assert h.speed_moment(0) == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 800.0), st.floats(150.0, 300.0), st.floats(0.0, 400.0), st.floats(350.0, 700.0))
def test_eta_closed_form_equals_quadrature(vmin, v0, ve, vesc):
    h = H.Halo(v0=v0 * KM, v_earth=ve * KM, v_esc=vesc * KM)
    quad = h.speed_moment(-1, vmin * KM, order=96)
    assert h.eta(vmin * KM) == pytest.approx(quad, rel=1e-6, abs=1e-9 * h.eta(0.0))


def test_eta_and_moments_vs_monte_carlo():
    h = H.Halo()
    rng = np.random.default_rng(11)
    v = h.sample_velocity(300_000, rng)
    s = np.linalg.norm(v, axis=1)
    assert s.max() <= h.v_max * (1 + 1e-12)
    gal = v + np.array([0, 0, h.v_earth])
    assert np.linalg.norm(gal, axis=1).max() < h.v_esc
    for vmin in (0.0, 200 * KM, 450 * KM, 650 * KM):
        g = np.where(s > vmin, 1 / s, 0.0)
        err = g.std() / math.sqrt(len(g))
        assert abs(g.mean() - h.eta(vmin)) < 5 * err
    for n in (1, 2):
        x = s**n
        assert abs(x.mean() - h.speed_moment(n)) < 5 * x.std() / math.sqrt(len(x))


def test_isotropic_limit_matches_maxwellian():
    h = H.Halo(v_earth=0.0, v_esc=1e4 * KM)  # effectively untruncated: eta(0) = 2/(sqrt(pi) v0)
    assert h.eta(0.0) == pytest.approx(2 / (math.sqrt(math.pi) * h.v0), rel=1e-9)


def _card(tmp_path, vesc):
    p = tmp_path / "halo.toml"
    p.write_text(f'[card]\nname="h"\ndescription="d"\nkind="halo"\n[halo]\nrho_GeV_cm3=0.3\nv0_km_s=220\n'
                 f'v_esc_km_s={vesc}\nv_earth_km_s=232\n')
    return str(p)


@pytest.mark.parametrize("vesc", ["0", "-10"])
def test_vesc_not_positive_names_the_key(tmp_path, vesc):
    with pytest.raises(CardError, match="v_esc_km_s"):
        H.load_halo(_card(tmp_path, vesc))


def test_bad_halo_values():
    with pytest.raises(NudmsimError, match="v0"):
        H.Halo(v0=float("nan"))
    with pytest.raises(NudmsimError, match="unknown source"):
        H.load_halo("no_such_halo")
