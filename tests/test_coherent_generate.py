"""COHERENT generator and templates: SM prediction, template vs MC, weights, card validation."""
import numpy as np
import pytest

from nudmsim import cards
from nudmsim.analyses import coherent as co
from nudmsim.errors import CardError, ParameterError
from nudmsim.generate import make_rng

CARD = cards.load_detector("coherent_csi_2017")


def test_sm_prediction_matches_published():
    n = co.pe_time_template("cevns", {}, CARD)["accepted"].sum()
    assert n == pytest.approx(173.0, rel=0.15)       # Science 2017: 173 +- 48


def test_template_shape_and_contract():
    t = co.pe_time_template("cevns", {}, CARD, qf=0.0878)
    assert t["raw"].shape == t["accepted"].shape == (25, 24)
    assert np.allclose(t["pe_edges"], np.arange(0, 51, 2)) and np.allclose(t["t_edges"], np.arange(0, 12.01, 0.5))
    assert np.all(t["accepted"] <= t["raw"] + 1e-12)
    # lower QF -> fewer PE -> fewer accepted events; the constant QF override equals the card's constant
    assert co.pe_time_template("cevns", {}, CARD)["accepted"].sum() == pytest.approx(t["accepted"].sum())
    assert co.pe_time_template("cevns", {}, CARD, qf=0.07)["accepted"].sum() < t["accepted"].sum()
    fit = co.pe_time_template("cevns", {}, CARD, quenching="fit")["accepted"].sum()
    assert 0.7 * t["accepted"].sum() < fit < 1.3 * t["accepted"].sum()


@pytest.mark.parametrize("process,params", [("cevns", {}), ("nu-to-x", {}),
                                            ("nu-to-x", {"m_X": 35.0, "m_phi": 350.0})])
def test_generator_agrees_with_template(process, params):
    s = co.generate_events(process, params, CARD, 300_000, make_rng(11))
    ev = s.events
    w = ev["weight"].to_numpy()
    # total: sum of weights is an unbiased estimate of the quadrature total
    err = w.std(ddof=1) * np.sqrt(len(w))
    assert abs(w.sum() - s.expected_total) < 4 * err and err / s.expected_total < 0.01
    assert w.max() / w.mean() < 10          # importance sampling keeps weights tame
    t = co.pe_time_template(process, params, CARD)
    wa = w * ev["acceptance"].to_numpy()
    h = np.histogram2d(ev["pe"].to_numpy(), ev["t_us"].to_numpy(), [t["pe_edges"], t["t_edges"]], weights=wa)[0]
    h2 = np.histogram2d(ev["pe"].to_numpy(), ev["t_us"].to_numpy(), [t["pe_edges"], t["t_edges"]], weights=wa**2)[0]
    for axis in (0, 1):
        mc, var, ref = h.sum(axis), h2.sum(axis), t["accepted"].sum(axis)
        sel = ref > 1e-3 * ref.max()
        pulls = (mc[sel] - ref[sel]) / np.sqrt(var[sel])
        assert np.sum(pulls**2) / sel.sum() < 2.5, pulls
    # accepted flags follow the acceptance probabilities
    acc_flag = (w * ev["accepted"].to_numpy()).sum()
    assert acc_flag == pytest.approx(wa.sum(), rel=0.02)


def test_events_are_physical():
    ev = co.generate_events("nu-to-x", {"m_X": 20.0, "m_phi": 60.0}, CARD, 50_000, make_rng(5)).events
    e_nu = ev["E_nu_MeV"].to_numpy()
    from nudmsim import targets
    from nudmsim.processes import nu_to_x as nx

    for i, name in enumerate(("Cs133", "I127")):
        sel = ev["target_id"].to_numpy() == i
        lo, hi = nx.recoil_range(e_nu[sel], 20.0, targets.isotope(name).mass)
        er = ev["E_R_keV"].to_numpy()[sel] / 1000.0
        assert np.all(er >= lo * (1 - 1e-9)) and np.all(er <= hi * (1 + 1e-9))
    assert np.all(e_nu >= 20.0) and np.all(e_nu <= 52.83)
    prompt = ev["flavour"].to_numpy() == 0
    assert np.allclose(e_nu[prompt], 29.79, atol=0.01)


def test_parameter_errors():
    with pytest.raises(ParameterError, match="kinematic reach.*52.8"):
        co.pe_time_template("nu-to-x", {"m_X": 60.0}, CARD)
    with pytest.raises(ParameterError, match="m_phi"):
        co.pe_time_template("nu-to-x", {"m_phi": float("nan")}, CARD)


def test_card_validation_names_file_and_key(tmp_path):
    text = CARD.text.replace("mass_kg = 14.57", "mass_kg = -1.0")
    p = tmp_path / "bad_csi.toml"
    p.write_text(text)
    with pytest.raises(CardError, match=r"bad_csi.toml.*target.mass_kg"):
        co.pe_time_template("cevns", {}, cards.load_detector(str(p)))
    p.write_text(CARD.text.replace("pe_width = 2.0", "pe_width = 3.0"))
    with pytest.raises(CardError, match=r"binning.pe_width"):
        co.pe_time_template("cevns", {}, cards.load_detector(str(p)))
    p.write_text(CARD.text.replace('form_factor = "klein_nystrand"', 'form_factor = "gauss"'))
    with pytest.raises(CardError, match=r"target.form_factor.*helm"):
        co.pe_time_template("cevns", {}, cards.load_detector(str(p)))


@pytest.mark.parametrize("ff", ["klein_nystrand", "helm"])
def test_kernel_form_factor_matches_library(ff):
    from nudmsim import formfactors
    from nudmsim.generators import pidar_sampling as g, _pidar_kernels as K
    from nudmsim.generators.pidar_quadrature import setup

    st = setup(CARD)
    st_ff = type(st)(**{**st.__dict__, "form_factor": ff})
    code, r1, r2 = g._ff_params(st_ff)
    for i, nuc in enumerate(st.nuclei):
        for er in (1e-4, 5e-3, 0.02, 0.04):
            q = np.sqrt(2 * nuc.mass * er)
            ref = formfactors.form_factor_sq_recoil(np.array([er]), nuc.mass, nuc.A, ff)[0]
            assert K._ff2(code, q, r1[i], r2[i]) == pytest.approx(ref, rel=1e-12)


def test_weighted_neutrino_spectrum_matches_quadrature():
    """Weighted E_nu histogram of nu_e events on Cs = N_T Phi f(E) sigma(E) integrated by quadrature."""
    from scipy.integrate import quad

    from nudmsim import constants as c, formfactors
    from nudmsim.generators.pidar_quadrature import setup
    from nudmsim.processes import cevns
    from nudmsim.sources import sns

    st = setup(CARD)
    ev = co.generate_events("cevns", {}, CARD, 400_000, make_rng(21)).events
    sel = (ev["flavour"].to_numpy() == sns.NU_E) & (ev["target_id"].to_numpy() == 0)
    edges = np.linspace(0, sns.E_MAX, 9)
    h = np.histogram(ev["E_nu_MeV"].to_numpy()[sel], edges, weights=ev["weight"].to_numpy()[sel])[0]
    h2 = np.histogram(ev["E_nu_MeV"].to_numpy()[sel], edges, weights=ev["weight"].to_numpy()[sel] ** 2)[0]
    cs = st.nuclei[0]
    norm = st.source.fluence * c.HBARC**2 * st.n_targets[0]

    def sigma(e):
        f = lambda t: float(cevns.dsigma_dT_noff(e, t, cs.Z, cs.N, cs.mass)  # noqa: E731
                            * formfactors.form_factor_sq_recoil(np.array([t]), cs.mass, cs.A, "klein_nystrand")[0])
        return quad(f, 0, float(cevns.t_max(e, cs.mass)), limit=100)[0]

    ref = np.array([norm * quad(lambda e: sns.michel_pdf(sns.NU_E, e) * sigma(e), a, b, limit=50)[0]
                    for a, b in zip(edges[:-1], edges[1:])])
    ok = ref > 1e-3 * ref.max()
    pulls = (h[ok] - ref[ok]) / np.sqrt(h2[ok])
    assert np.all(np.abs(pulls) < 4), pulls


def test_card_options_physical_timing_and_helm(tmp_path):
    """Card-driven options: the physical timing model (generator vs template) and the Helm form factor."""
    p = tmp_path / "phys.toml"
    p.write_text(CARD.text.replace("# proton_kinetic_energy_GeV = 1.0", 'timing_model = "physical"')
                 .replace('form_factor = "klein_nystrand"', 'form_factor = "helm"'))
    card = cards.load_detector(str(p))
    t = co.pe_time_template("cevns", {}, card)
    ref = co.pe_time_template("cevns", {}, CARD)
    # Helm and Klein-Nystrand differ at the 10% level for CsI, same time-integrated acceptance physics
    assert t["accepted"].sum() == pytest.approx(ref["accepted"].sum(), rel=0.12)
    assert t["accepted"].sum() != pytest.approx(ref["accepted"].sum(), rel=1e-3)
    ev = co.generate_events("cevns", {}, card, 200_000, make_rng(4)).events
    wa = (ev["weight"] * ev["acceptance"]).to_numpy()
    h = np.histogram(ev["t_us"].to_numpy(), t["t_edges"], weights=wa)[0]
    h2 = np.histogram(ev["t_us"].to_numpy(), t["t_edges"], weights=wa**2)[0]
    ref_t = t["accepted"].sum(0)
    ok = ref_t > 1e-3 * ref_t.max()
    assert np.sum(((h[ok] - ref_t[ok]) / np.sqrt(h2[ok])) ** 2) / ok.sum() < 2.5


def test_michel_sampling_is_exact_inverse_cdf():
    """For delayed events, (C(E_nu) - C(E_min)) / (1 - C(E_min)) must be uniform (probability integral transform)."""
    from scipy.stats import kstest

    from nudmsim import targets
    from nudmsim.processes import nu_to_x as nx
    from nudmsim.sources import sns

    ev = co.generate_events("nu-to-x", {}, CARD, 300_000, make_rng(8)).events
    fl = ev["flavour"].to_numpy()
    masses = np.array([targets.isotope(n).mass for n in ("Cs133", "I127")])[ev["target_id"].to_numpy()]
    e_min = nx.e_nu_min(ev["E_R_keV"].to_numpy() / 1000.0, 10.0, masses)
    for f in (sns.NU_E, sns.NU_MU_BAR):
        s = fl == f
        c0 = sns.michel_cdf(f, e_min[s])
        v = (sns.michel_cdf(f, ev["E_nu_MeV"].to_numpy()[s]) - c0) / (1 - c0)
        assert kstest(v, "uniform").pvalue > 1e-3


def test_same_events_for_any_thread_count():
    import numba

    n0 = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = co.generate_events("cevns", {}, CARD, 20_000, make_rng(99)).events
        numba.set_num_threads(n0)
        b = co.generate_events("cevns", {}, CARD, 20_000, make_rng(99)).events
    finally:
        numba.set_num_threads(n0)
    for k in a.fields:
        assert np.array_equal(a[k].to_numpy(), b[k].to_numpy()), k


def test_reweight_sm_sample_to_nu_to_x():
    """One SM sample reweighted to nu->X reproduces the nu->X quadrature total and accepted spectrum."""
    p = {"m_X": 5.0, "m_phi": 50.0}
    ev = co.generate_events("cevns", {}, CARD, 400_000, make_rng(17)).events
    w = co.reweight(ev, CARD, "nu-to-x", p)
    from nudmsim.generators.pidar_quadrature import setup, total_events

    ref = total_events("nu-to-x", co._full_params("nu-to-x", p), setup(CARD))["total"]
    err = w.std(ddof=1) * np.sqrt(len(w))
    assert abs(w.sum() - ref) < 4 * err and err / ref < 0.05
    acc = (w * ev["acceptance"].to_numpy()).sum()
    ref_acc = co.pe_time_template("nu-to-x", p, CARD)["accepted"].sum()
    assert acc == pytest.approx(ref_acc, rel=0.05)
    # identity reweighting leaves the weights unchanged
    assert np.allclose(co.reweight(ev, CARD, "cevns"), ev["weight"].to_numpy())


def test_fused_and_two_pass_kernels_agree():
    """The fused kernel (card quenching models) and the general path (any quenching object) agree."""
    from nudmsim.generators.pidar_sampling import generate
    from nudmsim.generators.pidar_quadrature import setup

    class Wrapped:        # an arbitrary quenching object -> forces the kinematics/numpy/response path
        def __init__(self, q):
            self.q = q

        def e_ee(self, e_nr):
            return self.q.e_ee(e_nr)

    for model in ("constant", "fit"):
        from nudmsim.response.quenching import from_card

        q = from_card(CARD, model=model)
        a = generate("nu-to-x", co._full_params("nu-to-x", {}), CARD, 30_000, make_rng(3), qmodel=q).events
        b = generate("nu-to-x", co._full_params("nu-to-x", {}), CARD, 30_000, make_rng(3), qmodel=Wrapped(q)).events
        for k in ("E_R_keV", "E_nu_MeV", "weight", "E_ee_keV", "t_us", "acceptance"):
            assert np.allclose(a[k].to_numpy(), b[k].to_numpy(), rtol=1e-12, atol=0), (model, k)
        assert np.mean(a["n_pe"].to_numpy() == b["n_pe"].to_numpy()) > 0.9999
    assert setup(CARD).quenching.describe().startswith("constant")
