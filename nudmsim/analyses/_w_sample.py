"""One generated pp -> W -> l + invisible sample that serves every (m_4, |U_l4|^2) by reweighting.

:func:`generate_sample` draws the W (source), the decay direction in the W rest frame (proposal density of
:mod:`nudmsim.processes.w_decay`) and the detector random numbers once.  :func:`reconstruct` evaluates the
lepton kinematics for a neutrino mass m_4 (the lepton four-momentum is p*(M, m_4) k with k fixed per
event), applies the response, and returns observables and the decay-shape weight.  :func:`templates`
histograms the reconstructed lepton p_T for the light-nu and the nu_4 components, so that the expected
spectrum is  N [(1 - |U|^2) T_light + |U|^2 T_heavy(m_4)] x Gamma_W / Gamma_W'.  Units: MeV.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import constants as c
from ..processes import w_decay as wd
from ..response import collider as col

GeV = c.GeV


@dataclass
class WSample:
    """Truth of n generated W -> l nu events + the per-event detector random numbers."""

    n: int
    sigma: float                   # sigma(pp -> W -> l nu) x K for the generated charges [mm^2]
    truth: dict                    # m, y, pt, phi, charge, qdir, cos_q, phi_cs
    k: tuple                       # lab four-vector of a unit-energy lepton (kE, kx, ky, kz)
    z_lep: np.ndarray              # standard normals for the lepton resolution
    z_rec: tuple                   # standard normals for the recoil (x, y)
    mw_ref: float = c.M_W
    _derived: dict = field(default_factory=dict, repr=False)
    _tcache: dict = field(default_factory=dict, repr=False)

    def derived(self):
        """k_T, eta, cos/sin phi of the lepton, W p_x, p_y (cached; independent of m_4)."""
        if not self._derived:
            ke, kx, ky, kz = self.k
            kt = np.hypot(kx, ky)
            self._derived.update(kt=kt, eta=np.arcsinh(kz / kt), cphi=kx / kt, sphi=ky / kt,
                                 wpx=self.truth["pt"] * np.cos(self.truth["phi"]),
                                 wpy=self.truth["pt"] * np.sin(self.truth["phi"]))
        return self._derived

    def subset(self, mask):
        t = {k: v[mask] for k, v in self.truth.items()}
        out = WSample(int(np.count_nonzero(mask)), self.sigma, t, tuple(a[mask] for a in self.k),
                      self.z_lep[mask], tuple(a[mask] for a in self.z_rec), self.mw_ref)
        out._derived = {k: v[mask] for k, v in self.derived().items()}
        return out


def generate_sample(source, n: int, rng: np.random.Generator, charge: int = 0) -> WSample:
    """Draw n W bosons from ``source`` (a :class:`~nudmsim.sources.pp.PPSource`) and their decay directions."""
    w = source.sample(n, rng, charge)
    cos_q = wd.sample_cos_theta(n, rng, w["charge"])
    phi_cs = rng.uniform(0.0, 2 * np.pi, n)
    k = wd.lepton_direction_lab(w["m"], w["y"], w["pt"], w["phi"], w["qdir"], cos_q, phi_cs)
    truth = dict(w, cos_q=cos_q, phi_cs=phi_cs)
    sig = source.sigma_lnu(charge)
    return WSample(n, sig, truth, k, rng.standard_normal(n), (rng.standard_normal(n), rng.standard_normal(n)))


def reconstruct(s: WSample, resp: col.ColliderResponse, flavour: str, m4: float, smear: bool = True):
    """Observables of every event for neutrino mass m4 [MeV]: dict with true lepton pt, reco pt, met, mt,
    ut, selected (bool), and the decay weight (angular density / proposal, 0 where m4 >= M)."""
    d = s.derived()
    lr = resp.lepton(flavour)
    m = s.truth["m"]
    ps = wd.p_star(m, m4)
    pt = ps * d["kt"]
    r = (m4 / m) ** 2
    wdec = np.where(r < 1.0, wd.decay_weight(s.truth["cos_q"], np.minimum(r, 1.0), s.truth["charge"]), 0.0)
    ptr = col.smear_lepton_pt(lr, pt, d["eta"], s.z_lep) if smear else pt
    ux, uy = col.recoil(resp, d["wpx"], d["wpy"], *s.z_rec) if smear else (-d["wpx"], -d["wpy"])
    lpx, lpy = ptr * d["cphi"], ptr * d["sphi"]
    met, mt = col.met_mt(lpx, lpy, ux, uy)
    ut = np.hypot(ux, uy)
    sel = col.select(resp.selection, ptr, met, mt, ut, lr.accepted(d["eta"])) & (r < 1.0)
    return {"pt_true": pt, "pt": ptr, "met": met, "mt": mt, "ut": ut, "selected": sel, "w_decay": wdec,
            "phase_space": wd.phase_space_factor(r)}


@dataclass
class Templates:
    """Lepton-p_T templates (expected events per bin in the exposure) for one flavour."""

    edges: np.ndarray
    light: np.ndarray
    light_var: np.ndarray          # sum of squared weights (MC statistics)
    heavy: np.ndarray | None = None
    heavy_var: np.ndarray | None = None


def event_weight(s: WSample, resp: col.ColliderResponse, flavour: str, charges=(1, -1)):
    """Expected events per generated event in the card's exposure (x lepton efficiency), per charge set."""
    lr = resp.lepton(flavour)
    w = s.sigma * resp.luminosity[flavour] * lr.efficiency / s.n
    return np.where(np.isin(s.truth["charge"], charges), w, 0.0)


def histogram(values, weights, edges):
    """Weighted histogram on uniform ``edges`` with the sum of squared weights (fast bincount)."""
    nb = len(edges) - 1
    lo, width = edges[0], edges[1] - edges[0]
    idx = np.floor((values - lo) / width).astype(np.int64)
    ok = (idx >= 0) & (idx < nb)
    h = np.bincount(idx[ok], weights=weights[ok], minlength=nb)
    v = np.bincount(idx[ok], weights=weights[ok] ** 2, minlength=nb)
    return h, v


def preselect(s: WSample, resp: col.ColliderResponse, flavour: str, pt_lo: float, margin: float = 0.98):
    """Events that can enter the p_T window for some m_4 >= 0 (the lepton p_T only falls with m_4)."""
    rec = reconstruct(s, resp, flavour, 0.0)
    d = s.derived()
    keep = resp.lepton(flavour).accepted(d["eta"]) & (rec["ut"] < resp.selection.ut_max)
    keep &= rec["pt"] > margin * pt_lo
    return s.subset(keep)


def templates(s: WSample, resp, flavour, m4, edges, weight, heavy=True) -> Templates:
    """Light-nu template (m_4 = 0 kinematics, r = 0 angular shape) and, if heavy, the nu_4 template with
    the phase-space factor (1 - r)^2 (1 + r/2) per event (r = m_4^2/M^2 of that event's W mass)."""
    key = ("light", flavour, tuple(edges), id(resp))
    cache = s._tcache.get(key)
    if cache is None:
        rec0 = reconstruct(s, resp, flavour, 0.0)
        w0 = weight * rec0["w_decay"] * rec0["selected"]
        cache = histogram(rec0["pt"], w0, edges)
        s._tcache[key] = cache
    t = Templates(np.asarray(edges), cache[0], cache[1])
    if heavy:
        rec = reconstruct(s, resp, flavour, m4)
        wh = weight * rec["w_decay"] * rec["phase_space"] * rec["selected"]
        t.heavy, t.heavy_var = histogram(rec["pt"], wh, edges)
    return t
