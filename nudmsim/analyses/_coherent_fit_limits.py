"""COHERENT 2017 nu -> X limit scan (private helper of ``nudmsim.analyses.coherent_fit``; see its docstring).

``limit_point`` is module-level so that Dask can ship it to workers; ``limit_entry`` is the
``nudmsim limit coherent2017`` entry point (options validated before any work).
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..errors import NudmsimError
from .coherent_fit import DEFAULT_MASSES, LIMIT_STEADY_STATE, STEADY_STATE, limit_spec, model_for, reference_point


# ------------------------------------------------------------------------------------------------
# limits
# ------------------------------------------------------------------------------------------------
def mx_reach(card) -> float:
    """Largest m_X (MeV) the SNS neutrinos can produce on the card's heaviest nucleus."""
    from ..generators import pidar_quadrature as cp

    st = cp.setup(card)
    return float(cp._mx_reach(max(n.mass for n in st.nuclei)))


def sigma_nc_reference(m_X: float, ratio: float, ref: dict | None = None) -> float:
    """sigma_NC (cm^2) of the template's reference couplings at (m_X, m_phi = ratio m_X)."""
    from .. import constants as c
    from ..models import scalar_portal as sp

    p = reference_point(m_X, ratio, ref)
    y_p, _ = sp.nucleon_couplings(p["y_q"])
    return float(sp.sigma_nc(p["y_X"], y_p, p["m_X"], p["m_phi"])) * c.INV_MEV2_TO_CM2


def limit_point(args) -> dict:
    """One mass point (module-level so Dask can ship it): observed limit or Asimov expected + bands."""
    from .. import cards
    from ..stats.asimov import expected_limit
    from ..stats.limits import upper_limit

    card_path, m_X, ratio, projected, opts = args
    card = cards.load_detector(card_path)
    model = model_for(card)
    ss = opts.get("steady_state", LIMIT_STEADY_STATE)
    method = opts.get("method", "plr")
    ref = {k: float(opts[k]) for k in ("y_X", "y_q") if k in opts}
    sig_ref = sigma_nc_reference(m_X, ratio, ref)
    out = {"m_X": m_X, "sigma_ref": sig_ref, "observed": math.nan, "expected": math.nan, "note": ""}
    t0 = time.perf_counter()
    try:
        spec = limit_spec(model, m_X, ratio, steady_state=ss, ref=ref)
        if projected or _yes(opts.get("expected", "no")):
            el = expected_limit(spec, method=method, truncation=opts.get("truncation", "pcl"))
            out["expected"] = el.median * sig_ref
            out["bands"] = {k: b * sig_ref for k, b in el.bands.items()}
        if not projected:
            pcl = opts.get("pcl", "-1")
            pc = None if str(pcl).lower() in ("no", "none", "off") else float(pcl)
            ul = upper_limit(spec, method=method, power_constraint=pc if method == "plr" else None)
            out["observed"] = ul.mu_up * sig_ref
            out["observed_raw"] = (ul.mu_up_raw if ul.mu_up_raw is not None else ul.mu_up) * sig_ref
            out["mu_hat"] = ul.mu_hat
            out["note"] = f"m_X={m_X:.3g}: {ul.note}" if ul.note else ""
    except NudmsimError as exc:
        out["note"] = str(exc)
    out["time_s"] = time.perf_counter() - t0
    return out


_OPTION_CHOICES = {"steady_state": STEADY_STATE, "method": ("plr", "cls", "delta-chi2"),
                   "truncation": ("pcl", "zero", "none"), "expected": ("yes", "no", "1", "0", "true", "false")}


def _check_options(opts: dict) -> None:
    """Validate --option values before any work (a bad value is a one-line user error)."""
    for k, v in opts.items():
        if k in _OPTION_CHOICES:
            if str(v).lower() not in _OPTION_CHOICES[k]:
                raise NudmsimError(f"--option {k}={v}: choose one of {', '.join(_OPTION_CHOICES[k])}")
        elif k == "pcl":
            if str(v).lower() not in ("no", "none", "off"):
                try:
                    float(v)
                except ValueError:
                    raise NudmsimError(f"--option pcl={v}: give a number of sigma (e.g. -1) or no") from None
        elif k in ("y_X", "y_q"):
            try:
                ok = float(v) > 0
            except ValueError:
                ok = False
            if not ok:
                raise NudmsimError(f"--option {k}={v}: reference coupling must be a number > 0")
        else:
            raise NudmsimError(f"unknown --option {k} for coherent2017 (options: "
                               f"{', '.join(list(_OPTION_CHOICES) + ['pcl', 'y_X', 'y_q'])})")


def _yes(v) -> bool:
    return str(v).lower() in ("1", "yes", "true", "on")


def limit_entry(req):
    from ..stats.curves import LimitCurve

    card = req.card
    model = model_for(card)
    if not req.projected and not model.is_release_exposure():
        raise NudmsimError(f"observed limits need the released data's exposure ({model.release.exposure_GWh:g} GWh); "
                           f"card '{card.name}' has {model.exposure_GWh:g} GWh: add --projected")
    ratio = float(req.ratio) if req.ratio is not None else 3.0
    if ratio <= 1.0:
        raise NudmsimError(f"--ratio {ratio:g}: r = m_phi/m_X must be > 1 (the seed uses 3 and 10)")
    opts = dict(req.options)
    _check_options(opts)
    opts.update({k: v for k, v in req.params.items() if k in ("y_X", "y_q")})
    unknown = set(req.params) - {"y_X", "y_q"}
    if unknown:
        raise NudmsimError(f"coherent2017 limit: unknown --set {', '.join(sorted(unknown))} (only y_X, y_q: "
                           "the reference couplings of the template)")
    masses = np.asarray(req.masses if req.masses is not None else DEFAULT_MASSES, float)
    reach = mx_reach(card)
    keep = masses < reach * 0.999
    dropped = masses[~keep]
    if not keep.any():
        raise NudmsimError(f"all masses are above the SNS kinematic reach m_X < {reach:.2f} MeV")
    import sys

    if dropped.size and req.progress:
        print(f"note: {dropped.size} mass point(s) >= {reach:.2f} MeV dropped: above the SNS kinematic reach "
              f"(E_nu <= m_mu/2 = 52.8 MeV and E_nu >= m_X + m_X^2/2m_N)", file=sys.stderr)
    from ..scan import map_points

    pts = [(str(card.path), float(m), ratio, bool(req.projected), opts) for m in masses[keep]]
    res = map_points(limit_point, pts, scheduler=req.scheduler, progress=req.progress,
                     label=f"coherent2017 r={ratio:g}")
    x = np.array([r["m_X"] for r in res])
    obs = np.array([r["observed"] for r in res])
    with_exp = req.projected or _yes(opts.get("expected", "no"))
    exp = np.array([r["expected"] for r in res]) if with_exp else None
    bands = {}
    if with_exp:
        for k in ("-2", "-1", "+1", "+2"):
            bands[k] = np.array([r.get("bands", {}).get(k, math.nan) for r in res])
    notes = sorted({r["note"] for r in res if r["note"]})
    what = "projected (Asimov, median and bands)" if req.projected else "observed"
    prov = (f"nudmsim coherent2017 {what}; card {card.name} sha256 {card.sha256[:12]}; "
            f"method {opts.get('method', 'plr')} (CCGV asymptotics); r = m_phi/m_X = {ratio:g}; "
            f"kinematic reach m_X < {reach:.2f} MeV" +
            (f" ({dropped.size} mass(es) >= reach dropped: {', '.join(f'{m:.4g}' for m in dropped)})"
             if dropped.size else ""))
    if notes:
        prov += "; notes: " + " | ".join(notes)[:500]
    return LimitCurve(x=x, observed=obs, x_label="m_X", y_label="sigma_NC", x_unit="MeV", y_unit="cm^2",
                      title=f"COHERENT CsI ({card.name}) nu->X, 90% CL, m_phi = {ratio:g} m_X", expected=exp,
                      bands=bands, provenance=prov)
