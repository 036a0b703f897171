"""Parametrised collider response for W -> l nu events (ATLAS-like; a Delphes-card-like TOML).

Everything a card sets (``detectors/atlas_7tev.toml``):

* lepton |eta| acceptance (``eta_max`` and excluded ``eta_gaps``), an effective flat efficiency;
* lepton momentum resolution, relative and Gaussian:
  ``calorimeter``: sigma_E/E = a/sqrt(E/GeV) (+) b/(E/GeV) (+) c   (electrons);
  ``tracker``:     sigma_pT/pT = a (+) b pT/GeV                       (muons);
* hadronic recoil u_T = -p_T^W + noise, noise Gaussian per transverse component with
  sigma_u = sqrt(s0^2 + (k p_T^W)^2) (pile-up/underlying-event floor s0 plus a jet-like term);
* E_T^miss = |-(p_T,l + u_T)| and m_T = sqrt(2 p_T,l E_T^miss (1 - cos dphi)) from reconstructed objects;
* the W-mass selection (p_T,l, E_T^miss, m_T, u_T cuts).

Random numbers are drawn once per event by the caller and passed in (standard normals), so that one
generated sample can be re-evaluated for any lepton momentum scale (the nu_4-mass reweighting of
:mod:`nudmsim.processes.w_decay`) with the same detector fluctuations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import constants as c
from ..errors import ParameterError

GeV = c.GeV


@dataclass(frozen=True)
class LeptonResponse:
    kind: str                 # "calorimeter" | "tracker"
    a: float
    b: float
    c: float
    eta_max: float
    eta_gaps: tuple           # ((lo, hi), ...) excluded |eta| ranges
    efficiency: float

    def relative_resolution(self, pt, eta):
        """sigma(p_T)/p_T for true p_T [MeV] and eta."""
        if self.kind == "calorimeter":
            e = np.maximum(pt * np.cosh(eta) / GeV, 1e-6)
            return np.sqrt(self.a**2 / e + (self.b / e) ** 2 + self.c**2)
        return np.sqrt(self.a**2 + (self.b * pt / GeV) ** 2)

    def accepted(self, eta):
        ae = np.abs(eta)
        ok = ae < self.eta_max
        for lo, hi in self.eta_gaps:
            ok &= ~((ae >= lo) & (ae < hi))
        return ok


@dataclass(frozen=True)
class Selection:
    pt_min: float
    met_min: float
    mt_min: float
    ut_max: float


@dataclass(frozen=True)
class ColliderResponse:
    leptons: dict             # "e"/"mu" -> LeptonResponse
    recoil_s0: float          # MeV
    recoil_k: float
    selection: Selection
    luminosity: dict          # "e"/"mu" -> integrated luminosity [1/mm^2]
    norm_sigma: float         # relative normalisation uncertainty (constraint in fits)
    source: str               # pp source card name
    name: str

    def lepton(self, flavour):
        if flavour not in self.leptons:
            raise ParameterError(f"unknown lepton flavour '{flavour}' (use lepton=e or lepton=mu)")
        return self.leptons[flavour]


def load_response(card) -> ColliderResponse:
    """Build the response from a detector card of kind ``collider_w``."""
    leptons = {}
    for fl in ("e", "mu"):
        key = f"lepton.{fl}"
        kind = card.get(f"{key}.resolution_model", str, choices=("calorimeter", "tracker"))
        gaps = card.get(f"{key}.eta_gaps", list)
        try:
            gaps = tuple((float(lo), float(hi)) for lo, hi in gaps)
        except (TypeError, ValueError):
            raise card.error(f"{key}.eta_gaps", "must be a list of [lo, hi] pairs") from None
        leptons[fl] = LeptonResponse(
            kind=kind, a=card.number(f"{key}.res_a", nonnegative=True),
            b=card.number(f"{key}.res_b", nonnegative=True), c=card.number(f"{key}.res_c", nonnegative=True),
            eta_max=card.number(f"{key}.eta_max", positive=True), eta_gaps=gaps,
            efficiency=card.number(f"{key}.efficiency", positive=True, hi=1.0))
    sel = Selection(pt_min=card.number("selection.lepton_pt_min_GeV", nonnegative=True) * GeV,
                    met_min=card.number("selection.met_min_GeV", nonnegative=True) * GeV,
                    mt_min=card.number("selection.mt_min_GeV", nonnegative=True) * GeV,
                    ut_max=card.number("selection.recoil_ut_max_GeV", positive=True) * GeV)
    lumi = {fl: card.number(f"exposure.luminosity_{fl}_fb", positive=True) / c.u.femtobarn for fl in ("e", "mu")}
    return ColliderResponse(leptons=leptons, recoil_s0=card.number("recoil.sigma0_GeV", nonnegative=True) * GeV,
                            recoil_k=card.number("recoil.k", nonnegative=True), selection=sel, luminosity=lumi,
                            norm_sigma=card.number("analysis.normalisation_uncertainty", positive=True),
                            source=card.get("source.pp", str), name=card.name)


def smear_lepton_pt(resp: LeptonResponse, pt, eta, z):
    """Reconstructed p_T = p_T (1 + sigma_rel z), z standard normal (fixed per event), clipped at 0."""
    return np.maximum(pt * (1.0 + resp.relative_resolution(pt, eta) * z), 0.0)


def recoil(resp: ColliderResponse, wpx, wpy, zx, zy):
    """Reconstructed hadronic recoil (ux, uy) [MeV] = -p_T^W + Gaussian noise (zx, zy standard normals)."""
    ptw = np.hypot(wpx, wpy)
    s = np.sqrt(resp.recoil_s0**2 + (resp.recoil_k * ptw) ** 2)
    return -wpx + s * zx, -wpy + s * zy


def met_mt(lpx, lpy, ux, uy):
    """(E_T^miss, m_T) from the reconstructed lepton (lpx, lpy) and recoil (ux, uy) [MeV]."""
    mx, my = -(lpx + ux), -(lpy + uy)
    met = np.hypot(mx, my)
    lpt = np.hypot(lpx, lpy)
    mt2 = 2.0 * (lpt * met - (lpx * mx + lpy * my))
    return met, np.sqrt(np.maximum(mt2, 0.0))


def select(sel: Selection, lpt, met, mt, ut, accepted):
    """Boolean mask of events passing the W-mass selection."""
    return accepted & (lpt > sel.pt_min) & (met > sel.met_min) & (mt > sel.mt_min) & (ut < sel.ut_max)
