"""COHERENT 2017 fit (nudmsim.analyses.coherent_fit): the published best fit and independent cross-checks."""
import subprocess
import sys

import numpy as np
import pytest

from nudmsim import cards, registry
from nudmsim.analyses import coherent, coherent_fit as cf
from nudmsim.errors import NudmsimError
from nudmsim.paths import data_file
from nudmsim.response.tables import read_csv_table
from nudmsim.stats.asimov import asimov_spec
from nudmsim.stats.likelihood import fit


@pytest.fixture(scope="module")
def card():
    return cards.load_detector("coherent_csi_2017")


@pytest.fixture(scope="module")
def fitted(card):
    return cf.run_fit(card, minos=False)


def test_fitted_cevns_count_matches_published(fitted):
    """Acceptance criterion: CEvNS count fitted to the released 2D beam-on data within 134 +- 22."""
    res, res1, spec, model = fitted
    assert res.valid
    assert abs(res.values["n_cevns"] - 134.0) <= 22.0
    # the registered validation check runs the same fit and passes
    r = registry.get_check("coherent.fit_cevns_count")()
    assert r.passed and r.value == pytest.approx(res.values["n_cevns"], rel=1e-3)
    # its error: between the published 22 and the raw counting error sqrt(C + AC) of the whole window
    assert 22.0 * 0.9 < res.errors["n_cevns"] < np.sqrt(spec.observed.sum() + model.ac.sum())


def test_1d_and_factorised_background_agree_within_errors(fitted, card):
    res, res1, spec, model = fitted
    assert abs(res1.values["n_cevns"] - res.values["n_cevns"]) < res1.errors["n_cevns"]
    resf = fit(cf.fit_spec(model, steady_state="factorised"))
    assert abs(resf.values["n_cevns"] - 134.0) <= 22.0
    assert abs(resf.values["n_cevns"] - res.values["n_cevns"]) < res.errors["n_cevns"]


def test_templates_agree_with_the_public_template_api(card):
    """Acceptance applied in 1-PE bins then grouped (here) == pe_time_template's 'accepted' (H1's path), and
    a QF knot reproduces the template computed directly at that QF; between knots within 1% of the total."""
    model = cf.model_for(card)
    t = coherent.pe_time_template("cevns", {}, card)
    np.testing.assert_allclose(model.cevns({}), t["accepted"], rtol=1e-10, atol=1e-12)
    knots = model.templates.qf_knots
    q = knots[15]
    np.testing.assert_allclose(model.cevns({"qf": q}), coherent.pe_time_template("cevns", {}, card, qf=q)["accepted"],
                               rtol=1e-9, atol=1e-12)
    qm = 0.5 * (knots[10] + knots[11])
    direct = coherent.pe_time_template("cevns", {}, card, qf=qm)["accepted"]
    assert model.cevns({"qf": qm}).sum() == pytest.approx(direct.sum(), rel=0.01)
    assert np.abs(model.cevns({"qf": qm}) - direct).sum() < 0.02 * direct.sum()


def test_prompt_neutron_component_closed_form(card):
    """Neutrons = sum_i pdf_i x exposure x acceptance_i, with the acceptance table derived independently
    (csi2018_acceptance_nominal_1PE.csv), and the time shape = the released prompt-neutron pdf."""
    model = cf.model_for(card)
    pdf = read_csv_table(data_file("coherent_csi_2017", "csi2018_prompt_neutron_PE_pdf.csv"))
    acc = read_csv_table(data_file("coherent_csi_2017", "csi2018_acceptance_nominal_1PE.csv"))
    n_acc = np.interp(pdf["pe_center"], acc["pe_center"], acc["acceptance"], right=acc["acceptance"][-1])
    expect = np.sum(pdf["prompt_neutrons_per_GWh"] * n_acc) * 7.47594
    nt = model.neutrons({})
    assert nt.sum() == pytest.approx(expect, rel=1e-4)
    tp = read_csv_table(data_file("coherent_csi_2017", "csi2018_arrival_time_pdfs.csv"))["pdf_prompt_neutrons"]
    np.testing.assert_allclose(nt.sum(0) / nt.sum(), tp / tp.sum(), rtol=1e-9)


def test_fit_closure_on_asimov_data(card):
    """Asimov data generated with n_cevns = 100, QF shifted by +1 sigma: the fit returns them."""
    model = cf.model_for(card)
    spec = cf.fit_spec(model, steady_state="factorised")
    truth = spec.nominal(n_cevns=100.0, qf=model.qf0 + model.qf_err)
    a = asimov_spec(spec, truth)
    a = a.with_data(a.observed, global_obs={"qf": truth["qf"]})
    res = fit(a)
    assert res.values["n_cevns"] == pytest.approx(100.0, rel=2e-3)
    assert res.values["qf"] == pytest.approx(truth["qf"], rel=2e-3)
    assert res.twice_nll == pytest.approx(0.0, abs=1e-4)


def test_data_binning_and_totals(card):
    rel = cf.load_release(card)
    assert rel.c_on.shape == (25, 24) and rel.c_on.sum() == 1207 and rel.ac_on.sum() == 1032
    assert rel.exposure_GWh == pytest.approx(7.47594)


def test_fit_refuses_projection_card_and_bad_options():
    fut = cards.load_detector("coherent_csi_future")
    with pytest.raises(NudmsimError, match="released data"):
        cf.run_fit(fut)
    with pytest.raises(NudmsimError, match="steady-state model"):
        cf.fit_spec(cf.model_for(cards.load_detector("coherent_csi_2017")), steady_state="flat")


def test_cli_fit_prints_and_plots(tmp_path):
    png = tmp_path / "fit.png"
    out = subprocess.run([sys.executable, "-m", "nudmsim", "fit", "coherent2017", "--plot", str(png)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "CEvNS events (fit, accepted)" in out.stdout and "-2lnL" in out.stdout
    assert png.stat().st_size > 10_000
    bad = subprocess.run([sys.executable, "-m", "nudmsim", "fit", "coherent2017", "--set", "nope=1"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "nope" in bad.stderr
