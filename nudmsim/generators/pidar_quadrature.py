"""Recoil spectra of neutrino-nucleus scattering on a pi+ DAR source by quadrature (the quadrature of
``nudmsim.generators.pidar``): composite Gauss-Legendre in E_R (log panels), Gauss-Legendre in E_nu over the
Michel spectra, the prompt line exactly.  ``st`` is any object with ``source`` (SNSSource), ``nuclei``,
``n_targets`` and ``form_factor``.  All energies in MeV (hepunits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import constants as c
from .. import formfactors
from ..errors import ParameterError
from ..models import scalar_portal
from ..processes import cevns, nu_to_x
from ..sources import sns

PROCESS_IDS = {"cevns": 10, "nu-to-x": 11}
_GL_ER = np.polynomial.legendre.leggauss(8)
_GL_ENU = np.polynomial.legendre.leggauss(24)


# ------------------------------------------------------------------------------------------------
# cross sections per process
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Xsec:
    """Cross section of one process on one nucleus: dsigma/dE_R without form factor, and its kinematics."""

    process: str
    nucleus: object
    params: tuple = ()

    def p(self):
        return dict(self.params)

    def dsigma(self, e_nu, e_r):
        N = self.nucleus
        if self.process == "cevns":
            return cevns.dsigma_dT_noff(e_nu, e_r, N.Z, N.N, N.mass)
        p = self.p()
        y_p, y_n = scalar_portal.nucleon_couplings(p["y_q"])
        y_N = scalar_portal.nucleus_coupling(y_p, y_n, N.Z, N.A)
        return nu_to_x.dsigma_dER_noff(e_nu, e_r, p["y_X"], y_N, p["m_X"], p["m_phi"], N.mass)

    def e_nu_min(self, e_r):
        if self.process == "cevns":
            return cevns.e_nu_min(e_r, self.nucleus.mass)
        return nu_to_x.e_nu_min(e_r, self.p()["m_X"], self.nucleus.mass)

    def er_range(self, e_nu):
        """(lo, hi) recoil range at e_nu (NaN below threshold)."""
        if self.process == "cevns":
            return np.zeros_like(np.asarray(e_nu, float)), cevns.t_max(e_nu, self.nucleus.mass)
        return nu_to_x.recoil_range(e_nu, self.p()["m_X"], self.nucleus.mass)

    def threshold(self) -> float:
        if self.process == "cevns":
            return 0.0
        return float(nu_to_x.threshold(self.p()["m_X"], self.nucleus.mass))


def check_params(process: str, params: dict, st) -> None:
    """ParameterError when the model point is unphysical or outside the SNS kinematic reach."""
    if process == "cevns":
        return
    for k in ("m_X", "m_phi"):
        v = params[k]
        if not np.isfinite(v) or v <= 0:
            raise ParameterError(f"{process}: {k} = {v} MeV must be finite and > 0")
    for k in ("y_X", "y_q"):
        if not np.isfinite(params[k]) or params[k] < 0:
            raise ParameterError(f"{process}: {k} = {params[k]} must be finite and >= 0")
    heaviest = max(st.nuclei, key=lambda n: n.mass)
    reach = _mx_reach(heaviest.mass)
    if params["m_X"] >= reach:
        raise ParameterError(
            f"{process}: m_X = {params['m_X']:g} MeV is above the SNS kinematic reach: the highest DAR neutrino "
            f"energy is m_mu/2 = {sns.E_MAX:.2f} MeV, so nu + {heaviest.name} -> X + {heaviest.name} needs "
            f"m_X < {reach:.2f} MeV (threshold E_nu >= m_X + m_X^2/2m_N)")


def _mx_reach(m_N: float) -> float:
    """Largest m_X with threshold m_X + m_X^2/(2 m_N) <= E_MAX: m_N (sqrt(1 + 2 E_MAX/m_N) - 1)."""
    return m_N * (np.sqrt(1.0 + 2.0 * sns.E_MAX / m_N) - 1.0)


def xsecs(process: str, params: dict, st) -> list[Xsec]:
    if process not in PROCESS_IDS:
        raise ParameterError(f"unknown COHERENT process '{process}' (known: {', '.join(PROCESS_IDS)})")
    check_params(process, params, st)
    keep = () if process == "cevns" else tuple(sorted((k, float(params[k])) for k in ("m_X", "m_phi", "y_X", "y_q")))
    return [Xsec(process, n, keep) for n in st.nuclei]


# ------------------------------------------------------------------------------------------------
# recoil spectra by quadrature
# ------------------------------------------------------------------------------------------------
def _rate_density(xs: Xsec, flavour: int, e_r: np.ndarray, fluence_nt: float, F2: np.ndarray) -> np.ndarray:
    """dN/dE_R (events per MeV in the exposure) for one flavour on one isotope at recoil energies e_r."""
    if sns.is_prompt(flavour):
        return fluence_nt * xs.dsigma(sns.PROMPT_ENERGY, e_r) * F2
    x, w = _GL_ENU
    emin = np.clip(xs.e_nu_min(e_r), 0.0, sns.E_MAX)
    half = 0.5 * (sns.E_MAX - emin)
    e_nu = emin[:, None] + half[:, None] * (x[None, :] + 1.0)
    integ = sns.michel_pdf(flavour, e_nu) * xs.dsigma(e_nu, e_r[:, None])
    return fluence_nt * (integ @ w) * half * F2


def _er_limits(xs: Xsec, flavour: int) -> tuple[float, float]:
    e_top = sns.PROMPT_ENERGY if sns.is_prompt(flavour) else sns.E_MAX
    if e_top <= xs.threshold():
        return 0.0, 0.0
    lo, hi = xs.er_range(np.array(e_top))
    if not sns.is_prompt(flavour):
        lo = np.array(0.0) if xs.process == "cevns" else lo
    return float(lo), float(hi)


def _panels(lo: float, hi: float, n: int = 48) -> np.ndarray:
    """Panel edges from lo to hi, logarithmic (recoil spectra are steep at low E_R)."""
    start = max(lo, hi * 1e-7)
    inner = np.geomspace(start, hi, n)
    return np.unique(np.concatenate([[lo], inner])) if lo < start else inner


def recoil_nodes(xs: Xsec, flavour: int, st, fluence_nt: float, n_panels: int = 48):
    """Gauss-Legendre nodes, weights and dN/dE_R of one (flavour, isotope) spectrum (quadrature of the rate)."""
    lo, hi = _er_limits(xs, flavour)
    if hi <= lo:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    edges = _panels(lo, hi, n_panels)
    x, w = _GL_ER
    a, b = edges[:-1, None], edges[1:, None]
    nodes = (0.5 * (a + b) + 0.5 * (b - a) * x[None, :]).ravel()
    weights = (0.5 * (b - a) * w[None, :]).ravel()
    F2 = formfactors.form_factor_sq_recoil(nodes, xs.nucleus.mass, xs.nucleus.A, st.form_factor)
    return nodes, weights, _rate_density(xs, flavour, nodes, fluence_nt, F2)


def spectra(process: str, params: dict, st):
    """{(flavour, isotope index): (nodes, weights, dN/dE_R)} for all flavours and isotopes."""
    out = {}
    phi = st.source.fluence * c.HBARC**2        # per mm^2 -> per MeV^-2 (cross sections are in MeV^-2)
    for i, xs in enumerate(xsecs(process, params, st)):
        for f in range(3):
            out[(f, i)] = recoil_nodes(xs, f, st, phi * st.n_targets[i])
    return out


def total_events(process: str, params: dict, st) -> dict:
    """Expected interactions in the exposure per (flavour, isotope) and in total (no detector response)."""
    sp = spectra(process, params, st)
    per = {k: float(np.sum(w * r)) for k, (n, w, r) in sp.items()}
    return {"per": per, "total": float(sum(per.values()))}


# ------------------------------------------------------------------------------------------------
# deterministic PE x time template
# ------------------------------------------------------------------------------------------------
