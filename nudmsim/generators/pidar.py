"""Neutrino-nucleus scattering on a pi+ decay-at-rest source: SM CEvNS (``cevns``) and nu + N -> X + N by
scalar exchange (``nu-to-x``, seed 004 sec. III), as generators of the experiment engine.

Truth columns: ``flavour`` (0 nu_mu prompt, 1 nu_e, 2 anti-nu_mu), ``target_id`` (index into the target's
isotopes), ``timing_class`` (0 prompt, 1 delayed: selects the arrival-time distribution of the source),
``E_R_keV`` (nuclear recoil, keVnr) and, for events, ``E_nu_MeV``.

* nodes: composite Gauss-Legendre quadrature of dN/dE_R per (flavour, isotope)
  (:mod:`nudmsim.generators.pidar_quadrature`), weights = expected interactions in the exposure;
* events: importance sampling on fine cells with exact weights, counter-based random numbers
  (:mod:`nudmsim.generators.pidar_sampling`).
The physics (cross sections, kinematic limits, fluxes) is in :mod:`nudmsim.processes` and
:mod:`nudmsim.sources.sns`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import constants as c
from ..models import scalar_portal
from ..response.stage import Batch
from ..sources import sns
from . import pidar_quadrature as cq
from . import register_generator


@dataclass(frozen=True)
class _Setup:
    """The view of an experiment the quadrature/sampling functions use."""

    source: object
    nuclei: list
    n_targets: np.ndarray
    form_factor: str


def setup_of(exp) -> _Setup:
    t = exp.target
    if t is None:
        from ..errors import CardError

        raise CardError(exp.card.path, "target", "is missing", "neutrino-nucleus scattering needs a [target] "
                        "(material and mass_kg)")
    return _Setup(exp.source, list(t.nuclei), np.asarray(t.n_targets, float), t.form_factor)


class _PiDarNuclear:
    source_kind = "pi_dar"
    truth_columns = ("flavour", "target_id", "timing_class", "E_R_keV", "E_nu_MeV")

    def _point(self, point) -> dict:
        out = {k: float(p.default) for k, p in self.params.items()}
        out.update({k: float(v) for k, v in (point or {}).items() if k in self.params})
        return out

    def check(self, point, exp) -> None:
        cq.check_params(self.process, self._point(point), setup_of(exp))

    def nodes(self, point, exp):
        st = setup_of(exp)
        sp = cq.spectra(self.process, self._point(point), st)
        parts = []
        for (f, i), (x, w, r) in sp.items():
            if len(x) == 0:
                continue
            k = len(x)
            parts.append(Batch({"flavour": np.full(k, float(f)), "target_id": np.full(k, float(i)),
                                "timing_class": np.full(k, 0.0 if sns.is_prompt(f) else 1.0),
                                "E_R_keV": x / c.keV}, w * r))
        if not parts:
            return Batch({k: np.zeros(0) for k in ("flavour", "target_id", "timing_class", "E_R_keV")},
                         np.zeros(0))
        return Batch.concatenate(parts)

    def sample(self, point, exp, n, rng, start: int = 0):
        from .pidar_sampling import sample_truth

        fl, iso, e_r, e_nu, w = sample_truth(self.process, self._point(point), setup_of(exp), n, rng, start)
        prompt = np.zeros(len(fl), bool)
        for f in sns.PROMPT_FLAVOURS:  # a tuple of one or two codes: == is 10x faster than np.isin here
            prompt |= fl == f
        return Batch({"flavour": fl.astype(float), "target_id": iso.astype(float),
                      "timing_class": np.where(prompt, 0.0, 1.0), "E_R_keV": e_r / c.keV,
                      "E_nu_MeV": e_nu}, w)

    def reweight(self, events, exp, from_process: str, from_point, to_point) -> np.ndarray:
        """Weights turning events generated for (from_process, from_point) into events of this process at
        ``to_point``: w' = w dsigma_to(E_nu, E_R) / dsigma_from(E_nu, E_R) per isotope (form factors and fluxes
        cancel).  Unbiased when the new kinematic region lies inside the old one (SM CEvNS -> nu-to-x: a massive
        X shrinks the recoil range); events outside get weight 0."""
        st = setup_of(exp)
        frm = exp.generator(from_process)
        new = cq.xsecs(self.process, self._point(to_point), st)
        old = cq.xsecs(from_process, frm._point(from_point), st)
        e_nu = np.asarray(events["E_nu_MeV"], float)
        e_r = np.asarray(events["E_R_keV"], float) * c.keV
        tid = np.asarray(events["target_id"])
        w = np.asarray(events["weight"], float).copy()
        for i in range(len(st.nuclei)):
            sel = tid == i
            d_old, d_new = old[i].dsigma(e_nu[sel], e_r[sel]), new[i].dsigma(e_nu[sel], e_r[sel])
            with np.errstate(divide="ignore", invalid="ignore"):
                w[sel] *= np.where(d_old > 0, d_new / d_old, 0.0)
        return w

    def codes(self, exp) -> dict:
        return {"flavour": list(sns.FLAVOURS), "target_id": [n.name for n in exp.target.nuclei],
                "timing_class": ["prompt", "delayed"]}

    def total(self, point, exp) -> float:
        return cq.total_events(self.process, self._point(point), setup_of(exp))["total"]


@register_generator
class CEvNS(_PiDarNuclear):
    process = "cevns"
    summary = "SM coherent elastic nu-nucleus scattering (pi+ DAR source)"
    params: dict = {}
    process_id = 10


@register_generator
class NuToX(_PiDarNuclear):
    process = "nu-to-x"
    summary = "nu + N -> X + N by scalar exchange (scalar portal, seed 004 sec. III)"
    params = scalar_portal.POINT
    process_id = 11
