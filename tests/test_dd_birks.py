"""Birks quenching and stopping powers (issue 3, Borexino card; on the engine's quenching/birks stage with
recoil = "target" since issue 8), and the kB systematic (issue 8 part 10)."""
import numpy as np
import pytest

from nudmsim import constants as c
from nudmsim.experiment import Experiment
from nudmsim.paths import data_file
from nudmsim.response import birks as B
from nudmsim.response.stage import Batch
from nudmsim.response.tables import read_table
from nudmsim.validation.direct_detection import proton_threshold_keV

PC = {6: 9, 1: 12}


@pytest.fixture(scope="module")
def bx():
    return Experiment.load("borexino")


def _birks(bx):
    return next(s for s in bx.stages if s.family == "quenching" and s.model == "birks")


def visible(bx, T_MeV, target: int, values=None) -> np.ndarray:
    """Light [keVee] of recoils of kinetic energy T [MeV] of target isotope ``target`` (0 p, 1 C12, 2 C13)."""
    st = _birks(bx)
    T = np.atleast_1d(np.asarray(T_MeV, float)) * c.MeV / c.keV
    b = st.expect(Batch({"E_R_keV": T, "target_id": np.full(len(T), float(target))}, np.ones(len(T))), values)
    return np.asarray(b[st.to])


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
    st = _birks(Experiment.load("borexino"))
    qa = B.BirksQuenching(st.kB, dict(st.composition), st.density, Z_ion=2, mass_keV=3727379.4)
    assert qa.visible(5304.33) == pytest.approx(peak, rel=0.02)


def test_proton_light_vs_cecil_ne213(bx):
    """Cecil et al. (1979) NE-213 proton light L = 0.83 T - 2.82 (1 - exp(-0.25 T^0.93)) [MeV], T in 1-3 MeV."""
    assert bx.target.nuclei[0].name == "H1"
    for T in (1.0, 2.0, 3.0):
        cecil = 0.83 * T - 2.82 * (1 - np.exp(-0.25 * T**0.93))
        assert visible(bx, T, 0)[0] / 1000.0 == pytest.approx(cecil, rel=0.15)


def test_carbon_much_more_quenched_than_protons(bx):
    assert [n.name for n in bx.target.nuclei] == ["H1", "C12", "C13"]
    qp = visible(bx, 0.5, 0)[0] / 500.0
    qc = visible(bx, 0.5, 1)[0] / 500.0
    assert qc < 0.5 * qp and 0.005 < qc < 0.1


def test_per_target_stage_equals_the_single_ion_tables(bx):
    """recoil = "target" picks, row by row, the Birks table of the row's isotope: the same numbers as the
    stand-alone tables of a proton and of a C12 ion (response/birks.py)."""
    st = _birks(bx)
    T = np.geomspace(0.01, 30.0, 50)   # MeV
    comp = dict(st.composition)
    p = B.BirksQuenching(0.0103, comp, 0.876, 1, c.M_PROTON / c.keV).visible(T * 1000.0)
    c12 = bx.target.nuclei[1]
    q12 = B.BirksQuenching(0.0103, comp, 0.876, 6, c12.mass / c.keV).visible(T * 1000.0)
    assert np.allclose(visible(bx, T, 0), p, rtol=1e-6)
    assert np.allclose(visible(bx, T, 1), q12, rtol=1e-6)
    # mixed rows in one batch keep their own ions
    b = st.expect(Batch({"E_R_keV": np.array([500.0, 500.0]), "target_id": np.array([1.0, 0.0])}, np.ones(2)))
    assert b[st.to][0] < 0.5 * b[st.to][1]


def test_kB_systematic_moves_the_proton_threshold_by_about_8_percent(bx):
    """Issue 8 part 10: kB = 0.009-0.0115 cm/MeV (card: 0.0103 +- 0.0013) moves the proton recoil that gives
    70 keVee by about +-8%; larger kB = more quenching = a higher threshold."""
    nu = {n.name: n for n in _birks(bx).nuisances()}
    assert set(nu) == {"qf_kB"} and nu["qf_kB"].nominal == 0.0103 and nu["qf_kB"].error_hi == 0.0013
    t0, up, down = proton_threshold_keV(0.0), proton_threshold_keV(1.0), proton_threshold_keV(-1.0)
    assert t0 == pytest.approx(484.0, rel=0.01)            # docs: 70 keVee = a 484 keV proton
    assert 0.06 < up / t0 - 1 < 0.10 and 0.06 < 1 - down / t0 < 0.10
    # the same through the kB value directly (a table built at kB = 0.0116)
    q = B.BirksQuenching(0.0116, dict(_birks(bx).composition), 0.876, 1, c.M_PROTON / c.keV)
    assert q.recoil_for_visible(70.0) == pytest.approx(up, rel=1e-3)
