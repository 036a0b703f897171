"""The Earth as a target: PREM density profile and the line-of-sight geometry seen from an underground detector.

Density: the Preliminary Reference Earth Model, A.M. Dziewonski and D.L. Anderson, Phys. Earth Planet. Inter. 25
(1981) 297, Table 1 (isotropic version, reference period 1 s): in each shell rho(r) = a + b x + c x^2 + d x^3 g/cm^3
with x = r / 6371 km.  Check (tests): the integral of rho over the sphere is the Earth's mass,
5.9722e24 kg (IAU 2015 / PDG), to better than 0.1%; the centre density 13.09 g/cm^3 and the mean 5.51 g/cm^3.

Geometry: a detector at depth ``depth`` below the surface sees, in the direction with nadir angle theta
(cos theta = 1 straight down), a chord of length L(theta); the column density is
N(theta) = integral_0^L n(r(s)) ds.  For a source density q(r) (events per volume per time) emitting
isotropically, the flux at the detector is

    F = integral d^3x q(x) / (4 pi |x - x_det|^2) = (1/4 pi) integral dOmega integral_0^L q ds,

i.e. the sky-averaged column of q (:func:`flux_geometry`).  For a uniform sphere seen from its surface this is
q R / 2 (closed form, used as a test); seed 004 eq. 17 with r = R uses q V / (4 pi R^2) = q R / 3.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

#: PREM radius [km]
R_EARTH_KM = 6371.0
#: Earth mass, 5.9722e24 kg (IAU 2015 nominal GM / G; PDG astrophysical constants) -- a check of PREM
M_EARTH_KG = 5.9722e24

#: PREM shells: (outer radius km, a, b, c, d) with rho = a + b x + c x^2 + d x^3 [g/cm^3], x = r/6371 km
PREM_SHELLS = (
    (1221.5, 13.0885, 0.0, -8.8381, 0.0),            # inner core
    (3480.0, 12.5815, -1.2638, -3.6426, -5.5281),     # outer core
    (3630.0, 7.9565, -6.4761, 5.5283, -3.0807),       # lower mantle (D'')
    (5600.0, 7.9565, -6.4761, 5.5283, -3.0807),       # lower mantle
    (5701.0, 7.9565, -6.4761, 5.5283, -3.0807),       # lower mantle
    (5771.0, 5.3197, -1.4836, 0.0, 0.0),              # transition zone
    (5971.0, 11.2494, -8.0298, 0.0, 0.0),             # transition zone
    (6151.0, 7.1089, -3.8045, 0.0, 0.0),              # transition zone
    (6291.0, 2.6910, 0.6924, 0.0, 0.0),               # low-velocity zone
    (6346.6, 2.6910, 0.6924, 0.0, 0.0),               # LID
    (6356.0, 2.900, 0.0, 0.0, 0.0),                   # crust (lower)
    (6368.0, 2.600, 0.0, 0.0, 0.0),                   # crust (upper)
    (6371.0, 1.020, 0.0, 0.0, 0.0),                   # ocean
)
_OUTER = np.array([s[0] for s in PREM_SHELLS])
_COEF = np.array([s[1:] for s in PREM_SHELLS])


def density(r_km) -> np.ndarray:
    """PREM density [g/cm^3] at radius r [km] (0 outside the Earth)."""
    r = np.asarray(r_km, dtype=float)
    i = np.clip(np.searchsorted(_OUTER, r, side="left"), 0, len(_OUTER) - 1)
    x = r / R_EARTH_KM
    co = _COEF[i]
    a, b, cc, d = co[..., 0], co[..., 1], co[..., 2], co[..., 3]
    rho = a + b * x + cc * x**2 + d * x**3
    return np.where((r >= 0) & (r <= R_EARTH_KM), rho, 0.0)


def mass_kg() -> float:
    """Mass of the PREM Earth [kg] (shell-by-shell Gauss-Legendre quadrature)."""
    edges = np.concatenate([[0.0], _OUTER])
    xg, wg = np.polynomial.legendre.leggauss(12)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        r = 0.5 * (hi - lo) * xg + 0.5 * (hi + lo)
        total += 0.5 * (hi - lo) * np.sum(wg * density(r) * 4 * math.pi * r**2)
    return total * 1e15 * 1e-3  # (g/cm^3) km^3 -> g (1 km^3 = 1e15 cm^3) -> kg


def chord_km(cos_nadir, depth_km: float = 0.0) -> np.ndarray:
    """Path length [km] inside the Earth from a point at ``depth_km`` below the surface, in the direction with
    cos(nadir angle) = ``cos_nadir`` (1 = straight down, -1 = straight up)."""
    mu = np.asarray(cos_nadir, dtype=float)
    r0 = R_EARTH_KM - depth_km
    # |r0 (-z) + s u|^2 = R^2, u . z = -mu  ->  s^2 - 2 r0 (-mu) s ... solve s^2 + 2 r0 mu' s + r0^2 - R^2 = 0
    # clipped at 0: looking up from the surface the chord is empty (round-off gave -1e-309)
    return np.maximum(r0 * mu + np.sqrt(np.maximum(R_EARTH_KM**2 - r0**2 * (1.0 - mu**2), 0.0)), 0.0)


def column_density(cos_nadir, depth_km: float = 0.0, n_steps: int = 400) -> np.ndarray:
    """Column density [g/cm^2] along the chord in direction ``cos_nadir`` from depth ``depth_km``."""
    mu = np.atleast_1d(np.asarray(cos_nadir, dtype=float))
    L = chord_km(mu, depth_km)
    r0 = R_EARTH_KM - depth_km
    # Gauss-Legendre in s on each chord; shells make rho piecewise smooth, so use many nodes
    xg, wg = np.polynomial.legendre.leggauss(n_steps)
    s = 0.5 * L[:, None] * (xg[None, :] + 1.0)
    r = np.sqrt(r0**2 + s**2 - 2.0 * r0 * s * mu[:, None])
    col = 0.5 * L * np.sum(wg[None, :] * density(r), axis=1)   # g/cm^3 * km
    out = col * 1e5                                             # km -> cm
    return out if np.ndim(cos_nadir) else out[0]


@lru_cache(maxsize=8)
def flux_geometry(depth_km: float = 1.0, n_mu: int = 801) -> float:
    """(1/4 pi) * sky integral of the column density [g/cm^2] seen from ``depth_km`` (PREM).

    Multiply by (nucleons per gram) x (rate coefficient per nucleon) to get a flux [cm^-2 s^-1]."""
    # the chord changes slope fast near the horizon and at the core tangents: use dense Gauss-Legendre in mu
    xg, wg = np.polynomial.legendre.leggauss(n_mu)
    cols = column_density(xg, depth_km)
    return float(0.5 * np.sum(wg * cols))  # (1/4pi) * 2 pi * integral dmu


def uniform_sphere_geometry(rho_g_cm3: float) -> float:
    """Closed form of :func:`flux_geometry` for a uniform sphere seen from its surface: rho R / 2 [g/cm^2]."""
    return rho_g_cm3 * R_EARTH_KM * 1e5 / 2.0


def seed_estimate_geometry() -> float:
    """Seed 004 eqs. 16-17 with the mean density and r = R: rho_mean V / (4 pi R^2) = rho_mean R / 3 [g/cm^2]."""
    rho_mean = M_EARTH_KG * 1e3 / (4.0 / 3.0 * math.pi * (R_EARTH_KM * 1e5) ** 3)
    return rho_mean * R_EARTH_KM * 1e5 / 3.0


__all__ = ["density", "mass_kg", "chord_km", "column_density", "flux_geometry", "uniform_sphere_geometry",
           "seed_estimate_geometry", "R_EARTH_KM", "M_EARTH_KG", "PREM_SHELLS"]
