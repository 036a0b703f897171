"""Fits and limit scans of an experiment card's analysis: the commands' engine-side work, as small results.

* :func:`fit_measurement` — the maximum-likelihood fit of a measurement to the card's data (with MINOS on the
  POI), returned as a :class:`FitReport` (plain numbers: POI, nuisances in physical units, fitted sample
  totals, deviance; a readable repr);
* :func:`limit_curve` — 90% CL limits (observed and/or Asimov expected with bands) along a limit plane
  (:mod:`nudmsim.models.planes`), one point per mass, mapped over Dask (:func:`nudmsim.scan.map_points`).

Limit options (``[analysis.limit]`` of the card, overridable with ``--option``): ``measurement`` (the
likelihood configuration used), ``method`` (plr | cls | delta-chi2 for the Poisson likelihood; a named likelihood
kind lists its own, e.g. table for binwise_table, published for published_limit; default: the kind's first),
``truncation`` (pcl | zero | none, lower Asimov bands), ``pcl`` (the power constraint of observed PLR limits, in
sigma, or no), ``expected`` (also the Asimov median and bands with the observed limit), ``reference`` (yes | no:
overlay the card's published curve, or the plane's own reference such as a thermal target); a limit plane adds
its own options (e.g. ``m4`` and ``y_L`` of ``y_mu``), which fix the model parameters it does not scan.

A card whose analysis serves several limits names them: ``[analysis.limit.NAME]`` tables, selected by the
analysis entry (``register_engine_analysis(..., limit="NAME")``); a single ``[analysis.limit]`` table is the only
one.  Scan masses: ``masses = [...]`` or ``mass_grid = [lo, hi, n]`` (n log-spaced), in the plane's x unit.
``asimov_only = true`` marks a release without public data (its background calibrated on its published
result): its limits are the Asimov median and bands, as with ``--projected``.  ``reference = { file, x, y,
label, select, x_scale }`` overlays a published curve.  The limit on the signal strength mu becomes the plane's
y as y_ref * mu**power (:class:`nudmsim.models.planes.LimitPlane`).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import NudmsimError
from .schema import Field, Section, validate

LIMIT = Section("analysis.limit", "limit-scan settings of the card (each overridable with --option)", fields=(
    Field("plane", str, doc="limit plane (nudmsim/models/planes.py), e.g. \"sigma_nc\""),
    Field("process", str, doc="the signal process of the scan"),
    Field("measurement", str, default=None, doc="measurement used for limits (default: the analysis default)"),
    Field("masses", list, default=None, doc="default scan points (the plane's x unit)"),
    Field("ratio", float, default=None, lo=0, lo_open=True, doc="default second parameter of the plane"),
    Field("mass_grid", list, default=None, length=3,
          doc="[lo, hi, n]: n log-spaced default scan points (alternative to masses)"),
    Field("method", str, default=None, doc="limit method (default: the likelihood kind's first: plr for poisson)"),
    Field("truncation", str, default="pcl", choices=("pcl", "zero", "none"), doc="lower Asimov bands"),
    Field("pcl", str, default="-1", doc="power constraint of observed PLR limits in sigma, or \"no\""),
    Field("asimov_only", bool, default=False,
          doc="the release publishes no data (only its result): limits are the Asimov median and bands of the "
              "card, as with --projected (e.g. a background calibrated on the published limit)"),
    Field("reference", dict, default=None,
          doc="{ file, x, y, label, select, x_scale }: a published curve overlaid on the plot (x in the plane's "
              "unit; select = { column = value } keeps rows)"),
))

#: the --option names every engine limit takes (a plane adds its own, e.g. m4 and y_L)
LIMIT_OPTIONS = ("measurement", "method", "truncation", "pcl", "expected", "reference")
OPTION_CHOICES = {"truncation": ("pcl", "zero", "none"), "expected": ("yes", "no", "1", "0", "true", "false"),
                  "reference": ("yes", "no", "1", "0", "true", "false")}


@dataclass
class FitReport:
    """Result of a fit of an experiment's measurement (plain numbers)."""

    experiment: str
    measurement: str
    poi: str
    value: float
    error: float
    minos: tuple | None
    values: dict
    errors: dict
    physical: dict
    samples: dict
    observed: float
    twice_nll: float
    nbins: int
    valid: bool
    status: str
    nfcn: int
    time_s: float
    cross_checks: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        m = f" (MINOS {self.minos[0]:+.3g}/{self.minos[1]:+.3g})" if self.minos else ""
        return (f"FitReport({self.experiment}:{self.measurement}: {self.poi} = {self.value:.5g} ± {self.error:.3g}"
                f"{m}; -2lnL = {self.twice_nll:.2f} for {self.nbins} bins; {self.status})")


def fit_measurement(exp, measurement: str | None = None, *, point=None, process=None, minos: bool = True,
                    cross_checks: bool = True) -> FitReport:
    """Fit ``measurement`` of the experiment's analysis to its data."""
    from .stats.likelihood import fit

    t0 = time.perf_counter()
    ws = exp.workspace(measurement, point=point, process=process)
    if ws.meta.get("asimov"):
        raise NudmsimError(f"experiment '{exp.name}' has no data ([analysis.data]): it is a projection — use "
                           f"`nudmsim limit ... --projected`")
    spec = ws.spec()
    res = fit(spec, minos=[ws.poi] if minos else False)
    comps = {k: float(v[spec.mask].sum()) for k, v in spec.component_counts(res.values).items()}
    comps.update({k: float(v[spec.mask].sum()) for k, v in spec.profiled_on_off(res.values).items()})
    checks = {}
    if cross_checks:
        m = exp.analysis.measurement(measurement)
        for other in m.get("cross_check") or []:
            r2 = fit(exp.workspace(other, point=point, process=process).spec())
            checks[other] = (r2.values.get(ws.poi, math.nan), r2.errors.get(ws.poi, math.nan))
    return FitReport(exp.name, ws.meta["measurement"], ws.poi, res.values[ws.poi], res.errors[ws.poi],
                     res.minos.get(ws.poi), dict(res.values), dict(res.errors), ws.physical(res.values), comps,
                     float(spec.observed[spec.mask].sum()), res.twice_nll, int(spec.mask.sum()), res.valid,
                     res.status, res.nfcn, time.perf_counter() - t0, checks)


# ------------------------------------------------------------------------------------------------
# limits
# ------------------------------------------------------------------------------------------------
def limit_table(exp, name: str | None = None) -> tuple[dict, str]:
    """(the raw [analysis.limit] table of limit ``name``, its dotted key); a card with named limits
    ([analysis.limit.NAME]) needs a name, unless it has only one."""
    if exp.analysis is None or not exp.analysis.values["limit"]:
        raise NudmsimError(f"experiment '{exp.name}' has no [analysis.limit] section: it cannot make limits")
    tab = exp.analysis.values["limit"]
    if "plane" in tab or not all(isinstance(v, dict) for v in tab.values()):
        if name is not None:
            raise NudmsimError(f"experiment '{exp.name}' has one [analysis.limit], not a limit named '{name}'")
        return tab, "analysis.limit"
    if name is None:
        if len(tab) != 1:
            raise NudmsimError(f"experiment '{exp.name}' has limits {', '.join(tab)}: name one")
        name = next(iter(tab))
    if name not in tab:
        from .schema import suggest

        hint = suggest(name, tab)
        raise NudmsimError(f"experiment '{exp.name}' has no limit '{name}' ({hint + ' ' if hint else ''}"
                           f"limits: {', '.join(tab)})")
    return tab[name], f"analysis.limit.{name}"


def limit_settings(exp, options: dict, name: str | None = None) -> dict:
    """The card's [analysis.limit] (or [analysis.limit.NAME]) updated by --option values (validated: a bad
    value is a one-line error).  Options of the limit plane go to ``cfg["plane_options"]``."""
    from .models import planes

    tab, key = limit_table(exp, name)
    cfg = validate(tab, LIMIT, path=exp.card.path, prefix=key)
    plane = planes.get(cfg["plane"])
    cfg["key"] = key
    kind = exp.analysis.kind
    cfg["kind"] = kind.name
    if cfg["method"] is None:
        cfg["method"] = kind.methods[0]
    elif cfg["method"] not in kind.methods:
        from .errors import CardError

        raise CardError(exp.card.path, f"{key}.method", f"is '{cfg['method']}'",
                        f"the {kind.name} likelihood takes {', '.join(kind.methods)}")
    if cfg["masses"] is not None and cfg["mass_grid"] is not None:
        from .errors import CardError

        raise CardError(exp.card.path, f"{key}.mass_grid", "is given with masses", "give one of them")
    if cfg["mass_grid"] is not None:
        lo, hi, n = cfg["mass_grid"]
        if not (0 < lo < hi and n >= 2 and float(n).is_integer()):
            from .errors import CardError

            raise CardError(exp.card.path, f"{key}.mass_grid", f"is {cfg['mass_grid']}",
                            "give [lo, hi, n] with 0 < lo < hi and a whole n >= 2")
        cfg["masses"] = np.geomspace(lo, hi, int(n)).tolist()
    opts = dict(options)
    unknown = sorted(set(opts) - set(LIMIT_OPTIONS) - set(plane.options))
    if unknown:
        raise NudmsimError(f"unknown --option {unknown[0]} for the {plane.name} limit of {exp.name} (options: "
                           f"{', '.join(LIMIT_OPTIONS + tuple(plane.options))})")
    if "method" in opts and str(opts["method"]).lower() not in kind.methods:
        raise NudmsimError(f"--option method={opts['method']}: choose one of {', '.join(kind.methods)} "
                           f"(the {kind.name} likelihood)")
    for k, v in opts.items():
        if k in OPTION_CHOICES and str(v).lower() not in OPTION_CHOICES[k]:
            raise NudmsimError(f"--option {k}={v}: choose one of {', '.join(OPTION_CHOICES[k])}")
        if k == "pcl" and str(v).lower() not in ("no", "none", "off"):
            try:
                float(v)
            except ValueError:
                raise NudmsimError(f"--option pcl={v}: give a number of sigma (e.g. -1) or no") from None
        if k == "measurement":
            exp.analysis.measurement(v)
    cfg.update({k: (str(v).lower() if k == "method" else v) for k, v in opts.items()
                if k in ("method", "truncation", "pcl", "measurement")})
    cfg["expected"] = str(opts.get("expected", "no")).lower() in ("1", "yes", "true", "on")
    cfg["show_reference"] = str(opts.get("reference", "yes")).lower() in ("1", "yes", "true", "on")
    cfg["plane_options"] = {k: str(v) for k, v in opts.items() if k in plane.options}
    return cfg


def limit_point(args) -> dict:
    """One scan point (module-level so that Dask ships it): the observed limit and/or the Asimov expectation."""
    from .experiment import Experiment
    from .models import planes
    from .stats.asimov import expected_limit
    from .stats.limits import upper_limit

    card_path, x, ratio, projected, cfg, ref = args
    exp = Experiment.load(card_path)
    plane = planes.get(cfg["plane"])
    out = {"x": x, "y_ref": math.nan, "observed": math.nan, "expected": math.nan, "note": ""}
    t0 = time.perf_counter()
    try:
        pt = plane.point(x, ratio, ref, cfg.get("plane_options"))
        out["y_ref"] = y_ref = plane.y(pt)
        ws = exp.workspace(cfg["measurement"], point=pt, process=cfg["process"])
        spec = ws.spec()
        # a signal template may be signed (the change of a spectrum, e.g. the W kink): "no signal" = all zero
        sig = float(sum(np.sum(np.abs(s.nominal)) for s in ws.samples if s.name == "signal"))
        if ws.kind == "poisson" and not sig > 0:
            raise NudmsimError(f"{plane.x_name} = {x:g} {plane.x_unit}: no expected signal (outside the reach)")
        method = cfg["method"]
        el = None
        if projected or cfg["expected"]:
            el = expected_limit(spec, cl=exp.analysis.values["cl"], method=method, truncation=cfg["truncation"])
            out["expected"] = float(plane.scale(el.median, y_ref))
            out["bands"] = {k: float(plane.scale(b, y_ref)) for k, b in el.bands.items()}
        if not projected:
            pcl = cfg["pcl"]
            pc = None if str(pcl).lower() in ("no", "none", "off") else float(pcl)
            # the drawn band's median is the power constraint's (one Asimov inversion, and the floor is exactly the
            # band's -1 sigma edge)
            ul = upper_limit(spec, cl=exp.analysis.values["cl"], method=method,
                             power_constraint=pc if method == "plr" else None,
                             expected=el if el is not None and el.method == "plr" else None)
            out["observed"] = float(plane.scale(ul.mu_up, y_ref))
            out["mu_hat"] = ul.mu_hat
            out["note"] = f"{plane.x_name}={x:.3g}: {ul.note}" if ul.note else ""
    except NudmsimError as exc:
        out["note"] = str(exc)
    out["time_s"] = time.perf_counter() - t0
    return out


def limit_curve(exp, *, masses=None, ratio=None, projected=False, options=None, params=None,
                scheduler=None, progress=True, limit: str | None = None):
    """Limits along the card's limit plane (see the module docstring) -> a LimitCurve.  ``limit`` names one
    of several [analysis.limit.NAME] tables."""
    from .models import planes
    from .scan import map_points
    from .stats.curves import LimitCurve

    cfg = limit_settings(exp, options or {}, limit)
    plane = planes.get(cfg["plane"])
    kind = exp.analysis.kind
    asimov_only = cfg["asimov_only"]
    projected = bool(projected) or asimov_only
    if (projected or cfg["expected"]) and not kind.projection:
        raise NudmsimError(f"experiment '{exp.name}': the {kind.name} likelihood has no Asimov projection "
                           "(no background model): drop --projected / expected")
    ref = {}
    for k, v in (params or {}).items():
        if k not in plane.reference_keys:
            raise NudmsimError(f"limit on {exp.name}: unknown --set {k} (only {', '.join(plane.reference_keys)}: "
                               "the reference couplings of the signal template; the limit does not depend on them)")
        ref[k] = float(v)
    if projected is False and exp.analysis.observed is None and kind.name == "poisson":
        raise NudmsimError(f"experiment '{exp.name}' is a projection (no [analysis.data]): add --projected")
    if cfg["method"] == "delta-chi2" and (projected or cfg["expected"]):
        raise NudmsimError("expected limits support methods plr and cls, not delta-chi2")
    masses = np.asarray(masses if masses is not None else (cfg["masses"] or []), float)
    if masses.size == 0:
        raise NudmsimError(f"no masses to scan: give --masses (the card {exp.name} has no default)")
    if not plane.has_ratio and ratio is not None:
        raise NudmsimError(f"limit plane {plane.name} has no second parameter: drop --ratio")
    ratio = ratio if ratio is not None else (cfg["ratio"] or plane.default_ratio)
    gen = exp.generator(cfg["process"])
    keep, dropped, reason = [], [], ""
    for m in masses:
        pt = plane.point(m, ratio, ref, cfg["plane_options"])      # a bad ratio or option is an error
        try:
            gen.check(pt, exp)
            keep.append(m)
        except NudmsimError as exc:
            dropped.append(m)
            reason = str(exc)
    if not keep:
        raise NudmsimError(f"no scan point is kinematically allowed ({reason})")
    if dropped and progress:
        print(f"note: {len(dropped)} point(s) dropped: {reason}", file=sys.stderr)
    pts = [(str(exp.card.path), float(m), float(ratio), projected, cfg, ref) for m in keep]
    at = f", {plane.ratio_name} = {ratio:g}" if plane.has_ratio else ""
    at += "".join(f", {k} = {v}" for k, v in {**{k: d for k, (d, _) in plane.options.items()},
                                               **cfg["plane_options"]}.items())
    res = map_points(limit_point, pts, scheduler=scheduler, progress=progress, label=f"{exp.name}{at}")
    x = np.array([r["x"] for r in res])
    obs = np.array([r["observed"] for r in res])
    with_exp = projected or cfg["expected"]
    if not np.any(np.isfinite(obs)) and not (with_exp and np.any(np.isfinite([r["expected"] for r in res]))):
        shown = ", ".join(f"{m:.4g}" for m in keep[:5]) + (", ..." if len(keep) > 5 else "")
        why = sorted({r["note"] for r in res if r["note"]})
        raise NudmsimError(f"{exp.name} is blind there: no {plane.x_name} in the scan ({shown} {plane.x_unit}) gives "
                           f"a limit ({why[0] if why else 'no signal'}); --masses is in MeV")
    expd = np.array([r["expected"] for r in res]) if with_exp else None
    bands = {k: np.array([r.get("bands", {}).get(k, math.nan) for r in res]) for k in ("-2", "-1", "+1", "+2")} \
        if with_exp else {}
    notes = sorted({r["note"] for r in res if r["note"]})
    if not np.isfinite(obs).any() and (expd is None or not np.isfinite(expd).any()):
        raise NudmsimError(f"{exp.name}: no limit at any point ({notes[0] if notes else 'no sensitivity'})")
    what = ("Asimov median and bands of the card (the release publishes no data; observed column NaN)"
            if asimov_only else "projected (Asimov, median and bands)" if projected else "observed")
    mdesc = exp.analysis.measurement(cfg["measurement"]).get("description", "")
    how = {"plr": "CCGV asymptotics", "cls": "CCGV asymptotics", "delta-chi2": "Delta chi2 quantile",
           "table": "the release's toy-MC critical values", "bound": "most-constraining-bin Poisson bound",
           "published": "the release's own limit, rescaled",
           "maximum_gap": "Yellin's maximum gap on the released events, no background subtracted"}
    prov = (f"nudmsim {exp.name} {what}; card sha256 {exp.card.sha256[:12]}; likelihood {kind.name}; "
            f"measurement {cfg['measurement'] or 'default'}{' (' + mdesc.replace('; ', ', ') + ')' if mdesc else ''}; "
            f"method {cfg['method']} ({how.get(cfg['method'], cfg['method'])}){at.replace(',', ';')}")
    if dropped:
        prov += f"; {len(dropped)} point(s) outside the kinematic reach dropped"
    if notes:
        prov += "; notes: " + " | ".join(notes)[:500]
    cl = exp.analysis.values["cl"]
    label = ("projection" if exp.info["status"] == "projection" or (projected and not asimov_only) else
             "expected" if asimov_only else "")
    return LimitCurve(x=x, observed=obs, x_label=plane.x_name, y_label=plane.y_name, x_unit=plane.x_unit,
                      y_unit=plane.y_unit, title=f"{exp.label} {cfg['process']}, {cl:.0%} CL"
                      f"{' ' + label if label else ''}{at}", expected=expd, bands=bands, cl=cl, provenance=prov,
                      reference=reference_curve(exp, cfg, plane, x, ratio) if cfg["show_reference"] else None)


def reference_curve(exp, cfg: dict, plane, x, ratio):
    """(x, y, label) of the published curve named by the limit's ``reference`` table, else the plane's own
    reference (e.g. a thermal target), or None."""
    ref = cfg.get("reference")
    if not ref:
        if plane.reference is None:
            return None
        y, label = plane.reference(np.asarray(x, float), ratio, cfg["plane_options"])
        return np.asarray(x, float), np.asarray(y, float), label
    from .errors import CardError
    from .stats.published import read_curve

    key = f"{cfg.get('key', 'analysis.limit')}.reference"
    bad = set(ref) - {"file", "x", "y", "label", "select", "x_scale"}
    if bad or not {"file", "x", "y"} <= set(ref):
        raise CardError(exp.card.path, key, f"has keys {sorted(ref)}",
                        "give { file, x, y, label, select, x_scale }")
    path = exp.resolve_file(ref["file"], f"{key}.file")
    if not ref.get("select"):
        # a plain published curve: a strict table (no ragged row, text, NaN; x increasing, y >= 0)
        from .response.tables import read_table

        try:
            header, arr = read_table(path)
            for k in ("x", "y"):
                if ref[k] not in header:
                    raise CardError(exp.card.path, f"{key}.{k}", f"{path.name} has no column '{ref[k]}'")
            read_table(path, increasing=(ref["x"],), nonnegative=(ref["y"],))
        except CardError:
            raise
        except NudmsimError as exc:
            raise CardError(exp.card.path, f"{key}.file", str(exc)) from None
        return (arr[:, header.index(ref["x"])] * float(ref.get("x_scale", 1.0)), arr[:, header.index(ref["y"])],
                ref.get("label", path.stem))
    try:   # a digitised compilation: rows selected by column values, empty y = a break in the curve
        rx, ry = read_curve(path, ref["x"], ref["y"], ref.get("select", {}), float(ref.get("x_scale", 1.0)))
    except NudmsimError as exc:
        raise CardError(exp.card.path, key, str(exc)) from None
    return rx, ry, ref.get("label", path.stem)


__all__ = ["FitReport", "fit_measurement", "limit_curve", "limit_point", "limit_settings", "limit_table", "LIMIT",
           "LIMIT_OPTIONS", "reference_curve"]
