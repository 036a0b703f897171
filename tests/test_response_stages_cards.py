"""Response stages as card data: strict keys, table validation, nuisance names, physical ranges (hypothesis),
and the generated reference page being up to date."""
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nudmsim import targets
from nudmsim.errors import CardError, NudmsimError
from nudmsim.response.stage import Batch, StageContext, build_stage, nominal_values, run_chain

ROOT = Path(__file__).resolve().parents[1]
LOGISTIC = dict(stage="efficiency", model="logistic", a=1.32, b=0.286, c=10.86, d=-0.333)


def ctx(tmp_path=None, obs=None, target=None, key="response[3]"):
    return StageContext((tmp_path or Path(".")) / "toy.toml", key, observables=obs or {}, target=target)


def refused(table, match, tmp_path=None, obs=None, target=None):
    with pytest.raises(CardError, match=match) as e:
        build_stage(table, ctx(tmp_path, obs, target))
    msg = str(e.value)
    assert "toy.toml" in msg and "response[3]" in msg and "\n" not in msg
    return msg


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------------------------------------------
# strict keys and values
# ------------------------------------------------------------------------------------------------
def test_unknown_key_did_you_mean():
    refused(dict(stage="quenching", model="polynomial_eee", coeficients=[0.1]),
            r"response\[3\]\.coeficients.*not a valid key.*did you mean 'coefficients'")
    refused({**LOGISTIC, "clipp": [0, 1]}, r"clipp.*did you mean 'clip'")
    refused({**LOGISTIC, "errors": {"x0": 0.1}}, r"errors\.x0.*not a valid key.*valid keys here: a, b, c, d")
    refused({**LOGISTIC, "variants_up": [{"aa": 1.0}], "variants_down": [{"a": 1.0}]},
            r"variants_up\[0\]\.aa.*did you mean 'a'")


def test_unknown_family_and_model():
    refused(dict(stage="efficency", model="logistic"), r"unknown stage family 'efficency'.*did you mean 'efficiency'")
    refused(dict(stage="efficiency", model="logistc"), r"unknown efficiency model 'logistc'.*did you mean 'logistic'")


def test_wrong_types_ranges_and_choices():
    refused({**LOGISTIC, "a": "1.3"}, r"response\[3\]\.a.*must be a number")
    refused({**LOGISTIC, "clip": [0.0, 1.5]}, r"clip.*0 <= lo <= hi <= 1")
    refused(dict(stage="quenching", model="constant", value=1.5), r"value.*must be <= 1")
    refused(dict(stage="resolution", model="gaussian", on="x", c=1.0, combine="quad"),
            r"combine.*is 'quad'.*choose one of quadrature, linear")
    refused(dict(stage="efficiency", model="table", x=[1.0, 2.0], efficiency=[0.1, 0.2]), r"out_of_range.*missing")
    refused(dict(stage="quenching", model="polynomial_eee", coefficients=[1.0], out_of_range="clamp"),
            r"out_of_range.*no range")


def test_inconsistent_keys():
    refused({**LOGISTIC, "variants_up": [{"a": 1.3}]}, r"variants_down.*0 rows but variants_up has 1")
    refused({**LOGISTIC, "errors": {"a": 0.1}, "errors_hi": {"a": 0.1}, "errors_lo": {"a": 0.1}},
            r"both a symmetric and an asymmetric")
    refused({**LOGISTIC, "errors_hi": {"a": 0.1}}, r"errors_lo.*no a to match")
    refused(dict(stage="quenching", model="polynomial_eee", coefficients=[1.0, 2.0], coefficients_up=[1.0],
                 coefficients_down=[1.0, 2.0]), r"coefficients_up.*1 entries, the nominal set 2")
    refused(dict(stage="quenching", model="lindhard", Z=32, k_error=0.01), r"k_error.*needs k")
    refused(dict(stage="quenching", model="lindhard"), r"Z.*no target")
    refused(dict(stage="quenching", model="birks", kB_cm_per_MeV=0.01, composition={"Xe": 1}, density_g_cm3=3.0),
            r"composition.*no ICRU-49")
    refused(dict(stage="quenching", model="birks", kB_cm_per_MeV=0.01, composition={"C": 1}, density_g_cm3=1.0,
                 recoil="Zz12"), r"recoil.*unknown element")
    refused(dict(stage="efficiency", model="step", on="x", threshold=2.0, upper=1.0), r"upper.*threshold")
    refused(dict(stage="cut", model="window", on="x"), r"lo.*hi are both missing")
    refused(dict(stage="resolution", model="gaussian", on="x"), r"all 0")


def test_units_in_column_names():
    refused(dict(stage="resolution", model="gaussian", on="pe", c=1.0, unit="keV"),
            r"unit.*'keV' but column 'pe' carries no unit")
    refused(dict(stage="resolution", model="gaussian", on="t_us", c=1.0, unit="keV"), r"unit.*energy.*t_us.*us")
    refused(dict(stage="quenching", model="constant", value=0.1, on="Enr"), r"on.*'Enr' carries no energy unit")
    refused(dict(stage="yield", model="linear", value=1.0, on="t_us"), r"on.*'t_us' carries no energy unit")


# ------------------------------------------------------------------------------------------------
# tables
# ------------------------------------------------------------------------------------------------
def test_table_files_validated(tmp_path):
    base = dict(stage="efficiency", model="table", on="pe", out_of_range="zero")
    write(tmp_path, "nan.csv", "# provenance\npe,eff\n1,0.1\n2,nan\n3,0.5\n")
    refused({**base, "file": "nan.csv"}, r"response\[3\]\.file.*nan.csv: line 4, column .eff.: is nan", tmp_path)
    write(tmp_path, "order.csv", "# provenance\npe,eff\n1,0.1\n3,0.2\n2,0.5\n")
    refused({**base, "file": "order.csv"}, r"not strictly increasing at row 2", tmp_path)
    write(tmp_path, "ragged.csv", "# provenance\npe,eff\n1,0.1\n2,0.2,7\n")
    refused({**base, "file": "ragged.csv"}, r"response\[3\]\.file.*ragged.csv: line 4: 3 cells.*ragged", tmp_path)
    write(tmp_path, "big.csv", "pe,eff\n1,0.1\n2,1.2\n")
    refused({**base, "file": "big.csv"}, r"efficiency above 1 at row 1", tmp_path)
    write(tmp_path, "ok.csv", "pe,eff\n1,0.1\n2,0.2\n")
    refused({**base, "file": "ok.csv", "column": "efff"}, r"column.*'efff'.*did you mean 'eff'", tmp_path)
    refused({**base, "file": "missing.csv"}, r"file.*'missing.csv', which does not exist", tmp_path)
    refused({**base, "x": [1.0, 1.0], "efficiency": [0.1, 0.2]}, r"efficiency.*not strictly increasing")
    refused({**base, "x": [1.0, 2.0], "efficiency": [0.1]}, r"x has 2 entries but the efficiency 1")
    refused({**base, "file": "ok.csv", "x": [1.0, 2.0]}, r"exactly one of file, x", tmp_path)
    st = build_stage({**base, "file": "ok.csv"}, ctx(tmp_path))     # the good file loads, relative to the card
    assert st.expect(Batch({"pe": np.array([1.5])}, np.ones(1))).weight[0] == pytest.approx(0.15)


MIG = dict(stage="resolution", model="migration_matrix", on="E_keV", to="E_rec_keV")


def test_matrices_validated(tmp_path):
    good = dict(true_edges=[0.0, 1.0, 2.0], reco_edges=[0.0, 1.0, 2.0], matrix=[[0.5, 0.5], [0.0, 0.9]])
    build_stage({**MIG, **good}, ctx())
    refused({**MIG, **good, "true_edges": [0.0, 2.0, 1.0]}, r"true_edges.*not increasing at 2")
    refused({**MIG, **good, "matrix": [[0.5, float("nan")], [0.0, 0.9]]}, r"matrix\[0\]\[1\].*is nan")
    refused({**MIG, **good, "matrix": [[0.5, -0.1], [0.0, 0.9]]}, r"matrix.*negative probability")
    refused({**MIG, **good, "matrix": [[0.7, 0.5], [0.0, 0.9]]}, r"matrix.*row 0 sums to 1\.2 > 1")
    refused({**MIG, **good, "matrix": [[0.5, 0.5, 0.0], [0.0, 0.9, 0.0]]}, r"shape \(2, 3\).*\(2 true bins, 2 reco")
    refused({**MIG, **good, "matrix": [[0.5, 0.5], [0.9]]}, r"matrix.*ragged")
    write(tmp_path, "gap.csv", "lo,hi,rec_0_1,rec_1_2\n0,1,0.5,0.5\n1.5,2,0.1,0.1\n")
    refused({**MIG, "file": "gap.csv"}, r"true bins are not contiguous at row 1", tmp_path)
    write(tmp_path, "names.csv", "lo,hi,rec_0_1,recoil\n0,1,0.5,0.5\n")
    refused({**MIG, "file": "names.csv"}, r"column 'recoil' is not named <name>_<lo>_<hi>", tmp_path)
    write(tmp_path, "ok.csv", "# provenance\nlo,hi,rec_0_1,rec_1_2\n0,1,0.5,0.5\n1,2,0.1,0.8\n")
    st = build_stage({**MIG, "file": "ok.csv"}, ctx(tmp_path))
    np.testing.assert_allclose(st.row_sum, [1.0, 0.9])
    ax = dict(stage="axis", model="conditional_table", on="pe", to="psd", x_edges=[0.0, 1.0, 2.0],
              y_edges=[0.0, 0.5, 1.0], out_of_range="clamp")
    refused({**ax, "matrix": [[0.5, 0.4], [0.5, 0.5]]}, r"row 0 sums to 0\.9, not 1.*normalise = true")
    refused({**ax, "matrix": [[0.0, 0.0], [0.5, 0.5]]}, r"row 0 .*is empty")
    st = build_stage({**ax, "matrix": [[2.0, 2.0], [1.0, 3.0]], "normalise": True}, ctx())
    np.testing.assert_allclose(st.P, [[0.5, 0.5], [0.25, 0.75]])


def test_runtime_errors_name_the_card():
    st = build_stage(dict(stage="efficiency", model="table", on="pe", x=[0.0, 10.0], efficiency=[0.1, 0.9],
                          out_of_range="error"), ctx())
    with pytest.raises(NudmsimError, match=r"toy.toml.*response\[3\]\.out_of_range.*pe = 12"):
        st.expect(Batch({"pe": np.array([5.0, 12.0])}, np.ones(2)))
    st = build_stage(LOGISTIC, ctx())
    with pytest.raises(CardError, match=r"toy.toml.*response\[3\]\.on.*column 'pe' is not in the events.*E_ee_keV"):
        st.expect(Batch({"E_ee_keV": np.ones(2)}, np.ones(2)))
    ax = build_stage(dict(stage="axis", model="conditional_table", on="pe", to="psd", x_edges=[0.0, 10.0],
                          y_edges=[0.0, 1.0], matrix=[[1.0]], out_of_range="error"), ctx())
    with pytest.raises(NudmsimError, match=r"toy.toml.*response\[3\]\.out_of_range.*pe = 11.*\[0, 10\)"):
        ax.sample(Batch({"pe": np.array([5.0, 11.0])}, np.ones(2)), np.random.default_rng(0))
    poly = build_stage(dict(stage="quenching", model="polynomial_qf", coefficients=[0.1], range=[1.0, 50.0],
                            out_of_range="error"), ctx())
    with pytest.raises(NudmsimError, match=r"toy.toml.*response\[3\]\.out_of_range.*60 keV.*\[1, 50\]"):
        poly.expect(Batch({"E_R_keV": np.array([60.0])}, np.ones(1)))
    lind = build_stage(dict(stage="quenching", model="lindhard"),
                       ctx(target=[targets.isotope("Cs133"), targets.isotope("I127")]))
    with pytest.raises(CardError, match=r"species_column.*several elements.*'target_id'"):
        lind.expect(Batch({"E_R_keV": np.ones(2)}, np.ones(2)))
    g = build_stage(dict(stage="resolution", model="gaussian", on="E_keV", c=0.1), ctx())
    with pytest.raises(NudmsimError, match=r"needs a grid.*'E_keV' is not an observable.*grid ="):
        g.expect(Batch({"E_keV": np.ones(2)}, np.ones(2)))


# ------------------------------------------------------------------------------------------------
# nuisance names
# ------------------------------------------------------------------------------------------------
def test_nuisance_naming_convention():
    cases = [
        (dict(stage="quenching", model="constant", value=0.08, error=0.01), ["qf"]),
        (dict(stage="quenching", model="constant", value=0.08, error=0.01, name="csi_qf"), ["csi_qf"]),
        (dict(stage="quenching", model="lindhard", Z=32, A=72.6, k=0.16, k_error=0.01), ["qf_k"]),
        (dict(stage="quenching", model="polynomial_eee", coefficients=[1.0, 2.0],
              coefficients_up=[[1.1, 2.0], [1.0, 2.2]], coefficients_down=[[0.9, 2.0], [1.0, 1.8]]),
         ["qf_shape0", "qf_shape1"]),
        (dict(stage="yield", model="linear", value=13.35, error=0.2), ["yield"]),
        (dict(stage="efficiency", model="constant", value=0.9, error=0.05), ["eff"]),
        (dict(stage="efficiency", model="time_exp", t0=0.5, rate=0.05, errors={"rate": 0.01}, name="timing"),
         ["timing_rate"]),
        (dict(stage="resolution", model="gaussian", on="x", c=1.0, errors={"c": 0.1}), ["res_c"]),
        (dict(stage="efficiency", model="table", on="x", x=[0.0, 1.0], efficiency=[0.5, 1.0], out_of_range="clamp",
              scale_error=0.05), ["eff_scale"]),
    ]
    for table, names in cases:
        assert [n.name for n in build_stage(table, ctx()).nuisances()] == names, table


def test_duplicate_nuisance_names_refused():
    a = build_stage({**LOGISTIC, "errors": {"c": 0.3}}, ctx())
    b = build_stage({**LOGISTIC, "errors": {"c": 0.3}}, ctx())
    with pytest.raises(NudmsimError, match="two response stages declare the nuisance 'eff_c'.*name ="):
        nominal_values([a, b])
    b = build_stage({**LOGISTIC, "errors": {"c": 0.3}, "name": "psd_eff"}, ctx())
    assert nominal_values([a, b]) == {"eff_c": 10.86, "psd_eff_c": 10.86}


# ------------------------------------------------------------------------------------------------
# physical ranges (hypothesis)
# ------------------------------------------------------------------------------------------------
energies = st.lists(st.floats(0.0, 2000.0), min_size=1, max_size=30)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(energies, st.sampled_from(["constant", "lindhard", "table", "polynomial_qf", "birks", "polynomial_eee"]),
       st.floats(0.01, 0.3))
def test_quenching_finite_nonnegative_and_below_recoil(e, model, q):
    table = {"constant": dict(value=q), "lindhard": dict(Z=55, A=133.0, k=q + 0.05),
             "table": dict(x=[1.0, 100.0], values=[q, min(2 * q, 1.0)], out_of_range="clamp"),
             "polynomial_qf": dict(coefficients=[q, 1e-4], range=[0.0, 500.0], out_of_range="clamp"),
             "birks": dict(kB_cm_per_MeV=q / 10, composition={"C": 9, "H": 12}, density_g_cm3=0.88),
             "polynomial_eee": dict(coefficients=[0.0554628, 4.30681, -111.707, 840.384], unit="MeV")}[model]
    s = build_stage(dict(stage="quenching", model=model, **table), ctx())
    x = np.array(e)
    out = s.expect(Batch({"E_R_keV": x}, np.ones(len(x))))["E_ee_keV"]
    assert np.all(np.isfinite(out)) and np.all(out >= 0)
    if model != "polynomial_eee":            # QF <= 1 models never give more than the recoil energy
        assert np.all(out <= x * (1 + 1e-12))


@SETTINGS
@given(st.lists(st.floats(-5.0, 80.0), min_size=1, max_size=40), st.floats(0.0, 2.0), st.floats(-2.0, 2.0),
       st.floats(-20.0, 60.0), st.floats(-1.0, 1.0), st.booleans())
def test_logistic_weights_in_range(x, a, b, c_, d, step):
    table = dict(stage="efficiency", model="logistic", a=a, b=b, c=c_, d=d, to="eff")
    if step:
        table.update(step=[5.0, 6.0], evaluate_on_bins=1.0)
    s = build_stage(table, ctx())
    w = np.linspace(0.5, 2.0, len(x))
    out = s.expect(Batch({"pe": np.array(x)}, w))
    assert np.all((out["eff"] >= 0) & (out["eff"] <= 1))
    assert np.all((out.weight >= 0) & (out.weight <= w))


@SETTINGS
@given(st.lists(st.floats(0.0, 2000.0), min_size=1, max_size=20), st.booleans(), st.integers(0, 20),
       st.integers(1, 80))
def test_poisson_expansion_is_a_distribution(mu, dither, lo, width):
    s = build_stage(dict(stage="resolution", model="poisson", dither=dither),
                    ctx(obs={"pe": np.arange(lo, lo + width + 1, 1.0)}))
    vals, P = s.expansion(np.array(mu))
    assert np.all(P >= 0) and np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-12)
    out = s.sample(Batch({"pe_mean": np.array(mu)}, np.ones(len(mu))), np.random.default_rng(0))
    assert np.all(np.isfinite(out["pe"])) and np.all(out["pe"] >= -0.5)


@SETTINGS
@given(st.lists(st.floats(-5.0, 50.0), min_size=1, max_size=20), st.floats(0.0, 0.3), st.floats(0.0, 2.0),
       st.floats(0.0, 3.0), st.sampled_from(["none", "clip", "truncate"]), st.sampled_from(["quadrature", "linear"]))
def test_gaussian_expansion_is_a_distribution(x, a, b, c_, lower, combine):
    if a == b == c_ == 0:
        c_ = 1.0
    s = build_stage(dict(stage="resolution", model="gaussian", on="E_keV", to="E_rec_keV", a=a, b=b, c=c_,
                         lower=lower, combine=combine), ctx(obs={"E_rec_keV": np.linspace(0.0, 40.0, 21)}))
    vals, P = s.expansion(np.array(x))
    assert np.all(P >= 0) and np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-12)
    out = s.sample(Batch({"E_keV": np.array(x)}, np.ones(len(x))), np.random.default_rng(0))["E_rec_keV"]
    assert np.all(np.isfinite(out))
    if lower != "none":
        assert np.all(out >= 0)
        assert np.all(vals[P.sum(0) > 0] >= 0)


@SETTINGS
@given(st.lists(st.floats(-1.0, 30.0), min_size=1, max_size=20), st.floats(-1.0, 5.0), st.floats(0.0, 1.0))
def test_time_efficiency_in_range(t, t0, rate):
    s = build_stage(dict(stage="efficiency", model="time_exp", t0=t0, rate=rate), ctx())
    out = s.expect(Batch({"t_us": np.array(t)}, np.ones(len(t))))
    assert np.all((out.weight > 0) & (out.weight <= 1))
    np.testing.assert_allclose(out.weight, [1.0 if ti < t0 else math.exp(-rate * (ti - t0)) for ti in t])


def test_expectation_conserves_weight_through_a_chain():
    """Resolution stages redistribute weight (underflow/overflow rows included); only efficiencies remove it."""
    obs = {"pe": np.arange(0.0, 31.0, 1.0)}
    tables = [dict(stage="quenching", model="constant", value=0.1), dict(stage="yield", model="linear", value=10.0),
              dict(stage="resolution", model="poisson", dither=True),
              dict(stage="resolution", model="gaussian", on="pe", to="pe_smeared", c=0.5, grid=[-5.0, 80.0, 0.5])]
    chain = [build_stage(t, ctx(obs=obs)) for t in tables]
    b = Batch({"E_R_keV": np.linspace(0.0, 60.0, 50)}, np.linspace(1.0, 3.0, 50))
    assert run_chain(chain, b).total == pytest.approx(b.total, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# documentation
# ------------------------------------------------------------------------------------------------
def test_reference_page_up_to_date():
    from nudmsim.response.reference import document

    page = ROOT / "docs" / "response_stages.md"
    assert page.read_text() == document(), "docs/response_stages.md is stale: run python tools/make_stage_reference.py"


def test_every_stage_documented_with_units_and_defaults():
    from nudmsim.response.reference import stage_classes
    from nudmsim.response.stage import stage_schema

    for cls in stage_classes():
        assert len(cls.doc) > 80, cls
        for f in stage_schema(cls).fields:
            assert f.doc, f"{cls.family}/{cls.model}: key {f.name} has no doc"
