"""Response stages: closed forms, sample vs expectation (the same physics in both modes), and moments.

Independent references: formulas written out here (Lindhard, polynomials, logistic, σ(E)), the existing
modules the stages must agree with (photostatistics.pe_bin_matrix, efficiency.coherent_logistic,
quenching.PolynomialQuenching), scipy (Poisson/normal moments and CDFs, quadrature of Birks' law),
and a χ² of 1e6 sampled rows against the expectation.
"""
import math

import numpy as np
import pytest
from scipy import integrate, stats

from nudmsim import constants as c
from nudmsim import targets
from nudmsim.response import birks, efficiency, photostatistics, quenching
from nudmsim.response.kernelkit import PARALLEL_MIN
from nudmsim.response.stage import Batch, StageContext, build_stage, nominal_values, run_chain

N = 1_000_000


def ctx(obs=None, target=None, key="response[0]"):
    return StageContext("toy.toml", key, observables=obs or {}, target=target)


def build(table, obs=None, target=None):
    return build_stage(table, ctx(obs, target))


def batch(**cols):
    n = len(next(iter(cols.values())))
    return Batch({k: np.asarray(v, dtype=float) for k, v in cols.items()}, np.ones(n))


def chi2_agreement(sampled: Batch, expected: Batch, col, edges, p_min=1e-3, min_count=25.0):
    """χ² of the sampled histogram against the expectation; variance from the sampled Σw²."""
    hs, _ = np.histogram(sampled[col], edges, weights=sampled.weight)
    v, _ = np.histogram(sampled[col], edges, weights=sampled.weight ** 2)
    he, _ = np.histogram(expected[col], edges, weights=expected.weight)
    sel = (he >= min_count * (v.sum() / max(hs.sum(), 1e-300))) & (v > 0)
    chi2 = float(np.sum((hs - he)[sel] ** 2 / v[sel]))
    ndf = int(sel.sum())
    assert ndf >= 3, f"only {ndf} populated bins"
    p = stats.chi2.sf(chi2, ndf)
    assert p > p_min, f"chi2 = {chi2:.1f} for {ndf} bins (p = {p:.2e})"
    return chi2, ndf


def repeated_truth(K=1000, **nodes):
    """(truth for sampling, truth for the expectation): K distinct rows, each repeated N/K times for sampling
    and carrying weight N/K in the expectation, so both modes see exactly the same truth."""
    r = N // K
    sample = Batch({k: np.repeat(np.asarray(v, dtype=float), r) for k, v in nodes.items()}, np.ones(K * r))
    expect = Batch({k: np.asarray(v, dtype=float) for k, v in nodes.items()}, np.full(K, float(r)))
    return sample, expect


def unchanged(before: dict, b: Batch):
    """Purity: the input batch's arrays are untouched."""
    for k, v in before.items():
        assert np.array_equal(b[k], v, equal_nan=True), k


# ------------------------------------------------------------------------------------------------
# quenching
# ------------------------------------------------------------------------------------------------
def test_constant_quenching_and_nuisance():
    st = build(dict(stage="quenching", model="constant", value=0.0878, error=0.0166))
    b = batch(E_R_keV=[1.0, 10.0, 30.0])
    assert st.expect(b)["E_ee_keV"] == pytest.approx([0.0878, 0.878, 2.634])
    assert [n.name for n in st.nuisances()] == ["qf"]
    assert st.expect(b, {"qf": 0.1})["E_ee_keV"] == pytest.approx([0.1, 1.0, 3.0])
    assert "E_ee_keV" not in b


def test_quenching_units_from_column_names():
    st = build(dict(stage="quenching", model="constant", value=0.1, on="E_R_MeV", to="E_ee_eV"))
    out = st.expect(batch(E_R_MeV=[0.02]))
    assert out["E_ee_eV"][0] == pytest.approx(0.1 * 0.02 * 1e6)


def test_polynomial_eee_closed_form_and_variants():
    cf = [0.0554628, 4.30681, -111.707, 840.384]
    up = [0.0613632, 3.51547, -85.5548, 595.562]
    dn = [0.0495624, 5.09815, -137.858, 1085.2]
    st = build(dict(stage="quenching", model="polynomial_eee", coefficients=cf, unit="MeV",
                    coefficients_up=up, coefficients_down=dn))
    e = np.array([0.0, 3.0, 10.0, 25.0, 60.0])
    x = e / 1000.0

    def eee(cs):
        return 1000.0 * sum(ck * x ** (k + 1) for k, ck in enumerate(cs))

    b = batch(E_R_keV=e)
    np.testing.assert_allclose(st.expect(b)["E_ee_keV"], eee(cf), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(st.expect(b, {"qf_shape": 1.0})["E_ee_keV"], eee(up), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(st.expect(b, {"qf_shape": -1.0})["E_ee_keV"], eee(dn), rtol=1e-12, atol=1e-15)
    half = [a + 0.5 * (u - a) for a, u in zip(cf, up)]
    np.testing.assert_allclose(st.expect(b, {"qf_shape": 0.5})["E_ee_keV"], eee(half), rtol=1e-12, atol=1e-15)
    # the paper's scale: 10 keVnr -> ~0.88 keVee (QF ~ 8.8%)
    assert st.expect(batch(E_R_keV=[10.0]))["E_ee_keV"][0] / 10.0 == pytest.approx(0.0882, abs=5e-4)


def test_polynomial_eee_first_power_and_clamp():
    # E_ee = 2 + 0.5 x (p0 = 0) in keV; clamp on [1, 10] holds the QF of the nearest end
    st = build(dict(stage="quenching", model="polynomial_eee", coefficients=[2.0, 0.5], first_power=0,
                    range=[1.0, 10.0], out_of_range="clamp"))
    out = st.expect(batch(E_R_keV=[5.0, 20.0, 0.5]))["E_ee_keV"]
    assert out == pytest.approx([4.5, 20.0 * (7.0 / 10.0), 0.5 * 2.5])
    zero = build(dict(stage="quenching", model="polynomial_eee", coefficients=[2.0, 0.5], first_power=0,
                      range=[1.0, 10.0], out_of_range="zero"))
    assert zero.expect(batch(E_R_keV=[5.0, 20.0]))["E_ee_keV"] == pytest.approx([4.5, 0.0])


def test_polynomial_qf_matches_existing_polynomial_quenching():
    coef = (0.05, 0.002, -1e-5)
    ref = quenching.PolynomialQuenching(coef, (2.0, 70.0))
    st = build(dict(stage="quenching", model="polynomial_qf", coefficients=list(coef), range=[2.0, 70.0],
                    out_of_range="clamp"))
    e = np.array([0.5, 2.0, 10.0, 45.0, 70.0, 120.0])
    np.testing.assert_allclose(st.expect(batch(E_R_keV=e))["E_ee_keV"], ref.e_ee(e * c.keV) / c.keV, rtol=1e-12)


def lindhard_formula(E_keV, Z, k):
    eps = 11.5 * E_keV * Z ** (-7.0 / 3.0)
    g = 3.0 * eps ** 0.15 + 0.7 * eps ** 0.6 + eps
    return k * g / (1.0 + k * g)


def test_lindhard_closed_form_and_standard_k():
    # standard k = 0.133 Z^(2/3) A^(-1/2) is the familiar 0.157 for germanium
    st = build(dict(stage="quenching", model="lindhard", Z=32, A=72.63))
    k_std = st.k_values(None)[0]
    assert k_std == pytest.approx(0.157, abs=5e-4)
    e = np.array([0.3, 1.0, 10.0, 100.0])
    np.testing.assert_allclose(st.expect(batch(E_R_keV=e))["E_ee_keV"] / e, lindhard_formula(e, 32, k_std),
                               rtol=1e-12)
    # germanium at 10 keVnr: QF ~ 0.23 (the commonly quoted Lindhard value)
    assert st.expect(batch(E_R_keV=[10.0]))["E_ee_keV"][0] / 10 == pytest.approx(0.234, abs=0.003)
    # explicit k with an error: nuisance qf_k moves the QF the right way
    st2 = build(dict(stage="quenching", model="lindhard", Z=32, A=72.63, k=0.2, k_error=0.02))
    assert [n.name for n in st2.nuisances()] == ["qf_k"]
    b = batch(E_R_keV=[5.0])
    assert st2.expect(b, {"qf_k": 0.22})["E_ee_keV"][0] == pytest.approx(5 * lindhard_formula(5.0, 32, 0.22))


def test_lindhard_from_target_per_isotope():
    nuclei = [targets.isotope("Cs133"), targets.isotope("I127")]
    st = build(dict(stage="quenching", model="lindhard"), target=nuclei)
    b = Batch({"E_R_keV": np.array([10.0, 10.0]), "target_id": np.array([0.0, 1.0])}, np.ones(2))
    out = st.expect(b)["E_ee_keV"] / 10.0
    for i, (Z, A) in enumerate(((55, 133), (53, 127))):
        assert out[i] == pytest.approx(lindhard_formula(10.0, Z, 0.133 * Z ** (2 / 3) / math.sqrt(A)), rel=1e-12)
    # natural xenon without an isotope column: the abundance-weighted k of one element
    xe = build(dict(stage="quenching", model="lindhard"), target=targets.element("Xe"))
    ks = np.array([0.133 * 54 ** (2 / 3) / math.sqrt(n.A) for n in targets.element("Xe")])
    k_mean = float(np.sum(ks * [n.abundance for n in targets.element("Xe")]))
    assert xe.expect(batch(E_R_keV=[20.0]))["E_ee_keV"][0] == pytest.approx(20 * lindhard_formula(20.0, 54, k_mean))


def test_birks_against_quadrature():
    """E_vis(T) = int_0^T dE [S_e/(S_e+S_n)]/(1 + kB S_e) by adaptive quadrature vs the stage's table."""
    comp, rho, kB = {6: 9, 1: 12}, 0.88, 0.0109
    st = build(dict(stage="quenching", model="birks", kB_cm_per_MeV=kB, kB_error_cm_per_MeV=0.001,
                    composition={"C": 9, "H": 12}, density_g_cm3=rho, recoil="p"))
    mp = c.M_PROTON / c.keV

    def integrand(T):
        se = birks.ion_stopping_power(np.array([T]), 1, mp, comp, rho)[0]
        sn = birks.nuclear_stopping(np.array([T]), 1, mp / 931494.10242, comp, rho)[0]
        return se / (se + sn) / (1 + kB * se)

    for T in (100.0, 1000.0, 5000.0):
        kinks = [x for x in (10.0 * 1.007276, 40.0 * 1.007276) if x < T]   # ICRU-49 low-energy branches (H, C)
        ref = integrate.quad(integrand, 0.0, T, limit=400, points=kinks, epsrel=1e-7)[0]
        got = st.expect(batch(E_R_keV=[T]))["E_ee_keV"][0]
        assert got == pytest.approx(ref, rel=2e-3)
    # more quenching with larger kB; the nuisance is named qf_kB
    assert [n.name for n in st.nuisances()] == ["qf_kB"]
    b = batch(E_R_keV=[1000.0])
    assert st.expect(b, {"qf_kB": 0.012})["E_ee_keV"][0] < st.expect(b)["E_ee_keV"][0]


def test_table_quenching_rules(tmp_path):
    st = build(dict(stage="quenching", model="table", x=[5.0, 10.0, 20.0], values=[0.06, 0.08, 0.09],
                    out_of_range="clamp"))
    out = st.expect(batch(E_R_keV=[2.0, 7.5, 20.0, 40.0]))["E_ee_keV"]
    assert out == pytest.approx([0.12, 7.5 * 0.07, 1.8, 3.6])
    z = build(dict(stage="quenching", model="table", x=[5.0, 10.0], values=[0.06, 0.08], out_of_range="zero"))
    assert z.expect(batch(E_R_keV=[2.0, 7.5]))["E_ee_keV"] == pytest.approx([0.0, 0.525])
    err = build(dict(stage="quenching", model="table", x=[5.0, 10.0], values=[0.06, 0.08], out_of_range="error"))
    with pytest.raises(Exception, match=r"toy.toml.*response\[0\].*outside the table"):
        err.expect(batch(E_R_keV=[12.0]))
    # an E_ee table in MeV from a file, with ±1σ columns
    f = tmp_path / "eee.csv"
    f.write_text("# test table\nEnr_MeV,Eee_MeV,up,down\n0.0,0.0,0.0,0.0\n0.01,0.001,0.0012,0.0008\n"
                 "0.02,0.0025,0.003,0.002\n")
    st = build_stage(dict(stage="quenching", model="table", file=str(f), x_column="Enr_MeV", column="Eee_MeV",
                          column_up="up", column_down="down", quantity="e_ee", unit="MeV", out_of_range="error"),
                     StageContext(tmp_path / "card.toml", "response[0]"))
    b = batch(E_R_keV=[15.0])
    assert st.expect(b)["E_ee_keV"][0] == pytest.approx(1.75)
    assert st.expect(b, {"qf_shape": 1.0})["E_ee_keV"][0] == pytest.approx(2.1)
    assert st.expect(b, {"qf_shape": -1.0})["E_ee_keV"][0] == pytest.approx(1.4)


def test_linear_yield():
    st = build(dict(stage="yield", model="linear", value=13.35, error=0.2))
    assert st.expect(batch(E_ee_keV=[2.0]))["pe_mean"][0] == pytest.approx(26.7)
    assert st.expect(batch(E_ee_keV=[2.0]), {"yield": 10.0})["pe_mean"][0] == pytest.approx(20.0)
    # 40 photoelectrons per MeV on an E_ee column in eV
    st = build(dict(stage="yield", model="linear", value=40.0, unit="MeV", on="E_ee_eV"))
    assert st.expect(batch(E_ee_eV=[5e5]))["pe_mean"][0] == pytest.approx(20.0)


# ------------------------------------------------------------------------------------------------
# Poisson
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dither", [True, False])
def test_poisson_expansion_is_pe_bin_matrix(dither):
    edges = np.arange(0.0, 61.0, 1.0)
    st = build(dict(stage="resolution", model="poisson", dither=dither), obs={"pe": edges})
    mu = np.concatenate([[0.0, 1e-3], np.geomspace(0.05, 300.0, 300)])
    w = np.linspace(1.0, 2.0, len(mu))
    b = Batch({"pe_mean": mu}, w)
    out = st.expect(b)
    got, _ = np.histogram(out["pe"], edges, weights=out.weight)
    if dither:
        ref = w @ photostatistics.pe_bin_matrix(mu, edges, dither=True)
    else:   # x = n: bin [j, j+1) holds n = j, and the closed last bin also n = 60 (numpy's convention)
        n = np.arange(0, 61)
        P = photostatistics.poisson_pmf(n[None, :], mu[:, None])
        ref = w @ P[:, :-1]
        ref[-1] += w @ P[:, -1]
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14 * w.sum())
    np.testing.assert_allclose(out.weight.sum(), w.sum(), rtol=1e-13)     # under/overflow rows keep the tails


def test_poisson_expansion_tails_exact():
    st = build(dict(stage="resolution", model="poisson", dither=True), obs={"pe": np.arange(5.0, 31.0, 1.0)})
    mu = np.array([0.5, 4.0, 18.0, 29.0, 80.0])
    vals, P = st.expansion(mu)
    below = stats.poisson.cdf(4, mu) + 0.5 * stats.poisson.pmf(5, mu)
    above = stats.poisson.sf(30, mu) + 0.5 * stats.poisson.pmf(30, mu)
    np.testing.assert_allclose(P[:, 0], below, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(P[:, -1], above, rtol=1e-10, atol=1e-14)
    assert vals[0] < 5 and vals[-1] >= 30


@pytest.mark.parametrize("mu", [0.3, 4.0, 9.99, 10.01, 37.0, 800.0])
def test_poisson_sample_moments(mu):
    """Inversion (mu < 10) and PTRS (mu >= 10) draws: mean, variance and the pmf against scipy."""
    st = build(dict(stage="resolution", model="poisson"))
    x = st.sample(batch(pe_mean=np.full(N, mu)), np.random.default_rng(7))["pe"]
    assert np.all(x == np.round(x)) and x.min() >= 0
    assert x.mean() == pytest.approx(mu, abs=5 * math.sqrt(mu / N))
    assert x.var() == pytest.approx(mu, rel=6 * math.sqrt(2.0 / N) + 1e-3 / mu)
    ks = np.arange(max(0, int(mu - 4 * math.sqrt(mu))), int(mu + 4 * math.sqrt(mu)) + 2)
    counts = np.bincount(x.astype(np.int64), minlength=ks[-1] + 1)[ks]
    exp = N * stats.poisson.pmf(ks, mu)
    sel = exp > 20
    chi2 = np.sum((counts[sel] - exp[sel]) ** 2 / exp[sel])
    assert stats.chi2.sf(chi2, sel.sum()) > 1e-3


def test_poisson_dither_sample_vs_expect():
    edges = np.arange(0.0, 61.0, 2.0)
    st = build(dict(stage="resolution", model="poisson", dither=True), obs={"pe": edges})
    rng = np.random.default_rng(3)
    bs, be = repeated_truth(pe_mean=rng.exponential(12.0, 1000))
    s = st.sample(bs, rng)
    e = st.expect(be)
    chi2_agreement(s, e, "pe", edges)
    mu = bs["pe_mean"]
    assert abs(s["pe"].mean() - mu.mean()) < 5 * math.sqrt((mu.mean() + 1 / 12) / N)
    assert s["pe"].var() == pytest.approx(mu.var() + mu.mean() + 1.0 / 12.0, rel=0.01)


def test_sampling_reproducible_and_thread_independent():
    st = build(dict(stage="resolution", model="poisson", dither=True))
    n = PARALLEL_MIN + 10
    b = batch(pe_mean=np.linspace(0, 40, n))
    a1 = st.sample(b, np.random.default_rng(5))["pe"]
    a2 = st.sample(b, np.random.default_rng(5))["pe"]
    np.testing.assert_array_equal(a1, a2)
    small = st.sample(b.take(np.arange(100)), np.random.default_rng(5))["pe"]   # serial kernel, same key
    np.testing.assert_array_equal(small, a1[:100])


# ------------------------------------------------------------------------------------------------
# Gaussian
# ------------------------------------------------------------------------------------------------
def test_gaussian_sigma_formula_units_and_combine():
    st = build(dict(stage="resolution", model="gaussian", on="E_ee_keV", a=0.01, b=0.05, c=0.002, unit="MeV"))
    E = np.array([100.0, 1000.0, 5000.0])          # keV
    Em = E / 1000
    ref = 1000 * np.sqrt((0.01 * Em) ** 2 + (0.05 * np.sqrt(Em)) ** 2 + 0.002 ** 2)
    np.testing.assert_allclose(st.sigma(E), ref, rtol=1e-12)
    lin = build(dict(stage="resolution", model="gaussian", on="E_ee_keV", a=0.01, b=0.05, c=0.002, unit="MeV",
                     combine="linear"))
    np.testing.assert_allclose(lin.sigma(E), 1000 * (0.01 * Em + 0.05 * np.sqrt(Em) + 0.002), rtol=1e-12)


def test_gaussian_expansion_normalised_with_right_sigma():
    edges = np.linspace(0.0, 20.0, 41)
    st = build(dict(stage="resolution", model="gaussian", on="E_keV", to="E_rec_keV", b=0.4, c=0.1,
                    subdivide=10), obs={"E_rec_keV": edges})
    x = np.array([5.0, 8.0, 12.5])
    vals, P = st.expansion(x)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-14)
    sig = np.sqrt(0.16 * x + 0.01)
    h = (edges[1] - edges[0]) / 10
    mean = P[:, 1:-1] @ vals[1:-1]
    var = P[:, 1:-1] @ vals[1:-1] ** 2 - mean ** 2
    np.testing.assert_allclose(mean, x, atol=1e-9)
    np.testing.assert_allclose(var, sig ** 2 + h * h / 12, rtol=2e-4)    # Sheppard's correction of the grid
    # probabilities of the observable's bins are CDF differences
    out = st.expect(Batch({"E_keV": x}, np.ones(3)))
    got = np.vstack([np.histogram(out["E_rec_keV"][out["E_keV"] == xi], edges,
                                  weights=out.weight[out["E_keV"] == xi])[0] for xi in x])
    ref = np.diff(stats.norm.cdf(edges[None, :], x[:, None], sig[:, None]), axis=1)
    np.testing.assert_allclose(got, ref, atol=1e-14)


@pytest.mark.parametrize("lower", ["none", "clip", "truncate"])
def test_gaussian_sample_vs_expect(lower):
    edges = np.linspace(-2.0, 10.0, 49) if lower == "none" else np.linspace(0.0, 10.0, 41)
    st = build(dict(stage="resolution", model="gaussian", on="E_keV", to="E_rec_keV", a=0.05, b=0.5, c=0.3,
                    lower=lower), obs={"E_rec_keV": edges})
    rng = np.random.default_rng(11)
    bs, be = repeated_truth(E_keV=rng.uniform(0.0, 6.0, 1000))
    s = st.sample(bs, rng)
    chi2_agreement(s, st.expect(be), "E_rec_keV", edges)
    if lower != "none":
        assert s["E_rec_keV"].min() >= 0.0


def test_truncated_gaussian_mean_closed_form():
    st = build(dict(stage="resolution", model="gaussian", on="x", c=1.0, lower="truncate"))
    for m in (-2.0, 0.5, 3.0):
        s = st.sample(batch(x=np.full(N, m)), np.random.default_rng(2))["x"]
        alpha = -m
        ref = m + stats.norm.pdf(alpha) / stats.norm.sf(alpha)
        sd = stats.truncnorm(alpha, np.inf, loc=m).std()
        assert s.mean() == pytest.approx(ref, abs=5 * sd / math.sqrt(N))
    clip = build(dict(stage="resolution", model="gaussian", on="x", c=1.0, lower="clip"))
    s = clip.sample(batch(x=np.full(N, 0.3)), np.random.default_rng(2))["x"]
    assert np.mean(s == 0.0) == pytest.approx(stats.norm.cdf(-0.3), abs=5e-3)


def test_gaussian_on_time_column_in_ns():
    st = build(dict(stage="resolution", model="gaussian", on="t_us", c=50.0, unit="ns"))
    s = st.sample(batch(t_us=np.full(N, 1.0)), np.random.default_rng(4))["t_us"]
    assert s.std() == pytest.approx(0.05, rel=0.01)


# ------------------------------------------------------------------------------------------------
# migration matrix and conditional tables
# ------------------------------------------------------------------------------------------------
M_TRUE = [0.0, 1.0, 2.0, 3.0]
M_RECO = [0.0, 0.5, 1.5, 2.5, 4.0]
M = [[0.5, 0.3, 0.0, 0.0], [0.1, 0.6, 0.2, 0.0], [0.0, 0.1, 0.3, 0.55]]


def test_migration_matrix_rows_and_sampling():
    st = build(dict(stage="resolution", model="migration_matrix", on="E_keV", to="E_rec_keV",
                    true_edges=M_TRUE, reco_edges=M_RECO, matrix=M))
    b = batch(E_keV=[0.5, 1.5, 2.5, 7.0])
    out = st.expect(b)
    for i, e in enumerate((0.5, 1.5, 2.5)):
        sel = out["E_keV"] == e
        h, _ = np.histogram(out["E_rec_keV"][sel], M_RECO, weights=out.weight[sel])
        np.testing.assert_allclose(h, M[i], atol=1e-15)
    assert not np.any(out["E_keV"] == 7.0)           # outside the matrix: no efficiency
    rng = np.random.default_rng(9)
    bs, be = repeated_truth(E_keV=rng.uniform(-0.5, 3.5, 1000))
    s = st.sample(bs, rng)
    x = bs["E_keV"]
    assert np.all(s.weight[(x < 0) | (x >= 3)] == 0)
    np.testing.assert_allclose(s.weight[(x >= 1) & (x < 2)], 0.9)
    chi2_agreement(s, st.expect(be), "E_rec_keV", M_RECO)
    # uniform within the reco bins: the expansion onto 4 sub-cells per bin agrees on the fine binning too
    fine = build(dict(stage="resolution", model="migration_matrix", on="E_keV", to="E_rec_keV", true_edges=M_TRUE,
                      reco_edges=M_RECO, matrix=M, subdivide=4))
    from nudmsim.response.stages_resolution import subdivided

    chi2_agreement(s, fine.expect(be), "E_rec_keV", subdivided(M_RECO, 4))


def test_migration_matrix_official_xenon1t_file():
    st = build(dict(stage="resolution", model="migration_matrix", on="E_R_keV", to="E_rec_keV",
                    file="xenon1t_2018/xenon1t_2018_migration_matrix_official.csv"))
    assert st.P.shape == (277, 80) and np.all(st.row_sum <= 1.0 + 1e-6)
    from nudmsim.paths import data_file

    # the file read here with numpy alone (the release layout: true-bin edges, then one column per reco bin)
    rows = [ln.split(",") for ln in data_file("xenon1t_2018", "xenon1t_2018_migration_matrix_official.csv")
            .read_text().splitlines() if ln and not ln.startswith("#")]
    head, arr = rows[0], np.array(rows[1:], float)
    true_lo, P = arr[:, 0], arr[:, 2:]
    reco_edges = np.array([float(h.split("_")[1]) for h in head[2:]] + [float(head[-1].split("_")[2])])
    e = np.array([2.0, 10.0, 30.0])
    out = st.expect(batch(E_R_keV=e))
    for ei in e:
        sel = out["E_R_keV"] == ei
        h, _ = np.histogram(out["E_rec_keV"][sel], reco_edges, weights=out.weight[sel])
        np.testing.assert_allclose(h, P[np.searchsorted(true_lo, ei, side="right") - 1], atol=1e-15)


def test_conditional_table_axis():
    x_edges, y_edges = [0.0, 10.0, 20.0, 60.0], [0.0, 0.25, 0.5, 0.75, 1.0]
    P = [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.6, 0.3, 0.1, 0.0]]
    st = build(dict(stage="axis", model="conditional_table", on="pe", to="psd", x_edges=x_edges, y_edges=y_edges,
                    matrix=P, out_of_range="zero"))
    rng = np.random.default_rng(13)
    bs, be = repeated_truth(pe=rng.uniform(0.0, 70.0, 1000))
    s = st.sample(bs, rng)
    pe = bs["pe"]
    assert np.all(s.weight[pe >= 60] == 0) and np.all(s.weight[pe < 60] == 1)
    e = st.expect(be)
    # 2-d agreement: flatten (pe bin, psd bin)
    fine_y = np.linspace(0.0, 1.0, 9)
    for lo, hi in zip(x_edges[:-1], x_edges[1:]):
        ss, ee = (z.take((z["pe"] >= lo) & (z["pe"] < hi)) for z in (s, e))
        chi2_agreement(ss, ee, "psd", y_edges)
        # uniform within each y bin in sampling: the two halves of a bin are equal within errors
        h, _ = np.histogram(ss["psd"], fine_y)
        assert abs(h[0] - h[1]) < 5 * math.sqrt(h[0] + h[1]) + 1
    clamp = build(dict(stage="axis", model="conditional_table", on="pe", to="psd", x_edges=x_edges,
                       y_edges=y_edges, matrix=P, out_of_range="clamp"))
    out = clamp.expect(batch(pe=[100.0]))
    np.testing.assert_allclose(np.histogram(out["psd"], y_edges, weights=out.weight)[0], P[2], atol=1e-15)


# ------------------------------------------------------------------------------------------------
# efficiencies and cuts
# ------------------------------------------------------------------------------------------------
def test_logistic_closed_form_and_clip():
    a, b_, c_, d = 1.32045, 0.285979, 10.8646, -0.333322
    st = build(dict(stage="efficiency", model="logistic", a=a, b=b_, c=c_, d=d, to="eff"))
    x = np.array([0.0, 3.0, 10.8646, 20.0, 80.0])
    out = st.expect(batch(pe=x))
    ref = np.clip(a / (1 + np.exp(-b_ * (x - c_))) + d, 0, 1)
    np.testing.assert_allclose(out.weight, ref, rtol=1e-13)
    assert out["eff"][0] == 0.0 and out["eff"][2] == pytest.approx(a / 2 + d)


def test_logistic_2017_rule_equals_release_acceptance():
    """step [5, 6] and 1-PE bin centres reproduce efficiency.coherent_logistic at the bin centres."""
    st = build(dict(stage="efficiency", model="logistic", a=0.6655, b=0.4942, c=10.8507, step=[5.0, 6.0],
                    evaluate_on_bins=1.0))
    x = np.random.default_rng(1).uniform(0, 50, 5000)
    ref = efficiency.coherent_logistic(np.floor(x) + 0.5, 0.6655, 0.4942, 10.8507)
    np.testing.assert_allclose(st.expect(batch(pe=x)).weight, ref, rtol=1e-13)


def test_logistic_kernel_equals_numpy_form():
    """Large batches go through the parallel numba kernel, small ones through numpy: same numbers."""
    st = build(dict(stage="efficiency", model="logistic", a=0.9, b=0.3, c=8.0, d=0.05, step=[5.0, 6.0],
                    evaluate_on_bins=0.5, clip=[0.0, 0.95]))
    x = np.random.default_rng(2).uniform(0, 40, PARALLEL_MIN + 1)
    big = st.expect(batch(pe=x)).weight
    small = np.concatenate([st.expect(batch(pe=part)).weight for part in np.array_split(x, 4)])
    np.testing.assert_allclose(big, small, rtol=1e-13)
    t = build(dict(stage="efficiency", model="time_exp", t0=0.52, rate=0.0494))
    tt = np.random.default_rng(3).uniform(0, 12, PARALLEL_MIN + 1)
    np.testing.assert_allclose(t.expect(batch(t_us=tt)).weight,
                               np.concatenate([t.expect(batch(t_us=p)).weight for p in np.array_split(tt, 4)]),
                               rtol=1e-13)


def test_logistic_nuisances_asymmetric_and_variants():
    st = build(dict(stage="efficiency", model="logistic", a=1.32045, b=0.285979, c=10.8646, d=-0.333322,
                    errors_hi={"c": 0.2}, errors_lo={"c": 0.4}, errors={"a": 0.01},
                    variants_up=[{"a": 1.3439, "b": 0.285366, "c": 9.84596, "d": -0.356364}],
                    variants_down=[{"a": 1.297, "b": 0.286592, "c": 11.8832, "d": -0.31028}]))
    nus = {n.name: n for n in st.nuisances()}
    assert set(nus) == {"eff_a", "eff_c", "eff_shape"}
    assert nus["eff_c"].value(1.0) == pytest.approx(11.0646) and nus["eff_c"].value(-1.0) == pytest.approx(10.4646)
    x = np.array([8.0, 15.0])
    up = st.expect(batch(pe=x), {"eff_shape": 1.0}).weight
    np.testing.assert_allclose(up, np.clip(1.3439 / (1 + np.exp(-0.285366 * (x - 9.84596))) - 0.356364, 0, 1))
    # the 2021 +1σ row has the lower midpoint: more efficiency near threshold
    assert up[0] > st.expect(batch(pe=x)).weight[0]


def test_table_step_constant_time_exp_and_window():
    tab = build(dict(stage="efficiency", model="table", on="E_keV", x=[1.0, 2.0, 4.0], efficiency=[0.0, 0.5, 0.9],
                     out_of_range="clamp"))
    assert tab.expect(batch(E_keV=[0.5, 1.5, 3.0, 9.0])).weight == pytest.approx([0.0, 0.25, 0.7, 0.9])
    step = build(dict(stage="efficiency", model="step", on="E_keV", threshold=2.0, upper=5.0, value=0.8))
    assert step.expect(batch(E_keV=[1.9, 2.0, 4.9, 5.0])).weight == pytest.approx([0, 0.8, 0.8, 0])
    const = build(dict(stage="efficiency", model="constant", value=0.9, error=0.05))
    assert const.expect(batch(x=[1.0]), {"eff": 0.8}).weight == pytest.approx([0.8])
    t = build(dict(stage="efficiency", model="time_exp", t0=0.52, rate=0.0494))
    assert t.expect(batch(t_us=[0.1, 0.52, 3.0])).weight == pytest.approx([1.0, 1.0, math.exp(-0.0494 * 2.48)])
    tns = build(dict(stage="efficiency", model="time_exp", on="t_ns", t0=0.52, rate=0.0494, unit="us"))
    assert tns.expect(batch(t_ns=[3000.0])).weight == pytest.approx([math.exp(-0.0494 * 2.48)])
    cut = build(dict(stage="cut", model="window", on="pe", lo=5.0, hi=60.0))
    b = batch(pe=[4.9, 5.0, 59.9, 60.0])
    assert cut.expect(b).weight == pytest.approx([0, 1, 1, 0])
    dropped = build(dict(stage="cut", model="window", on="pe", lo=5.0, hi=60.0, drop=True)).expect(b)
    assert list(dropped["pe"]) == [5.0, 59.9]


# ------------------------------------------------------------------------------------------------
# a whole chain, and purity of every stage
# ------------------------------------------------------------------------------------------------
CSI_2021 = [
    dict(stage="quenching", model="polynomial_eee", coefficients=[0.0554628, 4.30681, -111.707, 840.384], unit="MeV"),
    dict(stage="yield", model="linear", value=13.35),
    dict(stage="resolution", model="poisson", dither=True),
    dict(stage="efficiency", model="logistic", a=1.32045, b=0.285979, c=10.8646, d=-0.333322),
    dict(stage="efficiency", model="time_exp", t0=0.52, rate=0.0494, name="timing"),
]


def test_csi_chain_sample_vs_expect_2d():
    obs = {"pe": np.arange(0.0, 61.0, 2.0), "t_us": np.arange(0.0, 6.01, 0.5)}
    chain = [build_stage(t, ctx(obs, key=f"response[{i}]")) for i, t in enumerate(CSI_2021)]
    assert nominal_values(chain) == {}
    rng = np.random.default_rng(21)
    bs, be = repeated_truth(E_R_keV=rng.exponential(10.0, 1000) + 1.0, t_us=rng.uniform(0, 6, 1000))
    s = run_chain(chain, bs, rng=rng)
    e = run_chain(chain, be)
    # flatten the (pe, t) histogram into one index
    flat = {}
    for name, z in (("s", s), ("e", e)):
        ip = np.clip(np.searchsorted(obs["pe"], z["pe"], side="right") - 1, -1, 30)
        it = np.clip(np.searchsorted(obs["t_us"], z["t_us"], side="right") - 1, -1, 12)
        ok = (ip >= 0) & (ip < 30) & (it >= 0) & (it < 12)
        flat[name] = Batch({"k": np.where(ok, ip * 12 + it, -1).astype(float)}, z.weight)
    chi2_agreement(flat["s"], flat["e"], "k", np.arange(-0.5, 360.5, 1.0))


ALL_STAGES = CSI_2021 + [
    dict(stage="quenching", model="constant", value=0.08),
    dict(stage="quenching", model="lindhard", Z=54, A=131.3),
    dict(stage="quenching", model="table", x=[1.0, 100.0], values=[0.05, 0.1], out_of_range="clamp"),
    dict(stage="quenching", model="polynomial_qf", coefficients=[0.05, 1e-3]),
    dict(stage="resolution", model="gaussian", on="E_R_keV", to="E_rec_keV", b=0.3, grid=[0.0, 100.0, 1.0]),
    dict(stage="resolution", model="migration_matrix", on="E_R_keV", to="E_rec_keV", true_edges=[0.0, 50.0, 100.0],
         reco_edges=[0.0, 50.0, 100.0], matrix=[[0.9, 0.1], [0.0, 1.0]]),
    dict(stage="axis", model="conditional_table", on="E_R_keV", to="psd", x_edges=[0.0, 200.0],
         y_edges=[0.0, 0.5, 1.0], matrix=[[0.5, 0.5]], out_of_range="clamp"),
    dict(stage="efficiency", model="table", on="E_R_keV", x=[0.0, 100.0], efficiency=[0.2, 1.0], out_of_range="zero"),
    dict(stage="efficiency", model="step", on="E_R_keV", threshold=3.0),
    dict(stage="efficiency", model="constant", value=0.5),
    dict(stage="cut", model="window", on="E_R_keV", lo=2.0),
]


@pytest.mark.parametrize("table", ALL_STAGES, ids=lambda t: f"{t['stage']}-{t['model']}")
def test_stages_are_pure(table):
    rng = np.random.default_rng(0)
    n = 1000
    b = Batch({"E_R_keV": rng.uniform(1, 80, n), "E_ee_keV": rng.uniform(0, 5, n), "pe_mean": rng.uniform(0, 50, n),
               "pe": rng.uniform(0, 60, n), "t_us": rng.uniform(0, 6, n)}, rng.uniform(0.5, 1.5, n))
    before = {k: v.copy() for k, v in b.columns.items()}
    w0 = b.weight.copy()
    st = build(table, obs={"pe": np.arange(0.0, 61.0)})
    outs = (st.sample(b, rng), st.expect(b))
    for out in outs:
        unchanged(before, b)
        np.testing.assert_array_equal(b.weight, w0)
        assert set(b.columns) == set(before)
        assert out is not b
    if table["stage"] not in ("resolution", "axis"):     # deterministic: both modes are the same function
        s, e = outs
        assert set(s.columns) == set(e.columns)
        for k in s.columns:
            np.testing.assert_array_equal(s[k], e[k])
        np.testing.assert_array_equal(s.weight, e.weight)


def test_response_matrix_folds_like_the_chain():
    """w @ R equals histogramming the chain's expectation with weights w (the chain is linear in w)."""
    from nudmsim.response.matrix import response_matrix

    obs = {"pe": np.arange(0.0, 61.0, 2.0), "t_us": np.arange(0.0, 6.01, 0.5)}
    chain = [build_stage(t, ctx(obs, key=f"response[{i}]")) for i, t in enumerate(CSI_2021)]
    rng = np.random.default_rng(5)
    truth = Batch({"E_R_keV": rng.uniform(1, 60, 500), "t_us": rng.uniform(0, 6.5, 500)}, np.ones(500))
    R = response_matrix(chain, truth, obs)
    for _ in range(2):
        w = rng.uniform(0.1, 3.0, 500)
        out = run_chain(chain, Batch(truth.columns, w))
        ref, _, _ = np.histogram2d(out["pe"], out["t_us"], bins=(obs["pe"], obs["t_us"]), weights=out.weight)
        np.testing.assert_allclose(R.fold(w), ref, rtol=1e-12, atol=1e-12 * w.sum())
    assert np.all((R.efficiency >= 0) & (R.efficiency <= 1 + 1e-12))
