"""pp -> W+- (Drell-Yan, leading order qq'-bar annihilation): W mass, rapidity, transverse momentum.

Physics (units: MeV, hepunits cross sections in mm^2)
-----------------------------------------------------
Leading order, factorisation scale mu_F = M (the W virtuality):

    d sigma(pp -> W -> l nu) / dM dy = (2M/s) [L_q1(M, y) + L_q1(M, -y)] sigma_hat(M^2),
    sigma_hat(qq'-bar -> W -> l nu) = G_F^2 M_W^4 shat / (18 pi [(shat - M_W^2)^2 + M_W^2 Gamma_W^2])

(|V_qq'|^2 is inside the luminosity L; the 1/3 colour average is inside the 18 pi).  The narrow-width limit
gives the textbook sigma_hat(qq' -> W) = (sqrt2 pi/3) G_F M_W^2 |V|^2 delta(shat - M_W^2) times BR(l nu).
L_q1(M, y) = sum |V_qq'|^2 f_q(x1) f_qbar'(x2) with the *quark* in beam 1 (+z), x1,2 = M/sqrt(s) e^{+-y}, read
from a committed table ``fluxes/pp_w_lumi_<E>tev.csv`` made by ``tools/make_pp_luminosity.py`` from the
NNPDF2.3 LO grid shipped with Pythia 8 (no PDF is read at run time).  M is drawn from the fixed-width
relativistic Breit-Wigner x luminosity inside M_W +- n Gamma_W (n = 15 by default, MadGraph's bwcutoff).
The side of the quark is drawn with its luminosity weight: it fixes the W spin direction (LO: the W+ and
the W- have helicity -1 along the quark direction), used by :mod:`nudmsim.processes.w_decay`.

W transverse momentum: LO gives p_T = 0; the measured spectrum is used instead.  The parametrisation
dN/dp_T ∝ p_T / (p_T^2 + a^2) (1 + p_T/c)^(-b) (a Sudakov-like turnover at p_T ~ a, a power-law tail)
has its three numbers in the source card, fitted by ``tools/fit_w_pt.py`` to the ATLAS 7 TeV normalised
W -> e nu spectrum and validated on the independent W -> mu nu spectrum (docs/w_boson.md).  p_T is drawn
independently of (M, y) (an approximation: the measured spectrum is inclusive in y).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import cards
from .. import constants as c
from ..errors import NudmsimError, ParameterError

GeV = c.GeV


def sigma_hat_lnu(m):
    """Partonic sigma(qq'-bar -> W -> l nu) per unit |V_qq'|^2 at invariant mass ``m`` [MeV] -> [MeV^-2].

    Fixed-width relativistic Breit-Wigner, colour-averaged; one lepton flavour."""
    s = np.asarray(m, float) ** 2
    mw2 = c.M_W**2
    return c.G_FERMI**2 * mw2**2 * s / (18.0 * np.pi * ((s - mw2) ** 2 + mw2 * c.GAMMA_W**2))


def breit_wigner_ratio(m, mw_new, mw_ref=None, gamma=None):
    """Ratio of the fixed-width relativistic Breit-Wigner sigma_hat at M_W = ``mw_new`` to ``mw_ref``.

    The event weight that turns a sample generated with M_W = mw_ref into one with M_W = mw_new (the
    parton luminosity depends on the event mass m only, so it cancels).  Includes the M_W^4 of the
    coupling (G_F M_W^2 fixed by the W-l-nu vertex)."""
    mw_ref = c.M_W if mw_ref is None else mw_ref
    gamma = c.GAMMA_W if gamma is None else gamma
    s = np.asarray(m, float) ** 2

    def bw(mw):
        return mw**4 / ((s - mw**2) ** 2 + mw**2 * gamma**2)

    return bw(mw_new) / bw(mw_ref)


def w_pt_density(pt, a, b, cc):
    """Un-normalised dN/dp_T = p_T / (p_T^2 + a^2) (1 + p_T/c)^(-b); all momenta in the same unit."""
    pt = np.asarray(pt, float)
    return pt / (pt * pt + a * a) * (1.0 + pt / cc) ** (-b)


@dataclass
class PPSource:
    """A pp -> W source: sqrt(s), luminosity table, mass window and W p_T model (all MeV)."""

    name: str
    sqrts: float
    masses: np.ndarray                 # luminosity-table masses [MeV]
    ys: np.ndarray                     # luminosity-table rapidities
    lumi: dict                         # charge (+1/-1) -> array (n_mass, n_y), quark in beam 1
    mass_lo: float
    mass_hi: float
    pt_params: tuple                   # (a [MeV], b, c [MeV])
    pt_max: float
    k_factor: float = 1.0
    provenance: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    # -- cross sections -------------------------------------------------------------------------
    def _fine_mass_grid(self, charge):
        key = ("mgrid", charge)
        if key not in self._cache:
            tab = self.lumi[charge]
            # both quark sides: integral over y of L(y) + L(-y) = 2 * integral of L(y)
            ly = 2.0 * np.trapezoid(tab, self.ys, axis=1)
            m = np.linspace(self.mass_lo, self.mass_hi, 6001)
            lint = np.interp(m, self.masses, ly)
            dens = (2.0 * m / self.sqrts**2) * lint * sigma_hat_lnu(m)     # d sigma / dM [MeV^-3]
            cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(m))])
            self._cache[key] = (m, dens, cdf, _inverse_table(cdf / cdf[-1], m))
        return self._cache[key]

    def sigma_lnu(self, charge=0):
        """LO sigma(pp -> W -> l nu) for one lepton flavour [mm^2] (charge +1, -1 or 0 = both), x K."""
        if charge == 0:
            return self.sigma_lnu(+1) + self.sigma_lnu(-1)
        _, _, cdf, _ = self._fine_mass_grid(charge)
        return float(cdf[-1]) * c.HBARC**2 * self.k_factor

    def charge_ratio(self):
        """sigma(W+) / sigma(W-) from the PDFs."""
        return self.sigma_lnu(+1) / self.sigma_lnu(-1)

    def dsigma_dy(self, charge, y, m=None):
        """d sigma(pp -> W -> l nu)/dy at fixed mass m (default M_W) per unit M [MeV^-3]: for tests."""
        m = c.M_W if m is None else m
        tab = self.lumi[charge]
        row = np.array([np.interp(m, self.masses, tab[:, j]) for j in range(len(self.ys))])
        ly = np.interp(y, self.ys, row) + np.interp(-np.asarray(y), self.ys, row)
        return (2.0 * m / self.sqrts**2) * ly * sigma_hat_lnu(m)

    # -- sampling -----------------------------------------------------------------------------
    def sample(self, n, rng, charge=0):
        """Draw n W bosons.  Returns dict of arrays: m [MeV], y, pt [MeV], phi, charge (+1/-1),
        qdir (+1 if the quark came from beam 1 (+z), else -1)."""
        if charge == 0:
            sp, sm = self.sigma_lnu(+1), self.sigma_lnu(-1)
            q = np.where(rng.random(n) < sp / (sp + sm), 1, -1).astype(np.int8)
        elif charge in (1, -1):
            q = np.full(n, charge, np.int8)
        else:
            raise ParameterError(f"W charge must be +1, -1 or 0 (both), got {charge!r}")
        m = np.empty(n)
        y = np.empty(n)
        for ch in (1, -1):
            sel = np.flatnonzero(q == ch)
            if sel.size:
                m[sel], y[sel] = self._sample_my(ch, sel.size, rng)
        qdir = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
        y *= qdir                       # quark in beam 2: the luminosity is L_q1(M, -y)
        return {"m": m, "y": y, "pt": self.sample_pt(n, rng), "phi": rng.uniform(0, 2 * np.pi, n),
                "charge": q, "qdir": qdir}

    def _sample_my(self, ch, n, rng):
        m = _lookup(self._fine_mass_grid(ch)[3], rng.random(n))
        tab = self.lumi[ch]
        mi = np.clip(np.searchsorted(self.masses, m) - 1, 0, len(self.masses) - 2)
        t = (m - self.masses[mi]) / (self.masses[mi + 1] - self.masses[mi])
        norms = np.trapezoid(tab, self.ys, axis=1)
        w_hi = t * norms[mi + 1]
        row = np.where(rng.random(n) * ((1 - t) * norms[mi] + w_hi) < w_hi, mi + 1, mi)
        # piecewise-linear density in y on each row: pick the bin by its trapezoid area (one searchsorted on
        # the rows' normalised CDFs laid end to end: row r occupies (r, r + 1]), then invert within the bin
        flat = self._row_cdfs(ch)
        nb = len(self.ys) - 1
        j = np.searchsorted(flat, row + rng.random(n))
        k = np.clip(j - row * nb, 0, nb - 1)
        lo_val, hi_val = tab[row, k], tab[row, k + 1]
        f = rng.random(n)
        slope = hi_val - lo_val
        with np.errstate(invalid="ignore", divide="ignore"):
            tt = np.where(np.abs(slope) > 1e-12 * (lo_val + hi_val),
                          (np.sqrt(lo_val**2 + slope * (lo_val + hi_val) * f) - lo_val) / slope, f)
        dy = self.ys[1] - self.ys[0]
        return m, self.ys[k] + np.clip(tt, 0, 1) * dy

    def _row_cdfs(self, ch):
        key = ("rows", ch)
        if key not in self._cache:
            tab = self.lumi[ch]
            cum = np.cumsum(0.5 * (tab[:, 1:] + tab[:, :-1]), axis=1)
            cum /= cum[:, -1:]
            cum[:, -1] = 1.0
            self._cache[key] = (np.arange(tab.shape[0])[:, None] + cum).ravel()
        return self._cache[key]

    def kernel_tables(self):
        """Arrays for the numba sampler (index 0: W+, 1: W-): inverse mass CDFs, row norms, row CDFs, tables,
        inverse p_T CDF, and the W+ fraction."""
        if "kernel" not in self._cache:
            inv_m = np.stack([self._fine_mass_grid(ch)[3] for ch in (1, -1)])
            norms = np.stack([np.trapezoid(self.lumi[ch], self.ys, axis=1) for ch in (1, -1)])
            flat = np.stack([self._row_cdfs(ch) for ch in (1, -1)])
            tabs = np.stack([self.lumi[ch] for ch in (1, -1)])
            sp, sm = self.sigma_lnu(1), self.sigma_lnu(-1)
            self._cache["kernel"] = (inv_m, norms, flat, tabs, self._pt_cdf()[2], sp / (sp + sm))
        return self._cache["kernel"]

    def _pt_cdf(self):
        if "pt" not in self._cache:
            a, b, cc = self.pt_params
            p = np.concatenate([np.linspace(0, 20 * GeV, 4001)[:-1], np.linspace(20 * GeV, self.pt_max, 4001)])
            d = w_pt_density(p, a, b, cc)
            cdf = np.concatenate([[0.0], np.cumsum(0.5 * (d[1:] + d[:-1]) * np.diff(p))])
            self._cache["pt"] = (p, cdf / cdf[-1], _inverse_table(cdf / cdf[-1], p))
        return self._cache["pt"]

    def sample_pt(self, n, rng):
        return _lookup(self._pt_cdf()[2], rng.random(n))

    def pt_fraction(self, lo, hi):
        """Fraction of W bosons with lo <= p_T < hi (MeV) in the model."""
        p, cdf, _ = self._pt_cdf()
        return np.interp(hi, p, cdf) - np.interp(lo, p, cdf)


_NINV = 1 << 12


def _inverse_table(cdf, x):
    """x(u) on a uniform grid of 2^12 + 1 points in u (inverse CDF; small enough to stay in cache), for O(1)
    sampling with linear interpolation (each segment holds 2.4e-4 of the probability)."""
    return np.interp(np.linspace(0.0, 1.0, _NINV + 1), cdf, x)


def _lookup(inv, u):
    """Inverse-CDF sampling from a uniform-u table with linear interpolation."""
    t = u * _NINV
    i = np.minimum(t.astype(np.int64), _NINV - 1)
    f = t - i
    return inv[i] * (1.0 - f) + inv[i + 1] * f


def _read_lumi_table(path):
    """The (M, y) grid of a luminosity table: rows ordered by M, then y, every (M, y) present once."""
    from ..response.tables import read_table

    # not checked for sign: the shipped tables hold a few tiny negative luminosities (-1e-3 against ~1e2) at
    # |y| ~ 5 where the LO PDF interpolation undershoots; they are kept as produced
    head, body = read_table(path, nonnegative=("M_GeV",))
    if head != ["M_GeV", "y", "Lplus_q1", "Lminus_q1"]:
        raise NudmsimError(f"{path}: unexpected columns {head} (regenerate with tools/make_pp_luminosity.py)")
    masses = np.unique(body[:, 0])
    ys = np.unique(body[:, 1])
    shape = (len(masses), len(ys))
    grid_m, grid_y = np.meshgrid(masses, ys, indexing="ij")
    if len(body) != grid_m.size or not (np.array_equal(body[:, 0], grid_m.ravel())
                                        and np.array_equal(body[:, 1], grid_y.ravel())):
        raise NudmsimError(f"{path}: rows must cover the full (M_GeV, y) grid once, ordered by M_GeV then y "
                           f"(regenerate with tools/make_pp_luminosity.py)")
    if len(masses) < 2 or len(ys) < 2:
        raise NudmsimError(f"{path}: needs at least 2 masses and 2 rapidities")
    return masses * GeV, ys, body[:, 2].reshape(shape), body[:, 3].reshape(shape)


@lru_cache(maxsize=8)
def _load_cached(name_or_path: str, sqrts_override: float | None) -> PPSource:
    card = cards.load_source(name_or_path)
    if card.get("card.kind", str) != "pp":
        raise card.error("card.kind", f"is {card.get('card.kind', str)!r}, not 'pp'",
                         "use a pp collider source card such as pp_7tev")
    sqrts = card.number("beam.sqrts_TeV", positive=True) * c.TeV
    masses, ys, lp, lm = card.read_file("w.luminosity_table", _read_lumi_table)
    table_sqrts = card.number("w.luminosity_table_sqrts_TeV", positive=True) * c.TeV
    if abs(table_sqrts - sqrts) > 1e-6 * sqrts:
        raise card.error("w.luminosity_table", f"is made for sqrt(s) = {table_sqrts / c.TeV:g} TeV, "
                         f"not {sqrts / c.TeV:g} TeV", "produce a table with tools/make_pp_luminosity.py")
    nw = card.number("w.mass_window_widths", positive=True)
    lo, hi = c.M_W - nw * c.GAMMA_W, c.M_W + nw * c.GAMMA_W
    if sqrts <= hi:
        raise ParameterError(f"sqrt(s) = {sqrts / GeV:g} GeV is below the W production threshold "
                             f"(M_W + {nw:g} Gamma_W = {hi / GeV:.1f} GeV): use e.g. 7 or 13 TeV")
    if lo < masses[0] or hi > masses[-1]:
        raise card.error("w.mass_window_widths", f"window {lo / GeV:.1f}-{hi / GeV:.1f} GeV exceeds the "
                         f"luminosity table ({masses[0] / GeV:g}-{masses[-1] / GeV:g} GeV)", "use <= 15")
    pt = (card.number("w.pt.a_GeV", positive=True) * GeV, card.number("w.pt.b", positive=True),
          card.number("w.pt.c_GeV", positive=True) * GeV)
    return PPSource(name=card.name, sqrts=sqrts, masses=masses, ys=ys, lumi={1: lp, -1: lm},
                    mass_lo=lo, mass_hi=hi, pt_params=pt, pt_max=card.number("w.pt.max_GeV", positive=True) * GeV,
                    k_factor=card.number("normalisation.k_factor", positive=True),
                    provenance=f"{card.path.name} sha256={card.sha256[:12]}")


def load_pp_source(name_or_path: str = "pp_7tev") -> PPSource:
    """The pp source of a card in ``fluxes/`` (e.g. ``pp_7tev``, ``pp_13tev``)."""
    return _load_cached(str(name_or_path), None)


def check_sqrts(sqrts):
    """Raise ParameterError if sqrt(s) [MeV] cannot produce the W line shape (below M_W + 15 Gamma_W)."""
    if not np.isfinite(sqrts) or sqrts <= c.M_W + 15 * c.GAMMA_W:
        raise ParameterError(f"sqrt(s) = {sqrts / GeV:g} GeV is below the W production threshold "
                             f"(~{(c.M_W + 15 * c.GAMMA_W) / GeV:.0f} GeV); use e.g. 7 TeV or 13 TeV")
