"""A :class:`~nudmsim.stats.workspace.Workspace` as a pyhf workspace (JSON spec v1.0.0), and back to a fit.

The mapping (``docs/statistics.md``, "pyhf export"), modifier by modifier:

=================  =========================================================================================
nudmsim            pyhf
=================  =========================================================================================
bins               one channel ``analysis`` of the masked bins, flattened in C order (the last observable
                   fastest)
normfactor         ``normfactor`` (free); an open upper bound becomes 10 x max(init, observed total, 1)
normsys {hi, lo}   nudmsim scales linearly (1 + θ hi above 0, 1 + θ lo below); pyhf's normsys only knows
                   exponential interpolations (``code1``, ``code4``).  Default (``linear_normsys=True``): a
                   ``histosys`` of the same name with the templates nominal x (1 + hi) and nominal x (1 - lo),
                   which pyhf's ``code0`` (its histosys default) interpolates linearly: the same factor.  A
                   parameter shared by several samples stays one parameter.  Composition: nudmsim multiplies
                   (shape histosys then normsys factor), pyhf adds histosys deltas: equal when the sample has
                   no other histosys, second order in θ otherwise.  ``linear_normsys=False`` writes pyhf
                   ``normsys`` {hi: 1 + hi, lo: 1 - lo} (code1: equal to first order).
histosys           ``histosys`` with the ±1σ templates (the knots at θ = ±1).  nudmsim interpolates linearly
                   between 3 knots (= pyhf ``code0``) and with a cubic spline through more knots (the
                   pyhf likelihood then agrees at θ = 0, ±1 and to first order between)
unit_normalised    the nominal and each template divided by its own sum (a normfactor on it is the event
                   count); with ``code0`` the sum stays 1 at every θ, nudmsim renormalises after
                   interpolating (equal at the knots, first order between)
onoff {off, tau}   the on/off likelihood exactly: in ``analysis`` the sample has nominal 1 per bin times a
                   ``shapefactor`` ``<sample>_b`` (one free b_i >= 0 per bin, init off_i/tau); a control
                   channel ``<sample>_control`` holds one sample of nominal tau per bin with the same
                   shapefactor and observes off_i.  (pyhf's ``shapesys`` cannot express bins with off_i = 0,
                   where the nudmsim profile still lets b_i > 0 under exp(-tau b_i); the shapefactor form can.)
parametric         a model with parameters refused (not HistFactory); without (exponential, flat): a fixed histogram
constraints        only the N(0, 1) of normsys/histosys parameters exist in pyhf; any other Gaussian
                   constraint is refused
=================  =========================================================================================

Parameters keep their names, initial values, bounds (open ends: ±1e9, or the normfactor rule above) and
``fixed``.  The parameter of interest is the measurement's POI.
"""
from __future__ import annotations

import logging

import numpy as np

from ..errors import NudmsimError

#: pyhf interpolation settings of the mapping (pyhf's defaults for histosys; pass to ``Workspace.model``)
PYHF_SETTINGS = {"histosys": {"interpcode": "code0"}}

_OPEN = 1e9


def _unit(t, unit: bool) -> np.ndarray:
    t = np.asarray(t, float)
    return t / t.sum() if unit and t.sum() > 0 else t


def to_pyhf(ws, *, linear_normsys: bool = True) -> dict:
    """The pyhf workspace dict of ``ws`` (see the module docstring for the mapping)."""
    mask = np.asarray(ws.mask, bool).ravel()
    nb = int(mask.sum())

    def flat(a) -> list:
        return np.asarray(a, float).ravel()[mask].tolist()

    samples, channels, observations, extra_params = [], [], [], []
    for s in ws.samples:
        mods = []
        unit = s.unit_normalised
        onoff = [m for m in s.modifiers if m.type == "onoff"]
        if onoff:
            if len(s.modifiers) > 1:
                raise NudmsimError(f"workspace {ws.name}: sample '{s.name}' has modifiers besides its on/off "
                                   "background, which the likelihood does not use: drop them before exporting")
            off = np.asarray(onoff[0].data["off"], float).ravel()[mask]
            tau = float(onoff[0].data.get("tau", 1.0))
            par = f"{s.name}_b"
            samples.append({"name": s.name, "data": [1.0] * nb,
                            "modifiers": [{"type": "shapefactor", "name": par, "data": None}]})
            channels.append({"name": f"{s.name}_control", "samples": [
                {"name": f"{s.name}_control", "data": [tau] * nb,
                 "modifiers": [{"type": "shapefactor", "name": par, "data": None}]}]})
            observations.append({"name": f"{s.name}_control", "data": off.tolist()})
            hi = max(10.0 * float(off.max(initial=0.0)) / tau, 10.0)
            extra_params.append({"name": par, "inits": (np.maximum(off / tau, 1e-3)).tolist(),
                                 "bounds": [[0.0, hi]] * nb})
            continue
        for m in s.modifiers:
            if m.type == "normfactor":
                mods.append({"type": "normfactor", "name": m.name, "data": None})
            elif m.type == "normsys":
                hi, lo = 1.0 + float(m.data["hi"]), 1.0 - float(m.data["lo"])
                if linear_normsys:
                    nom = np.asarray(_unit(s.nominal, unit))
                    mods.append({"type": "histosys", "name": m.name,
                                 "data": {"hi_data": flat(nom * hi), "lo_data": flat(nom * lo)}})
                    continue
                if lo <= 0:
                    raise NudmsimError(f"workspace {ws.name}: normsys '{m.name}' of sample '{s.name}' has a -1 sigma "
                                       f"factor {lo:g} <= 0, which pyhf's normsys cannot express (use "
                                       "linear_normsys=True)")
                mods.append({"type": "normsys", "name": m.name, "data": {"hi": hi, "lo": lo}})
            elif m.type == "histosys":
                k = [float(x) for x in m.data["knots"]]
                if -1.0 not in k or 1.0 not in k:
                    raise NudmsimError(f"workspace {ws.name}: histosys '{m.name}' of sample '{s.name}' has no "
                                       f"templates at theta = -1 and +1 (knots {k}); pyhf needs them")
                lo_t, hi_t = (_unit(m.data["templates"][k.index(x)], unit) for x in (-1.0, 1.0))
                mods.append({"type": "histosys", "name": m.name,
                             "data": {"hi_data": flat(hi_t), "lo_data": flat(lo_t)}})
            elif m.type == "parametric" and not _shape_params(m.data["model"]):
                pass        # a shape model without parameters is a fixed histogram: exported as its nominal
            elif m.type == "parametric":
                raise NudmsimError(f"workspace {ws.name}: sample '{s.name}' is a parametric shape "
                                   f"({m.data['model']}), which pyhf cannot express")
        samples.append({"name": s.name, "data": flat(_unit(s.nominal, unit)), "modifiers": mods})
    observed_total = float(np.asarray(ws.observed, float).ravel()[mask].sum())
    params = []
    for p in ws.parameters.values():
        typ = {m.type for s in ws.samples for m in s.modifiers if m.name == p.name}
        if p.constraint is not None and not typ & {"normsys", "histosys"}:
            raise NudmsimError(f"workspace {ws.name}: parameter '{p.name}' has a Gaussian constraint but no "
                               "normsys/histosys, which pyhf cannot express (write it as a normsys)")
        if p.constraint is not None and tuple(p.constraint) != (0.0, 1.0):
            raise NudmsimError(f"workspace {ws.name}: parameter '{p.name}' is constrained by N{tuple(p.constraint)}"
                               ", pyhf's normsys/histosys by N(0, 1)")
        if not typ:
            continue
        lo = -_OPEN if p.bounds[0] is None else float(p.bounds[0])
        if p.bounds[1] is not None:
            hi = float(p.bounds[1])
        elif typ == {"normfactor"}:
            hi = 10.0 * max(abs(float(p.init)), observed_total, 1.0)
        else:
            hi = _OPEN
        cfg = {"name": p.name, "inits": [float(p.init)], "bounds": [[lo, hi]]}
        if p.fixed:
            cfg["fixed"] = True
        params.append(cfg)
    return {"channels": [{"name": "analysis", "samples": samples}] + channels,
            "observations": [{"name": "analysis", "data": np.asarray(ws.observed, float).ravel()[mask].tolist()}]
            + observations,
            "measurements": [{"name": ws.meta.get("measurement", ws.name) or ws.name,
                              "config": {"poi": ws.poi, "parameters": params + extra_params}}],
            "version": "1.0.0"}


def pyhf_fit(spec: dict, *, settings: dict | None = PYHF_SETTINGS) -> dict:
    """Maximum-likelihood fit of a pyhf workspace dict with pyhf itself (numpy backend; MINUIT, or scipy's
    SLSQP when MINUIT flags the minimum): {parameter: best-fit value} (multi-bin parameters as lists),
    ``twice_nll`` and ``optimizer``.  Needs ``pyhf`` (the ``test`` extra)."""
    try:
        import pyhf
    except ImportError:  # pragma: no cover
        raise NudmsimError("pyhf is not installed (pip install pyhf, or the nudmsim 'test' extra)") from None
    w = pyhf.Workspace(spec)
    model = w.model(modifier_settings=settings) if settings else w.model()
    data = w.data(model)
    out = {"optimizer": "minuit"}
    log = logging.getLogger("pyhf.optimize.mixins")
    level = log.level
    log.setLevel(logging.CRITICAL)          # pyhf logs the whole MINUIT state when it flags a minimum
    try:
        pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0, tolerance=1e-3, strategy=1))
        best, twice_nll = pyhf.infer.mle.fit(data, model, return_fitted_val=True, maxiter=200_000)
    except pyhf.exceptions.FailedMinimization:
        # MINUIT flags minima with parameters at a bound (e.g. an on/off background b_i = 0) as invalid;
        # scipy's SLSQP handles bounds natively
        pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())
        best, twice_nll = pyhf.infer.mle.fit(data, model, return_fitted_val=True, maxiter=200_000)
        out["optimizer"] = "scipy"
    finally:
        log.setLevel(level)
    for name in model.config.par_order:
        sl = model.config.par_slice(name)
        v = np.asarray(best[sl], float)
        out[name] = float(v[0]) if v.size == 1 else v.tolist()
    out["twice_nll"] = float(twice_nll)
    return out


__all__ = ["to_pyhf", "pyhf_fit", "PYHF_SETTINGS"]


def _shape_params(model: str) -> tuple:
    """The parameter names of a registered parametric shape (empty: a fixed shape)."""
    from .workspace import PARAMETRIC

    return PARAMETRIC[model][1] if model in PARAMETRIC else ("?",)
