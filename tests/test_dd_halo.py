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


# ------------------------------------------------------------------------------------------------
# the halo source kind of experiment cards (issue 8)
# ------------------------------------------------------------------------------------------------
TOY = """
[card]
name = "toy_argon"
kind = "experiment"
description = "a toy argon detector on the halo"
processes = ["wimp-si", "x-to-nu"]
[source]
card = "shm_xenon1t_2018"
live_days = {days}
[target]
material = "Ar"
mass_kg = 1000.0
[[response]]
stage = "efficiency"
model = "step"
on = "E_R_keV"
threshold = 20.0
[observables]
E_R_keV = {{ range = [0.0, 200.0], width = 5.0 }}
"""


def _toy(tmp_path, days="365.25", extra=""):
    p = tmp_path / "toy_argon.toml"
    p.write_text(TOY.format(days=days).replace("live_days", extra + "live_days", 1) if extra else
                 TOY.format(days=days))
    return p


def test_halo_source_kind_gives_exposure_and_rates(tmp_path):
    """A card written here: argon (natural isotopes), 1 t x 1 yr on the XENON1T halo.  The quadrature nodes of
    wimp-si sum to n_targets x rate x live time, the rate being wimp_si.total_rate (one Gauss-Legendre
    integral of the summed spectrum, a second method), and the step efficiency keeps E_R >= 20 keV only."""
    from nudmsim import constants as c
    from nudmsim.experiment import Experiment
    from nudmsim.processes import wimp_si as W
    from nudmsim.sources.halo import HaloSource

    exp = Experiment.load(str(_toy(tmp_path)))
    assert isinstance(exp.source, HaloSource) and exp.source.live_time == pytest.approx(365.25 * c.DAY)
    assert exp.source.halo == H.load_halo("shm_xenon1t_2018")
    assert exp.source.exposure_kg_days(exp.target.mass_kg) == pytest.approx(365250.0)
    pt = {"m_chi": 100.0, "sigma_n": 1e-45}
    nodes = exp.generator("wimp-si").nodes(pt, exp)
    m, nuclei = 100.0 * c.GeV, list(exp.target.nuclei)
    emax = max(float(W.e_max(m, n.mass, exp.source.halo.v_max)) for n in nuclei)
    per_kg = W.total_rate(m, 1e-45 * c.cm**2, nuclei, exp.source.halo, 0.0, emax, order=400)
    assert nodes.total == pytest.approx(per_kg * 1000.0 * 365.25 * c.DAY, rel=1e-5)
    above = W.total_rate(m, 1e-45 * c.cm**2, nuclei, exp.source.halo, 20.0 * c.keV, 200.0 * c.keV, order=200)
    assert exp.expected("wimp-si", pt).total == pytest.approx(above * 1000.0 * 365.25 * c.DAY, rel=1e-4)
    # the exposure scales the rates linearly
    exp2 = Experiment.load(str(_toy(tmp_path / "..", days="730.5")))
    assert exp2.expected("wimp-si", pt).total == pytest.approx(2 * exp.expected("wimp-si", pt).total, rel=1e-12)
    s = exp.source_summary()
    assert s["live time"] == (365.25, "days") and "v_esc = 544" in s["halo shm_xenon1t_2018"][0]


@pytest.mark.parametrize("days,extra,msg", [
    ("365.25", "x", "source.xlive_days"),          # unknown key (and the required one missing)
    ("0", "", "source.live_days"),
    ("-3", "", "source.live_days"),
    ('"a year"', "", "source.live_days"),
])
def test_halo_source_table_is_strict(tmp_path, days, extra, msg):
    from nudmsim import cards

    with pytest.raises(CardError, match=msg.replace(".", r"\.")):
        cards.load_detector(str(_toy(tmp_path, days, extra)))


def test_pi_dar_process_on_a_halo_source_is_refused(tmp_path):
    from nudmsim.experiment import Experiment

    exp = Experiment.load(str(_toy(tmp_path)))
    with pytest.raises(NudmsimError, match="needs a source of kind pi_dar.*'halo'"):
        exp.generator("cevns")
