"""COHERENT CsI[Na] 2017 through the experiment engine: templates, events, the fit of the released data and the
nu -> X limits, each against something independent (the published numbers, closed forms, a second method)."""
import subprocess
import sys

import numpy as np
import pytest
from scipy import optimize

from nudmsim import cards, registry
from nudmsim.errors import CardError, NudmsimError, ParameterError
from nudmsim.experiment import Experiment
from nudmsim.generate import make_rng
from nudmsim.models import planes
from nudmsim.paths import data_file
from nudmsim.response.tables import read_csv_table
from nudmsim.runner import fit_measurement, limit_curve, limit_point, limit_settings
from nudmsim.stats.asimov import asimov_spec, expected_limit
from nudmsim.stats.likelihood import fit


@pytest.fixture(scope="module")
def exp():
    return Experiment.load("coherent_csi_2017")


# ------------------------------------------------------------------------------------------------
# templates
# ------------------------------------------------------------------------------------------------
def test_sm_prediction_matches_published(exp):
    assert exp.expected("cevns").total == pytest.approx(173.0, rel=0.15)       # Science 2017: 173 +- 48


def test_template_shape_and_quenching_nuisance(exp):
    ex = exp.expected("cevns")
    assert ex.counts.shape == (25, 24)
    assert np.allclose(exp.observables["pe"].edges, np.arange(0, 51, 2))
    raw = exp.expected_without("cevns")
    assert np.all(ex.counts <= raw + 1e-12) and raw.sum() > 3 * ex.total
    # lower QF -> fewer PE -> fewer accepted events
    assert exp.expected("cevns", values={"qf": 0.07}).total < ex.total < exp.expected("cevns",
                                                                                        values={"qf": 0.10}).total


def test_accepted_template_equals_release_acceptance_table(exp):
    """Acceptance on the raw (before-efficiency) spectrum in 1-PE bins with the acceptance table derived
    independently (csi2018_acceptance_nominal_1PE.csv) reproduces the engine's accepted template."""
    from nudmsim.response.stage import Batch

    acc = read_csv_table(data_file("coherent_csi_2017", "csi2018_acceptance_nominal_1PE.csv"))
    nodes = exp._nodes("cevns", exp.point("cevns"))
    chain = [s for s in exp.stages if s.family != "efficiency"]
    rows = nodes
    for st in chain:
        rows = st.expect(rows)
    pe = np.asarray(rows["pe"])
    fine = np.histogram(pe, np.arange(0, 51), weights=rows.weight)[0]
    eff = np.interp(np.arange(50) + 0.5, acc["pe_center"], acc["acceptance"], right=acc["acceptance"][-1])
    assert (fine * eff).sum() == pytest.approx(exp.expected("cevns").total, rel=2e-4)
    assert isinstance(rows, Batch)


def test_prompt_neutron_sample_closed_form(exp):
    """Neutrons = sum_i pdf_i x exposure x acceptance_i, and the time shape = the released prompt-neutron pdf."""
    ws = exp.workspace("fit")
    nt = ws.sample("neutrons").nominal
    pdf = read_csv_table(data_file("coherent_csi_2017", "csi2018_prompt_neutron_PE_pdf.csv"))
    acc = read_csv_table(data_file("coherent_csi_2017", "csi2018_acceptance_nominal_1PE.csv"))
    n_acc = np.interp(pdf["pe_center"], acc["pe_center"], acc["acceptance"], right=acc["acceptance"][-1])
    assert nt.sum() == pytest.approx(np.sum(pdf["prompt_neutrons_per_GWh"] * n_acc) * 7.47594, rel=1e-4)
    tp = read_csv_table(data_file("coherent_csi_2017", "csi2018_arrival_time_pdfs.csv"))["pdf_prompt_neutrons"]
    np.testing.assert_allclose(nt.sum(0) / nt.sum(), tp / tp.sum(), rtol=1e-9)


def test_data_binning_and_totals(exp):
    ws = exp.workspace("fit")
    assert ws.observed.shape == (25, 24) and ws.observed.sum() == 1207
    off = [m for m in ws.sample("steady_state").modifiers if m.type == "onoff"][0].data["off"]
    assert off.sum() == 1032


def test_signal_rate_proportional_to_sigma_nc(exp):
    """At fixed masses the nu->X rate scales like (y_X y_p)^2, i.e. like sigma_NC: doubling y_X and tripling
    y_q multiplies both the template and sigma_NC by 36."""
    plane = planes.get("sigma_nc")
    p = plane.point(8.0, 3.0, {})
    p2 = dict(p, y_X=2 * p["y_X"], y_q=3 * p["y_q"])
    assert plane.y(p2) / plane.y(p) == pytest.approx(36.0, rel=1e-12)
    np.testing.assert_allclose(exp.expected("nu-to-x", p2).counts, 36.0 * exp.expected("nu-to-x", p).counts,
                               rtol=1e-10, atol=1e-300)


def test_parameter_errors(exp):
    with pytest.raises(ParameterError, match="kinematic reach.*52.8"):
        exp.expected("nu-to-x", {"m_X": 60.0})
    with pytest.raises(ParameterError, match="m_phi"):
        exp.expected("nu-to-x", {"m_phi": float("nan")})
    with pytest.raises(NudmsimError, match="nuisance"):
        exp.expected("cevns", values={"qff": 0.1})


def test_card_errors_name_file_and_key(tmp_path):
    text = cards.load_detector("coherent_csi_2017").text
    p = tmp_path / "bad_csi.toml"
    for old, new, key in (("mass_kg = 14.57", "mass_kg = -1.0", "target.mass_kg"),
                          ("width = 2.0, label", "width = 3.0, label", "observables.pe.width"),
                          ('form_factor = "klein_nystrand"', 'form_factor = "gauss"', "target.form_factor"),
                          ("baseline_m = 19.3", "baselin_m = 19.3", "source.baselin_m"),
                          ('value = "AC_beamOn" }\ntreatment = "on_off"', 'value = "AC_beamOn" }\ntreatment = "onoff"',
                           "treatment")):
        assert old in text, old
        p.write_text(text.replace(old, new, 1))
        with pytest.raises(CardError, match=rf"bad_csi.toml.*{key}"):
            Experiment(cards.load_detector(str(p)))


# ------------------------------------------------------------------------------------------------
# events
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("process,params", [("cevns", {}), ("nu-to-x", {}),
                                            ("nu-to-x", {"m_X": 35.0, "m_phi": 350.0})])
def test_generator_agrees_with_quadrature(exp, process, params):
    s = exp.generate(process, params, 300_000, make_rng(11))
    ev = s.events
    wt = ev["weight_truth"].to_numpy()
    ex = exp.expected(process, params)
    err = wt.std(ddof=1) * np.sqrt(len(wt))
    assert abs(wt.sum() - ex.interactions) < 4 * err and err / ex.interactions < 0.01
    assert wt.max() / wt.mean() < 10          # importance sampling keeps weights tame
    w = ev["weight"].to_numpy()
    pe_e, t_e = exp.observables["pe"].edges, exp.observables["t_us"].edges
    h = np.histogram2d(ev["pe"].to_numpy(), ev["t_us"].to_numpy(), [pe_e, t_e], weights=w)[0]
    h2 = np.histogram2d(ev["pe"].to_numpy(), ev["t_us"].to_numpy(), [pe_e, t_e], weights=w**2)[0]
    for axis in (0, 1):
        mc, var, ref = h.sum(axis), h2.sum(axis), ex.counts.sum(axis)
        sel = ref > 1e-3 * ref.max()
        pulls = (mc[sel] - ref[sel]) / np.sqrt(var[sel])
        assert np.sum(pulls**2) / sel.sum() < 2.5, pulls


def test_events_are_physical(exp):
    from nudmsim import targets
    from nudmsim.processes import nu_to_x as nx

    ev = exp.generate("nu-to-x", {"m_X": 20.0, "m_phi": 60.0}, 50_000, make_rng(5)).events
    e_nu = ev["E_nu_MeV"].to_numpy()
    for i, name in enumerate(("Cs133", "I127")):
        sel = ev["target_id"].to_numpy() == i
        lo, hi = nx.recoil_range(e_nu[sel], 20.0, targets.isotope(name).mass)
        er = ev["E_R_keV"].to_numpy()[sel] / 1000.0
        assert np.all(er >= lo * (1 - 1e-9)) and np.all(er <= hi * (1 + 1e-9))
    assert np.all(e_nu >= 20.0) and np.all(e_nu <= 52.83)
    assert np.allclose(e_nu[ev["flavour"].to_numpy() == 0], 29.79, atol=0.01)
    eff = ev["weight"].to_numpy() / ev["weight_truth"].to_numpy()
    assert np.all((eff >= 0) & (eff <= 0.6655 + 1e-12))


def test_michel_sampling_is_exact_inverse_cdf(exp):
    """For delayed events, (C(E_nu) - C(E_min)) / (1 - C(E_min)) is uniform (probability integral transform)."""
    from scipy.stats import kstest

    from nudmsim import targets
    from nudmsim.processes import nu_to_x as nx
    from nudmsim.sources import sns

    ev = exp.generate("nu-to-x", {}, 300_000, make_rng(8)).events
    fl = ev["flavour"].to_numpy()
    masses = np.array([targets.isotope(n).mass for n in ("Cs133", "I127")])[ev["target_id"].to_numpy()]
    e_min = nx.e_nu_min(ev["E_R_keV"].to_numpy() / 1000.0, 10.0, masses)
    for f in (sns.NU_E, sns.NU_MU_BAR):
        s = fl == f
        c0 = sns.michel_cdf(f, e_min[s])
        v = (sns.michel_cdf(f, ev["E_nu_MeV"].to_numpy()[s]) - c0) / (1 - c0)
        assert kstest(v, "uniform").pvalue > 1e-3


def test_same_events_for_any_thread_count(exp):
    import numba

    n0 = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = exp.generate("cevns", {}, 20_000, make_rng(99)).events
        numba.set_num_threads(n0)
        b = exp.generate("cevns", {}, 20_000, make_rng(99)).events
    finally:
        numba.set_num_threads(n0)
    for k in a.fields:
        assert np.array_equal(a[k].to_numpy(), b[k].to_numpy()), k


def test_reweight_sm_sample_to_nu_to_x(exp):
    """One SM sample reweighted to nu->X reproduces the nu->X quadrature total and accepted count."""
    p = {"m_X": 5.0, "m_phi": 50.0}
    ev = exp.generate("cevns", {}, 400_000, make_rng(17)).events
    gen = exp.generator("nu-to-x")
    truth = {k: ev[k].to_numpy() for k in ("E_nu_MeV", "E_R_keV", "target_id")}
    w = gen.reweight(dict(truth, weight=ev["weight_truth"].to_numpy()), exp, "cevns", {}, p)
    ex = exp.expected("nu-to-x", p)
    err = w.std(ddof=1) * np.sqrt(len(w))
    assert abs(w.sum() - ex.interactions) < 4 * err and err / ex.interactions < 0.05
    acc = gen.reweight(dict(truth, weight=ev["weight"].to_numpy()), exp, "cevns", {}, p).sum()
    assert acc == pytest.approx(ex.total, rel=0.05)


# ------------------------------------------------------------------------------------------------
# the fit of the released data
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted(exp):
    return fit_measurement(exp, "fit", minos=False)


def test_fitted_cevns_count_matches_published(exp, fitted):
    """Acceptance criterion: CEvNS count fitted to the released 2D beam-on data within 134 +- 22."""
    assert fitted.valid and abs(fitted.value - 134.0) <= 22.0
    r = registry.get_check("coherent.fit_cevns_count")()
    assert r.passed and r.value == pytest.approx(fitted.value, rel=1e-3)
    # its error: between the published 22 and the raw counting error sqrt(C + AC) of the whole window
    assert 22.0 * 0.9 < fitted.error < np.sqrt(1207 + 1032)


def test_factorised_and_pe_only_fits_agree_within_errors(exp, fitted):
    """Two other background models: factorised steady state; the time-integrated (PE only) likelihood."""
    f = fitted.cross_checks["fit_factorised"]
    assert abs(f[0] - 134.0) <= 22.0 and abs(f[0] - fitted.value) < fitted.error
    ws = exp.workspace("fit")
    pe_only = _project(ws, axis=1)
    r1 = fit(pe_only.spec())
    assert abs(r1.values["n_cevns"] - fitted.value) < r1.errors["n_cevns"]


def _project(ws, axis):
    """The workspace summed over one axis (histograms, templates and control counts alike)."""
    from dataclasses import replace

    from nudmsim.stats.workspace import Modifier, Sample

    def s(a):
        return np.asarray(a).sum(axis)

    samples = []
    for smp in ws.samples:
        mods = []
        for m in smp.modifiers:
            d = dict(m.data)
            if "templates" in d:
                d["templates"] = [s(t) for t in d["templates"]]
            if "off" in d:
                d["off"] = s(d["off"])
            mods.append(Modifier(m.type, m.name, d))
        samples.append(Sample(smp.name, s(smp.nominal), tuple(mods), smp.unit_normalised))
    return replace(ws, observed=s(ws.observed), samples=tuple(samples), mask=np.asarray(ws.mask).any(axis))


def test_fit_closure_on_asimov_data(exp):
    """Asimov data generated with n_cevns = 100, QF shifted by +1 sigma: the fit returns them."""
    spec = exp.workspace("fit_factorised").spec()
    truth = spec.nominal(n_cevns=100.0, qf=1.0)
    a = asimov_spec(spec, truth)
    a = a.with_data(a.observed, global_obs={"qf": 1.0})
    res = fit(a)
    assert res.values["n_cevns"] == pytest.approx(100.0, rel=2e-3)
    assert res.values["qf"] == pytest.approx(1.0, abs=5e-3)
    assert res.twice_nll == pytest.approx(0.0, abs=1e-4)


def test_fit_refuses_projection_card():
    with pytest.raises(NudmsimError, match="projection"):
        fit_measurement(Experiment.load("coherent_csi_future"), "fit")


def test_cli_fit_prints_and_plots(tmp_path):
    png = tmp_path / "fit.png"
    out = subprocess.run([sys.executable, "-m", "nudmsim", "fit", "coherent2017", "--plot", str(png)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "n_cevns (fit)" in out.stdout and "-2lnL" in out.stdout and "published 134" in out.stdout
    assert png.stat().st_size > 10_000
    bad = subprocess.run([sys.executable, "-m", "nudmsim", "fit", "coherent2017", "--set", "nope=1"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "nope" in bad.stderr


# ------------------------------------------------------------------------------------------------
# limits
# ------------------------------------------------------------------------------------------------
def test_sigma_nc_limit_independent_of_reference_couplings(exp):
    cfg = limit_settings(exp, {})
    a = limit_point((str(exp.card.path), 8.0, 3.0, False, cfg, {}))
    b = limit_point((str(exp.card.path), 8.0, 3.0, False, cfg, {"y_X": 1e-5, "y_q": 2e-4}))
    assert np.isfinite(a["observed"]) and a["observed"] > 0
    p0 = planes.get("sigma_nc").point(8.0, 3.0, {})
    assert b["y_ref"] / a["y_ref"] == pytest.approx((1e-5 / p0["y_X"] * 2e-4 / p0["y_q"]) ** 2, rel=1e-9)
    assert b["observed"] == pytest.approx(a["observed"], rel=2e-3)


def test_expected_limit_matches_fisher_information_without_systematics(exp):
    """Nuisances fixed, steady state known (factorised, fixed normalisation): the Asimov median solves the
    closed-form q_A = 1.2816^2, close to 1.2816 sigma with 1/sigma^2 = sum_i s_i^2 / b_i (Fisher)."""
    pt = planes.get("sigma_nc").point(5.0, 3.0, {})
    spec = exp.workspace("limit", point=pt, process="nu-to-x").spec()
    spec = spec.with_fixed(**{n: spec.nominal()[n] for n in spec.names if n != "mu"})
    el = expected_limit(spec, truncation="none")
    comps = spec.component_counts(spec.nominal(mu=1.0))
    s = comps["signal"][spec.mask]
    b = sum(v for k, v in comps.items() if k != "signal")[spec.mask]
    q_a = lambda mu: 2 * np.sum(mu * s - b * np.log1p(mu * s / b)) - 1.2815516**2  # noqa: E731
    assert el.median == pytest.approx(optimize.brentq(q_a, 1e-6, 1e3), rel=1e-3)
    sigma = 1.0 / np.sqrt(np.sum(s**2 / b))
    assert el.median == pytest.approx(1.2815516 * sigma, rel=0.06)
    assert el.bands["+1"] == pytest.approx(2.2815516 * sigma, rel=0.08)


def test_projection_card_is_more_sensitive_and_bands_are_ordered(exp):
    fut = Experiment.load("coherent_csi_future")
    now = limit_point((str(exp.card.path), 10.0, 3.0, True, limit_settings(exp, {}), {}))
    f = limit_point((str(fut.card.path), 10.0, 3.0, True, limit_settings(fut, {}), {}))
    assert f["expected"] < now["expected"]
    # 10x exposure: at best sqrt(10) better (statistics only); systematics (flux, QF) limit the gain
    assert f["expected"] > now["expected"] / np.sqrt(10.0) * 0.95
    b = f["bands"]
    assert b["-2"] <= b["-1"] < f["expected"] < b["+1"] < b["+2"]


def test_limit_curve_drops_masses_above_reach_and_errors(exp):
    curve = limit_curve(exp, masses=[6.0, 60.0], ratio=10.0, scheduler="sync", progress=False)
    assert list(curve.x) == [6.0] and np.isfinite(curve.observed).all()
    with pytest.raises(NudmsimError, match="kinematic reach"):
        limit_curve(exp, masses=[70.0], scheduler="sync", progress=False)
    with pytest.raises(NudmsimError, match="r = m_phi/m_X"):
        limit_curve(exp, masses=[5.0], ratio=0.5, scheduler="sync", progress=False)
    for opt, msg in (({"method": "bayes"}, "method"), ({"measurement": "nope"}, "measurement")):
        with pytest.raises(NudmsimError, match=msg):
            limit_curve(exp, masses=[5.0], scheduler="sync", options=opt, progress=False)
    with pytest.raises(NudmsimError, match="reference couplings"):
        limit_curve(exp, masses=[5.0], scheduler="sync", params={"m_X": "3"}, progress=False)
    with pytest.raises(NudmsimError, match="--projected"):
        limit_curve(Experiment.load("coherent_csi_future"), masses=[5.0], scheduler="sync", progress=False)


def test_cli_limit_writes_csv_and_png(tmp_path):
    import csv

    out_csv = tmp_path / "lim.csv"
    r = subprocess.run([sys.executable, "-m", "nudmsim", "limit", "coherent2017", "--ratio", "10", "--masses",
                        "2,20", "--scheduler", "sync", "--quiet", "-o", str(out_csv)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = [row for row in csv.reader(open(out_csv)) if row and not row[0].startswith("#")]
    assert rows[0] == ["x", "observed"]
    vals = np.array([[float(x) for x in row] for row in rows[1:]])
    assert vals.shape == (2, 2) and np.all(vals[:, 1] > 1e-48) and np.all(vals[:, 1] < 1e-38)
    assert (tmp_path / "lim.png").stat().st_size > 10_000
