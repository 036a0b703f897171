"""pp -> W+- -> l+- + invisible (nu or a massive nu_4) at the LHC: process ``w-lepton`` and analysis ``atlas-w``.

Generation: :mod:`nudmsim.sources.pp` (W mass, rapidity, p_T), :mod:`nudmsim.processes.w_decay` (V-A decay with a
massive nu_4), :mod:`nudmsim.response.collider` (ATLAS-like response and the W-mass selection).  The limit uses
one generated sample for all (m_4, |U|^2) by reweighting (``_w_sample``) and the fits of ``_w_fits``.

CLI::

    nudmsim generate w-lepton -n 1000000 --set m4=30 --set U2=0.01 --set lepton=11 -o w.root
    nudmsim predict w-lepton --set m4=40GeV --set U2=0.01
    nudmsim limit atlas-w --option lepton=e                      # 7 TeV, 4.1 fb^-1, W+ (as the seed)
    nudmsim limit atlas-w --option lepton=mu --option sqrts=13TeV --option lumi_fb=140 --option charge=both
    nudmsim fit atlas-w --set mw_true=80.40                      # M_W fit on pseudo-data (closure)
"""
from __future__ import annotations

import numpy as np

from .. import cards
from .. import constants as c
from ..errors import NudmsimError, ParameterError
from ..registry import AnalysisEntry, EventSample, Param, ProcessEntry, register_analysis, register_process

GeV = c.GeV
PROCESS_ID = 50
LEPTON_CODES = {11: "e", 13: "mu"}

PARAMS = {
    "m4": Param(30.0, "GeV", "mass of the invisible heavy neutrino nu_4 (kink at 34.6 GeV for 30 GeV)"),
    "U2": Param(0.01, "", "|U_l4|^2, mixing of nu_4 with the lepton flavour (0..1)", lo=None, hi=None),
    "lepton": Param(13.0, "", "charged-lepton flavour: 11 = e, 13 = mu"),
    "charge": Param(0.0, "", "W charge: +1, -1, or 0 = both", lo=-1.0, hi=1.0),
}


def lepton_name(code) -> str:
    """'e' or 'mu' from a PDG code (11, 13) or a name; anything else is a ParameterError."""
    if isinstance(code, str):
        name = {"electron": "e", "muon": "mu", "11": "e", "13": "mu"}.get(code.strip().lower(), code.strip().lower())
        if name in ("e", "mu"):
            return name
        raise ParameterError(f"unknown lepton flavour '{code}' (use lepton=e or lepton=mu; PDG 11 or 13)")
    if float(code) in LEPTON_CODES:
        return LEPTON_CODES[int(code)]
    raise ParameterError(f"unknown lepton flavour {code:g} (use lepton=11 for electrons or 13 for muons)")


def _charge(v) -> int:
    if v not in (-1.0, 0.0, 1.0):
        raise ParameterError(f"charge = {v:g}: use +1 (W+), -1 (W-) or 0 (both)")
    return int(v)


def _setup(card):
    from ..response.collider import load_response
    from ..sources.pp import load_pp_source

    kind = card.get("card.kind", str, default="")
    if kind != "collider_w":
        raise NudmsimError(f"detector '{card.name}' (kind '{kind}') is not a W-boson collider card "
                           "(use atlas_7tev or atlas_13tev)")
    resp = load_response(card)
    return load_pp_source(str(card.find_card("source.pp", "source"))), resp


def _check_point(params):
    from ..processes import w_decay as wd

    wd.check_mixing(params["U2"])
    wd.check_mass(params["m4"] * GeV)
    return lepton_name(params["lepton"]), _charge(params["charge"])


# ------------------------------------------------------------------------------------------------
# process: w-lepton
# ------------------------------------------------------------------------------------------------
#: event-record columns of ``w-lepton`` (GeV for energies, momenta, masses), grouped by what they need
COLUMN_GROUPS = {
    "truth_w": ("w_m", "w_y", "w_pt", "w_phi", "w_charge", "quark_dir", "cos_theta_q", "phi_cs"),
    "lepton": ("l_E", "l_px", "l_py", "l_pz", "l_pt", "l_eta", "l_phi"),
    "nu": ("nu_E", "nu_px", "nu_py", "nu_pz"),
    "reco": ("reco_l_pt", "met", "mt", "ut", "selected"),
    "flags": ("is_nu4",),
}
ALWAYS = ("weight", "process_id", "target_id")
ALL_COLUMNS = tuple(k for g in COLUMN_GROUPS.values() for k in g) + ALWAYS


def _columns(columns):
    if columns is None:
        return set(ALL_COLUMNS)
    want = set(columns)
    bad = sorted(want - set(ALL_COLUMNS))
    if bad:
        raise NudmsimError(f"w-lepton: unknown column '{bad[0]}' (columns: {', '.join(ALL_COLUMNS)})")
    return want | set(ALWAYS)


def generate(params, card, n, rng, columns=None) -> EventSample:
    """Weighted events at one model point (each event is a light-nu or a nu_4 decay, drawn with its branching).

    ``columns``: the event-record columns to produce (None = all of :data:`ALL_COLUMNS`; ``weight``,
    ``process_id`` and ``target_id`` are always there).  Only what the requested columns need is computed: without
    truth columns the events come from one fused numba pass (:func:`_w_sample.fused_events`, no truth arrays).
    The random numbers are drawn in the same order either way (:func:`_w_sample.draw_chunks`), so the same seed
    gives the same events whatever the columns (up to rounding in the last digit)."""
    from . import _w_sample as ws

    want = _columns(columns)
    flavour, charge = _check_point(params)
    src, resp = _setup(card)
    m4, u2 = params["m4"] * GeV, params["U2"]
    fast = not want & set(COLUMN_GROUPS["truth_w"] + COLUMN_GROUPS["lepton"] + COLUMN_GROUPS["nu"])
    sigma = src.sigma_lnu(charge)
    wbase = sigma * resp.luminosity[flavour] * resp.lepton(flavour).efficiency / n
    parts = []
    for u, z, uh in ws.draw_chunks(int(n), rng, extra=1, reuse=fast):
        if fast:
            ev = ws.fused_events(src, resp, flavour, u, z, uh, charge, m4, u2)
            parts.append(_record_fast(ev, wbase, want))
        else:
            s = ws.sample_from_uniforms(src, u, z, charge, n_generated=n)
            parts.append(_record_full(s, resp, flavour, uh, m4, u2, wbase, want))
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    cols["process_id"] = np.full(n, PROCESS_ID, np.int32)
    cols["target_id"] = np.zeros(n, np.int32)
    from ..generate import make_events

    w = cols["weight"]
    order = [k for k in ALL_COLUMNS if k in cols and k in want]
    info = {"lepton": flavour, "sqrts_TeV": src.sqrts / c.TeV, "source": src.name,
            "sigma_lnu_pb": sigma / c.u.picobarn, "k_factor": src.k_factor,
            "units": "GeV for energies/momenta/masses; weight = expected events x lepton efficiency",
            "expected_selected": float(np.sum(w * cols["_selected"]))}
    return EventSample(make_events({k: cols[k] for k in order}), float(w.sum()), info)


_RECO = {"reco_l_pt": "pt", "met": "met", "mt": "mt", "ut": "ut"}


def _record_fast(ev, wbase, want):
    out = {"weight": wbase * ev["total"] * ev["w_decay"], "_selected": ev["selected"]}
    out.update({k: ev[v] / GeV for k, v in _RECO.items() if k in want})
    if "selected" in want:
        out["selected"] = ev["selected"]
    if "is_nu4" in want:
        out["is_nu4"] = ev["is_nu4"]
    return out


def _record_full(s, resp, flavour, uh, m4, u2, wbase, want):
    """Event-record columns of one chunk from the truth arrays (numpy on top of the sample and reconstruct kernels)."""
    from ..processes import w_decay as wd
    from . import _w_sample as ws

    t = s.truth
    m = t["m"]
    r = np.minimum((m4 / m) ** 2, 1.0)
    heavy_rate = u2 * wd.phase_space_factor(r)
    total = (1.0 - u2) + heavy_rate
    is_heavy = uh * np.maximum(total, 1e-300) < heavy_rate
    m4_evt = np.where(is_heavy, m4, 0.0)
    rec = ws.reconstruct(s, resp, flavour, m4_evt)
    out = {"weight": wbase * total * rec["w_decay"], "_selected": rec["selected"]}
    if "is_nu4" in want:
        out["is_nu4"] = is_heavy
    truth = {"w_m": lambda: m / GeV, "w_y": lambda: t["y"], "w_pt": lambda: t["pt"] / GeV,
             "w_phi": lambda: t["phi"], "w_charge": lambda: t["charge"].astype(np.int32),
             "quark_dir": lambda: t["qdir"].astype(np.int32), "cos_theta_q": lambda: t["cos_q"],
             "phi_cs": lambda: t["phi_cs"]}
    out.update({k: f() for k, f in truth.items() if k in want})
    if want & set(COLUMN_GROUPS["lepton"] + COLUMN_GROUPS["nu"]):
        ke, kx, ky, kz = s.k
        ps_l = wd.p_star(m, m4_evt)
        lep = {"l_E": lambda: ps_l * ke / GeV, "l_px": lambda: ps_l * kx / GeV, "l_py": lambda: ps_l * ky / GeV,
               "l_pz": lambda: ps_l * kz / GeV, "l_pt": lambda: rec["pt_true"] / GeV,
               "l_eta": lambda: s.derived()["eta"], "l_phi": lambda: np.arctan2(ky, kx)}
        out.update({k: f() for k, f in lep.items() if k in want})
        if want & set(COLUMN_GROUPS["nu"]):
            wE, wx, wy, wz = wd.w_four_momentum(m, t["y"], t["pt"], t["phi"])
            nu = {"nu_E": (wE, ke), "nu_px": (wx, kx), "nu_py": (wy, ky), "nu_pz": (wz, kz)}
            out.update({k: (a - ps_l * b) / GeV for k, (a, b) in nu.items() if k in want})
    out.update({k: rec[v] / GeV for k, v in _RECO.items() if k in want})
    if "selected" in want:
        out["selected"] = rec["selected"]
    return out


def predict(params, card):
    from ..processes import w_decay as wd

    flavour, charge = _check_point(params)
    src, resp = _setup(card)
    m4 = params["m4"] * GeV
    r = (m4 / c.M_W) ** 2
    out = {
        "sqrt(s)": (src.sqrts / c.TeV, "TeV"),
        "sigma(pp->W->l nu) x K": (src.sigma_lnu(charge) / c.u.picobarn, "pb"),
        "K-factor": (src.k_factor, ""),
        "sigma(W+)/sigma(W-)": (src.charge_ratio(), ""),
        "Gamma(W->l nu4)/Gamma(W->l nu)/|U|^2": (float(wd.phase_space_factor(r)), ""),
        "lepton-pT kink M_W(1-m4^2/M_W^2)/2": (max(c.M_W * (1 - r) / 2, 0.0) / GeV, "GeV"),
        "m_T endpoint M_W(1-m4^2/M_W^2)": (max(c.M_W * (1 - r), 0.0) / GeV, "GeV"),
        "luminosity": (resp.luminosity[flavour] * c.u.femtobarn, "fb^-1"),
        "lepton": (flavour, ""),
        "_plot": lambda path: _plot_spectrum(path, params, card),
    }
    return out


def _plot_spectrum(path, params, card, n=2_000_000, seed=1):
    """Reconstructed lepton-p_T spectrum (selected, 0.5 GeV bins) for the SM and for the model point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..generate import make_rng
    from ..io import save_figure
    from . import _w_sample as ws

    flavour, charge = _check_point(params)
    src, resp = _setup(card)
    m4, u2 = params["m4"] * GeV, params["U2"]
    edges = np.arange(20.0, 55.0 + 1e-9, 0.5) * GeV
    norm = src.sigma_lnu(charge) * resp.luminosity[flavour] * resp.lepton(flavour).efficiency / n
    light, _ = ws.stream_spectra(src, resp, flavour, n, make_rng(seed), edges, 0.0, charge=charge)
    heavy, _ = ws.stream_spectra(src, resp, flavour, n, make_rng(seed), edges, m4, charge=charge)
    fig, (ax, rx) = plt.subplots(2, 1, figsize=(6, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    x = edges[:-1] / GeV
    model = (1 - u2) * light + u2 * heavy
    ax.step(x, light * norm, where="post", label="SM (light nu)")
    ax.step(x, model * norm, where="post", label=f"m4 = {params['m4']:g} GeV, |U|^2 = {u2:g}")
    kink = max(c.M_W * (1 - (m4 / c.M_W) ** 2) / 2, 0) / GeV
    for a in (ax, rx):
        a.axvline(kink, color="grey", ls=":", lw=1)
    ax.set_ylabel("selected events / 0.5 GeV")
    ax.set_title(f"{card.name}: W -> {flavour} + invisible ({n:.0e} W, same events reweighted)", fontsize=9)
    ax.legend(fontsize=8)
    with np.errstate(invalid="ignore", divide="ignore"):
        rx.step(x, model / light, where="post", color="C1")
    rx.set_ylabel("ratio to SM")
    rx.set_xlabel("reconstructed lepton pT [GeV]")
    save_figure(fig, path)
    plt.close(fig)


#: detector-level columns (``--columns observables``); the rest is truth
OBSERVABLES = ("reco_l_pt", "met", "mt", "ut", "selected")


def final_state(cols, info):
    """HepMC3 record of a W event from the generator's columns (GeV): the W (four-vector from its mass,
    rapidity, p_T and phi) -> charged lepton (massless, as generated) + neutrino (nu_4: PDG 9900012).
    W+ -> l+ nu, W- -> l- nubar.  The writer checks W = l + nu in every event."""
    from ..hepmc import PDG_HNL, FinalState, Particles

    q = np.asarray(cols["w_charge"]).astype(np.int32)
    mt = np.sqrt(cols["w_m"] ** 2 + cols["w_pt"] ** 2)
    w = Particles.from_components(24 * q, mt * np.cosh(cols["w_y"]), cols["w_pt"] * np.cos(cols["w_phi"]),
                                  cols["w_pt"] * np.sin(cols["w_phi"]), mt * np.sinh(cols["w_y"]), m=cols["w_m"])
    lep = {"e": 11, "mu": 13}[info["lepton"]]
    lepton = Particles.from_components(-lep * q, cols["l_E"], cols["l_px"], cols["l_py"], cols["l_pz"], m=0.0)
    nu_pid = np.where(np.asarray(cols["is_nu4"], bool), PDG_HNL, lep + 1) * q
    nu = Particles.from_components(nu_pid, cols["nu_E"], cols["nu_px"], cols["nu_py"], cols["nu_pz"])
    return FinalState(w, [lepton, nu])


register_process(ProcessEntry(
    name="w-lepton", summary="pp -> W+- -> l+- nu / l+- nu4 (invisible massive nu4, V-A), ATLAS-like response",
    params=PARAMS, default_detector="atlas_7tev", generate=generate, predict=predict,
    detectors=("collider_w",), process_id=PROCESS_ID, observables=OBSERVABLES, final_state=final_state))


# ------------------------------------------------------------------------------------------------
# analysis: atlas-w
# ------------------------------------------------------------------------------------------------
DEFAULT_MASSES_GEV = np.geomspace(5.0, 150.0, 30)
#: memory per generated W held by the limit and the M_W fit (WSample truth incl. the density pieces E, O,
#: directions, normals, derived, and the chunks concatenated into it: ~290 bytes)
W_BYTES_PER_EVENT = 300
CHARGES = {"plus": (1,), "minus": (-1,), "both": (1, -1)}


def _card_for_sqrts(card, sqrts):
    if sqrts is None:
        return card
    key = sqrts.strip().lower().replace("tev", "")
    try:
        val = float(key)
    except ValueError:
        raise NudmsimError(f"--option sqrts={sqrts}: give 7TeV or 13TeV") from None
    name = {7.0: "atlas_7tev", 13.0: "atlas_13tev"}.get(val)
    if name is None:
        if val <= 0:
            raise NudmsimError(f"--option sqrts={sqrts}: must be > 0")
        from ..sources.pp import check_sqrts

        check_sqrts(val * c.TeV)
        raise NudmsimError(f"--option sqrts={sqrts}: cards exist for 7TeV and 13TeV (add detectors/atlas_<E>tev.toml "
                           "and fluxes/pp_<E>tev.toml for another energy)")
    return cards.load_detector(name)


def limit_curve(card, *, lepton="mu", charge="plus", lumi_fb=None, masses=None, n_events=4_000_000, seed=1,
                scheduler="sync", progress=False, sample=None, backgrounds=True, n_background=2_000_000):
    """90% CL expected limit on |U_l4|^2 vs m_4 (masses in MeV) -> LimitCurve (x in GeV).

    ``sample``: a generated :class:`_w_sample.WSample` to reuse (e.g. the same W events for e and mu).
    ``backgrounds``: include the card's ``[[analysis.background]]`` templates (``n_background`` events per
    generated background, seeded from ``seed``); False gives the signal-only limit of the seed paper."""
    from dataclasses import replace

    from ..generate import make_rng
    from ..paths import data_file
    from ..scan import map_points
    from ..stats.curves import LimitCurve, expected_from_points
    from . import _w_fits as wf
    from . import _w_sample as ws

    flavour = lepton_name(lepton)
    if charge not in CHARGES:
        raise NudmsimError(f"--option charge={charge}: use plus, minus or both")
    src, resp = _setup(card)
    if lumi_fb is not None:
        lumi = float(lumi_fb)
        if not np.isfinite(lumi) or lumi <= 0:
            raise NudmsimError(f"--option lumi_fb={lumi_fb}: give a positive luminosity in fb^-1")
        resp = replace(resp, luminosity={k: lumi / c.u.femtobarn for k in resp.luminosity})
    masses = np.asarray(DEFAULT_MASSES_GEV * GeV if masses is None else masses, float)
    edges = wf.analysis_edges(card)
    s = sample if sample is not None else ws.generate_sample(src, int(n_events), make_rng(seed), 0)
    n_events = s.n
    s = ws.preselect(s, resp, flavour, edges[0])
    temps = wf.mass_templates(s, resp, flavour, masses, edges, CHARGES[charge])
    bkgs = ()
    if backgrounds and resp.backgrounds:
        bkgs = tuple(wf.background_templates(src, resp, flavour, edges, CHARGES[charge], temps[0][1],
                                             make_rng(seed + 7919), n_background))
    res = map_points(wf.limit_point, [(m, lt, ht, resp.norm_sigma, bkgs) for m, lt, ht in temps],
                     scheduler=scheduler, progress=progress, label=f"atlas-w {flavour}")
    med, bands = expected_from_points(res)
    sheet = "Ue4" if flavour == "e" else "Umu4"
    ref = None
    try:
        ref_path = data_file("hnl_limits", "curves", sheet, "pmns_unitarity_curve.csv")
        arr = np.genfromtxt(ref_path, delimiter=",", skip_header=1, comments="#")
        ref = (arr[:, 0], arr[:, 1], "PMNS unitarity / EWPD (Blennow et al. 2023)")
    except OSError:
        pass
    lumi_txt = resp.luminosity[flavour] * c.u.femtobarn
    return LimitCurve(
        x=masses / GeV, observed=np.full(len(masses), np.nan), expected=med, bands=bands,
        x_label="m4", y_label=f"|U_{flavour}4|^2", x_unit="GeV", y_unit="",
        title=f"W -> {flavour} + invisible, lepton pT kink: {src.sqrts / c.TeV:g} TeV, {lumi_txt:g} fb^-1, "
              f"W charge {charge} (Asimov, 90% CL)",
        provenance=(f"nudmsim atlas-w: {n_events} generated W, seed {seed}; card {card.name}; source {src.provenance}; "
                    f"lepton pT {edges[0] / GeV:g}-{edges[-1] / GeV:g} GeV, {len(edges) - 1} bins; "
                    f"normalisation constrained at {resp.norm_sigma:.0%}; "
                    + (f"backgrounds {', '.join(f'{b[0]} ({b[2]:.0%})' for b in bkgs)}; " if bkgs
                       else "no backgrounds; ")
                    + "CCGV q~ expected limit"),
        reference=ref)


def _limit_entry(req):
    o = dict(req.options)
    known = {"lepton", "charge", "sqrts", "lumi_fb", "events", "seed", "backgrounds"}
    bad = set(o) - known
    if bad:
        raise NudmsimError(f"atlas-w: unknown --option {sorted(bad)[0]} (options: {', '.join(sorted(known))})")
    req.refuse_unused("atlas-w", tuple(known), projected=True)  # the curves are Asimov anyway
    card = _card_for_sqrts(req.card, o.get("sqrts"))
    try:
        n_events = int(float(o.get("events", 4_000_000)))
        seed = int(o.get("seed", 1))
    except (ValueError, OverflowError):
        raise NudmsimError("--option events=N and seed=S must be finite integers") from None
    if n_events < 10_000 or seed < 0:
        raise NudmsimError("--option events must be >= 10000 and seed >= 0")
    bk = o.get("backgrounds", "card")
    if bk not in ("card", "none"):
        raise NudmsimError(f"--option backgrounds={bk}: use card (the card's [[analysis.background]]) or none")
    from ..generate import check_memory

    check_memory(W_BYTES_PER_EVENT * n_events, f"--option events={o.get('events')}",
                 "the limit needs the sample in memory: use fewer events, e.g. --option events=1e7")
    return limit_curve(card, lepton=o.get("lepton", "mu"), charge=o.get("charge", "plus"),
                       lumi_fb=o.get("lumi_fb"), masses=req.masses, n_events=n_events, seed=seed,
                       scheduler=_scheduler(req.scheduler), progress=req.progress, backgrounds=(bk == "card"))


def _scheduler(value):
    """Scans run on Dask like every nudmsim scan: a local cluster by default (``None``), an existing scheduler
    when an address is given, in-process with ``--scheduler sync`` (the per-mass fits take milliseconds once
    the templates exist, so ``sync`` is the quickest for one curve; ``local`` is accepted as an alias of the
    default)."""
    if not value or value == "local":
        return None
    return value


def mw_closure(card, *, mw_true=None, lepton="mu", n_data=10_000_000, n_template=10_000_000, seed=7):
    """Fit M_W on an unweighted pseudo-data sample generated with M_W = mw_true (MeV) using templates from an
    independent sample generated at the PDG M_W and reweighted.  Returns the fit dict plus the pull."""
    from ..generate import make_rng
    from . import _w_fits as wf

    flavour = lepton_name(lepton)
    src, resp = _setup(card)
    mw_true = c.M_W + 20.0 * c.MeV if mw_true is None else float(mw_true)
    edges = wf.analysis_edges(card)
    rng = make_rng(seed)
    data = wf.pseudo_data_counts(src, resp, flavour, edges, int(n_data), rng, mw_true)
    events = wf.template_events(src, resp, flavour, edges, int(n_template), rng)
    out = wf.fit_mw(data, events, len(edges) - 1)
    out.update(mw_true=mw_true, pull=(out["mw"] - mw_true) / out["mw_err"], n_data=float(data.sum()))
    return out


def _fit_entry(card, params, plot=None):
    o = {k: v for k, v in params.items()}
    src_card = card
    try:
        mw_true = float(o.pop("mw_true", (c.M_W + 20 * c.MeV) / GeV)) * GeV
        n = int(float(o.pop("events", 1e7)))
        seed = int(o.pop("seed", 7))
    except (ValueError, OverflowError):
        raise NudmsimError("atlas-w fit: --set mw_true=<GeV> events=<N> seed=<S> must be finite numbers") from None
    lepton = o.pop("lepton", "mu")
    if o:
        raise NudmsimError(f"atlas-w fit: unknown --set {sorted(o)[0]} (use mw_true, events, seed, lepton)")
    from ..generate import check_memory

    if n < 10_000 or seed < 0:
        raise NudmsimError("atlas-w fit: --set events must be >= 10000 and seed >= 0")
    check_memory(W_BYTES_PER_EVENT * n, f"--set events={n:.3g}", "use fewer events, e.g. --set events=1e7")
    if not abs(mw_true - c.M_W) < 1.5 * GeV:
        raise ParameterError(f"mw_true = {mw_true / GeV:g} GeV: stay within 1.5 GeV of M_W (reweighting range)")
    r = mw_closure(src_card, mw_true=mw_true, lepton=lepton, n_data=n, n_template=n, seed=seed)
    return {"M_W input": (r["mw_true"] / GeV, "GeV"), "M_W fitted": (r["mw"] / GeV, "GeV"),
            "M_W uncertainty (stat)": (r["mw_err"] / c.MeV, "MeV"), "pull": (r["pull"], ""),
            "chi2/ndf": (f"{r['chi2']:.1f}/{r['ndf']}", ""), "pseudo-data events in window": (r["n_data"], "")}


register_analysis(AnalysisEntry(
    name="atlas-w", summary="ATLAS 7 TeV (or 13 TeV) lepton-pT kink: 90% CL |U_e4|^2, |U_mu4|^2 vs m4; "
                            "M_W closure fit",
    default_detector="atlas_7tev", fit=_fit_entry, limit=_limit_entry,
    limit_options={"lepton": "e | mu (default mu)", "charge": "plus (default, as the seed) | minus | both",
                   "sqrts": "7TeV (default card) | 13TeV", "lumi_fb": "integrated luminosity in fb^-1 (default: card)",
                   "events": "generated W events for the templates (default 4e6)", "seed": "random seed (default 1)",
                   "backgrounds": "card (default: the card's [[analysis.background]] templates) | none"}))
