"""Seed 000 (chi chi nu nu / Lambda^2 contact operator) Fig. 2: the (m_chi, Lambda) plane.

The radiative neutrino mass m_nu(m_chi, Lambda) (seed eq. 6, mu = m_nu; :mod:`nudmsim.models.contact`) is drawn
as a colour map with the contours m_nu = 0.05 eV and 0.22 eV (the seed's range for the heaviest neutrino);
the relic line Omega h^2 = 0.12 is the freeze-out solution of :func:`nudmsim.cosmology.relic.relic_abundance`
with <sigma v> = m^2/(pi Lambda^4)(1 + 3/x) (seed eq. 7, Majorana chi), solved for Lambda at each m_chi; the
intersections (m_chi, Lambda) = :func:`nudmsim.models.contact.solve_relic_and_mass` are marked, with the
seed's quoted point m_chi ~ 0.5 MeV, Lambda ~ 2 GeV.
"""
from __future__ import annotations

import math

import numpy as np

from .. import constants as c
from ..progress import progress
from . import Curve, FigureOptions, FigureResult, compute, figure, style

OMEGA_H2 = 0.12
M_NU_RANGE_EV = (0.05, 0.22)     # seed 000: heaviest active neutrino 0.05-0.22 eV
M_NU_BENCH_EV = 0.1
SEED_POINT = (0.5, 2.0)          # seed 000 Fig. 2 caption: m_chi ~ 0.5 MeV, Lambda ~ 2 GeV at the intersection


def lambda_for_relic(m_chi: float, omega: float = OMEGA_H2, rtol: float = 1e-3) -> float:
    """Lambda [MeV] giving Omega h^2 = ``omega`` for Majorana chi of mass m_chi [MeV] (secant in ln Lambda;
    Omega ~ Lambda^4 up to the slow change of x_f, so 2-4 freeze-out solves suffice)."""
    from ..cosmology.relic import relic_abundance
    from ..models.contact import sigma_v

    def om(lam):
        return relic_abundance(m_chi, lambda x: sigma_v(m_chi, lam, x))

    # start from seed 000: Omega h^2 ~ 8.2e-10 GeV^-2 / <sigma v>, <sigma v> = m^2/(pi Lambda^4)
    lam = (m_chi**2 * omega / (math.pi * 8.2e-10 / c.GeV**2)) ** 0.25
    f = math.log(om(lam) / omega)
    slope = 4.0
    for _ in range(12):
        new = lam * math.exp(-f / slope)
        f_new = math.log(om(new) / omega)
        if abs(f_new) < rtol:
            return new
        if new != lam and f_new != f:
            slope = (f_new - f) / math.log(new / lam)
        lam, f = new, f_new
    return lam


def _relic_point(m):
    return lambda_for_relic(float(m))


def _crossing(m_nu_eV):
    from ..models.contact import solve_relic_and_mass

    return solve_relic_and_mass(m_nu_eV * c.eV, OMEGA_H2)


@figure("seed000-fig2", seed="000", number="2",
        title="(m_chi, Lambda) plane: m_nu (colour, 0.05 and 0.22 eV contours) and Omega h^2 = 0.12")
def build_fig2(opts: FigureOptions) -> FigureResult:
    from ..models.contact import lambda_for_neutrino_mass, neutrino_mass
    from ..scan import map_points

    m_chi = compute.masses(0.05, 50.0, opts, n=14, n_quick=6)                  # MeV
    curves, notes = [], []
    with progress(3, "seed000-fig2", quiet=not opts.progress, unit="step") as bar:
        bar.set_description("seed000-fig2 relic line")
        lam = np.array(map_points(_relic_point, list(m_chi), progress=opts.progress, label="Omega h^2 = 0.12"))
        curves.append(Curve(r"$\Omega h^2$ = 0.12", m_chi, lam / c.GeV, "m_chi", "Lambda", "MeV", "GeV",
                            source="cosmology.relic.relic_abundance with models.contact.sigma_v (solved for Lambda)"))
        bar.update()
        mf = np.geomspace(0.05, 50.0, 200)
        for m_nu in (*M_NU_RANGE_EV, M_NU_BENCH_EV):
            lam_nu = np.array([lambda_for_neutrino_mass(m, m_nu * c.eV) for m in mf])
            curves.append(Curve(rf"$m_\nu$ = {m_nu:g} eV", mf, lam_nu / c.GeV, "m_chi", "Lambda", "MeV", "GeV",
                                source="models.contact.lambda_for_neutrino_mass (seed eq. 6, mu = m_nu)"))
        bar.update()
        bar.set_description("seed000-fig2 intersections")
        pts = map_points(_crossing, list(M_NU_RANGE_EV) + [M_NU_BENCH_EV], progress=False, label="intersections")
        for m_nu, (m, lm) in zip((*M_NU_RANGE_EV, M_NU_BENCH_EV), pts):
            curves.append(Curve(rf"intersection, $m_\nu$ = {m_nu:g} eV", np.array([m]), np.array([lm / c.GeV]),
                                "m_chi", "Lambda", "MeV", "GeV", kind="point",
                                source=f"models.contact.solve_relic_and_mass(m_nu = {m_nu:g} eV)"))
            notes.append(f"m_nu = {m_nu:g} eV, Omega h^2 = 0.12: m_chi = {m:.3g} MeV, Lambda = {lm / c.GeV:.3g} GeV")
        bar.update()
    fig, ax = style.new_figure(width=6.8, height=5.6)
    lg = np.geomspace(0.1, 100.0, 160)
    M, L = np.meshgrid(mf, lg)
    with np.errstate(invalid="ignore", divide="ignore"):
        mnu = np.vectorize(lambda m, l_: neutrino_mass(m, l_ * c.GeV, M_NU_BENCH_EV * c.eV))(M, L) / c.eV
    mnu = np.where(mnu > 0, mnu, np.nan)
    pc = ax.pcolormesh(M, L, np.log10(mnu), shading="auto", cmap="Blues", vmin=-4, vmax=2, alpha=0.55)
    cb = fig.colorbar(pc, ax=ax, pad=0.02)
    cb.set_label(r"$\log_{10}(m_\nu$ / eV) at $\mu$ = 0.1 eV")
    colors = {f"{M_NU_RANGE_EV[0]:g}": "#6a3d9a", f"{M_NU_RANGE_EV[1]:g}": "#1f4fb4", f"{M_NU_BENCH_EV:g}": "#555555"}
    for cv in curves:
        if cv.kind == "point":
            ax.plot(cv.x, cv.y, "o", ms=5, color="#d62728",
                    label=r"intersections ($m_\nu$ = 0.05, 0.1, 0.22 eV)" if "0.1 eV" in cv.label else None)
        elif cv.label.startswith(r"$\Omega"):
            ax.plot(cv.x, cv.y, color="#d62728", lw=2.2, label=cv.label)
        else:
            key = cv.label.split("= ")[1].split(" eV")[0]
            ax.plot(cv.x, cv.y, color=colors.get(key, "k"), lw=1.6, ls=":" if key == f"{M_NU_BENCH_EV:g}" else "-",
                    label=cv.label)
    ax.plot([SEED_POINT[0]], [SEED_POINT[1]], marker="*", ms=11, color="k", ls="none",
            label=r"seed: $m_\chi \approx$ 0.5 MeV, $\Lambda \approx$ 2 GeV")
    style.log_axes(ax)
    ax.set_xlim(0.05, 50.0)
    ax.set_ylim(0.1, 100.0)
    ax.set_xlabel(style.label(r"$m_\chi$", "MeV"))
    ax.set_ylabel(style.label(r"$\Lambda$", "GeV"))
    ax.set_title(r"$\chi\chi\nu\nu/\Lambda^2$: neutrino mass and relic abundance (nudmsim)")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return FigureResult("seed000-fig2", curves, fig, notes)
