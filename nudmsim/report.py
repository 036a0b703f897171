"""``nudmsim report``: one scalar-portal model point (m_X, m_phi, y_X, y_q) against every experiment and bound.

For the point, :func:`make_report` lists

* every experiment analysis that applies to X <-> nu conversion (COHERENT CsI 2017 and, when its card exists, 2021;
  XENON1T and Borexino down-scattering; Super-K nu_tau from the Earth for GeV masses): the expected events
  (the process' ``predict`` on the analysis' card), the point's sigma_NC against the analysis' 90% CL limit at
  m_X and r = m_phi/m_X (the same ``registry.get_analysis(NAME).limit`` call as ``nudmsim limit``; observed, and
  expected where the analysis provides it), the status and a test statistic;
* every cosmological bound: the relic abundance Omega h^2 of a thermal X, kinetic decoupling against
  Lyman-alpha (T_KD > 1.4 keV), N_eff (thermal X lighter than ~11 MeV), and the lifetime of X -> nu gamma
  (seed eq. 3) against the age of the Universe.

Test statistic: the limit APIs return the 90% CL cross section sigma_90, not the likelihood, so the report gives
mu = sigma_point / sigma_90 (excluded at 90% CL when mu > 1) and the asymptotic one-sided test statistic it
implies, q_mu = (1.2816 mu)^2 (a Gaussian likelihood with mu_hat = 0; exact at the 90% CL boundary, q = 1.64,
where it matters) -- stated as such in the output.  An analysis entry that provides ``test_statistic(point)``
is asked directly instead.

Writes Markdown (``-o report.md``), JSON beside it (``report.json``; ``--json`` prints it) and the sigma_NC vs m_X
panel at the point's r with the point marked (``report.png``).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, cards, registry
from . import constants as c
from .errors import NudmsimError

#: age of the Universe, 13.787 +- 0.020 Gyr (Planck 2018 VI, TT,TE,EE+lowE+lensing+BAO)
AGE_UNIVERSE_S = 13.787e9 * 365.25 * 86400.0
Z90 = 1.2815515655446004

#: experiment analyses of the scalar-portal model: (analysis, process for the expected events, card or None)
EXPERIMENTS = (
    ("coherent2017", "nu-to-x", None),
    ("xenon1t-x2nu", "x-to-nu", "xenon1t_2018"),
    ("borexino-x2nu", "x-to-nu", "borexino"),
    ("cresst3-x2nu", None, None),
    ("darkside50-x2nu", None, None),
    ("superk-x2nu", None, None),
)


@dataclass
class Check:
    """One line of the report: an experiment analysis or a cosmological bound at the model point."""

    name: str
    kind: str                       # "experiment" | "cosmology"
    status: str                     # excluded | allowed | no sensitivity | not applicable
    quantity: str = ""
    value: float = math.nan         # the point's value of ``quantity``
    limit: float = math.nan         # observed bound on ``quantity``
    expected_limit: float = math.nan
    unit: str = ""
    relation: str = "<"             # value must be ``relation`` limit to be allowed
    mu: float = math.nan            # value / limit (experiments)
    test_statistic: float = math.nan
    ts_method: str = ""
    expected_events: dict = field(default_factory=dict)
    note: str = ""

    def __repr__(self) -> str:
        return f"Check({self.name!r}: {self.status}, {self.quantity} {self.value:.3g} vs {self.limit:.3g} {self.unit})"


@dataclass
class Report:
    point: dict
    checks: list[Check]
    figure: str | None = None

    def __repr__(self) -> str:
        ex = [ch.name for ch in self.checks if ch.status == "excluded"]
        return (f"Report({', '.join(f'{k}={v:g}' for k, v in self.point.items())}: {len(self.checks)} checks, "
                f"excluded by {ex or 'none'})")

    @property
    def excluded(self) -> bool:
        return any(ch.status == "excluded" for ch in self.checks)

    def as_dict(self) -> dict:
        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v

        return {"nudmsim": __version__, "model": "scalar portal (seed 004): X, phi, nu; y_X, y_q",
                "point": self.point, "excluded": self.excluded, "figure": self.figure,
                "checks": [{k: clean(v) for k, v in asdict(ch).items()} for ch in self.checks]}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=1, allow_nan=False)

    def to_markdown(self) -> str:
        p = self.point
        lines = [f"# nudmsim report: m_X = {p['m_X']:g} MeV, m_phi = {p['m_phi']:g} MeV, y_X = {p['y_X']:g}, "
                 f"y_q = {p['y_q']:g}", "",
                 f"r = m_phi/m_X = {p['m_phi'] / p['m_X']:g}; sigma_NC = {p['sigma_NC_cm2']:.3e} cm^2 "
                 f"(y_p = {p['y_p']:.3g}).  Overall: **{'excluded' if self.excluded else 'allowed'}** by the checks "
                 f"below (nudmsim {__version__}).", "", "## Experiments", "",
                 "| analysis | status | quantity | point | 90% CL limit (obs.) | expected limit | mu = point/limit | "
                 "q_mu | expected events |", "|---|---|---|---|---|---|---|---|---|"]
        for ch in (ch for ch in self.checks if ch.kind == "experiment"):
            ev = "; ".join(f"{k}: {v:.3g}" if isinstance(v, float) else f"{k}: {v}"
                           for k, v in ch.expected_events.items()) or "-"
            lines.append(f"| {ch.name} | {ch.status} | {ch.quantity} [{ch.unit}] | {_f(ch.value)} | {_f(ch.limit)} | "
                         f"{_f(ch.expected_limit)} | {_f(ch.mu)} | {_f(ch.test_statistic)} | {ev} |")
        lines += ["", "## Cosmology", "", "| bound | status | quantity | point | bound | note |", "|---|---|---|---|---|---|"]
        for ch in (ch for ch in self.checks if ch.kind == "cosmology"):
            q = f"{ch.quantity} [{ch.unit}]" if ch.unit else ch.quantity
            lines.append(f"| {ch.name} | {ch.status} | {q} | {_f(ch.value)} | {ch.relation} {_f(ch.limit)} | {ch.note} |")
        notes = [f"- {ch.name}: {ch.note}" for ch in self.checks if ch.kind == "experiment" and ch.note]
        if notes:
            lines += ["", "Notes:", ""] + notes
        ts = next((ch.ts_method for ch in self.checks if ch.ts_method), "")
        if ts:
            lines += ["", f"q_mu: {ts}."]
        if self.figure:
            lines += ["", f"![sigma_NC vs m_X at r = {p['m_phi'] / p['m_X']:g} with the point]({Path(self.figure).name})"]
        return "\n".join(lines) + "\n"


def _f(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.3g}"


def resolve_point(sets: dict | None) -> dict:
    """The model point from --set values (defaults: the nu-to-x process defaults), masses in MeV."""
    entry = registry.get_process("nu-to-x")
    return registry.resolve_params(entry.params, sets or {}, "report")


def sigma_nc_cm2(point) -> tuple[float, float]:
    from .models import scalar_portal as sp

    y_p, _ = sp.nucleon_couplings(point["y_q"])
    return float(sp.sigma_nc(point["y_X"], y_p, point["m_X"], point["m_phi"])) * c.INV_MEV2_TO_CM2, float(y_p)


def per_nucleon_conversion_cm2(point, v0_km_s: float = 220.0) -> float:
    """sigma(X p -> nu p) at v0 [cm^2] from the exact |M|^2 (processes.x_to_nu.sigma_v_at_rest, no form factor):
    the cross section of seed 004 eq. 16 that ``superk-x2nu`` bounds."""
    from .processes import x_to_nu

    _, y_p = sigma_nc_cm2(point)
    sv = float(x_to_nu.sigma_v_at_rest(point["m_X"], point["m_phi"], c.M_PROTON, 1, point["y_X"], y_p, "none"))
    return sv / (v0_km_s * c.km / c.s / c.C_LIGHT) * c.INV_MEV2_TO_CM2


def _experiments(point, progress: bool):
    from .figures import FigureOptions, compute

    out = []
    r = point["m_phi"] / point["m_X"]
    sig, _ = sigma_nc_cm2(point)
    opts = FigureOptions(progress=progress)
    todo = list(EXPERIMENTS)
    if "coherent_csi_2021" in cards.available("detector"):
        todo.insert(1, ("coherent2017", "nu-to-x", "coherent_csi_2021"))
    for analysis, process, card in todo:
        label = analysis + (f" ({card})" if card and analysis == "coherent2017" else "")
        entry = registry.get_analysis(analysis)
        ch = Check(label, "experiment", "not applicable", quantity="sigma_NC", value=sig, unit="cm^2")
        if analysis == "superk-x2nu":
            ch.quantity = "sigma(X N -> nu_tau N) per nucleon"
            ch.value = per_nucleon_conversion_cm2(point)
            ch.note = ("per-nucleon conversion sigma = (sigma v at rest, exact |M|^2 on a proton) / v0, v0 = 220 km/s; "
                       "assumes X couples to nu_tau")
            if point["m_X"] < 3.0 * c.GeV:
                ch.note = "applies to m_X of a few GeV and above (tau threshold)"
                out.append(ch)
                continue
        options = {"expected": "yes"} if "expected" in entry.limit_options else {}
        try:
            lc = compute.limit(analysis, opts, masses=[point["m_X"]], ratio=r if analysis != "superk-x2nu" else None,
                               card=card, options=options)
        except NudmsimError as exc:
            ch.note = str(exc)
            if "blind" in ch.note or "kinematic reach" in ch.note:
                ch.status = "no sensitivity"
            if process is not None:
                ch.expected_events = _events(process, card or entry.default_detector, point)
            out.append(ch)
            continue
        ch.limit = float(lc.observed[0]) if np.isfinite(lc.observed[0]) else math.nan
        if lc.expected is not None:
            ch.expected_limit = float(lc.expected[0])
        ref = ch.limit if math.isfinite(ch.limit) else ch.expected_limit
        if not math.isfinite(ref):
            ch.status = "no sensitivity"
            ch.note = ch.note or "the analysis has no limit at this mass"
        else:
            ch.mu = ch.value / ref
            ts = getattr(entry, "test_statistic", None)
            if ts is not None:
                ch.test_statistic, ch.ts_method = ts(point), "the analysis' own profile-likelihood test statistic"
            else:
                ch.test_statistic = (Z90 * ch.mu) ** 2
                ch.ts_method = ("asymptotic one-sided q_mu = (1.2816 mu)^2 from the 90% CL limit (Gaussian "
                                "likelihood, mu_hat = 0); 1.64 at the 90% CL boundary")
            ch.status = "excluded" if ch.mu > 1.0 else "allowed"
            if not math.isfinite(ch.limit):
                ch.note = (ch.note + "; " if ch.note else "") + "expected (projected) limit only"
        if process is not None:
            ch.expected_events = _events(process, card or entry.default_detector, point)
        out.append(ch)
    return out


def _events(process: str, card_name: str, point) -> dict:
    entry = registry.get_process(process)
    try:
        pred = entry.predict({k: point[k] for k in entry.params}, cards.load_detector(card_name))
    except NudmsimError as exc:
        return {"error": str(exc)}
    keys = [k for k, v in pred.items() if not k.startswith("_") and isinstance(v, tuple)
            and isinstance(v[0], (int, float)) and v[1] == "events"]
    return {k: float(pred[k][0]) for k in keys}


def _cosmology(point):
    from .cosmology import kinetic, thermal
    from .models import scalar_portal as sp

    m, mp, yx, yq = point["m_X"], point["m_phi"], point["y_X"], point["y_q"]
    r = mp / m
    out = []
    try:
        om = float(thermal.omega_h2(yx, m, r))
        status = "excluded" if om > thermal.OMEGA_DM_H2 * 1.05 else "allowed"
        note = ("overabundant if X was ever in equilibrium" if status == "excluded" else
                ("thermal relic" if om > thermal.OMEGA_DM_H2 * 0.95 else
                 "underabundant: X is a fraction of the DM (direct-detection rates scale with it)"))
        out.append(Check("relic abundance", "cosmology", status, "Omega h^2 (thermal, Dirac X)", om,
                         thermal.OMEGA_DM_H2, unit="", relation="<=", note=note))
    except NudmsimError as exc:
        out.append(Check("relic abundance", "cosmology", "not applicable", note=str(exc)))
    T_min = kinetic.t_kd_min_lyman_alpha()
    try:
        tkd = float(kinetic.t_kd(yx, m, mp))
        out.append(Check("kinetic decoupling (Lyman-alpha)", "cosmology", "allowed" if tkd > T_min else "excluded",
                         "T_KD", tkd / c.keV, T_min / c.keV, unit="keV", relation=">",
                         note="m_WDM > 5.3 keV -> T_KD > 1.4 keV (seed 004 sec. IV)"))
    except NudmsimError as exc:
        out.append(Check("kinetic decoupling (Lyman-alpha)", "cosmology", "not applicable", note=str(exc)))
    m_neff = float(thermal.neff_mass_bound())
    out.append(Check("N_eff", "cosmology", "excluded" if m < m_neff else "allowed", "m_X", m, m_neff, unit="MeV",
                     relation=">", note="Planck 2018 N_eff < 3.33; applies if X was in equilibrium with neutrinos"))
    width = float(sp.decay_width_x_to_nu_gamma(yx, yq, m, mp))
    tau = (c.HBAR / width) / c.s if width > 0 else math.inf
    out.append(Check("lifetime X -> nu gamma", "cosmology", "allowed" if tau > AGE_UNIVERSE_S else "excluded",
                     "tau_X", tau, AGE_UNIVERSE_S, unit="s", relation=">",
                     note="seed 004 eq. 3 (one loop); X-ray line searches are stronger and not included"))
    return out


def panel(point, path, progress: bool = True, quick: bool = True) -> Path:
    """sigma_NC vs m_X at the point's r with each experiment's curve and the point marked."""
    from .figures import FigureOptions, compute, seed004, style
    from .io import save_figure

    r = point["m_phi"] / point["m_X"]
    opts = FigureOptions(quick=quick, progress=progress)
    fig, ax = style.new_figure(width=7.0, height=5.0)
    for key, label, analysis, card, ms, options in seed004.fig2_specs(opts):
        try:
            lc = compute.limit(analysis, opts, masses=ms, ratio=r, card=card, options=options)
        except NudmsimError:
            continue
        compute.draw(ax, compute.to_curve(lc, label), color=style.color(key), ls="--" if key == "kinetic" else "-")
    sig, _ = sigma_nc_cm2(point)
    ax.plot([point["m_X"]], [sig], marker="*", ms=14, color="k", ls="none",
            label=f"point: m_X = {point['m_X']:g} MeV, y_X = {point['y_X']:g}, y_q = {point['y_q']:g}")
    style.log_axes(ax)
    ax.set_xlim(*seed004.X_RANGE_MEV)
    ax.set_xlabel(seed004.MX_LABEL)
    ax.set_ylabel(seed004.SIGMA_LABEL)
    ax.set_title(rf"$m_\phi$ = {r:g} $m_X$: 90% CL limits (nudmsim) and the model point", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    style.stamp(fig, "report")
    save_figure(fig, path)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return Path(path)


def make_report(sets: dict | None = None, figure_path=None, progress: bool = True) -> Report:
    """The report for the point given by ``sets`` (--set strings or numbers; defaults: nu-to-x defaults)."""
    point = resolve_point(sets)
    if point["m_phi"] <= point["m_X"]:
        raise NudmsimError(f"m_phi = {point['m_phi']:g} MeV <= m_X = {point['m_X']:g} MeV: X decays to phi nu; the "
                           "bounds here assume m_phi > m_X (set e.g. m_phi=3*m_X)")
    sig, y_p = sigma_nc_cm2(point)
    checks = _experiments(point, progress) + _cosmology(point)
    rep = Report(dict(point, sigma_NC_cm2=sig, y_p=y_p), checks)
    if figure_path is not None:
        rep.figure = str(panel(point, figure_path, progress=progress))
    return rep
