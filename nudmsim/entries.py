"""Registry entries backed by the experiment engine: what ``nudmsim generate/predict/fit/limit`` call.

A process or an analysis that lives in an experiment card needs no code of its own: these generic functions
load the card's :class:`~nudmsim.experiment.Experiment` and call it.  ``nudmsim/analyses/*.py`` only name the
entries (which process, which default card, which measurement).

    register_engine_process("cevns", default_card="coherent_csi_2017")
    register_engine_analysis("coherent2017", card="coherent_csi_2017", fit_measurement="fit",
                             summary="COHERENT CsI[Na] 2017: fit of the released data; sigma_NC limits")
"""
from __future__ import annotations

import numpy as np

from .errors import NudmsimError
from .registry import AnalysisEntry, ProcessEntry, register_analysis, register_process


_EXPERIMENTS: dict = {}


def experiment_of(card):
    """The Experiment of a Card (cached on the card's path and content hash: streamed generation calls this
    once per block, and Experiment.load re-reads and re-validates the file, ~25 ms)."""
    from .experiment import Experiment

    key = (str(card.path), card.sha256)
    exp = _EXPERIMENTS.get(key)
    if exp is not None:
        return exp
    if card.get("card.kind", str, default="") != "experiment":
        raise NudmsimError(f"card '{card.name}' ({card.path.name}) is not an experiment card "
                           "(its [card] kind must be \"experiment\")")
    exp = Experiment.load(str(card.path))
    if len(_EXPERIMENTS) >= 16:
        _EXPERIMENTS.pop(next(iter(_EXPERIMENTS)))
    _EXPERIMENTS[key] = exp
    return exp


def _check_card_process(exp, process: str) -> None:
    if process not in exp.info["processes"]:
        raise NudmsimError(f"experiment '{exp.name}' does not list process '{process}' (card.processes: "
                           f"{', '.join(exp.info['processes']) or 'none'}); choose another -d card")


# ------------------------------------------------------------------------------------------------
# processes
# ------------------------------------------------------------------------------------------------
def engine_generate(process: str):
    def generate(params, card, n, rng, columns=None):
        exp = experiment_of(card)
        _check_card_process(exp, process)
        sample = exp.generate(process, params, n, rng, columns=columns)
        if not sample.expected_total > 0 and sample.info.get("interactions", 0.0) > 0:
            gen = exp.generator(process)
            msg = getattr(gen, "blind_message", None)
            raise NudmsimError(msg(exp.point(process, params), exp) if msg is not None else
                               f"{exp.name} is blind there: no generated {process} event is detected (see "
                               f"`nudmsim predict {process} -d {exp.name}`)")
        return sample

    return generate


def engine_predict(process: str):
    def predict(params, card) -> dict:
        exp = experiment_of(card)
        _check_card_process(exp, process)
        ex = exp.expected(process, params)
        out = {"interactions (before any response)": (ex.interactions, "events")}
        out.update(exp.source_summary())
        raw = exp.expected_without(process, params, families=("efficiency", "cut"))
        out["in the observables, before efficiencies"] = (float(raw.sum()), "events")
        out["in the observables, after the response"] = (ex.total, "events")
        if exp.analysis is not None and not exp.analysis.mask.all():
            out["in the analysis range"] = (float(ex.counts[exp.analysis.mask].sum()), "events")
        if exp.analysis is not None and exp.analysis.roi_mask is not None:
            out["in the region of interest"] = (float(ex.counts[exp.analysis.roi_mask].sum()), "events")
        describe = getattr(exp.generator(process), "describe", None)
        if describe is not None:
            out.update(describe(ex.point, exp))
        for k, v in exp.published.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[f"published: {k}"] = (float(v), "")
        out["_expected"] = ex

        def _plot(path):
            plot_expected(ex, path, title=f"{process} on {exp.label}", raw=raw)

        out["_plot"] = _plot
        return out

    return predict


def register_engine_process(process: str, *, default_card: str, summary: str | None = None,
                            extra_cards: tuple = (), observables: tuple = ()) -> ProcessEntry:
    """A CLI process computed by the engine on any experiment card that lists it; ``observables``: the
    detector-level event columns (``--columns observables``)."""
    from .generators import find
    from .sources import source_kind  # noqa: F401  (source kinds register with their modules)

    from .generators import load_for

    gens = list(load_for(process).values())
    if not gens:
        find(process, "?")
    g = gens[0]
    return register_process(ProcessEntry(name=process, summary=summary or g.summary, params=g.params,
                                         default_detector=default_card, generate=engine_generate(process),
                                         predict=engine_predict(process), detectors=("experiment",),
                                         process_id=g.process_id,
                                         observables=tuple(observables) or tuple(getattr(g, "observables", ())),
                                         final_state=getattr(g, "final_state", None), columns_hint=True))


# ------------------------------------------------------------------------------------------------
# analyses
# ------------------------------------------------------------------------------------------------
def engine_fit(measurement: str):
    def fit(card, params: dict, plot=None, **_) -> dict:
        from .runner import fit_measurement

        exp = experiment_of(card)
        opts = dict(params)
        meas = opts.pop("measurement", measurement)
        if opts:
            raise NudmsimError(f"fit {exp.name}: unknown --set {', '.join(sorted(opts))} (the fit takes "
                               f"measurement=NAME; measurements: {', '.join(exp.analysis.measurements)})")
        rep = fit_measurement(exp, meas)
        out = fit_printout(exp, rep)
        if plot:
            plot_fit(exp, rep, plot)
            out["plot"] = (str(plot), "")
        out["_report"] = rep
        return out

    return fit


def fit_printout(exp, rep) -> dict:
    """Printable lines of a FitReport (label -> (value, comment))."""
    lo, hi = rep.minos if rep.minos else (-rep.error, rep.error)
    pub = exp.published
    ref = ""
    for k in pub:
        if k.startswith("fit_") and not k.endswith("_error"):
            ref = f"; published {pub[k]:g} +- {pub.get(k + '_error', pub.get(k.replace('_events', '_error'), 0)):g}"
    desc = exp.analysis.measurement(rep.measurement).get("description", "")
    out = {"measurement": (rep.measurement, f"({desc})" if desc else ""),
           f"{rep.poi} (fit)": (rep.value, f"(MINOS {lo:+.3g}/{hi:+.3g}{ref})")}
    for k, v in rep.values.items():
        if k == rep.poi:
            continue
        phys = rep.physical.get(k)
        extra = f"  (physical value {phys:.5g})" if phys is not None else ""
        out[f"parameter {k}"] = (v, f"+- {rep.errors.get(k, 0.0):.4g}{extra}")
    for k, v in rep.samples.items():
        out[f"sample {k} (fitted)"] = (v, "events")
    out["observed events"] = (rep.observed, "events in the fitted bins")
    out["-2lnL (deviance)"] = (rep.twice_nll, f"for {rep.nbins} bins")
    out["fit status"] = (rep.status, f"nfcn {rep.nfcn}")
    for k, (v, e) in rep.cross_checks.items():
        out[f"cross-check '{k}': {rep.poi}"] = (v, f"+- {e:.3g}")
    out["fit time"] = (rep.time_s, "s (incl. templates on first use)")
    return out


def engine_limit(name: str, limit_name: str | None = None, options: tuple | None = None):
    def limit(req):
        from .models import planes
        from .registry import _UNIT_SCALE
        from .runner import LIMIT_OPTIONS, limit_curve, limit_table

        exp = experiment_of(req.card)
        tab, _ = limit_table(exp, limit_name)
        plane = planes.get(str(tab.get("plane", "")))
        allowed = tuple(options or LIMIT_OPTIONS) + tuple(plane.options)
        req.refuse_unused(name, allowed, ratio=plane.has_ratio, projected=exp.analysis.kind.projection)
        masses = req.masses
        if masses is not None and plane.x_unit in _UNIT_SCALE and plane.x_unit:   # --masses is in MeV
            masses = np.asarray(masses, float) * _UNIT_SCALE["MeV"] / _UNIT_SCALE[plane.x_unit]
        return limit_curve(exp, masses=masses, ratio=req.ratio, projected=req.projected, options=req.options,
                           params=req.params, scheduler=req.scheduler, progress=req.progress, limit=limit_name)

    return limit


def engine_calibration(name: str, calibration: str | None):
    """``nudmsim fit NAME``: run the card's calibration procedure and print the values for the card."""
    def fit(card, params: dict, plot=None, **_) -> dict:
        from .stats.calibration import calibrate

        if params:
            raise NudmsimError(f"{name} fit: unknown --set {sorted(params)[0]} (the calibration has no parameters)")
        exp = experiment_of(card)
        res = calibrate(exp, calibration)
        out = {f"parameter {k} (calibrated; write it as its init in the card)": (v, "") for k, v in res.values.items()}
        out["rms log-deviation (smoothed reference)"] = (res.rms_log, "")
        out[f"max factor vs the smoothed reference ({res.masses.min():g}-{res.masses.max():g})"] = \
            (res.max_factor, f"criterion < {res.pass_factor:g}: {'pass' if res.passed else 'FAIL'}")
        if res.by_group:
            out["fraction of raw reference points within x2"] = (res.frac_within_2, "")
            for g, v in res.by_group.items():
                out[f"median ratio ours/{g}"] = (v, "")
        if plot:
            plot_calibration(exp, res, plot)
            out["plot"] = (str(plot), "")
        out["_result"] = res
        return out

    return fit


LIMIT_OPTION_DOCS = {
    "measurement": "likelihood configuration of the card ([analysis.measurement.NAME])",
    "method": "poisson likelihood: plr (default, CCGV q~) | cls | delta-chi2 (2.706); binwise_table: "
              "table (default, the release's toy-MC critical values) | delta-chi2; bin_bound: bound; "
              "published_limit: published; maximum_gap: maximum_gap",
    "truncation": "pcl (default) | zero | none  (lower Asimov bands)",
    "pcl": "-1 (default: observed PLR limit floored at the -1 sigma expected limit) | no",
    "expected": "no (default) | yes: also the Asimov median and bands with the observed limit",
    "reference": "yes (default) | no: overlay the card's published curve (or the plane's target)"}


def register_engine_analysis(name: str, *, card: str, summary: str, fit_measurement: str | None = None,
                             limit: bool | str = True, calibration: str | bool | None = None,
                             plane_options: dict | None = None, options: tuple | None = None) -> AnalysisEntry:
    """An analysis computed by the engine from the card's [analysis]: a fit of ``fit_measurement`` or a
    calibration (``calibration = NAME`` of [analysis.calibration.NAME]; True: the only one) as its ``fit``,
    and/or limits (``limit = True``: the card's [analysis.limit]; a name: its [analysis.limit.NAME]).
    ``options``: the --option names it takes (default all of runner.LIMIT_OPTIONS; an analysis whose likelihood
    kind has no Asimov projection drops truncation, pcl and expected); ``plane_options`` documents the limit
    plane's own --option keys."""
    names = tuple(LIMIT_OPTION_DOCS) if options is None else tuple(options)
    opts = {k: LIMIT_OPTION_DOCS[k] for k in names}
    opts.update(plane_options or {})
    if calibration:
        fit = engine_calibration(name, calibration if isinstance(calibration, str) else None)
    else:
        fit = engine_fit(fit_measurement) if fit_measurement else None
    return register_analysis(AnalysisEntry(name=name, summary=summary, default_detector=card, fit=fit,
                                           limit=engine_limit(name, limit if isinstance(limit, str) else None, names)
                                           if limit else None,
                                           limit_options=opts if limit else {}))


# ------------------------------------------------------------------------------------------------
# plots
# ------------------------------------------------------------------------------------------------
def plot_expected(ex, path, title: str = "", raw=None) -> None:
    """Projections of an expected histogram on each observable (before/after efficiencies), as an image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io import save_figure

    axes = ex.observables.axes
    fig, axs = plt.subplots(1, len(axes), figsize=(5 * len(axes), 4), squeeze=False)
    for ax, a in zip(axs[0], axes):
        i = ex.observables.names.index(a.name)
        others = tuple(j for j in range(ex.counts.ndim) if j != i)
        if raw is not None:
            ax.stairs(raw.sum(axis=others), a.edges, label="before efficiencies")
        ax.stairs(ex.counts.sum(axis=others), a.edges, label="after the response")
        ax.set_xlabel(a.label or a.name)
        ax.set_ylabel("events / bin")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    save_figure(fig, path)
    plt.close(fig)


def plot_fit(exp, rep, path) -> None:
    """Data with Poisson errors and the stacked fitted samples, projected on each observable."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io import save_figure

    ws = exp.workspace(rep.measurement)
    spec = ws.spec()
    comps = {k: np.where(spec.mask, v, 0.0) for k, v in spec.component_counts(rep.values).items()}
    comps.update({k: np.where(spec.mask, v, 0.0) for k, v in spec.profiled_on_off(rep.values).items()})
    obs = np.where(spec.mask, spec.observed, 0.0)
    axes = exp.observables.axes
    fig, axs = plt.subplots(1, len(axes), figsize=(5.5 * len(axes), 4.2), squeeze=False)
    for ax, a in zip(axs[0], axes):
        i = exp.observables.names.index(a.name)
        others = tuple(j for j in range(obs.ndim) if j != i)
        base = np.zeros(a.nbins)
        for k in sorted(comps, key=lambda k: -comps[k].sum()):
            h = comps[k].sum(axis=others)
            ax.stairs(base + h, a.edges, baseline=base, fill=True, alpha=0.7, label=f"{k} ({h.sum():.0f})")
            base = base + h
        ax.stairs(base, a.edges, color="k", lw=1)
        d = obs.sum(axis=others)
        ax.errorbar(a.centres, d, yerr=np.sqrt(np.maximum(d, 1)), fmt="ko", ms=3, label="data")
        ax.set_xlabel(a.label or a.name)
        ax.set_ylabel("events / bin")
    axs[0][0].legend(fontsize=8)
    fig.suptitle(f"{exp.label}, {rep.measurement}: {rep.poi} = {rep.value:.4g} ± {rep.error:.2g}, "
                 f"-2lnL = {rep.twice_nll:.1f}", fontsize=10)
    save_figure(fig, path)
    plt.close(fig)


def plot_calibration(exp, res, path) -> None:
    """A calibrated expected limit curve over its reference (raw rows per digitisation, smoothed curve)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io import save_figure
    from .stats.calibration import reference_points, settings

    cfg = settings(exp, res.name)
    xs, ys, groups = reference_points(exp, cfg)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for g in (dict.fromkeys(groups) if groups is not None else [None]):
        sel = np.ones(len(xs), bool) if g is None else groups == g
        ax.plot(xs[sel], ys[sel], ".", ms=3, label=f"published ({g})" if g else "published")
    ax.plot(res.masses, res.reference, "-", color="0.5", lw=1, label=f"reference (smoothed ±{cfg['smoothing']:g})")
    ax.plot(res.masses, res.limit, "k-", lw=2, label=f"{exp.label} calibrated card (expected)")
    ax.set_yscale("log")
    ax.set_xlabel(cfg["reference"]["x"])
    ax.set_ylabel(cfg["reference"]["y"])
    ax.set_title(f"{exp.label} calibration '{res.name}': max factor {res.max_factor:.2f}", fontsize=10)
    # outside the axes: inside, it hid curves
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.subplots_adjust(right=0.62)
    save_figure(fig, path)
    plt.close(fig)


__all__ = ["register_engine_process", "register_engine_analysis", "experiment_of", "fit_printout",
           "plot_expected", "plot_fit", "plot_calibration"]
