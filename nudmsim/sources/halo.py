"""Dark-matter halo: the Standard Halo Model (truncated Maxwellian) seen from the Earth.

Galactic frame: f(v) = exp(-v^2/v0^2) / (N_esc pi^(3/2) v0^3) for |v| < v_esc, 0 beyond, with the
normalisation of the *truncated* Maxwellian (Lewin & Smith 1996, Astropart. Phys. 6, 87, App. A)

    N_esc = erf(z) - 2 z exp(-z^2) / sqrt(pi),   z = v_esc / v0,

so that the distribution integrates to exactly 1.  (SPEC section 6: the common Python package multiplies by
this factor instead of dividing, so its f(v) integrates to N_esc^2 = 0.987 for the 2018 halo; the XENON1T
reference spectrum inherits it.  nudmsim divides.)

Lab frame: the Earth moves with speed v_E through the halo (along +z here), so a lab velocity is
v_lab = v_gal - v_E z-hat.  Its speed distribution (angle-integrated) is

    f(v) = v / (N_esc sqrt(pi) v0 v_E) [exp(-(v - v_E)^2/v0^2) - exp(-min(v + v_E, v_esc)^2 / v0^2)]

for 0 < v < v_esc + v_E (with the usual care when v_E > v_esc).

Mean inverse speed eta(v_min) = int_{v_min} f(v)/v dv in closed form (Savage, Freese & Gondolo 2006,
PRD 74 043531, eq. B3; McCabe 2010 PRD 82 023530): with x = v_min/v0, y = v_E/v0,

    z > y:  x < z - y:       eta = [erf(x+y) - erf(x-y) - 4 y exp(-z^2)/sqrt(pi)] / (2 N_esc v0 y)
            z-y <= x < z+y:  eta = [erf(z) - erf(x-y) - 2 (y+z-x) exp(-z^2)/sqrt(pi)] / (2 N_esc v0 y)
    z < y:  x < y - z:       eta = 1 / (v0 y)
            y-z <= x < y+z:  as above
    x >= y + z:              eta = 0

Units: hepunits throughout (velocities in mm/ns, rho in MeV/mm^3, eta in ns/mm).  ``in_c=True`` options
return velocities in units of c (natural units), as the rate formulas of the processes use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import cards
from .. import constants as c
from ..errors import CardError, NudmsimError


def erf(x):
    """scipy.special.erf, imported on first use (scipy.special takes ~0.25 s to import, and every card
    validation imports this module to find its source kind)."""
    from scipy.special import erf as _erf

    return _erf(x)


KM_S = c.km / c.s
GEV_CM3 = c.GeV / c.cm**3
_SQRT_PI = math.sqrt(math.pi)


@dataclass(frozen=True)
class Halo:
    """Standard Halo Model.  rho [MeV/mm^3], v0 / v_esc / v_earth [mm/ns] (hepunits)."""

    rho: float = c.RHO_DM
    v0: float = c.V0_SHM
    v_esc: float = c.VESC_SHM
    v_earth: float = c.VEARTH_SHM
    name: str = "shm_xenon1t_2018"

    def __post_init__(self):
        for key in ("rho", "v0", "v_esc"):
            val = getattr(self, key)
            if not (math.isfinite(val) and val > 0):
                raise NudmsimError(f"halo '{self.name}': {key} must be finite and > 0, got {val}")
        if not (math.isfinite(self.v_earth) and self.v_earth >= 0):
            raise NudmsimError(f"halo '{self.name}': v_earth must be finite and >= 0, got {self.v_earth}")

    # -- derived numbers -------------------------------------------------------------------------
    @property
    def z(self) -> float:
        return self.v_esc / self.v0

    @property
    def y(self) -> float:
        return self.v_earth / self.v0

    @property
    def n_esc(self) -> float:
        """Normalisation of the truncated Maxwellian, erf(z) - 2 z e^{-z^2}/sqrt(pi)."""
        z = self.z
        return float(erf(z) - 2.0 * z * math.exp(-z * z) / _SQRT_PI)

    @property
    def v_max(self) -> float:
        """Largest lab-frame speed, v_esc + v_E [mm/ns]."""
        return self.v_esc + self.v_earth

    def describe(self) -> dict:
        return {"rho_GeV_cm3": self.rho / GEV_CM3, "v0_km_s": self.v0 / KM_S,
                "v_esc_km_s": self.v_esc / KM_S, "v_earth_km_s": self.v_earth / KM_S}

    # -- distributions ---------------------------------------------------------------------------
    def speed_pdf(self, v) -> np.ndarray:
        """Lab-frame speed distribution f(v) [ns/mm], normalised to 1 on [0, v_esc + v_E]."""
        v = np.asarray(v, dtype=float)
        v0, ve, vesc = self.v0, self.v_earth, self.v_esc
        out = np.zeros_like(v)
        ok = (v > 0) & (v < vesc + ve)
        vv = v[ok]
        if ve < 1e-8 * v0:  # isotropic limit (corrections O((v_E/v0)^2)): 4 pi v^2 f_gal
            out[ok] = np.where(vv < vesc, 4.0 * vv**2 * np.exp(-(vv / v0) ** 2)
                               / (self.n_esc * _SQRT_PI * v0**3), 0.0)
            return out
        upper = np.minimum(vv + ve, vesc)
        val = np.exp(-((vv - ve) / v0) ** 2) - np.exp(-(upper / v0) ** 2)
        # below |v_esc - v_E| with v_E > v_esc the shell lies entirely outside the escape sphere
        val = np.where(vv + vesc <= ve, 0.0, val)
        out[ok] = vv / (self.n_esc * _SQRT_PI * v0 * ve) * np.maximum(val, 0.0)
        return out

    def eta(self, v_min, in_c: bool = False) -> np.ndarray:
        """Mean inverse speed eta(v_min) = int_{v_min} f(v)/v dv [ns/mm] (closed form, vectorised).

        ``in_c=True``: v_min given in units of c and eta returned in units of 1/c."""
        vm = np.asarray(v_min, dtype=float)
        if in_c:
            vm = vm * c.C_LIGHT
        v0, N = self.v0, self.n_esc
        x = np.abs(vm) / v0
        y, z = self.y, self.z
        ez = math.exp(-z * z)
        if y < 1e-8:  # isotropic: eta = int_{vmin}^{vesc} 4 v exp(-v^2/v0^2)/(N sqrt(pi) v0^3) dv
            res = 2.0 / (N * _SQRT_PI * v0) * (np.exp(-x * x) - ez)
            res = np.where(x < z, res, 0.0)
        else:
            pref = 1.0 / (2.0 * N * v0 * y)
            low = pref * (erf(x + y) - erf(x - y) - 4.0 * y * ez / _SQRT_PI)
            mid = pref * (erf(z) - erf(x - y) - 2.0 * (y + z - x) * ez / _SQRT_PI)
            if z > y:
                res = np.where(x < z - y, low, np.where(x < z + y, mid, 0.0))
            else:
                res = np.where(x < y - z, 1.0 / (v0 * y), np.where(x < z + y, mid, 0.0))
        res = np.maximum(res, 0.0)
        return res * c.C_LIGHT if in_c else res

    def speed_moment(self, n: float, v_min: float = 0.0, order: int = 64) -> float:
        """<v^n> restricted to v > v_min: int_{v_min} v^n f(v) dv [(mm/ns)^n] (Gauss-Legendre, split at the
        kinks of f).  n = 0 gives the normalisation, n = -1 gives eta(v_min)."""
        knots = sorted({0.0, abs(self.v_esc - self.v_earth), self.v_max})
        knots = [k for k in knots if k >= v_min] or [self.v_max]
        edges = [max(v_min, 0.0)] + knots
        x, w = np.polynomial.legendre.leggauss(order)
        total = 0.0
        for a, b in zip(edges[:-1], edges[1:]):
            if b <= a:
                continue
            v = 0.5 * (b - a) * x + 0.5 * (b + a)
            total += 0.5 * (b - a) * float(np.sum(w * v**n * self.speed_pdf(v)))
        return total

    def quadrature(self, order: int = 48) -> tuple[np.ndarray, np.ndarray]:
        """Nodes v_i [mm/ns] and weights w_i with sum_i w_i g(v_i) ~ int f(v) g(v) dv (weights include f)."""
        knots = sorted({0.0, abs(self.v_esc - self.v_earth), self.v_max})
        x, w = np.polynomial.legendre.leggauss(order)
        vs, ws = [], []
        for a, b in zip(knots[:-1], knots[1:]):
            if b <= a:
                continue
            v = 0.5 * (b - a) * x + 0.5 * (b + a)
            vs.append(v)
            ws.append(0.5 * (b - a) * w * self.speed_pdf(v))
        return np.concatenate(vs), np.concatenate(ws)

    # -- sampling --------------------------------------------------------------------------------
    def sample_velocity(self, n: int, rng: np.random.Generator, frame: str = "lab") -> np.ndarray:
        """``n`` DM velocities, shape (n, 3) [mm/ns]: truncated Maxwellian in the galactic frame (rejection
        of |v| > v_esc, acceptance N_esc), shifted by -v_E along z for ``frame="lab"``."""
        if frame not in ("lab", "galactic"):
            raise NudmsimError(f"frame must be 'lab' or 'galactic', got {frame!r}")
        sigma = self.v0 / math.sqrt(2.0)
        out = np.empty((n, 3))
        filled = 0
        acc = max(self.n_esc, 1e-3)
        while filled < n:
            m = int((n - filled) / acc * 1.05) + 16
            v = rng.normal(0.0, sigma, size=(m, 3))
            v = v[np.einsum("ij,ij->i", v, v) < self.v_esc**2]
            take = min(len(v), n - filled)
            out[filled:filled + take] = v[:take]
            filled += take
        if frame == "lab":
            out[:, 2] -= self.v_earth
        return out


def from_card(card) -> Halo:
    """A :class:`Halo` from a source card (``[halo]`` table; units in the key names)."""
    if card.card_kind != "halo":
        raise CardError(card.path, "card.kind", f"is '{card.card_kind}'", "a halo card has kind = \"halo\"")
    card.get("halo.model", str, choices=("shm",))     # the only model; the schema defaults it
    rho = card.number("halo.rho_GeV_cm3", positive=True)
    v0 = card.number("halo.v0_km_s", positive=True)
    vesc = card.number("halo.v_esc_km_s")
    if vesc <= 0:
        raise CardError(card.path, "halo.v_esc_km_s", f"must be > 0 km/s, got {vesc}",
                        "the escape speed of the Galaxy is ~ 544 km/s (Smith et al. 2007)")
    ve = card.number("halo.v_earth_km_s", nonnegative=True)
    return Halo(rho * GEV_CM3, v0 * KM_S, vesc * KM_S, ve * KM_S, name=card.name)


def load_halo(name_or_path: str = "shm_xenon1t_2018") -> Halo:
    """Halo from ``fluxes/NAME.toml`` (or a path)."""
    return from_card(cards.load_source(name_or_path))


# ------------------------------------------------------------------------------------------------
# the [source] table of an experiment card (nudmsim.experiment): a halo seen for a live time
# ------------------------------------------------------------------------------------------------
from ..schema import Field, Section  # noqa: E402

HALO_SOURCE = Section("source", "the dark-matter halo seen by the detector; exposure = target mass x live time",
                      fields=(
    Field("card", str, doc="halo card (fluxes/NAME.toml, kind halo), e.g. \"shm_xenon1t_2018\""),
    Field("live_days", float, unit="days", lo=0, lo_open=True,
          doc="live time; with [target] mass_kg it is the exposure (e.g. 1300 kg x 278.8 d for XENON1T 2018)"),
))


@dataclass(frozen=True)
class HaloSource:
    """A halo for an experiment: the velocity distribution and the live time [ns] (hepunits).

    Expected interactions of a process = n_targets x (rate per target nucleus) x ``live_time``."""

    halo: Halo
    live_days: float
    info: dict

    @property
    def live_time(self) -> float:
        return self.live_days * c.DAY

    def exposure_kg_days(self, mass_kg: float) -> float:
        return float(mass_kg) * self.live_days

    def summary(self) -> dict:
        d = self.halo.describe()
        return {"live time": (self.live_days, "days"),
                f"halo {self.halo.name}": (f"rho = {d['rho_GeV_cm3']:g} GeV/cm^3, v0 = {d['v0_km_s']:g}, "
                                           f"v_esc = {d['v_esc_km_s']:g}, v_E = {d['v_earth_km_s']:g} km/s", "")}


def source_from_table(src: cards.Card, v: dict, path, resolve_file) -> HaloSource:
    """The halo source of an experiment card from its halo card and the validated ``[source]`` table."""
    return HaloSource(from_card(src), float(v["live_days"]),
                      {"source_card": src.name, "source_sha256": src.sha256})


def _register():
    from . import register_source_kind

    register_source_kind("halo", schema=HALO_SOURCE, build=source_from_table,
                         doc="dark-matter halo (Standard Halo Model) seen for a live time")


_register()
