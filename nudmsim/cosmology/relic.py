"""Thermal relic abundance: the Boltzmann equation for freeze-out and the Gondolo-Gelmini thermal average.

In terms of Y = n/s and x = m/T (seed 004 eq. 21, n' + 3Hn = -<sigma v>(n^2 - n_eq^2)):

    dY/dx = - sqrt(pi/45) M_Pl g_*^(1/2)(T) m / x^2 <sigma v>(x) (Y^2 - Y_eq^2),
    g_*^(1/2) = g_s / sqrt(g_eff) (1 + 1/3 dln g_s/dln T)          (Gondolo & Gelmini 1991)
    Y_eq = 45/(4 pi^4) g_chi x^2 K_2(x) / g_s(T)

solved for W = ln Y (stiff; implicit Radau) from x = 1 to x_end.  Omega h^2 = m Y_inf s_0 / (rho_c/h^2)
with s_0 = 2891.2 cm^-3 and rho_c/h^2 = 1.05371e-5 GeV cm^-3 (PDG 2024).

Dirac vs Majorana (explicit): for a Majorana particle (g_chi = 2) Y counts all particles.  For a Dirac
particle the equation is solved for Y_chi = Y_chibar with the chi-chibar cross section, and the total is
2 Y_chi (``dirac=True``).  Hence a Dirac relic needs twice the Majorana <sigma v> for the same Omega h^2
(Steigman, Dasgupta & Beacom 2012).

<sigma v> in MeV^-2 (natural units; cm^3/s via :data:`CM3_PER_S`).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy import integrate, special

from .. import constants as c
from ..errors import ParameterError
from . import dof

#: Planck mass M_Pl = 1.22089e19 GeV (PDG 2024; not the reduced one)
M_PLANCK = 1.220890e19 * c.GeV
#: present entropy density s_0 = 2891.2 cm^-3 (PDG 2024), in MeV^3 (natural units)
S0 = 2891.2 / c.cm**3 * c.HBARC**3
#: critical density over h^2: 1.05371e-5 GeV cm^-3 (PDG 2024), in MeV^4
RHO_C_H2 = 1.05371e-5 * c.GeV / c.cm**3 * c.HBARC**3
#: 1 cm^3/s in MeV^-2: sigma v [cm^3/s] = sigma v [MeV^-2] * (hbar c)^2 c
CM3_PER_S = (c.cm**3 / c.s) / (c.HBARC**2 * c.C_LIGHT)


def thermal_average_gg(sigma_of_s: Callable[[np.ndarray], np.ndarray], m: float, x: float) -> float:
    """Gondolo-Gelmini <sigma v_Mol> for identical-mass pairs at x = m/T (sigma(s) in MeV^-2, s in MeV^2).

    <sigma v> = 1/(8 m^4 T K_2(x)^2) Int_{4m^2}^inf sigma(s) (s - 4 m^2) sqrt(s) K_1(sqrt(s)/T) ds.
    Exponentially scaled Bessel functions keep it finite at large x."""
    T = m / x

    def integrand(eps):  # s = 4 m^2 (1 + eps)
        s = 4.0 * m**2 * (1.0 + eps)
        rs = np.sqrt(s)
        # K1(rs/T) / K2(x)^2 with the exponentials combined: exp(-(rs/T - 2x))
        k = special.k1e(rs / T) * np.exp(-(rs / T - 2.0 * x)) / special.kve(2, x) ** 2
        return sigma_of_s(s) * (s - 4.0 * m**2) * rs * k * 4.0 * m**2

    # the integrand falls like exp(-2x(sqrt(1+eps)-1)) ~ exp(-x eps): integrate to eps ~ 60/x
    upper = max(60.0 / x, 1e-6)
    val, _ = integrate.quad(integrand, 0.0, upper, limit=200, epsabs=0.0, epsrel=1e-8)
    return val / (8.0 * m**4 * T)


def y_equilibrium(x, m: float, g_chi: float = 2.0) -> np.ndarray:
    """Equilibrium yield Y_eq(x) of one species with g_chi internal dof (Maxwell-Boltzmann)."""
    x = np.asarray(x, dtype=float)
    return 45.0 / (4 * np.pi**4) * g_chi * x**2 * special.kn(2, x) / dof.g_s(m / x)


def relic_abundance(m: float, sigma_v: Callable[[float], float] | float, *, g_chi: float = 2.0,
                    dirac: bool = False, x_start: float = 1.0, x_end: float = 1000.0,
                    full_output: bool = False):
    """Omega h^2 of a thermal relic of mass m [MeV] with <sigma v>(x) [MeV^-2] (callable or constant).

    Returns Omega h^2, or with ``full_output`` a dict with x_f (where Y = 2.5 Y_eq), Y_inf, the solution."""
    if not (math.isfinite(m) and m > 0):
        raise ParameterError(f"relic mass m = {m} MeV must be finite and > 0")
    sv = sigma_v if callable(sigma_v) else (lambda x, v=float(sigma_v): v)
    if not (np.isfinite(sv(20.0)) and sv(20.0) > 0):
        raise ParameterError("<sigma v> must be finite and > 0")
    pref = math.sqrt(math.pi / 45.0) * M_PLANCK * m

    def gstar_half(x):
        T = m / x
        return dof.g_s(T) / np.sqrt(dof.g_eff(T)) * (1.0 + dof.dlng_s_dlnT(T) / 3.0)

    def rhs(x, w):
        Y = np.exp(w[0])
        Yeq = y_equilibrium(x, m, g_chi)
        lam = pref * gstar_half(x) * sv(x) / x**2
        return [-lam * (Y - Yeq**2 / Y)]

    def jac(x, w):
        Y = np.exp(w[0])
        Yeq = y_equilibrium(x, m, g_chi)
        lam = pref * gstar_half(x) * sv(x) / x**2
        return [[-lam * (Y + Yeq**2 / Y)]]

    w0 = [math.log(float(y_equilibrium(x_start, m, g_chi)))]
    sol = integrate.solve_ivp(rhs, (x_start, x_end), w0, method="Radau", jac=jac, rtol=1e-7, atol=1e-9,
                              dense_output=True)
    if not sol.success:  # pragma: no cover
        raise RuntimeError(f"freeze-out integration failed: {sol.message}")
    y_inf = math.exp(sol.y[0, -1])
    n_species = 2.0 if dirac else 1.0
    omega = n_species * m * y_inf * S0 / RHO_C_H2
    if not full_output:
        return omega
    xs = np.geomspace(x_start, x_end, 2000)
    ys = np.exp(sol.sol(xs)[0])
    with np.errstate(divide="ignore", over="ignore"):
        ratio = ys / y_equilibrium(xs, m, g_chi)
    x_f = float(xs[np.argmax(ratio > 2.5)]) if np.any(ratio > 2.5) else float("nan")
    return {"omega_h2": omega, "x_f": x_f, "Y_inf": y_inf, "x": xs, "Y": ys}
