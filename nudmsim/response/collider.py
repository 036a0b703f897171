"""Parametrised collider response for W -> l nu events (ATLAS-like; a Delphes-card-like TOML): the numpy
reference of the ``collider / atlas_w`` response stage (:mod:`nudmsim.response.stages_collider`, which builds a
:class:`ColliderResponse` from its ``[[response]]`` tables and runs the numba kernels).

Everything a card sets (``detectors/atlas_7tev.toml``, the stage's ``lepton``, ``recoil``, ``selection``):

* lepton |eta| acceptance (``eta_max`` and excluded ``eta_gaps``), an effective flat efficiency;
* lepton momentum resolution, relative and Gaussian, in |eta| bins (``res_eta_edges`` = upper |eta| edges of all
  bins but the last; ``res_a``, ``res_b``, ``res_c`` one number per bin, or scalars for a single bin):
  ``calorimeter``: sigma_E/E = a/sqrt(E/GeV) (+) b/(E/GeV) (+) c   (electrons);
  ``tracker``:     sigma_pT/pT = a (+) b pT/GeV (+) c                 (muons);
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
    a: tuple                  # per |eta| bin
    b: tuple
    c: tuple
    eta_max: float
    eta_gaps: tuple           # ((lo, hi), ...) excluded |eta| ranges
    efficiency: float
    eta_edges: tuple = ()     # upper |eta| edges of the resolution bins (all but the last)

    def relative_resolution(self, pt, eta):
        """sigma(p_T)/p_T for true p_T [MeV] and eta."""
        k = np.searchsorted(np.asarray(self.eta_edges, float), np.abs(eta), side="right")
        a, b, c = (np.asarray(v, float)[k] for v in (self.a, self.b, self.c))
        if self.kind == "calorimeter":
            e = np.maximum(pt * np.cosh(eta) / GeV, 1e-6)
            return np.sqrt(a**2 / e + (b / e) ** 2 + c**2)
        return np.sqrt(a**2 + (b * pt / GeV) ** 2 + c**2)

    def kernel_arrays(self):
        """(lres rows (|eta| upper edge, a, b, c), lpar (kind, eta_max, efficiency), gaps) for the numba kernels."""
        edges = list(self.eta_edges) + [np.inf]
        lres = np.array([[e, a, b, c] for e, a, b, c in zip(edges, self.a, self.b, self.c)], float)
        lpar = np.array([0.0 if self.kind == "calorimeter" else 1.0, self.eta_max, self.efficiency])
        return lres, lpar, np.array(self.eta_gaps, float).reshape(-1, 2)

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


def smear_lepton_pt(resp: LeptonResponse, pt, eta, z):
    """Reconstructed p_T = p_T (1 + sigma_rel z), z standard normal (fixed per event), clipped at 0."""
    return np.maximum(pt * (1.0 + resp.relative_resolution(pt, eta) * z), 0.0)


def recoil(resp: ColliderResponse, wpx, wpy, zx, zy):
    """Reconstructed hadronic recoil (ux, uy) [MeV] = -p_T^W + Gaussian noise; zx, zy are standard normals of the
    noise components parallel and perpendicular to p_T^W (along x for p_T^W = 0).  The noise is isotropic, so this
    is the same distribution as lab-frame components, and it makes every observable independent of the W azimuth
    event by event (the fused kernels generate the events at azimuth 0)."""
    ptw = np.hypot(wpx, wpy)
    s = np.sqrt(resp.recoil_s0**2 + (resp.recoil_k * ptw) ** 2)
    safe = np.where(ptw > 0, ptw, 1.0)
    c, sn = np.where(ptw > 0, wpx / safe, 1.0), np.where(ptw > 0, wpy / safe, 0.0)
    return -wpx + s * (zx * c - zy * sn), -wpy + s * (zx * sn + zy * c)


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
