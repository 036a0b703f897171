"""Low-threshold direct detection of X + N -> nu + N: CRESST-III and DarkSide-50 (seed 004 Fig. 2).

Two analyses on ``dd-lowthreshold`` cards built from public releases (provenance in the cards and in data/):

* ``cresst3-x2nu`` (card ``cresst3_detA``): CRESST-III detector A, CaWO4, 5.594 kg days.  The released events of
  the acceptance region and the released per-element signal-survival probabilities (arXiv:1905.07335 ancillary
  files); the recoil line of each isotope (halo-smeared, :func:`nudmsim.processes.x_to_nu.line_bin_integrals`)
  times the survival probability, smeared with the 4.6 eV resolution, between the 30.1 eV threshold and 16 keV.
  Limit: Yellin's maximum gap (:mod:`nudmsim.stats.maxgap`), the method CRESST uses; no background subtraction.
* ``darkside50-x2nu`` (card ``darkside50_s2``): DarkSide-50 S2-only (46.4 kg x 340 d), three analysis bins whose
  response to argon recoils is DDCalc's encoding (probability per bin vs E_R); limit: the most constraining bin,
  each a 90% CL classical Poisson upper limit on the signal with the bin's known background.

The signal is computed at reference couplings and scaled (rates go as y_X^2 y_q^2, sigma_NC as y_X^2 y_p^2), as in
``xenon1t-x2nu``; masses whose line falls outside the analysis range are NaN.  A limit from these is an estimate
from public material, not the collaborations' own likelihoods; the curve's provenance says so.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize, stats

from .. import constants as c
from ..errors import NudmsimError
from ..registry import AnalysisEntry, register_analysis

REF_Y_X, REF_Y_Q = 1.0, 1e-6
KG_IN_MEV = c.kg * c.C_LIGHT**2


def _table(path):
    from ..figures.compute import read_table

    return read_table(path)


class LowThresholdDetector:
    """A ``dd-lowthreshold`` card: molecule targets, exposure, and a ``cresst`` or ``bins`` response."""

    def __init__(self, card):
        from .. import targets as tg
        from ..sources.halo import load_halo

        self.card = card
        self.name = card.name
        mol = card.get("target.molecule", dict)
        mol_mass = sum(n * tg.molar_mass(tg.element(sym)) for sym, n in mol.items())
        per_kg = KG_IN_MEV / mol_mass
        ff = card.get("target.form_factor", str, default="helm")
        self.targets = []  # (element, nucleus, targets per kg)
        for sym, n in mol.items():
            for iso in tg.element(sym):
                self.targets.append((sym, iso, n * iso.abundance * per_kg))
        self.form_factor = ff
        self.exposure = card.number("exposure.kg_days", positive=True) * c.DAY  # kg x ns
        self.halo = load_halo(card.get("source.halo", str))
        self.model = card.get("response.model", str, choices=("cresst", "bins"))
        if self.model == "cresst":
            self.threshold = card.number("response.threshold_keV", positive=True) * c.keV
            self.e_max = card.number("response.e_max_keV", positive=True) * c.keV
            self.sigma = card.number("response.resolution_eV", positive=True) * c.eV
            self.eff = {}
            for sym in mol:
                _, arr = _table(card.relative_file(f"response.efficiency.{sym}"))
                self.eff[sym] = (arr[:, 0] * c.keV, np.clip(arr[:, 1], 0.0, 1.0))
            _, ev = _table(card.relative_file("data.events"))
            self.events = np.sort(ev[:, 0] * c.keV)
        else:
            _, arr = _table(card.relative_file("response.bin_efficiencies"))
            self.bin_e = arr[:, 0] * c.keV
            self.bin_eff = np.clip(arr[:, 2:], 0.0, 1.0)
            self.observed = np.asarray(card.array("data.observed"), dtype=float)
            self.background = np.asarray(card.array("data.background"), dtype=float)
            if self.bin_eff.shape[1] != len(self.observed) or len(self.background) != len(self.observed):
                raise NudmsimError(f"{card.path.name}: data.observed, data.background and the efficiency table "
                                   "must have the same number of bins")

    # -- signal ------------------------------------------------------------------------------------
    def _lines(self, params):
        """(element, nucleus, fine true-energy grid [MeV], expected events per fine bin) per isotope."""
        from ..models import scalar_portal as sp
        from ..processes import x_to_nu as X

        y_p, y_n = sp.nucleon_couplings(params["y_q"])
        for sym, nuc, per_kg in self.targets:
            y_N = float(sp.nucleus_coupling(y_p, y_n, nuc.Z, nuc.A))
            lo, hi = X.recoil_support(self.halo, params["m_X"], nuc.mass)
            fine = np.linspace(lo, hi, 41)
            n = X.line_bin_integrals(fine, self.halo, params["m_X"], params["m_phi"], nuc.mass, nuc.A,
                                     params["y_X"], y_N, self.form_factor) * per_kg * self.exposure
            yield sym, nuc, 0.5 * (fine[1:] + fine[:-1]), n

    def cresst_cdf(self, params, E) -> tuple[np.ndarray, float]:
        """Expected signal below each reconstructed energy E (cumulative, from the threshold) and the total in
        [threshold, e_max]: line x survival probability, Gaussian resolution."""
        from scipy.special import ndtr

        E = np.asarray(E, dtype=float)
        cdf = np.zeros_like(E)
        total = 0.0
        for sym, _, e_true, n in self._lines(params):
            ee, eff = self.eff[sym]
            w = n * np.interp(e_true, ee, eff, left=0.0, right=eff[-1])
            if not np.any(w > 0):
                continue
            lo = ndtr((self.threshold - e_true) / self.sigma)
            cdf += np.sum(w[None, :] * (ndtr((E[:, None] - e_true[None, :]) / self.sigma) - lo[None, :]), axis=1)
            total += float(np.sum(w * (ndtr((self.e_max - e_true) / self.sigma) - lo)))
        return cdf, total

    def bin_counts(self, params) -> np.ndarray:
        out = np.zeros(self.bin_eff.shape[1])
        for sym, _, e_true, n in self._lines(params):
            eff = np.stack([np.interp(e_true, self.bin_e, self.bin_eff[:, k], left=0.0, right=0.0)
                            for k in range(self.bin_eff.shape[1])], axis=1)
            out += np.sum(n[:, None] * eff, axis=0)
        return out


@lru_cache(maxsize=4)
def _detector(path: str, sha: str):
    from .. import cards

    return LowThresholdDetector(cards.load_detector(path))


def poisson_upper_limit(n: float, b: float, cl: float = 0.90) -> float:
    """Classical upper limit on a Poisson signal s with known background b: P(N <= n | s + b) = 1 - cl.
    For n below b (where that limit would shrink towards 0) b is lowered to n, which is conservative."""
    b = min(b, n)
    f = lambda s: stats.poisson.cdf(n, s + b) - (1.0 - cl)  # noqa: E731
    hi = max(10.0, 3.0 * (n + 10.0))
    return optimize.brentq(f, 0.0, hi) if f(0.0) > 0 else 0.0


def _ref(m, ratio):
    return {"m_X": float(m), "m_phi": float(ratio * m), "y_X": REF_Y_X, "y_q": REF_Y_Q}


def _point(args):
    from ..stats import maxgap
    from .direct_detection import sigma_nc_cm2

    path, sha, m, ratio = args
    det = _detector(path, sha)
    p = _ref(m, ratio)
    if det.model == "cresst":
        inside = det.events[(det.events >= det.threshold) & (det.events <= det.e_max)]
        cdf, total = det.cresst_cdf(p, inside)
        if total <= 1e-300:
            return np.nan
        g = maxgap.gaps(cdf, total)
        s = maxgap.upper_limit_scale(float(g.max()), total)
    else:
        counts = det.bin_counts(p)
        if not np.any(counts > 0):
            return np.nan
        ul = np.array([poisson_upper_limit(n, b) for n, b in zip(det.observed, det.background)])
        ok = counts > 1e-12 * counts.sum()
        s = float(np.min(ul[ok] / counts[ok]))
    return s * sigma_nc_cm2(p) if np.isfinite(s) else np.nan


def _limit(name, default_masses):
    def run(req):
        from ..scan import map_points
        from ..stats.curves import LimitCurve

        req.refuse_unused(name, (), ratio=True)
        card = req.card
        if card.get("card.kind", str, default="") != "dd-lowthreshold":
            raise NudmsimError(f"{name} needs a card of kind dd-lowthreshold, '{card.name}' is not")
        ratio = 10.0 if req.ratio is None else float(req.ratio)
        if not (np.isfinite(ratio) and ratio > 1.0):
            raise NudmsimError(f"--ratio {ratio:g}: r = m_phi/m_X must be > 1")
        masses = default_masses if req.masses is None else np.asarray(req.masses, dtype=float)
        det = _detector(str(card.path), card.sha256)
        pts = [(str(card.path), card.sha256, float(m), ratio) for m in masses]
        y = np.asarray(map_points(_point, pts, scheduler=req.scheduler, progress=req.progress, label=name), float)
        if not np.any(np.isfinite(y)):
            raise NudmsimError(f"{card.name} is blind there: no mass in m_X = {masses.min():g}-{masses.max():g} MeV "
                               "puts its recoil line inside the analysis range")
        how = ("Yellin maximum gap on the released events, no background subtraction" if det.model == "cresst"
               else "most constraining of the released bins, classical Poisson limit with the bin's background")
        return LimitCurve(x=masses, observed=y, x_label="m_X", y_label="sigma_NC", x_unit="MeV", y_unit="cm^2",
                          title=f"{name}: X + N -> nu + N, m_phi = {ratio:g} m_X (public-release estimate)",
                          provenance=(f"nudmsim {name}, card {card.name} sha256 {card.sha256[:12]}; {how}; halo "
                                      f"{det.halo.name}; sigma_NC = y_X^2 y_p^2 m_X^2/(16 pi m_phi^4) (seed 004); "
                                      "an estimate from public material, not the collaboration's likelihood"))

    return run


register_analysis(AnalysisEntry(
    name="cresst3-x2nu", summary="CRESST-III (detector A) 90% CL on sigma_NC vs m_X, X + N -> nu + N, maximum gap "
                                 "on the released events (--ratio r)",
    default_detector="cresst3_detA", limit=_limit("cresst3-x2nu", np.geomspace(0.8, 80.0, 31))))
register_analysis(AnalysisEntry(
    name="darkside50-x2nu", summary="DarkSide-50 S2-only 90% CL on sigma_NC vs m_X, X + Ar -> nu + Ar, released "
                                    "bins (--ratio r)",
    default_detector="darkside50_s2", limit=_limit("darkside50-x2nu", np.geomspace(3.0, 40.0, 31))))
