"""Direct detection: processes ``x-to-nu`` (X + N -> nu + N, halo DM down-scattering) and ``wimp-si``
(spin-independent elastic WIMP baseline) on the ``dd-xenon`` (XENON1T 2018) and ``dd-scintillator``
(Borexino) cards, plus the analyses ``xenon1t-si``, ``xenon1t-x2nu`` and ``borexino-x2nu`` (limits in
:mod:`nudmsim.analyses._dd_limits`).

Public API::

    x2nu_rates(params, det) -> list of per-target dicts (rate per kg per ns, E_0, line support)
    x2nu_spectrum(E_R, params, det) -> dR/dE per kg [1/(MeV ns kg)] per target (list of arrays)
    wimp_spectrum(E_R, params, det) -> dR/dE per kg [1/(MeV ns kg)] summed over targets
    generate_x2nu / generate_wimp(params, card, n, rng) -> EventSample
    predict_x2nu / predict_wimp(params, card) -> dict (printable numbers + "_plot")

Physics in :mod:`nudmsim.processes.x_to_nu` / :mod:`nudmsim.processes.wimp_si`, halo in
:mod:`nudmsim.sources.halo`, detectors in :mod:`nudmsim.response.dd_detectors`; docs in
``docs/direct_detection.md``.  Event weights are expected events in the card's exposure.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from ..errors import NudmsimError, ParameterError
from ..registry import AnalysisEntry, EventSample, Param, ProcessEntry, register_analysis, register_process

PROCESS_ID_X2NU = 31
PROCESS_ID_WIMP = 30

#: default model point: m_phi = 10 m_X (seed Fig. 2 left); y_X y_q chosen to give O(100) XENON1T events
#: (sigma_NC ~ 9e-50 cm^2), y_q = 3e-9 well below the kaon bound 1.58e-4.
PARAMS_X2NU = {
    "m_X": Param(50.0, "MeV", "dark-matter (X) mass", strictly_positive=True, hi=1e5),
    "m_phi": Param(500.0, "MeV", "scalar mediator mass", strictly_positive=True, hi=1e6),
    "y_X": Param(1e-2, "", "X-phi-nu Yukawa coupling (perturbative: <= 4 pi)", hi=4 * np.pi),
    "y_q": Param(3e-9, "", "phi-quark Yukawa coupling, equal for all quarks (<= 4 pi)", hi=4 * np.pi),
}
PARAMS_WIMP = {
    "m_chi": Param(50.0, "GeV", "WIMP mass", strictly_positive=True, hi=1e5),
    "sigma_n": Param(1e-45, "", "SI WIMP-nucleon cross section [cm^2] (<= 1e-20: larger is not a WIMP)", hi=1e-20),
}


def _det(card):
    from ..response import dd_detectors

    return dd_detectors.load(card)


def _portal():
    from ..models import scalar_portal

    return scalar_portal


def _x2nu():
    from ..processes import x_to_nu

    return x_to_nu


# ------------------------------------------------------------------------------------------------
# X -> nu
# ------------------------------------------------------------------------------------------------
def nucleus_couplings(params: dict, det) -> tuple[float, float, list[float]]:
    """(y_p, y_n, [y_N per target]) from the model's quark coupling (scalar_portal)."""
    sp = _portal()
    y_p, y_n = sp.nucleon_couplings(params["y_q"])
    y_N = [float(sp.nucleus_coupling(y_p, y_n, t.nucleus.Z, t.nucleus.A)) for t in det.targets]
    return float(y_p), float(y_n), y_N


def sigma_nc_cm2(params: dict) -> float:
    sp = _portal()
    y_p, _ = sp.nucleon_couplings(params["y_q"])
    return float(sp.sigma_nc(params["y_X"], y_p, params["m_X"], params["m_phi"])) * c.INV_MEV2_TO_CM2


def x2nu_rates(params: dict, det) -> list[dict]:
    """Per target: rate per kg per ns (R_j n_j), line centre E_0, support (lo, hi) [MeV], y_N."""
    X = _x2nu()
    X.check_masses(params["m_X"], params["m_phi"])
    _, _, y_N = nucleus_couplings(params, det)
    out = []
    for t, yN in zip(det.targets, y_N):
        m_N, A = t.nucleus.mass, t.nucleus.A
        r = X.rate_per_target(det.halo, params["m_X"], params["m_phi"], m_N, A, params["y_X"], yN, t.form_factor)
        out.append({"rate_per_kg": r * t.per_kg, "E0": float(X.recoil_at_rest(params["m_X"], m_N)),
                    "support": X.recoil_support(det.halo, params["m_X"], m_N), "y_N": yN, "target": t})
    return out


def x2nu_spectrum(E_R, params: dict, det) -> list[np.ndarray]:
    """dR/dE per kg [1/(MeV ns kg)] for each target at recoil energies E_R [MeV]."""
    X = _x2nu()
    _, _, y_N = nucleus_couplings(params, det)
    return [X.dRdE(E_R, det.halo, params["m_X"], params["m_phi"], t.nucleus.mass, t.nucleus.A, params["y_X"],
                   yN, t.form_factor) * t.per_kg for t, yN in zip(det.targets, y_N)]


def x2nu_detected_fraction(params: dict, det, rates=None, n_nodes: int = 33) -> list[float]:
    """Per target, the detection probability averaged over the (narrow) line."""
    rates = rates or x2nu_rates(params, det)
    out = []
    for i, r in enumerate(rates):
        lo, hi = r["support"]
        E = np.linspace(lo, hi, n_nodes)
        f = x2nu_spectrum(E, params, det)[i]
        w = np.trapezoid(f, E)
        out.append(float(np.trapezoid(f * det.detection_probability(E, i), E) / w) if w > 0 else 0.0)
    return out


def check_not_blind(params: dict, det, rates=None) -> list[dict]:
    """Raise a clear error when every target's recoil line lies where the detector sees nothing."""
    rates = rates or x2nu_rates(params, det)
    if not sum(r["rate_per_kg"] for r in rates) > 0:
        raise ParameterError(f"x-to-nu: y_X = {params['y_X']:g}, y_q = {params['y_q']:g} give a zero rate "
                             "(set both couplings > 0, e.g. --set y_X=0.01 --set y_q=3e-9)")
    frac = x2nu_detected_fraction(params, det, rates)
    if max(frac) <= 0.0:
        lines = ", ".join(f"{r['target'].label}: E_R = {r['E0'] / c.keV:.3g} keV" for r in rates[:3])
        raise NudmsimError(det.blind_message(
            f"m_X = {params['m_X']:g} MeV gives recoils ({lines}) with zero detection probability"))
    return rates


def generate_x2nu(params: dict, card, n: int, rng: np.random.Generator) -> EventSample:
    """Weighted X + N -> nu + N events: target by rate, lab velocity from the halo, CM angle uniform, weight
    = exposure x n_j (rho/m_X) 2 dsigma v/dcos / (n p_j) (sums to the analytic rate within MC error)."""
    from ..generate import make_events

    X = _x2nu()
    det = _det(card)
    rates = check_not_blind(params, det)
    r = np.array([x["rate_per_kg"] for x in rates])
    p = r / r.sum()
    tid = rng.choice(len(p), size=n, p=p).astype(np.int32)
    v = det.halo.sample_velocity(n, rng) / c.C_LIGHT  # units of c
    cos_t = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    e_r = np.empty(n)
    p_nuc = np.empty((n, 3))
    nu = np.empty((n, 4))
    weight = np.empty(n)
    m_X, m_phi, y_X = params["m_X"], params["m_phi"], params["y_X"]
    for j, x in enumerate(rates):
        m = tid == j
        if not m.any():
            continue
        t = x["target"]
        e_r[m], p_nuc[m], nu[m] = X.sample_final_state(v[m], cos_t[m], phi[m], m_X, t.nucleus.mass)
        speed = np.linalg.norm(v[m], axis=1)
        _, _, _, _, delta = X.kinematics(m_X, t.nucleus.mass, speed)
        M2 = X.msq(e_r[m], m_X, m_phi, t.nucleus.mass, t.nucleus.A, y_X, x["y_N"], t.form_factor)
        dsv_dcos = M2 * (delta / speed) * (1.0 - speed**2) / (32.0 * np.pi * t.nucleus.mass * m_X**2)
        w = det.exposure * t.per_kg * det.halo.rho / m_X * 2.0 * dsv_dcos * X.SIGMAV_TO_HEP
        weight[m] = w / (n * p[j])
    cols = {"target_id": tid, "process_id": np.full(n, PROCESS_ID_X2NU, np.int32),
            "E_R_keV": e_r / c.keV, "v_km_s": np.linalg.norm(v, axis=1) * c.C_LIGHT / (c.km / c.s),
            "vx_km_s": v[:, 0] * c.C_LIGHT / (c.km / c.s), "vy_km_s": v[:, 1] * c.C_LIGHT / (c.km / c.s),
            "vz_km_s": v[:, 2] * c.C_LIGHT / (c.km / c.s), "cos_theta_cm": cos_t,
            "E_nu_MeV": nu[:, 0], "px_nu_MeV": nu[:, 1], "py_nu_MeV": nu[:, 2], "pz_nu_MeV": nu[:, 3],
            "px_N_MeV": p_nuc[:, 0], "py_N_MeV": p_nuc[:, 1], "pz_N_MeV": p_nuc[:, 2]}
    cols.update(det.observe(e_r, tid, rng))
    cols["weight"] = weight
    total = float(r.sum() * det.exposure)
    info = {"targets": det.target_labels(), "halo": det.halo.name, "analytic_expected_total": total,
            "sigma_NC_cm2": sigma_nc_cm2(params), "units": "E in MeV or keV as named, velocities km/s (lab)"}
    return EventSample(make_events(cols), float(weight.sum()), info)


def predict_x2nu(params: dict, card) -> dict:
    X = _x2nu()
    det = _det(card)
    rates = x2nu_rates(params, det)
    frac = x2nu_detected_fraction(params, det, rates)
    tot = sum(x["rate_per_kg"] for x in rates) * det.exposure
    det_tot = sum(x["rate_per_kg"] * f for x, f in zip(rates, frac)) * det.exposure
    y_p, y_n, _ = nucleus_couplings(params, det)
    signc = sigma_nc_cm2(params) / c.INV_MEV2_TO_CM2
    out = {
        "interactions in exposure": (tot, "events"),
        "detected (efficiency / threshold)": (det_tot, "events"),
    }
    if det_tot <= 0:
        out["note"] = (det.blind_message(f"m_X = {params['m_X']:g} MeV"), "")
    order = sorted(range(len(rates)), key=lambda k: -rates[k]["rate_per_kg"] * max(frac[k], 1e-30))
    for i in order[:3]:  # the three targets that give most detected events
        x = rates[i]
        t = x["target"]
        lab = t.label
        out[f"{lab}: recoil line E_0"] = (x["E0"] / c.keV, "keV")
        out[f"{lab}: line full width (halo)"] = ((x["support"][1] - x["support"][0]) / c.keV, "keV")
        out[f"{lab}: detection probability"] = (frac[i], "")
        if hasattr(det, "visible"):
            out[f"{lab}: visible energy"] = (float(det.visible(np.array([x["E0"]]), i)[0]), "keVee")
        sv = X.mean_sigma_v(det.halo, params["m_X"], params["m_phi"], t.nucleus.mass, t.nucleus.A, params["y_X"],
                            x["y_N"], t.form_factor)
        out[f"{lab}: <sigma v>/(A^2 sigma_NC)"] = (sv / (t.nucleus.A**2 * signc), "(4 in the contact limit)")
    out["sigma_NC (seed plotting variable)"] = (sigma_nc_cm2(params), "cm^2")
    out["y_p, y_n"] = (f"{y_p:.4g}, {y_n:.4g}", "")
    out["exposure"] = (f"{det.mass_kg:g} kg x {det.live_days:g} d", "")

    def _plot(path):
        _plot_x2nu(params, det, rates, path)

    out["_plot"] = _plot
    return out


def _plot_x2nu(params, det, rates, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, x in enumerate(rates[:6]):
        lo, hi = x["support"]
        E = np.linspace(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo), 400)
        f = x2nu_spectrum(E, params, det)[i] * det.exposure * c.keV
        ax.plot(E / c.keV, f, label=f"{x['target'].label}: E0 = {x['E0'] / c.keV:.4g} keV")
    ax.set_xlabel("recoil energy E_R [keV]")
    ax.set_ylabel("dN/dE_R [events/keV in exposure]")
    ax.set_title(f"X + N -> nu + N on {det.name}: m_X = {params['m_X']:g} MeV, m_phi = {params['m_phi']:g} MeV",
                 fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, path)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------
# SI WIMP
# ------------------------------------------------------------------------------------------------
def _check_wimp(params):
    if not np.isfinite(params["sigma_n"]) or params["sigma_n"] < 0:
        raise ParameterError(f"wimp-si: sigma_n = {params['sigma_n']} must be finite and >= 0 (cm^2)")


def wimp_spectrum(E_R, params: dict, det) -> np.ndarray:
    """dR/dE per kg [1/(MeV ns kg)] summed over the card's targets (m_chi in GeV, sigma_n in cm^2)."""
    from ..processes import wimp_si as W

    _check_wimp(params)
    m = params["m_chi"] * c.GeV
    out = 0.0
    for t in det.targets:
        out = out + t.per_kg * W.dRdE_nucleus(E_R, m, params["sigma_n"] * c.cm**2, t.nucleus, det.halo,
                                               t.form_factor, getattr(det, "nucleon_mass", c.AMU))
    return np.asarray(out)


def generate_wimp(params: dict, card, n: int, rng: np.random.Generator) -> EventSample:
    """Weighted SI events: v from the halo, E_R uniform on [0, E_max(v)], weight = exposure n_j (rho/m)
    sigma_N v F^2 / (n p_j) (unbiased for dR/dE)."""
    from ..generate import make_events
    from ..processes import wimp_si as W
    from .. import formfactors

    _check_wimp(params)
    det = _det(card)
    m = params["m_chi"] * c.GeV
    nm = getattr(det, "nucleon_mass", c.AMU)
    per = np.array([t.per_kg * float(W.sigma_nucleus(1.0, m, t.nucleus, nm)) for t in det.targets])
    p = per / per.sum()
    tid = rng.choice(len(p), size=n, p=p).astype(np.int32)
    v = det.halo.sample_velocity(n, rng)
    speed = np.linalg.norm(v, axis=1)
    e_r = np.empty(n)
    weight = np.empty(n)
    sig = params["sigma_n"] * c.cm**2
    for j, t in enumerate(det.targets):
        mk = tid == j
        emax = W.e_max(m, t.nucleus.mass, speed[mk])
        e_r[mk] = rng.random(mk.sum()) * emax
        F2 = formfactors.get(t.form_factor)(np.sqrt(2.0 * t.nucleus.mass * e_r[mk]), t.nucleus.A) ** 2
        w = det.exposure * t.per_kg * det.halo.rho / m * W.sigma_nucleus(sig, m, t.nucleus, nm) * speed[mk] * F2
        weight[mk] = w / (n * p[j])
    kms = c.km / c.s
    cols = {"target_id": tid, "process_id": np.full(n, PROCESS_ID_WIMP, np.int32), "E_R_keV": e_r / c.keV,
            "v_km_s": speed / kms, "vx_km_s": v[:, 0] / kms, "vy_km_s": v[:, 1] / kms, "vz_km_s": v[:, 2] / kms}
    cols.update(det.observe(e_r, tid, rng))
    cols["weight"] = weight
    return EventSample(make_events(cols), float(weight.sum()),
                       {"targets": det.target_labels(), "halo": det.halo.name})


def predict_wimp(params: dict, card) -> dict:
    from ..response.binwise import bin_integrals_smooth

    det = _det(card)
    if not hasattr(det, "matrix"):
        raise NudmsimError(f"wimp-si needs a xenon card (kind dd-xenon), '{det.name}' is {det.kind}")
    E = np.linspace(0.0, 200.0, 4001) * c.keV
    f = wimp_spectrum(E, params, det)
    total = float(np.trapezoid(f, E)) * det.exposure
    tb = bin_integrals_smooth(det.matrix.true_edges, lambda ek: wimp_spectrum(ek * c.keV, params, det) * c.keV)
    rec = det.matrix.fold(tb * det.exposure)
    out = {"interactions in exposure (all E_R)": (total, "events"),
           "detected (all reconstructed bins)": (float(rec.sum()), "events"),
           "detected in ROI": (float(rec[det.roi_mask].sum()), "events"),
           "dR/dE at 10 keV": (float(wimp_spectrum(np.array([10 * c.keV]), params, det)[0]) * 1000.0
                               * c.keV * c.YEAR, "events/(keV t yr)")}

    def _plot(path):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..io import save_figure

        fig, ax = plt.subplots(figsize=(6, 4.5))
        Ek = np.linspace(0.1, 80, 400)
        ax.plot(Ek, wimp_spectrum(Ek * c.keV, params, det) * 1000.0 * c.keV * c.YEAR, label="nudmsim dR/dE")
        mid = 0.5 * (det.matrix.reco_edges[1:] + det.matrix.reco_edges[:-1])
        ax.step(mid, rec / np.diff(det.matrix.reco_edges) / (det.exposure / (1000.0 * c.YEAR)), where="mid",
                label="reconstructed (migration matrix)")
        ax.set_yscale("log")
        ax.set_xlabel("E [keVnr]")
        ax.set_ylabel("events / (keV t yr)")
        ax.set_title(f"SI WIMP m = {params['m_chi']:g} GeV, sigma_n = {params['sigma_n']:g} cm^2", fontsize=9)
        ax.legend(fontsize=8)
        save_figure(fig, path)
        plt.close(fig)

    out["_plot"] = _plot
    return out


# ------------------------------------------------------------------------------------------------
# registry
# ------------------------------------------------------------------------------------------------
def _limit(kind):
    def run(req):
        from . import _dd_limits

        return getattr(_dd_limits, kind)(req)

    return run


#: detector-level columns of the direct-detection responses (dd_detectors.*.observe)
DD_OBSERVABLES = ("efficiency", "detected", "E_rec_keV", "in_roi", "E_vis_keVee", "E_obs_keVee")

register_process(ProcessEntry(
    name="x-to-nu", summary="halo DM down-scattering X + N -> nu + N (scalar portal, exact kinematics)",
    params=PARAMS_X2NU, default_detector="xenon1t_2018", generate=generate_x2nu, predict=predict_x2nu,
    detectors=("dd-xenon", "dd-scintillator"), process_id=PROCESS_ID_X2NU, observables=DD_OBSERVABLES))
register_process(ProcessEntry(
    name="wimp-si", summary="spin-independent elastic WIMP-nucleus scattering (SHM, Helm)",
    params=PARAMS_WIMP, default_detector="xenon1t_2018", generate=generate_wimp, predict=predict_wimp,
    detectors=("dd-xenon",), process_id=PROCESS_ID_WIMP, observables=DD_OBSERVABLES))
register_analysis(AnalysisEntry(
    name="xenon1t-si", summary="XENON1T 2018 90% CL SI limit vs WIMP mass (official binwise likelihood)",
    default_detector="xenon1t_2018", limit=_limit("xenon1t_si"),
    limit_options={"asymptotic": "1 = chi2 threshold 2.706 instead of the release's toy-MC threshold"}))
register_analysis(AnalysisEntry(
    name="xenon1t-x2nu", summary="XENON1T 2018 90% CL on sigma_NC vs m_X for X + N -> nu + N (--ratio r)",
    default_detector="xenon1t_2018", limit=_limit("xenon1t_x2nu"),
    limit_options={"asymptotic": "1 = chi2 threshold 2.706 instead of the release's toy-MC threshold"}))
register_analysis(AnalysisEntry(
    name="borexino-x2nu", summary="Borexino 90% CL on sigma_NC vs m_X (proton + carbon recoils, --ratio r)",
    default_detector="borexino", limit=_limit("borexino_x2nu"),
    limit_options={"quenching": "birks (card) or seed (70 keVee = 800 keV)"}))
