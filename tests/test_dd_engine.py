"""The general engine pieces the direct-detection move added (issue 8): observables from a table's bin centres,
the [target] single-nucleus / per-isotope form-factor keys, named likelihood kinds on toy cards written here,
named limits, informational and skipped validation checks."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from nudmsim import cards, constants as c
from nudmsim.errors import CardError, NudmsimError
from nudmsim.experiment import Experiment
from nudmsim.registry import CheckEntry, CheckSkipped
from nudmsim.runner import limit_curve, limit_settings

CARDS = Path(__file__).resolve().parents[1] / "detectors"

TOY = """
[card]
name = "toy"
kind = "experiment"
description = "a toy halo detector with a visible-energy spectrum"
processes = ["x-to-nu"]
[source]
card = "shm_xenon1t_2018"
live_days = 100.0
[target]
{target}
[[response]]
stage = "quenching"
model = "constant"
on = "E_R_keV"
to = "E_vis_keV"
value = 0.5
[observables]
E_vis_keV = {axis}
[analysis]
signal = ["x-to-nu"]
{analysis}
[[analysis.sample]]
name = "signal"
process = "signal"
modifiers = [ {{ type = "normfactor", name = "mu" }} ]
[analysis.limit]
plane = "sigma_nc"
process = "x-to-nu"
ratio = 10.0
{limit}
"""

SPECTRUM = "# toy spectrum: rate per (100 t day) with Poisson errors\ncentre_keV,rate,err\n5.0,4.0,2.0\n15.0,1.0,1.0\n25.0,9.0,1.0\n"


def _card(tmp_path, target='material = "Xe"\nmass_kg = 1000.0', axis=None, analysis=None, limit=""):
    (tmp_path / "spec.csv").write_text(SPECTRUM)
    axis = axis or '{ centres = { file = "spec.csv", column = "centre_keV" } }'
    analysis = analysis if analysis is not None else (
        'likelihood = "bin_bound"\nlikelihood_options = { spectrum = { file = "spec.csv", x = "centre_keV", '
        'rate = "rate", error = "err" }, rate_exposure_kg_days = 1.0e5, min_fraction = 0.0 }')
    p = tmp_path / "toy.toml"
    p.write_text(TOY.format(target=target, axis=axis, analysis=analysis, limit=limit))
    return str(p)


# ------------------------------------------------------------------------------------------------
# observables from bin centres
# ------------------------------------------------------------------------------------------------
def test_axis_from_centres_and_extra_edges(tmp_path):
    exp = Experiment.load(_card(tmp_path, axis='{ centres = { file = "spec.csv", column = "centre_keV" }, '
                                              'edges = [1.0, 100.0] }'))
    assert np.allclose(exp.observables["E_vis_keV"].edges, [0.0, 1.0, 10.0, 20.0, 30.0, 100.0])


@pytest.mark.parametrize("axis,msg", [
    ('{ centres = { file = "spec.csv", column = "centre" } }', "no column 'centre'"),
    ('{ centres = { file = "nope.csv", column = "centre_keV" } }', "does not exist"),
    ('{ centres = { file = "spec.csv" } }', "centres"),
    ('{ centres = { file = "spec.csv", column = "rate" } }', "strictly increasing"),
    ('{ centres = { file = "spec.csv", column = "centre_keV" }, width = 1.0 }', "width"),
])
def test_axis_from_centres_errors(tmp_path, axis, msg):
    with pytest.raises(CardError, match=msg):
        cards.load_detector(_card(tmp_path, axis=axis))


# ------------------------------------------------------------------------------------------------
# target keys
# ------------------------------------------------------------------------------------------------
def test_single_nucleus_and_form_factor_keys(tmp_path):
    exp = Experiment.load(_card(tmp_path, target='material = "Xe"\nmass_kg = 1000.0\nsingle_nucleus_A = 131.293'))
    (nuc,) = exp.target.nuclei
    assert nuc.Z == 54 and nuc.A == 131.293 and nuc.mass == pytest.approx(131.293 * c.AMU)
    assert exp.target.n_targets[0] == pytest.approx(1000.0 * c.kg * c.C_LIGHT**2 / (131.293 * c.AMU))
    exp = Experiment.load(_card(tmp_path, target='composition = { H1 = 12, C = 9 }\nmass_kg = 10.0\n'
                                                 'form_factor_by_isotope = { H1 = "none" }\nnucleon_mass = "proton"'))
    assert exp.target.form_factors == ("none", "helm", "helm") and exp.target.nucleon_mass == c.M_PROTON


@pytest.mark.parametrize("target,msg", [
    ('material = "CsI"\nmass_kg = 1.0\nsingle_nucleus_A = 130.0', "one-element material"),
    ('material = "Xe"\nmass_kg = 1.0\nform_factor_by_isotope = { Xe13 = "none" }', "is not an isotope"),
    ('material = "Xe"\nmass_kg = 1.0\nform_factor_by_isotope = { Xe131 = "helmm" }', "choose one of"),
    ('material = "Xe"\nmass_kg = 1.0\nnucleon_mass = "neutron"', "nucleon_mass"),
])
def test_target_key_errors(tmp_path, target, msg):
    with pytest.raises(CardError, match=msg):
        Experiment.load(_card(tmp_path, target=target))


# ------------------------------------------------------------------------------------------------
# the bin_bound kind on a toy spectrum (closed form)
# ------------------------------------------------------------------------------------------------
def test_bin_bound_closed_form(tmp_path):
    """Three bins; counts (rate/err)^2 = 4, 1, 81 in exposures rate/err^2 = 1, 1, 9 (100 t d).  mu_up is the
    smallest N90(n_i) E/e_i / S_i over bins with signal; the card's exposure E = 10 t x 100 d = 10 (100 t d)."""
    exp = Experiment.load(_card(tmp_path, target='material = "Xe"\nmass_kg = 10000.0'))
    assert list(exp.analysis.observed) == [4.0, 1.0, 81.0]
    pt = {"m_X": 60.0, "m_phi": 600.0, "y_X": 1.0, "y_q": 1e-6}
    S = exp.expected("x-to-nu", pt).counts        # the line at 0.5 x 14.4 keV: in the first bin
    assert S[0] > 0 and S[1:].sum() == 0
    spec = exp.workspace(None, point=pt, process="x-to-nu").spec()
    E = 10000.0 * 100.0 / 1e5
    n90 = 0.5 * stats.chi2.ppf(0.9, 2 * (4 + 1))
    assert spec.upper_limit(method="bound").mu_up == pytest.approx(n90 * E / 1.0 / S[0], rel=1e-9)
    assert n90 == pytest.approx(7.99, abs=0.01)   # the textbook 90% upper limit for n = 4
    with pytest.raises(NudmsimError, match="one method, bound"):
        spec.upper_limit(method="plr")


def test_bin_bound_min_fraction_and_rate_bounds(tmp_path):
    opts = ('likelihood = "bin_bound"\nlikelihood_options = { spectrum = { file = "spec.csv", x = "centre_keV", '
            'rate = "rate", error = "err" }, rate_exposure_kg_days = 1.0e5, min_fraction = 0.5, '
            'rate_bounds = [ { range = [0.0, 10.0], rate = 2.0 } ] }')
    exp = Experiment.load(_card(tmp_path, target='material = "Xe"\nmass_kg = 10000.0', analysis=opts,
                                axis='{ centres = { file = "spec.csv", column = "centre_keV" }, edges = [100.0] }'))
    bound = np.asarray(exp.analysis.likelihood["bound"])
    assert bound[0] == pytest.approx(2.0 * 10.0)                     # min(rate bound, Poisson) = 2 x E
    assert math.isinf(bound[-1])                                      # the added bin [30, 100] has no data
    pt = {"m_X": 60.0, "m_phi": 600.0, "y_X": 1.0, "y_q": 1e-6}
    spec = exp.workspace(None, point=pt, process="x-to-nu").spec()
    assert spec.upper_limit(method="bound").mu_up == pytest.approx(20.0 / exp.expected("x-to-nu", pt).counts[0])
    far = {"m_X": 110.0, "m_phi": 1100.0, "y_X": 1.0, "y_q": 1e-6}     # line at ~23 keVee: bin 3 of 4
    assert exp.expected("x-to-nu", far).counts[2] > 0
    exp.workspace(None, point=far, process="x-to-nu").spec().upper_limit(method="bound")


@pytest.mark.parametrize("analysis,msg", [
    ('likelihood = "binwise"', "did you mean 'binwise_table'"),
    ('likelihood = "bin_bound"\nlikelihood_options = { rate_exposure = 1.0 }', "rate_exposure"),
    ('likelihood_options = { table = "x.csv" }', "not used by the poisson likelihood"),
    ('likelihood = "binwise_table"\nlikelihood_options = { table = "xenon1t_2018/xenon1t_2018_binwise_'
     'loglikelihood_official.csv" }', "are not the observables"),
])
def test_likelihood_kind_card_errors(tmp_path, analysis, msg):
    with pytest.raises(CardError, match=msg):
        Experiment.load(_card(tmp_path, analysis=analysis))


# ------------------------------------------------------------------------------------------------
# named limits
# ------------------------------------------------------------------------------------------------
def test_named_limits_and_their_errors(tmp_path):
    xe = Experiment.load("xenon1t_2018")
    assert limit_settings(xe, {}, "si")["plane"] == "sigma_si"
    assert limit_settings(xe, {}, "x2nu")["masses"] == pytest.approx(np.geomspace(20.0, 200.0, 31).tolist())
    assert limit_settings(xe, {}, "x2nu")["method"] == "table"
    with pytest.raises(NudmsimError, match="limits si, x2nu: name one"):
        limit_settings(xe, {})
    with pytest.raises(NudmsimError, match="did you mean 'x2nu'"):
        limit_settings(xe, {}, "x2mu")
    with pytest.raises(NudmsimError, match="choose one of table, delta-chi2"):
        limit_settings(xe, {"method": "plr"}, "si")
    with pytest.raises(NudmsimError, match="no Asimov projection"):
        limit_curve(xe, masses=[30.0], limit="si", projected=True, scheduler="sync", progress=False)
    for lim, msg in (('mass_grid = [20.0, 10.0, 5]', "mass_grid"), ('method = "table"', "the bin_bound likelihood"),
                     ('masses = [1.0]\nmass_grid = [1.0, 2.0, 3]', "given with masses")):
        exp = Experiment.load(_card(tmp_path, limit=lim))
        with pytest.raises(CardError, match=msg):
            limit_settings(exp, {})


# ------------------------------------------------------------------------------------------------
# informational and skipped checks
# ------------------------------------------------------------------------------------------------
def test_informational_and_skipped_checks_never_fail():
    info = CheckEntry("x.info", lambda: 1.56, 1.0, 0.25, "ratio", "a known deviation", informational=True)()
    assert info.passed and info.status == "info" and info.value == 1.56 and info.as_dict()["status"] == "info"

    def missing():
        raise CheckSkipped("package absent")

    skip = CheckEntry("x.skip", missing, 0.0, 0.02, "", "needs a package")()
    assert skip.passed and skip.status == "skip" and math.isnan(skip.value) and "package absent" in skip.description
    normal = CheckEntry("x.fail", lambda: 1.56, 1.0, 0.25, "", "a criterion")()
    assert not normal.passed and normal.status == "" and "status" not in normal.as_dict()


def test_validate_dd_exits_0_and_reports_the_10GeV_point_as_info():
    r = subprocess.run([sys.executable, "-m", "nudmsim", "validate", "dd.si_limit_10GeV", "dd.si_limit_30GeV",
                        "--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    res = {d["name"]: d for d in json.loads(r.stdout[r.stdout.index("["):])}
    assert res["dd.si_limit_10GeV"]["status"] == "info" and res["dd.si_limit_10GeV"]["value"] == \
        pytest.approx(1.558, rel=0.01)
    assert res["dd.si_limit_30GeV"]["passed"] and "status" not in res["dd.si_limit_30GeV"]
