"""Freeze-out of a particle-antiparticle asymmetric relic (seed 003 §3.2-3.3; Graesser, Shoemaker, Vecchi,
JHEP 10 (2011) 110, the seed's ref. [29]).

With the asymmetry eta = Y_+ - Y_- conserved, the minority yield obeys (same Gondolo-Gelmini form and g*(T)
as :func:`nudmsim.cosmology.relic.relic_abundance`, x = m/T)

    dY_-/dx = -(sqrt(pi/45) M_Pl m g*^1/2(T) / x^2) <sigma v>(x) [Y_- (Y_- + eta) - Y_eq^2],

Y_eq per species (g_chi internal dof).  The late-time ratio r = Y_-/Y_+ and
Omega h^2 = m (Y_+ + Y_-) s_0/(rho_c/h^2) = m eta s_0/(rho_c/h^2) (1 + r)/(1 - r) (seed eq. 3.13).
eta = 0 is the symmetric Dirac relic: the result equals relic_abundance(..., dirac=True) (test).
Units: MeV, <sigma v> in MeV^-2.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy import integrate

from ..errors import ParameterError
from . import dof, relic


def asymmetric_abundance(m: float, sigma_v: Callable[[float], float], eta: float, *, g_chi: float = 2.0,
                         x_start: float = 1.0, x_end: float = 1000.0, rtol: float = 1e-6) -> dict:
    """{"omega_h2", "r" (= Y_-/Y_+ at x_end), "Y_minus", "Y_plus"} for mass m [MeV], <sigma v>(x) [MeV^-2]
    and asymmetry eta = (n - nbar)/s >= 0."""
    if not (math.isfinite(m) and m > 0):
        raise ParameterError(f"relic mass m = {m} MeV must be finite and > 0")
    if not (math.isfinite(eta) and eta >= 0):
        raise ParameterError(f"asymmetry eta = {eta} must be finite and >= 0")
    pref = math.sqrt(math.pi / 45.0) * relic.M_PLANCK * m

    def lam(x):
        T = m / x
        gsh = dof.g_s(T) / np.sqrt(dof.g_eff(T)) * (1.0 + dof.dlng_s_dlnT(T) / 3.0)
        return pref * gsh * sigma_v(x) / x**2

    def rhs(x, w):
        Y = math.exp(w[0])
        Yeq = float(relic.y_equilibrium(x, m, g_chi))
        return [-lam(x) * (Y + eta - Yeq * Yeq / Y)]

    def jac(x, w):
        Y = math.exp(w[0])
        Yeq = float(relic.y_equilibrium(x, m, g_chi))
        return [[-lam(x) * (Y + Yeq * Yeq / Y)]]

    Yeq0 = float(relic.y_equilibrium(x_start, m, g_chi))
    Y0 = 0.5 * (-eta + math.sqrt(eta * eta + 4.0 * Yeq0 * Yeq0))
    sol = integrate.solve_ivp(rhs, (x_start, x_end), [math.log(Y0)], method="Radau", jac=jac, rtol=rtol,
                              atol=1e-9)
    if not sol.success:  # pragma: no cover
        raise RuntimeError(f"asymmetric freeze-out integration failed: {sol.message}")
    y_minus = math.exp(sol.y[0, -1])
    y_plus = y_minus + eta
    omega = m * (y_plus + y_minus) * relic.S0 / relic.RHO_C_H2
    return {"omega_h2": omega, "r": y_minus / y_plus, "Y_minus": y_minus, "Y_plus": y_plus}


def asymmetric_abundance_many(m, sigma_v: Callable[[float], np.ndarray], eta, *, g_chi: float = 2.0,
                              x_start: float = 2.0, x_end: float = 1000.0, n_steps: int = 2000) -> dict:
    """Vectorised version of :func:`asymmetric_abundance` for many model points at once.

    ``m`` [MeV] and ``eta`` are arrays (broadcast), ``sigma_v(x)`` returns <sigma v> [MeV^-2] for every point
    at a scalar x.  Backward-Euler steps on a geometric x grid: each step is a quadratic in the new Y_-, solved
    in closed form (unconditionally stable in the equilibrium regime); the first-order result of n and n/2
    steps is Richardson-extrapolated.  Agrees with the adaptive solver to < 0.05% in Omega h^2 (test).
    Returns arrays omega_h2, r, Y_minus, Y_plus."""
    m = np.atleast_1d(np.asarray(m, float))
    eta = np.broadcast_to(np.asarray(eta, float), m.shape).astype(float)
    if np.any(~np.isfinite(m)) or np.any(m <= 0) or np.any(eta < 0):
        raise ParameterError("masses must be > 0 MeV and asymmetries >= 0")
    pref = math.sqrt(math.pi / 45.0) * relic.M_PLANCK * m

    def run(n):
        xs = np.geomspace(x_start, x_end, n + 1)

        def a_of(x):
            T = m / x
            gsh = dof.g_s(T) / np.sqrt(dof.g_eff(T)) * (1.0 + dof.dlng_s_dlnT(T) / 3.0)
            return pref * gsh * np.asarray(sigma_v(x), float) / x**2

        def yeq(x):
            return relic.y_equilibrium(x, 1.0, g_chi) * dof.g_s(1.0 / x) / dof.g_s(m / x)

        Yeq = yeq(xs[0])
        Y = 0.5 * (-eta + np.sqrt(eta * eta + 4.0 * Yeq * Yeq))
        for x0, x1 in zip(xs[:-1], xs[1:]):
            h = x1 - x0
            a1, Yeq1 = a_of(x1), yeq(x1)
            # backward Euler: Y1 - Y0 = -h a1 (Y1^2 + eta Y1 - Yeq1^2), a quadratic with C < 0: one positive root
            A = h * a1
            B = 1.0 + A * eta
            C = -(Y + A * Yeq1 * Yeq1)
            disc = np.sqrt(B * B - 4.0 * A * C)
            Y = np.where(A > 0, -2.0 * C / (B + disc), -C / B)
            Yeq = Yeq1
        return Y

    # first-order steps, Richardson-extrapolated from n and n/2 steps: error O(1/n^2)
    Y = np.maximum(2.0 * run(n_steps) - run(n_steps // 2), 0.0)
    y_plus = Y + eta
    omega = m * (y_plus + Y) * relic.S0 / relic.RHO_C_H2
    return {"omega_h2": omega, "r": np.where(y_plus > 0, Y / y_plus, 1.0), "Y_minus": Y, "Y_plus": y_plus}
