"""COHERENT CsI[Na] 2017: the binned Poisson fit of the released PE x arrival-time data, and 90% CL limits /
projected sensitivities on sigma_NC of nu + N -> X + N (scalar portal, seed 004 sec. III).

Likelihood (built with :mod:`nudmsim.stats.likelihood`), on the released coincidence beam-on counts
(25 PE bins of 2 PE x 24 time bins of 0.5 us; ``data/coherent_csi_2017/csi2018_counts_PE_time.csv``):

* **CEvNS** — the quadrature template of ``nudmsim.analyses.coherent`` in 1-PE evaluation bins, accepted
  with the released acceptance and grouped into the release bins.  Fit mode: a free count ``n_cevns``
  (events after acceptance; the published 134 +- 22); limit mode: fixed to the SM times the flux nuisance.
* **prompt neutrons** — the released PE pdf per GWh (1-PE bins, before acceptance) x beam exposure x
  acceptance x the released arrival-time pdf of prompt neutrons; normalisation ``neutron_norm`` 1 +- 0.25.
* **steady-state background** — the anti-coincidence (AC) beam-on counts, same window length (tau = 1):
  ``steady_state="onoff"`` (default of the fit) gives every bin its own background b_i with
  AC_i ~ Poisson(b_i), profiled analytically (Barlow–Beeston-lite); ``"factorised"`` (default of the limits,
  see ``LIMIT_STEADY_STATE``) uses N_AC x P(PE) x P(t) from the AC projections with a normalisation
  constrained by sqrt(N_AC).  (The AC time projection is *not* flat: ~2x more counts in the first
  microsecond, so a flat-in-time model is not offered.)
* nuisances: quenching factor ``qf`` 0.0878 +- 0.0166 (templates at 25 QF knots over +-3 sigma, linear
  interpolation bin by bin), acceptance ``theta_a, theta_k, theta_x0`` (standard normal, mapped to the released
  asymmetric errors, independent), flux ``flux`` 1 +- 0.10 (limit mode only: with a free CEvNS count the flux
  is not identifiable).

Limits: the nu -> X template at reference couplings (the ``nu-to-x`` defaults) times a signal strength
``mu`` (with the same flux, QF and acceptance nuisances) on top of SM CEvNS.  The rate is proportional to
(y_X y_N)^2, i.e. to sigma_NC at fixed masses, so sigma_NC^up = mu^up x sigma_NC(reference) — one fit per
mass (checked in tests/test_coherent_fit_limits.py against re-templating at other couplings).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import NudmsimError
from ..registry import AnalysisEntry, register_analysis

RELEASE = "coherent_csi_2017"
QF_SIGMAS = np.linspace(-3.0, 3.0, 25)       # QF knots in units of the QF error
DEFAULT_RATIOS = (3.0, 10.0)
DEFAULT_MASSES = np.geomspace(1.0, 100.0, 20)  # MeV; points above the kinematic reach are dropped


# ------------------------------------------------------------------------------------------------
# released inputs
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Release:
    """The released 2017 data in the analysis binning (arrays (n_pe, n_t) unless noted)."""

    pe_edges: np.ndarray
    t_edges: np.ndarray
    c_on: np.ndarray
    ac_on: np.ndarray
    exposure_GWh: float                 # beam exposure of these data
    neutron_pe_per_GWh: np.ndarray      # (n_fine,) 1-PE bins, before acceptance
    neutron_t_pdf: np.ndarray           # (n_t,)


def _table(card, key: str, **checks):
    return card.read_table(key, **checks)


def release_exposure_GWh() -> float:
    """beamExposure of the 2017 release (csi2018_parameters.csv)."""
    from ..paths import data_file

    path = data_file(RELEASE, "csi2018_parameters.csv")
    with open(path) as fh:
        for line in fh:
            if line.startswith("beamExposure,"):
                return float(line.split(",")[2])
    raise NudmsimError(f"{path}: no beamExposure row")


@lru_cache(maxsize=8)
def _load_release(path: str, sha: str) -> Release:
    from .. import cards

    card = cards.load_detector(path)
    from . import coherent

    tmpl = coherent.pe_time_template("cevns", {}, card)
    pe_edges, t_edges = tmpl["pe_edges"], tmpl["t_edges"]
    counts = ("C_beamOn", "AC_beamOn")
    d = _table(card, "data.counts_file", columns=("pe", "t_us", *counts), nonnegative=counts)
    pe_vals, t_vals = np.unique(d["pe"]), np.unique(d["t_us"])
    shape = (len(pe_vals), len(t_vals))
    if shape != (len(pe_edges) - 1, len(t_edges) - 1):
        raise card.error("binning", f"the released counts have {shape} PE x time bins but the card's binning "
                         f"gives {(len(pe_edges) - 1, len(t_edges) - 1)}", "use the release binning")
    order = np.lexsort((d["t_us"], d["pe"]))
    keys = np.stack([d["pe"][order], d["t_us"][order]], axis=1)
    if len(order) != shape[0] * shape[1] or len(np.unique(keys, axis=0)) != len(order):
        raise card.error("data.counts_file", f"must hold each (pe, t_us) bin once: {len(order)} rows for "
                         f"{shape[0]} x {shape[1]} bins")
    if not (np.all(np.digitize(pe_vals, pe_edges) == np.arange(1, shape[0] + 1))
            and np.all(np.digitize(t_vals, t_edges) == np.arange(1, shape[1] + 1))):
        raise card.error("binning", "released bin centres do not fall one per card bin")
    c_on = d["C_beamOn"][order].reshape(shape)
    ac_on = d["AC_beamOn"][order].reshape(shape)
    n = _table(card, "data.prompt_neutron_pe_file", columns=("pe_center", "prompt_neutrons_per_GWh"),
               nonnegative=("prompt_neutrons_per_GWh",), increasing=("pe_center",))
    fine = tmpl["pe_fine_edges"]
    centres = 0.5 * (fine[:-1] + fine[1:])
    if len(n["pe_center"]) != len(centres) or not np.allclose(n["pe_center"], centres):
        raise card.error("data.prompt_neutron_pe_file", "PE bins differ from the acceptance evaluation bins")
    tp = _table(card, "data.time_pdf_file", columns=("t_us", "pdf_prompt_neutrons"),
                nonnegative=("pdf_prompt_neutrons",), increasing=("t_us",))
    t_centres = 0.5 * (t_edges[:-1] + t_edges[1:])
    if len(tp["t_us"]) != len(t_centres) or not np.allclose(tp["t_us"], t_centres):
        raise card.error("data.time_pdf_file", "time bins differ from the card's binning")
    if not tp["pdf_prompt_neutrons"].sum() > 0:
        raise card.error("data.time_pdf_file", "column 'pdf_prompt_neutrons' is all zero")
    t_pdf = tp["pdf_prompt_neutrons"] / tp["pdf_prompt_neutrons"].sum()
    return Release(pe_edges, t_edges, c_on, ac_on, release_exposure_GWh(),
                   np.asarray(n["prompt_neutrons_per_GWh"], float), t_pdf)


def load_release(card) -> Release:
    return _load_release(str(card.path), card.sha256)


# ------------------------------------------------------------------------------------------------
# templates on a QF grid, acceptance applied in the 1-PE evaluation bins
# ------------------------------------------------------------------------------------------------
class Templates:
    """Raw (before acceptance) expected counts in (1-PE fine bins x time bins) on a grid of constant QF
    values, for the card's exposure; ``accepted(name, qf, acc_fine)`` -> (n_pe, n_t) release bins."""

    def __init__(self, card, qf_knots):
        from . import _coherent_physics as cp

        self.card = card
        self.st = cp.setup(card)
        self.qf_knots = np.asarray(qf_knots, float)
        self.fine_edges = self.st.pe_fine_edges
        self.pe_edges, self.t_edges = self.st.pe_edges, self.st.t_edges
        self.group = int(round((self.pe_edges[1] - self.pe_edges[0]) / (self.fine_edges[1] - self.fine_edges[0])))
        self.fine_centres = 0.5 * (self.fine_edges[:-1] + self.fine_edges[1:])
        self.grids: dict = {}

    def add(self, name: str, process: str, params: dict) -> None:
        """Template grid of one process at one model point (recoil spectra once; PE per QF knot)."""
        from ..response.quenching import ConstantQuenching
        from ..stats.likelihood import TemplateGrid
        from . import _coherent_physics as cp
        from .coherent import _full_params

        p = _full_params(process, params)
        sp = cp.spectra(process, p, self.st)
        tp = {pr: self.st.source.timing.bin_probabilities(self.t_edges, pr) for pr in (True, False)}
        out = []
        for q in self.qf_knots:
            spec = cp.pe_spectrum_fine(process, p, self.st, ConstantQuenching(float(q)), sp=sp)
            out.append(sum(np.outer(s, tp[pr]) for pr, s in spec.items()))
        self.grids[name] = TemplateGrid(self.qf_knots, np.array(out))

    def raw_fine(self, name: str, qf: float) -> np.ndarray:
        return self.grids[name](qf)

    def group_pe(self, fine2d: np.ndarray) -> np.ndarray:
        return fine2d.reshape(-1, self.group, fine2d.shape[-1]).sum(1)

    def accepted(self, name: str, qf: float, acc_fine: np.ndarray) -> np.ndarray:
        return self.group_pe(self.grids[name](qf) * acc_fine[:, None])


class CoherentModel:
    """Everything the 2017 likelihood needs for one card: released data, templates, nuisance metadata."""

    def __init__(self, card):
        from ..cards import Card

        if not isinstance(card, Card):
            raise TypeError("CoherentModel needs a Card")
        self.card = card
        self.release = load_release(card)
        st_q = card.number("response.quenching.constant")
        self.qf0 = st_q
        self.qf_err = card.number("response.quenching.constant_error", positive=True)
        self.templates = Templates(card, st_q + self.qf_err * QF_SIGMAS)
        self.templates.add("cevns", "cevns", {})
        acc = self.templates.st.acceptance
        if acc.model != "coherent_logistic":
            raise card.error("response.acceptance.model", "the 2017 fit needs the released logistic acceptance")
        self.acc = acc
        self._acc_key, self._acc_val = None, None
        self.exposure_GWh = self.templates.st.source.exposure_GWh   # N_POT x T_p for a card given in POT
        self.scale = self.exposure_GWh / self.release.exposure_GWh   # backgrounds scale with beam time
        self.flux_err = card.number("source.nu_per_flavour_per_proton_rel_error", positive=True)
        self.neutron_err = card.number("data.prompt_neutron_norm_rel_error", positive=True)
        rel = self.release
        self.neutron_fine = (rel.neutron_pe_per_GWh * self.exposure_GWh)[:, None] * rel.neutron_t_pdf[None, :]
        self.ac = rel.ac_on * self.scale
        self.sm_accepted = float(self.cevns({}).sum())

    # -- nuisance mappings ------------------------------------------------------------------------
    def acceptance_fine(self, p) -> np.ndarray:
        """Released acceptance in the 1-PE evaluation bins at the nuisances theta_a, theta_k, theta_x0."""
        key = (p.get("theta_a", 0.0), p.get("theta_k", 0.0), p.get("theta_x0", 0.0))
        if key != self._acc_key:  # one evaluation per likelihood call (components share it)
            from ..stats.likelihood import asymmetric

            a = self.acc
            vals = {n: asymmetric(th, a.params[n], a.errors_hi[n], a.errors_lo[n])
                    for n, th in zip(("a", "k", "x0"), key)}
            self._acc_key, self._acc_val = key, a(self.templates.fine_centres, **vals)
        return self._acc_val

    def qf(self, p) -> float:
        return p.get("qf", self.qf0)

    def cevns(self, p) -> np.ndarray:
        return self.templates.accepted("cevns", self.qf(p), self.acceptance_fine(p))

    def neutrons(self, p) -> np.ndarray:
        return self.templates.group_pe(self.neutron_fine * self.acceptance_fine(p)[:, None])

    def add_signal(self, name: str, params: dict) -> None:
        self.templates.add(name, "nu-to-x", params)

    def signal(self, name: str, p) -> np.ndarray:
        return self.templates.accepted(name, self.qf(p), self.acceptance_fine(p))

    def is_release_exposure(self) -> bool:
        return abs(self.scale - 1.0) < 1e-9


@lru_cache(maxsize=4)
def _model_cached(path: str, sha: str) -> CoherentModel:
    from .. import cards

    return CoherentModel(cards.load_detector(path))


def model_for(card) -> CoherentModel:
    """Cached :class:`CoherentModel` of ``card`` (keyed on the card file's content hash)."""
    return _model_cached(str(card.path), card.sha256)


# ------------------------------------------------------------------------------------------------
# specs
# ------------------------------------------------------------------------------------------------
STEADY_STATE = ("onoff", "factorised")
#: steady-state model of the limits: the factorised AC background (one normalisation) — toys confirm the
#: asymptotic p-values for it (benchmarks/bench_stats.py), while with the bin-by-bin on/off profile (600
#: nuisance parameters, ~2 counts each) the q~ distribution is narrower than Wilks/Wald predict
#: (toy p = 0.04 at the asymptotic 90% limit): limits would be conservative.  The released AC counts are
#: consistent with PE x time factorisation (deviance 596 vs 588 +- 34 expected, p = 0.41).
LIMIT_STEADY_STATE = "factorised"


def _nuisances(model: CoherentModel, with_flux: bool):
    from ..stats.likelihood import Parameter

    lo, hi = model.templates.qf_knots[0], model.templates.qf_knots[-1]
    pars = [Parameter("qf", model.qf0, bounds=(lo, hi), constraint=(model.qf0, model.qf_err),
                      doc="constant quenching factor")]
    for n in ("a", "k", "x0"):
        pars.append(Parameter(f"theta_{n}", 0.0, bounds=(-4.0, 4.0), constraint=(0.0, 1.0),
                              doc=f"acceptance {n} in units of its released (asymmetric) error"))
    pars.append(Parameter("neutron_norm", 1.0, bounds=(0.0, None), constraint=(1.0, model.neutron_err),
                          doc="prompt-neutron normalisation"))
    if with_flux:
        pars.append(Parameter("flux", 1.0, bounds=(0.2, None), constraint=(1.0, model.flux_err),
                              doc="neutrino flux normalisation"))
    return pars


def _steady_state(model: CoherentModel, kind: str):
    """(components, parameters, on_off) for the steady-state background."""
    from ..stats.likelihood import Component, OnOffBackground, Parameter

    if kind == "onoff":
        return [], [], [OnOffBackground("steady_state", model.ac, tau=1.0,
                                        doc="AC beam-on counts, bin by bin (Barlow-Beeston-lite)")]
    if kind == "factorised":
        ac = model.ac
        n_ac = ac.sum()
        shape = np.outer(ac.sum(1), ac.sum(0)) / n_ac ** 2
        rel = 1.0 / math.sqrt(model.release.ac_on.sum())
        comp = Component("steady_state", lambda p: n_ac * p["ss_norm"] * shape)
        return [comp], [Parameter("ss_norm", 1.0, bounds=(0.0, None), constraint=(1.0, rel),
                                  doc="steady-state normalisation (AC total)")], []
    raise NudmsimError(f"steady-state model '{kind}' unknown (choose {', '.join(STEADY_STATE)})")


def _mask(model: CoherentModel, pe_range, steady_state: str = "onoff"):
    shape = model.release.c_on.shape
    m = np.ones(shape, dtype=bool)
    if pe_range is not None:
        lo, hi = pe_range
        c = 0.5 * (model.release.pe_edges[:-1] + model.release.pe_edges[1:])
        m &= ((c >= lo) & (c <= hi))[:, None]
    if steady_state == "factorised":
        # a PE (or time) slice without AC counts has a factorised background of exactly 0 but may hold
        # coincidence counts (the first PE bin: 6 C, 0 AC) that no component can explain: drop those bins
        m &= (model.ac.sum(1)[:, None] > 0) & (model.ac.sum(0)[None, :] > 0)
    if not m.any():
        raise NudmsimError(f"PE range {pe_range} selects no bins")
    return m


def fit_spec(model: CoherentModel, *, steady_state: str = "onoff", pe_range=None, observed=None):
    """The 2017 fit: free CEvNS count ``n_cevns`` (after acceptance) + neutrons + steady state + nuisances."""
    from ..stats.likelihood import Component, Parameter, Spec

    comps, ss_pars, on_off = _steady_state(model, steady_state)

    def cevns(p):
        t = model.cevns(p)
        return p["n_cevns"] * t / t.sum()

    comps = [Component("cevns", cevns), Component("neutrons", lambda p: p["neutron_norm"] * model.neutrons(p))] + comps
    pars = [Parameter("n_cevns", model.sm_accepted, bounds=(0.0, None), step=10.0,
                      doc="CEvNS events after acceptance")] + _nuisances(model, False) + ss_pars
    obs = model.release.c_on if observed is None else observed
    return Spec(obs, comps, pars, poi="n_cevns", on_off=on_off, mask=_mask(model, pe_range, steady_state),
                name=f"coherent2017 fit ({model.card.name})")


def signal_name(m_X: float, ratio: float, ref: dict | None = None) -> str:
    p = reference_point(m_X, ratio, ref)
    return f"nu-to-x m_X={m_X:.8g} r={ratio:.8g} y_X={p['y_X']:.8g} y_q={p['y_q']:.8g}"


def reference_point(m_X: float, ratio: float, params: dict | None = None) -> dict:
    """The nu-to-x model point of the template: reference couplings (defaults or --set y_X/y_q)."""
    from .coherent import PARAMS_NU_TO_X

    p = {k: float(v.default) for k, v in PARAMS_NU_TO_X.items()}
    for k, v in (params or {}).items():
        if k in ("y_X", "y_q"):
            p[k] = float(v)
    p["m_X"], p["m_phi"] = float(m_X), float(ratio) * float(m_X)
    return p


def limit_spec(model: CoherentModel, m_X: float, ratio: float, *, steady_state: str = LIMIT_STEADY_STATE,
               pe_range=None, ref: dict | None = None, observed=None):
    """ν→X signal strength ``mu`` (template at the reference couplings) on top of SM CEvNS (x flux)."""
    from ..stats.likelihood import Component, Parameter, Spec

    name = signal_name(m_X, ratio, ref)
    if name not in model.templates.grids:
        model.add_signal(name, reference_point(m_X, ratio, ref))
    comps, ss_pars, on_off = _steady_state(model, steady_state)
    comps = [Component("signal", lambda p: p["mu"] * p["flux"] * model.signal(name, p)),
             Component("cevns", lambda p: p["flux"] * model.cevns(p)),
             Component("neutrons", lambda p: p["neutron_norm"] * model.neutrons(p))] + comps
    nom = float(model.signal(name, {}).sum())
    if not nom > 0:
        raise NudmsimError(f"nu-to-x at m_X = {m_X:g} MeV, r = {ratio:g}: no accepted events (above reach?)")
    pars = [Parameter("mu", 0.0, bounds=(0.0, None), step=max(5.0 / nom, 1e-3),
                      doc="nu->X signal strength in units of the reference couplings")]
    pars += _nuisances(model, True) + ss_pars
    obs = model.release.c_on if observed is None else observed
    return Spec(obs, comps, pars, poi="mu", on_off=on_off, mask=_mask(model, pe_range, steady_state),
                name=f"coherent nu->X {name} ({model.card.name})")


def project_time(spec):
    """The time-integrated (PE only) version of a 2D spec: a 1-D cross-check of the same model."""
    from ..stats.likelihood import Component, OnOffBackground

    comps = [Component(c.name, (lambda f: (lambda p: np.asarray(f(p)).sum(1)))(c.expected)) for c in spec.components]
    on_off = [OnOffBackground(o.name, o.off.sum(1), o.tau) for o in spec.on_off]
    mask = spec.mask.any(1)
    return type(spec)(spec.observed.sum(1), comps, spec.parameters, poi=spec.poi, on_off=on_off, mask=mask,
                      name=spec.name + " [PE only]")


# ------------------------------------------------------------------------------------------------
# the fit
# ------------------------------------------------------------------------------------------------
def run_fit(card=None, *, steady_state: str = "onoff", pe_range=None, one_d: bool = True, minos: bool = True):
    """Fit the released data; returns (FitResult 2D, FitResult 1D or None, spec, model)."""
    from .. import cards
    from ..stats.likelihood import fit

    card = card or cards.load_detector(RELEASE)
    model = model_for(card)
    if not model.is_release_exposure():
        raise NudmsimError(f"card '{card.name}' has {model.exposure_GWh:g} GWh but the released data are "
                           f"{model.release.exposure_GWh:g} GWh: fit the data with coherent_csi_2017 "
                           f"(use `nudmsim limit coherent2017 --projected -d {card.name}` for projections)")
    spec = fit_spec(model, steady_state=steady_state, pe_range=pe_range)
    res = fit(spec, minos=["n_cevns"] if minos else False)
    res1 = fit(project_time(spec), minos=False) if one_d else None
    return res, res1, spec, model


def fitted_cevns_count(steady_state: str = "onoff") -> float:
    """The validation number: fitted CEvNS events in the 2017 data (published 134 +- 22)."""
    res, _, _, _ = run_fit(steady_state=steady_state, one_d=False, minos=False)
    if not res.valid:
        raise NudmsimError(f"the 2017 fit did not converge: {res.status}")
    return res.values["n_cevns"]


def _fit_entry(card, params: dict, plot=None, **_):
    opts = dict(params)
    ss = opts.pop("steady_state", "onoff")
    pe_range = None
    if "pe_min" in opts or "pe_max" in opts:
        pe_range = (float(opts.pop("pe_min", 0.0)), float(opts.pop("pe_max", 1e9)))
    if opts:
        raise NudmsimError(f"coherent2017 fit: unknown --set {', '.join(opts)} "
                           f"(options: steady_state=onoff|factorised, pe_min=, pe_max=)")
    t0 = time.perf_counter()
    res, res1, spec, model = run_fit(card, steady_state=ss, pe_range=pe_range)
    dt = time.perf_counter() - t0
    v, e = res.values, res.errors
    lo, hi = res.minos.get("n_cevns", (-e["n_cevns"], e["n_cevns"]))
    out = {
        "CEvNS events (fit, accepted)": (v["n_cevns"], f"events  (MINOS {lo:+.1f}/{hi:+.1f}; published 134 +- 22)"),
        "SM prediction (accepted)": (model.sm_accepted, "events  (published 173 +- 48)"),
        "signal strength n_cevns / SM": (v["n_cevns"] / model.sm_accepted,
                                         f"+- {e['n_cevns'] / model.sm_accepted:.3f}"),
    }
    for k in spec.names[1:]:
        out[f"nuisance {k}"] = (v[k], f"+- {e[k]:.4g}")
    comps = spec.component_counts(v)
    for k, arr in comps.items():
        out[f"component {k} (events)"] = (float(arr.sum()), "events")
    for k, arr in spec.profiled_on_off(v).items():
        out[f"component {k} (events)"] = (float(arr.sum()), "events (profiled from AC)")
    out["observed events"] = (float(spec.observed.sum()), "events (coincidence beam-on)")
    out["-2lnL (deviance)"] = (res.twice_nll, f"for {int(spec.mask.sum())} bins")
    out["fit status"] = (res.status, f"nfcn {res.nfcn}")
    if res1 is not None:
        out["1D (PE only) cross-check: CEvNS"] = (res1.values["n_cevns"], f"+- {res1.errors['n_cevns']:.1f} events")
    other = "factorised" if ss == "onoff" else "onoff"
    from ..stats.likelihood import fit as _fit

    alt = _fit(fit_spec(model, steady_state=other, pe_range=pe_range))
    out[f"steady state '{other}' cross-check: CEvNS"] = (alt.values["n_cevns"],
                                                         f"+- {alt.errors['n_cevns']:.1f} events")
    out["fit time"] = (dt, "s (2D fit + MINOS + 1D fit, incl. template setup on first use)")
    if plot:
        plot_fit(spec, res, plot, model.release.pe_edges, model.release.t_edges)
        out["plot"] = (str(plot), "")
    return out


def plot_fit(spec, res, path, pe_edges, t_edges) -> None:
    """PE and arrival-time projections: data with Poisson errors, stacked fitted components."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    v = res.values
    comps = {k: np.asarray(a) for k, a in spec.component_counts(v).items()}
    comps.update(spec.profiled_on_off(v))
    order = [k for k in ("steady_state", "neutrons", "cevns") if k in comps]
    colors = {"steady_state": "#bbbbbb", "neutrons": "#e6a23c", "cevns": "#3a7bd5"}
    labels = {"steady_state": "steady state (AC)", "neutrons": "prompt neutrons",
              "cevns": f"CEvNS ({v.get('n_cevns', 0):.0f} ev.)"}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, axis, edges, xl in ((axes[0], 1, pe_edges, "photoelectrons (PE)"),
                                (axes[1], 0, t_edges, "arrival time (us)")):
        base = np.zeros(len(edges) - 1)
        for k in order:
            h = comps[k].sum(axis)
            ax.stairs(base + h, edges, baseline=base, fill=True, color=colors[k], label=labels[k])
            base = base + h
        ax.stairs(base, edges, color="k", lw=1)
        d = spec.observed.sum(axis)
        ctr = 0.5 * (edges[1:] + edges[:-1])
        ax.errorbar(ctr, d, yerr=np.sqrt(np.maximum(d, 1)), fmt="ko", ms=3, label="data (C, beam on)")
        ax.set_xlabel(xl)
        ax.set_ylabel(f"events / {edges[1] - edges[0]:g} {'PE' if axis == 1 else 'us'}")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"COHERENT CsI[Na] 2017 fit: -2lnL = {res.twice_nll:.1f}", fontsize=10)
    save_figure(fig, path)
    plt.close(fig)


def _limit_entry(req):
    from ._coherent_fit_limits import limit_entry

    return limit_entry(req)


def __getattr__(name):  # re-export the limit helpers (mx_reach, limit_point, ...) without importing at load
    if name in ("mx_reach", "sigma_nc_reference", "limit_point"):
        from . import _coherent_fit_limits

        return getattr(_coherent_fit_limits, name)
    raise AttributeError(name)


register_analysis(AnalysisEntry(
    name="coherent2017", summary="COHERENT CsI[Na] 2017: 2D (PE x time) fit of the released data; "
                                 "90% CL sigma_NC limits on nu + N -> X + N vs m_X",
    default_detector=RELEASE, fit=_fit_entry, limit=_limit_entry,
    limit_options={"steady_state": "factorised (default for limits) | onoff (AC bin by bin, profiled)",
                   "method": "plr (default, CCGV q~) | cls | delta-chi2 (2.706)",
                   "truncation": "pcl (default) | zero | none  (lower Asimov bands)",
                   "pcl": "-1 (default: observed PLR limit floored at the -1 sigma expected limit) | no",
                   "expected": "no (default) | yes: also the Asimov median and bands with the observed limit",
                   "y_X, y_q": "reference couplings of the template (also via --set); the limit on "
                               "sigma_NC does not depend on them"}))
