"""pp -> W+- (and Z) Drell-Yan source: boson mass, rapidity, transverse momentum, quark side, angular coefficients.

Physics (units: MeV, hepunits cross sections in mm^2)
-----------------------------------------------------
The rapidity distribution is NLO QCD: the committed table ``fluxes/pp_w_lumi_nlo_<E>tev.csv`` holds the *effective*
luminosities L_q1(M, y) = (d sigma_NLO/dM^2 dy)/(sigma_hat(M)/S) with the (effective) quark in beam 1, made
offline by ``tools/make_pp_luminosity.py`` from NNPDF3.1 NLO with q_T slicing plus the exact W + parton real
emission (:mod:`nudmsim.sources.pp_nlo`); at LO L_q1 = sum |V_qq'|^2 f_q(x1) f_qbar'(x2).  Then

    d sigma(pp -> W -> l nu) / dM dy = (2M/s) [L_q1(M, y) + L_q1(M, -y)] sigma_hat(M^2),
    sigma_hat(qq'-bar -> W -> l nu) = G_F^2 M_W^4 shat / (18 pi [(shat - M_W^2)^2 + M_W^2 Gamma_W^2])

(|V_qq'|^2 inside L; 1/3 colour average inside the 18 pi); the narrow-width limit is the textbook
(sqrt2 pi/3) G_F M_W^2 |V|^2 delta(shat - M_W^2) x BR(l nu).  For the Z (background generator) the same form holds
with M_Z, Gamma_Z, the quark couplings v_q^2 + a_q^2 inside L (column ``Lz_q1``) and the lepton's v_l^2 + a_l^2
(:func:`sigma_hat_ll`).  M is drawn from the fixed-width relativistic Breit-Wigner x luminosity inside
M +- n Gamma (n = 15, MadGraph's bwcutoff).  The quark side is drawn with its luminosity: it fixes the axis of the
angular coefficients (the boson has helicity -1 along the quark at LO).

Transverse momentum: the measured shape g(p_T) = p_T/(p_T^2 + a^2)(1 + p_T/c)^(-b) (three numbers in the source
card, fitted by ``tools/fit_w_pt.py`` to the ATLAS 7 TeV W -> e nu spectrum) times the fixed-order rapidity
dependence h(p_T, |y|) of the O(alpha_s) W + parton cross section (table ``pp_w_angular_<E>tev.csv``, normalised
to a rapidity average of 1 at every p_T, constant below 0.5 GeV):  p(p_T | y) ∝ g(p_T) h(p_T, |y|).  It is
sampled from inverse CDFs on a grid of |y| (step 0.25), interpolated between neighbouring rows in the quantile
(a smooth interpolation of the conditional distribution).

Angular coefficients A_0..A_4(p_T, y_q) in the quark-oriented Collins-Soper frame (y_q = W rapidity along the quark)
come from the same table (:mod:`nudmsim.processes.w_angular`); the decay module turns them into the lepton
density with a massive nu_4.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import cards
from .. import constants as c
from ..errors import ParameterError

GeV = c.GeV


def sigma_hat_lnu(m):
    """Partonic sigma(qq'-bar -> W -> l nu) per unit |V_qq'|^2 at invariant mass ``m`` [MeV] -> [MeV^-2].

    Fixed-width relativistic Breit-Wigner, colour-averaged; one lepton flavour."""
    s = np.asarray(m, float) ** 2
    mw2 = c.M_W**2
    return c.G_FERMI**2 * mw2**2 * s / (18.0 * np.pi * ((s - mw2) ** 2 + mw2 * c.GAMMA_W**2))


def sigma_hat_ll(m):
    """Partonic sigma(q qbar -> Z -> l l) per unit (v_q^2 + a_q^2) at mass ``m`` [MeV] -> [MeV^-2]: the W formula
    with M_Z, Gamma_Z and the lepton couplings v_l^2 + a_l^2 (v = -1/2 + 2 sin^2 theta_eff, a = -1/2), so that
    its narrow-width limit is (sqrt2 pi/3) G_F M_Z^2 (v_q^2 + a_q^2) x Gamma(Z -> l l)/Gamma_Z (pure Z, no gamma*)."""
    s = np.asarray(m, float) ** 2
    mz2 = c.M_Z**2
    vl, al = -0.5 + 2.0 * c.SIN2_THETA_EFF, -0.5
    return c.G_FERMI**2 * mz2**2 * s * (vl * vl + al * al) / (18.0 * np.pi * ((s - mz2) ** 2 + mz2 * c.GAMMA_Z**2))


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
    angular: object = None             # pp_tables.AngularTable (None: LO decay, p_T independent of y)
    boson: str = "W"                   # "W" (charges +1, -1) or "Z" (one charge, stored as +1)
    order: str = "NLO"
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def mass_width(self):
        return (c.M_Z, c.GAMMA_Z) if self.boson == "Z" else (c.M_W, c.GAMMA_W)

    def sigma_hat(self, m):
        return sigma_hat_ll(m) if self.boson == "Z" else sigma_hat_lnu(m)

    # -- cross sections -------------------------------------------------------------------------
    def _fine_mass_grid(self, charge):
        key = ("mgrid", charge)
        if key not in self._cache:
            tab = self.lumi[charge]
            # both quark sides: integral over y of L(y) + L(-y) = 2 * integral of L(y)
            ly = 2.0 * np.trapezoid(tab, self.ys, axis=1)
            m = np.linspace(self.mass_lo, self.mass_hi, 6001)
            lint = np.interp(m, self.masses, ly)
            dens = (2.0 * m / self.sqrts**2) * lint * self.sigma_hat(m)    # d sigma / dM [MeV^-3]
            cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(m))])
            self._cache[key] = (m, dens, cdf, _inverse_table(cdf / cdf[-1], m))
        return self._cache[key]

    def charges(self):
        return (1,) if self.boson == "Z" else (1, -1)

    def sigma_lnu(self, charge=0):
        """sigma(pp -> W -> l nu) (or Z -> l l) for one lepton flavour [mm^2] (charge +1, -1 or 0 = both), x K."""
        if charge == 0:
            return sum(self.sigma_lnu(ch) for ch in self.charges())
        _, _, cdf, _ = self._fine_mass_grid(charge)
        return float(cdf[-1]) * c.HBARC**2 * self.k_factor

    def charge_ratio(self):
        """sigma(W+) / sigma(W-) from the PDFs."""
        return self.sigma_lnu(+1) / self.sigma_lnu(-1)

    def dsigma_dy(self, charge, y, m=None):
        """d sigma(pp -> W -> l nu)/dy at fixed mass m (default M_W) per unit M [MeV^-3]: for tests."""
        m = self.mass_width[0] if m is None else m
        tab = self.lumi[charge]
        row = np.array([np.interp(m, self.masses, tab[:, j]) for j in range(len(self.ys))])
        ly = np.interp(y, self.ys, row) + np.interp(-np.asarray(y), self.ys, row)
        return (2.0 * m / self.sqrts**2) * ly * self.sigma_hat(m)

    # -- sampling -----------------------------------------------------------------------------
    def sample(self, n, rng, charge=0):
        """Draw n W bosons.  Returns dict of arrays: m [MeV], y, pt [MeV], phi, charge (+1/-1),
        qdir (+1 if the quark came from beam 1 (+z), else -1)."""
        if self.boson == "Z":
            q = np.ones(n, np.int8)
        elif charge == 0:
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
        pt = self.sample_pt(n, rng, y=y, charge=q)
        return {"m": m, "y": y, "pt": pt, "phi": rng.uniform(0, 2 * np.pi, n), "charge": q, "qdir": qdir}

    def coefficients(self, pt, y, qdir, charge):
        """A_0..A_4 (array (5, n)) of each boson: p_T [MeV], lab rapidity y, quark side, charge (LO if no table)."""
        n = np.size(pt)
        if self.angular is None:
            out = np.zeros((5, n))
            out[4] = -2.0 * np.sign(charge)
            return out
        out = np.empty((5, n))
        q = np.broadcast_to(np.asarray(charge), (n,))
        yq = np.asarray(y) * np.asarray(qdir)
        for ci, ch in enumerate((1, -1)):
            sel = q == ch
            if np.any(sel):
                out[:, sel] = self.angular.coefficients(ci, np.asarray(pt)[sel], yq[sel])
        return out

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

    def _row_guides(self, ch, n_guide=32):
        """guide[r, g] = first index j of row r in the flat row CDFs with flat[j] >= r + g/G (G = 32): the kernel
        searches only between guide[r, g] and guide[r, g + 1] (a guide table; Devroye, ch. III.2)."""
        flat = self._row_cdfs(ch)
        nb = len(self.ys) - 1
        nm = len(self.masses)
        g = np.empty((nm, n_guide + 1), np.int64)
        for r in range(nm):
            seg = flat[r * nb:(r + 1) * nb]
            g[r] = r * nb + np.minimum(np.searchsorted(seg, r + np.arange(n_guide + 1) / n_guide), nb - 1)
        return g

    def kernel_tables(self):
        """Arrays for the numba sampler (charge index 0: W+ (or Z), 1: W-): dict with inverse mass CDFs, row norms,
        row CDFs, luminosity tables, inverse p_T CDFs per |y| row (2, n_ay, 2^10 + 1), angular coefficients against
        (y_q, p_T quantile) (2, n_yq, n_u, 5), grid parameters (yq0, dyq, ay_step, scale of the quantile grid of
        the angular table, M0, dM), the row guide tables and the
        W+ fraction."""
        if "kernel" not in self._cache:
            chs = (1, -1) if self.boson == "W" else (1, 1)
            inv_m = np.stack([self._fine_mass_grid(ch)[3] for ch in chs])
            norms = np.stack([np.trapezoid(self.lumi[ch], self.ys, axis=1) for ch in chs])
            flat = np.stack([self._row_cdfs(ch) for ch in chs])
            tabs = np.stack([self.lumi[ch] for ch in chs])
            p_plus = 1.0 if self.boson == "Z" else self.sigma_lnu(1) / self.sigma_lnu(0)
            inv_pt = np.stack([self._pt_cdfs(ci)[2] for ci in (0, 1)])
            ang, gpar = self._angular_arrays()
            dm = np.diff(self.masses)
            if not np.allclose(dm, dm[0], rtol=1e-9):
                raise ValueError(f"{self.name}: the luminosity-table masses must be evenly spaced")
            gpar = np.concatenate([gpar, [self.masses[0], dm[0]]])
            guide = np.stack([self._row_guides(ch) for ch in chs])
            self._cache["kernel"] = dict(inv_m=inv_m, norms=norms, flat=flat, tabs=tabs, inv_pt=inv_pt,
                                         ang=ang, gpar=gpar, p_plus=p_plus, guide=guide)
        return self._cache["kernel"]

    def _angular_arrays(self):
        """A_0..A_4 tabulated against (y_q, u) with u the p_T quantile at |y| = |y_q| (the uniform the sampler
        draws p_T with), so the kernel interpolates without a logarithm: array (2, 5, n_yq, N_U), grid
        parameters (yq0, dyq, ay_step, N_U - 1)."""
        if self.angular is None:                       # LO: A4 = -+2, nothing else; one |y| row for p_T
            a = np.zeros((2, 2, 2, 5))
            a[0, ..., 4], a[1, ..., 4] = -2.0, 2.0
            return a, np.array([-50.0, 100.0, 100.0, 1.0 / 1024.0])
        uu = q_nodes(1.0 / 8.0)
        n_u = len(uu)
        ang = self.angular
        out = np.empty((2, len(ang.yq), n_u, 5))
        for ci in (0, 1):
            inv = self._pt_cdfs(ci)[2]
            for i, yq in enumerate(ang.yq):
                t = min(abs(yq) / ang.par[2], len(ang.ay) - 1 - 1e-9)
                j, f = int(t), t - int(t)
                pt = ((1 - f) * _lookup_rows(inv, np.full(n_u, j), uu)
                      + f * _lookup_rows(inv, np.full(n_u, j + 1), uu))
                out[ci, i, :, :] = ang.coefficients(ci, pt, np.full(n_u, yq)).T
        return out, np.array([ang.par[0], ang.par[1], ang.par[2], (n_u - 1.0) / 1024.0])

    def _pt_grid(self):
        return np.concatenate([np.linspace(0, 20 * GeV, 4001)[:-1], np.linspace(20 * GeV, self.pt_max, 4001)])

    def _pt_cdfs(self, ci):
        """(p grid, CDFs (n_ay, n_p), inverse CDFs (n_ay, 2^12 + 1)) of p(p_T | |y|) for charge index ci."""
        key = ("pt", ci)
        if key not in self._cache:
            a, b, cc = self.pt_params
            p = self._pt_grid()
            g = w_pt_density(p, a, b, cc)
            if self.angular is None:
                rows = [g]
            else:
                rows = [g * self.angular.h_value(ci, np.maximum(p, 0.5 * GeV), np.full_like(p, ay))
                        for ay in self.angular.ay]
            cdfs, invs = [], []
            for d in rows:
                cdf = np.concatenate([[0.0], np.cumsum(0.5 * (d[1:] + d[:-1]) * np.diff(p))])
                cdf /= cdf[-1]
                cdfs.append(cdf)
                invs.append(np.interp(q_nodes(), cdf, p))
            self._cache[key] = (p, np.array(cdfs), np.array(invs))
        return self._cache[key]

    def sample_pt(self, n, rng, y=None, charge=1):
        """p_T [MeV] given the rapidity (None: the |y| = 0 row); the quantile is interpolated between |y| rows."""
        u = rng.random(n)
        if self.angular is None or y is None:
            return _lookup_rows(self._pt_cdfs(0)[2], np.zeros(n, np.int64), u)
        q = np.broadcast_to(np.asarray(charge), (n,))
        step = self.angular.par[2]
        t = np.clip(np.abs(np.asarray(y)) / step, 0.0, len(self.angular.ay) - 1 - 1e-9)
        j = t.astype(np.int64)
        f = t - j
        out = np.empty(n)
        for ci, ch in enumerate((1, -1)):
            sel = np.flatnonzero(q == ch) if self.boson == "W" else np.arange(n)
            if sel.size == 0:
                continue
            inv = self._pt_cdfs(ci)[2]
            out[sel] = (1 - f[sel]) * _lookup_rows(inv, j[sel], u[sel]) + f[sel] * _lookup_rows(inv, j[sel] + 1, u[sel])
            if self.boson == "Z":
                break
        return out

    def pt_fraction(self, lo, hi, ay=0.0):
        """Fraction of bosons with lo <= p_T < hi (MeV) at |y| = ay (nearest row) in the model."""
        p, cdfs, _ = self._pt_cdfs(0)
        row = 0 if self.angular is None else int(round(abs(ay) / self.angular.par[2]))
        return np.interp(hi, p, cdfs[row]) - np.interp(lo, p, cdfs[row])


_NINV = 1 << 12
#: nodes - 1 of the inverse p_T CDF of each |y| row (1024: 1e-3 of the probability per segment; small enough that
#: the 2 x 19 rows stay in cache)
_NINV_PT = 1 << 10
#: the inverse p_T CDFs are tabulated on a three-piece uniform grid in the quantile u: 512 intervals on [0, 0.9],
#: 256 on [0.9, 0.99] and 256 on [0.99, 1] (1.8e-3, 3.5e-4 and 3.9e-5 of the probability per interval: the
#: steep tail up to 300 GeV is resolved as finely as the bulk); the angular table uses the same grid / 8.
Q_U1, Q_U2, Q_N1, Q_N2 = 0.9, 0.99, 512.0, 256.0


def q_nodes(scale=1.0):
    """Quantile values of the nodes of the three-piece grid (1024 x scale intervals)."""
    n1, n2 = int(Q_N1 * scale), int(Q_N2 * scale)
    return np.concatenate([np.linspace(0, Q_U1, n1 + 1)[:-1], np.linspace(Q_U1, Q_U2, n2 + 1)[:-1],
                           np.linspace(Q_U2, 1.0, n2 + 1)])


def q_position(u, scale=1.0):
    """Fractional node index of quantile u on the grid of :func:`q_nodes` (numpy; the kernels use the same)."""
    u = np.asarray(u, float)
    n1, n2 = Q_N1 * scale, Q_N2 * scale
    mid = n1 + (u - Q_U1) * (n2 / (Q_U2 - Q_U1))
    tail = n1 + n2 + (u - Q_U2) * (n2 / (1 - Q_U2))
    return np.where(u < Q_U1, u * (n1 / Q_U1), np.where(u < Q_U2, mid, tail))


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


def _lookup_rows(inv, rows, u):
    """Inverse-CDF lookup on row ``rows`` (array) of a stack of inverse p_T CDFs on the three-piece quantile grid
    (:func:`q_nodes`), with linear interpolation."""
    nn = inv.shape[-1] - 1
    t = q_position(u, nn / 1024.0)
    i = np.minimum(t.astype(np.int64), nn - 1)
    f = t - i
    return inv[rows, i] * (1.0 - f) + inv[rows, i + 1] * f


@lru_cache(maxsize=8)
def _load_cached(name_or_path: str, boson: str = "W") -> PPSource:
    from . import pp_tables

    card = cards.load_source(name_or_path)
    if card.get("card.kind", str) != "pp":
        raise card.error("card.kind", f"is {card.get('card.kind', str)!r}, not 'pp'",
                         "use a pp collider source card such as pp_7tev")
    sqrts = card.number("beam.sqrts_TeV", positive=True) * c.TeV
    masses, ys, cols = card.read_file("w.luminosity_table", pp_tables.read_lumi_table)
    table_sqrts = card.number("w.luminosity_table_sqrts_TeV", positive=True) * c.TeV
    if abs(table_sqrts - sqrts) > 1e-6 * sqrts:
        raise card.error("w.luminosity_table", f"is made for sqrt(s) = {table_sqrts / c.TeV:g} TeV, "
                         f"not {sqrts / c.TeV:g} TeV", "produce a table with tools/make_pp_luminosity.py")
    nw = card.number("w.mass_window_widths", positive=True)
    mass, width = (c.M_Z, c.GAMMA_Z) if boson == "Z" else (c.M_W, c.GAMMA_W)
    lo, hi = mass - nw * width, mass + nw * width
    if sqrts <= hi:
        raise ParameterError(f"sqrt(s) = {sqrts / GeV:g} GeV is below the W production threshold "
                             f"(M_W + {nw:g} Gamma_W = {hi / GeV:.1f} GeV): use e.g. 7 or 13 TeV")
    if lo < masses[0] or hi > masses[-1]:
        raise card.error("w.mass_window_widths", f"window {lo / GeV:.1f}-{hi / GeV:.1f} GeV exceeds the "
                         f"luminosity table ({masses[0] / GeV:g}-{masses[-1] / GeV:g} GeV)", "use <= 15")
    if boson == "Z":
        if "Lz_q1" not in cols:
            raise card.error("w.luminosity_table", "has no Z column (Lz_q1)",
                             "use the NLO table of tools/make_pp_luminosity.py")
        lumi = {1: cols["Lz_q1"], -1: cols["Lz_q1"]}
    else:
        lumi = {1: cols["Lplus_q1"], -1: cols["Lminus_q1"]}
    angular = None
    if card.has("w.angular_table"):
        angular = card.read_file("w.angular_table",
                                 lambda path: pp_tables.read_angular_table(path, z_boson=(boson == "Z")))
    pt = (card.number("w.pt.a_GeV", positive=True) * GeV, card.number("w.pt.b", positive=True),
          card.number("w.pt.c_GeV", positive=True) * GeV)
    scale = mass / c.M_W if boson == "Z" else 1.0          # Z: the W shape at p_T M_W/M_Z (documented)
    pt = (pt[0] * scale, pt[1], pt[2] * scale)
    return PPSource(name=card.name if boson == "W" else f"{card.name}:Z", sqrts=sqrts, masses=masses, ys=ys,
                    lumi=lumi, mass_lo=lo, mass_hi=hi, pt_params=pt,
                    pt_max=card.number("w.pt.max_GeV", positive=True) * GeV,
                    k_factor=card.number("normalisation.k_factor", positive=True),
                    provenance=f"{card.path.name} sha256={card.sha256[:12]}", angular=angular, boson=boson,
                    order=card.get("w.order", str, default="LO", choices=("LO", "NLO")))


def load_pp_source(name_or_path: str = "pp_7tev") -> PPSource:
    """The pp -> W source of a card in ``fluxes/`` (e.g. ``pp_7tev``, ``pp_13tev``)."""
    return _load_cached(str(name_or_path), "W")


def load_z_source(name_or_path: str = "pp_7tev") -> PPSource:
    """pp -> Z -> l l from the same card (the ``Lz_q1`` column of its NLO table; Z -> l l background)."""
    return _load_cached(str(name_or_path), "Z")


def lo_sigma_from_table(path, sqrts, nw=15.0):
    """sigma(pp -> W -> l nu) (W+ + W-, one flavour) [mm^2] from an LO luminosity table, no K-factor: the LO
    reference the Pythia check uses (``fluxes/pp_w_lumi_7tev.csv``, NNPDF2.3 LO)."""
    from . import pp_tables

    masses, ys, cols = pp_tables.read_lumi_table(path)
    src = PPSource(name="lo", sqrts=sqrts, masses=masses, ys=ys,
                   lumi={1: cols["Lplus_q1"], -1: cols["Lminus_q1"]}, mass_lo=c.M_W - nw * c.GAMMA_W,
                   mass_hi=c.M_W + nw * c.GAMMA_W, pt_params=(1.0, 1.0, 1.0), pt_max=1.0, order="LO")
    return src.sigma_lnu(0)


def check_sqrts(sqrts):
    """Raise ParameterError if sqrt(s) [MeV] cannot produce the W line shape (below M_W + 15 Gamma_W)."""
    if not np.isfinite(sqrts) or sqrts <= c.M_W + 15 * c.GAMMA_W:
        raise ParameterError(f"sqrt(s) = {sqrts / GeV:g} GeV is below the W production threshold "
                             f"(~{(c.M_W + 15 * c.GAMMA_W) / GeV:.0f} GeV); use e.g. 7 TeV or 13 TeV")
