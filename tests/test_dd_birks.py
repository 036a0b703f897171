"""Birks quenching and stopping powers (issue 3, Borexino card)."""
import numpy as np
import pytest

from nudmsim import constants as c
from nudmsim.response import birks as B
from nudmsim.response import dd_detectors
from nudmsim.response.binwise import read_table
from nudmsim.paths import data_file

PC = {6: 9, 1: 12}


@pytest.mark.parametrize("T_keV,pstar", [(1000.0, 260.8), (3000.0, 117.2)])
def test_water_stopping_vs_nist_pstar(T_keV, pstar):
    """Bragg additivity of the ICRU-49 H and O coefficients vs NIST PSTAR liquid water [MeV cm^2/g]."""
    assert B.proton_stopping_power(T_keV, {1: 2, 8: 1}, 1.0) == pytest.approx(pstar, rel=0.04)


def test_no_quenching_limits():
    q0 = B.BirksQuenching(0.0, PC, 0.876)
    # kB = 0: only nuclear stopping removes light, negligible for MeV protons
    assert q0.visible(1000.0) == pytest.approx(1000.0, rel=2e-3)
    q = B.BirksQuenching(0.0103, PC, 0.876)
    T = np.geomspace(1.0, 1e4, 200)
    ev = q.visible(T)
    assert np.all(np.diff(ev) > 0) and np.all(ev < T)
    assert q.recoil_for_visible(q.visible(700.0)) == pytest.approx(700.0, rel=1e-6)
    # local slope dE_vis/dT = 1/(1 + kB dE/dx) where nuclear stopping is negligible (85 MeV: 0.93)
    S = B.proton_stopping_power(8.5e4, PC, 0.876)
    assert (q.visible(9e4) - q.visible(8e4)) / 1e4 == pytest.approx(1 / (1 + 0.0103 * S), rel=2e-3)


def test_card_kB_reproduces_the_po210_alpha_peak():
    """The card's kB was calibrated on the Po-210 peak of the Borexino spectrum: recompute the peak here."""
    _, a = read_table(data_file("borexino", "borexino_nature2018_fig2a_spectrum_pyCEvNS.csv"))
    e, r = a[:, 2], a[:, 4]
    win = (e > 330) & (e < 500)
    half = win & (r > 0.5 * r[win].max())
    peak = np.sum(e[half] * r[half]) / np.sum(r[half])
    det = dd_detectors.load("borexino")
    qa = B.BirksQuenching(det.kB, det.composition, det.density, Z_ion=2, mass_keV=3727379.4)
    assert qa.visible(5304.33) == pytest.approx(peak, rel=0.02)


def test_proton_light_vs_cecil_ne213():
    """Cecil et al. (1979) NE-213 proton light L = 0.83 T - 2.82 (1 - exp(-0.25 T^0.93)) [MeV], T in 1-3 MeV."""
    det = dd_detectors.load("borexino")
    for T in (1.0, 2.0, 3.0):
        cecil = 0.83 * T - 2.82 * (1 - np.exp(-0.25 * T**0.93))
        assert det.visible(np.array([T * c.MeV]), 0)[0] / 1000.0 == pytest.approx(cecil, rel=0.15)


def test_carbon_much_more_quenched_than_protons():
    det = dd_detectors.load("borexino")
    E = np.array([0.5]) * c.MeV
    qp = det.visible(E, 0)[0] / 500.0
    qc = det.visible(E, 1)[0] / 500.0
    assert qc < 0.5 * qp and 0.005 < qc < 0.1
