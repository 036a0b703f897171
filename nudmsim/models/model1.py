"""Model 1 of seed 001 (Babu, Dev, Thapa §4): pseudo-Dirac dark matter chi with an inert doublet H2 (scotogenic).

L > y_chi^i L_i^T C H2 chi + h.c.  With H2 = (H2^+, (H2^0 + i A)/sqrt2) the neutral couplings are (seed eq. 37)

    (y^i/sqrt2) nu_Li^T C H2^0 chi  =  (y^i/sqrt2) H2^0 Xbar P_L nu_i + h.c.

for the Dirac X = (chi_2, chi_3^c) built from the pseudo-Dirac pair: the real scalar H2^0 couples to Xbar P_L nu with
y_eff = y/sqrt2 -- the scalar-portal structure of seed 004 (nudmsim.models.scalar_portal, nudmsim.cosmology.thermal).

Derived quantities (masses in MeV, cross sections in MeV^-2):
* radiative nu mass (eqs. 27-28): m_nu = y^2 F, F = m_chi/(32 pi^2) [m_H^2/(m_H^2 - m^2) ln(m_H^2/m^2) -
  m_A^2/(m_A^2 - m^2) ln(m_A^2/m^2)] (one chi; |F| is used);
* annihilation chi chibar -> nu nubar by t-channel H2^0 (eq. 38): with y_eff = y/sqrt2 the s-wave
      sigma v = y^4 m^2 / (128 pi (m^2 + m_H^2)^2)  (derived; y^4 = (sum_i |y^i|^2)^2),
  the scalar-portal result with y_X = y/sqrt2 (its t-channel trace is tested in tests/test_cosmology_kd.py).
  Seed eq. 39 prints y^4 m^2/(32 pi (m^2 + m_H^2)^2), 4x larger: eq. 39 uses y for the H2^0 X nu coupling,
  while eq. 37 (and eq. 25, C = -y^2/(2 m_H^2)) give y/sqrt2.  ``convention="seed"`` uses eq. 39 as printed.
  The relic coupling uses the existing freeze-out solver (thermal.thermal_yX / relic.relic_abundance, Dirac,
  Omega h^2 = 0.120).
* loop-induced SI scattering (eqs. 42-45): zeta_q = y^2 v_q g_Z^2 c_L G2(m^2/m_H^2)/(128 pi^2 m_Z^2),
  c_L = 1 + ln(m_A^2/m_H^2), G2(x) = -1 + 2[x + (1 - x) ln(1 - x)]/x^2, f_p = 2 zeta_u + zeta_d,
  f_n = zeta_u + 2 zeta_d, sigma_N = mu_N^2 f_N^2/pi; plus the optional Higgs penguin (eqs. 52-53).
  Eq. 43 prints g_Z^2 = g^2/c_W^2; its own approximations eqs. 46-47 (6.1e-44 and 3.4e-46 cm^2 (mu/GeV)^2 y^4
  (m/m_H)^4) correspond to g_Z^2 = g^2/(4 c_W^2) (the Z-quark vertex g v_q/(2 c_W), the factor "g/2c_W" the seed's
  footnote mentions) with c_L ~ 10 as the text says; with g^2/c_W^2 they would need c_L ~ 2.5, not O(10).  We use
  g^2/(4 c_W^2) (``zeta_norm="eq46"``, default; "eq43" = as printed, 16x larger in sigma).
* tree-level chi-e scattering through H2^+ (eqs. 49-51) and mu -> e gamma bounds (eqs. 34-36) as functions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import constants as c
from ..errors import ParameterError
from ..registry import Param, resolve_params

SW2_Z = 0.2312                      # seed §4.4: sin^2 theta_W = 0.2312 (PDG, MSbar at M_Z)

PARAMS = {
    "m_chi": Param(16.67, "MeV", "pseudo-Dirac DM mass (seed Fig. 4: m_chi = m_H0/3)", strictly_positive=True,
                   hi=1e6),
    "m_H0": Param(50.0, "MeV", "light CP-even inert scalar H2^0 (the mediator)", strictly_positive=True, hi=1e6),
    "m_A": Param(1e6, "MeV", "CP-odd inert scalar A (heavy; >= m_H0)", strictly_positive=True),
    "m_Hp": Param(1e5, "MeV", "charged inert scalar H2^+ (LHC: >~ 100 GeV, 700 GeV for e, mu; seed §4)",
                  strictly_positive=True),
    "y_e": Param(0.01, "", "Yukawa y_chi^{13} (electron flavour)", hi=4 * math.pi),
    "y_mu": Param(0.0, "", "Yukawa y_chi^{23}", hi=4 * math.pi),
    "y_tau": Param(0.0, "", "Yukawa y_chi^{33}", hi=4 * math.pi),
    "lambda3": Param(0.0, "", "quartic lambda_3 (Higgs penguin, eq. 52)", lo=-4 * math.pi, hi=4 * math.pi),
    "lambda4": Param(0.0, "", "quartic lambda_4 (Higgs penguin, eq. 52)", lo=-4 * math.pi, hi=4 * math.pi),
}


@dataclass(frozen=True)
class Model1:
    """A Model 1 point (masses in MeV).  Build with :func:`model1_point` to get range checks."""

    m_chi: float
    m_H0: float
    m_A: float = 1e6
    m_Hp: float = 1e5
    y_e: float = 0.01
    y_mu: float = 0.0
    y_tau: float = 0.0
    lambda3: float = 0.0
    lambda4: float = 0.0

    def __post_init__(self):
        if self.m_H0 <= self.m_chi:
            raise ParameterError(f"Model 1: m_H0 = {self.m_H0:g} MeV <= m_chi = {self.m_chi:g} MeV: chi is stable DM "
                                 "only below the mediator (and seed §4.3 assumes m_H0 - m_chi >~ 10% m_chi); raise m_H0")
        if self.m_A < self.m_H0:
            raise ParameterError(f"Model 1: m_A = {self.m_A:g} MeV < m_H0 = {self.m_H0:g} MeV (seed: m_H0 << m_A ~ m_H+)")

    @property
    def y2(self) -> float:
        """sum_i |y^i|^2."""
        return self.y_e**2 + self.y_mu**2 + self.y_tau**2

    # -- neutrino mass ---------------------------------------------------------------------------------
    def loop_factor(self) -> float:
        """|F| of seed eq. 28 [MeV]."""
        m2 = self.m_chi**2

        def term(M):
            M2 = M * M
            return M2 / (M2 - m2) * math.log(M2 / m2)

        return abs(self.m_chi / (32 * math.pi**2) * (term(self.m_H0) - term(self.m_A)))

    def neutrino_mass(self) -> float:
        """One-chi radiative neutrino mass y^2 |F| [MeV] (rank 1; seed eq. 27)."""
        return self.y2 * self.loop_factor()

    # -- annihilation --------------------------------------------------------------------------------
    def y_eff(self, convention: str = "derived") -> float:
        """Coupling of H2^0 Xbar P_L nu (summed over flavours in quadrature): y/sqrt2 (derived) or y (seed eq. 39)."""
        return math.sqrt(self.y2) / (math.sqrt(2.0) if convention == "derived" else 1.0)

    def sigma_v(self, convention: str = "derived") -> float:
        """s-wave sigma v(chi chibar -> nu nubar) [MeV^-2] (module docstring)."""
        _check_convention(convention)
        return self.y_eff(convention) ** 4 * self.m_chi**2 / (32 * math.pi * (self.m_chi**2 + self.m_H0**2) ** 2)

    def omega_h2(self, convention: str = "derived") -> float:
        """Omega h^2 from freeze-out into nu nubar (the scalar-portal thermal average and relic solver)."""
        from ..cosmology import thermal

        _check_convention(convention)
        return thermal.omega_h2(self.y_eff(convention), self.m_chi, self.m_H0 / self.m_chi)

    # -- effective couplings (eqs. 25-26) ----------------------------------------------------------------
    def c6m3(self) -> float:
        """|C_6M^3| = y^2/2 (1/m_H0^2 + 1/m_A^2) [MeV^-2] (lepton-number conserving, eq. 25)."""
        return self.y2 / 2 * (1 / self.m_H0**2 + 1 / self.m_A**2)

    def c6m1(self) -> float:
        """|C_6M^1| = y^2/2 (1/m_H0^2 - 1/m_A^2) [MeV^-2] (lepton-number violating, eq. 26)."""
        return self.y2 / 2 * (1 / self.m_H0**2 - 1 / self.m_A**2)

    # -- direct detection ----------------------------------------------------------------------------
    def zeta(self, zeta_norm: str = "eq46"):
        """(zeta_u, zeta_d) of seed eq. 43 [MeV^-2] (normalisation: module docstring)."""
        if zeta_norm not in ("eq46", "eq43"):
            raise ParameterError(f"zeta_norm '{zeta_norm}': choose eq46 (g^2/(4 c_W^2)) or eq43 (g^2/c_W^2)")
        g2_cw2 = 4 * math.sqrt(2) * c.G_FERMI * c.M_Z**2          # g^2/c_W^2 = 8 G_F M_Z^2/sqrt2
        if zeta_norm == "eq46":
            g2_cw2 /= 4.0
        cL = 1 + math.log(self.m_A**2 / self.m_H0**2)
        G2 = g2_function(self.m_chi**2 / self.m_H0**2)
        pref = self.y2 * g2_cw2 * cL * G2 / (128 * math.pi**2 * c.M_Z**2)
        v_u, v_d = 0.5 - 4.0 / 3.0 * SW2_Z, -0.5 + 2.0 / 3.0 * SW2_Z
        return pref * v_u, pref * v_d

    def f_nucleon(self, zeta_norm: str = "eq46"):
        """(f_p, f_n) [MeV^-2]: vector Z penguin (eq. 45) plus the Higgs penguin (eq. 52) if lambda3/4 != 0."""
        zu, zd = self.zeta(zeta_norm)
        fp, fn = 2 * zu + zd, zu + 2 * zd
        if self.lambda3 or self.lambda4:
            # scalar f_N = m_N sum_q Lambda_q/m_q f_q^N (Lambda_q/m_q is quark-independent, eq. 52)
            lam_over_mq = -(self.y2 / (16 * math.pi**2 * c.M_HIGGS**2 * self.m_chi)) * (
                self.lambda3 * g1_function(self.m_chi**2 / self.m_Hp**2)
                + 0.5 * (self.lambda3 + self.lambda4) * g1_function(self.m_chi**2 / self.m_H0**2))
            from .scalar_portal import scalar_charges

            for name, mN in (("p", c.M_PROTON), ("n", c.M_NEUTRON)):
                f = sum(scalar_charges(name).values())
                add = mN * lam_over_mq * f
                fp, fn = (fp + add, fn) if name == "p" else (fp, fn + add)
        return fp, fn

    def sigma_nucleon(self, nucleon: str = "n", zeta_norm: str = "eq46") -> float:
        """sigma_SI(chi N) [MeV^-2] for N = p or n (mu_N^2 f_N^2/pi)."""
        fp, fn = self.f_nucleon(zeta_norm)
        mN = c.M_PROTON if nucleon == "p" else c.M_NEUTRON
        mu = self.m_chi * mN / (self.m_chi + mN)
        return mu * mu * (fp if nucleon == "p" else fn) ** 2 / math.pi

    def sigma_si_isoscalar(self, Z: int = 54, A: int = 131, zeta_norm: str = "eq46") -> float:
        """The isospin-conserving per-nucleon cross section that gives the same rate on nucleus (Z, A) [MeV^-2]
        (what an SI limit 'per nucleon' is compared with): mu_n^2/pi [(Z f_p + (A-Z) f_n)/A]^2."""
        fp, fn = self.f_nucleon(zeta_norm)
        mu = self.m_chi * c.M_NUCLEON / (self.m_chi + c.M_NUCLEON)
        return mu * mu / math.pi * ((Z * fp + (A - Z) * fn) / A) ** 2

    def sigma_electron_tree(self) -> float:
        """Tree-level chi e scattering through H2^+ (eq. 50) [MeV^-2]."""
        mu = self.m_chi * c.M_ELECTRON / (self.m_chi + c.M_ELECTRON)
        return mu * mu * self.y_e**4 / (4 * math.pi * self.m_Hp**4)


def g2_function(x):
    """Seed eq. 44: G2(x) = -1 + 2[x + (1 - x) ln(1 - x)]/x^2, x < 1 (series below 1e-3: x/3 + x^2/6)."""
    if x <= 0 or x >= 1:
        raise ParameterError(f"G2(x) needs 0 < x = m_chi^2/m_H0^2 < 1, got {x}")
    if x < 1e-3:
        return x / 3 + x * x / 6 + x**3 / 10
    return -1 + 2 * (x + (1 - x) * math.log1p(-x)) / (x * x)


def g1_function(x):
    """Seed eq. 53: G1(x) = [x + (1 - x) ln(1 - x)]/x."""
    if x <= 0 or x >= 1:
        raise ParameterError(f"G1(x) needs 0 < x < 1, got {x}")
    return (x + (1 - x) * math.log1p(-x)) / x


def model1_point(overrides: dict | None = None) -> Model1:
    """A :class:`Model1` from PARAMS defaults and ``overrides`` (numbers or 'NAME=VALUE' strings with units)."""
    p = resolve_params(PARAMS, overrides, "model1")
    return Model1(**p)


def _check_convention(conv):
    if conv not in ("derived", "seed"):
        raise ParameterError(f"convention '{conv}': choose derived (y/sqrt2 coupling, eq. 37) or seed (eq. 39 as printed)")


def yukawa_bound_neutrino_mass(m_chi, m_H0, m_A, m_nu=0.05 * c.eV) -> float:
    """|y| giving m_nu with one chi (eq. 30 is its hierarchical limit, 4e-3 (MeV/m_chi)^1/2 ln(m_A^2/m_H^2)^-1/2)."""
    F = Model1(m_chi, m_H0, m_A, y_e=1.0).loop_factor()
    return math.sqrt(m_nu / F)


def lfv_bounds(m_Hp) -> dict:
    """Upper bounds on |y^13 y^23|, |y^13 y^33|, |y^23 y^33| from mu -> e gamma, tau -> e gamma, tau -> mu gamma
    (seed eqs. 34-36), scaling as (m_H+/100 GeV)^2."""
    s = (m_Hp / (100 * c.GeV)) ** 2
    return {"e mu": 2.59e-5 * s, "e tau": 2.88e-2 * s, "mu tau": 3.33e-2 * s}


def relic_coupling_vectorised(m_chi, ratio: float, convention: str = "derived", omega: float = 0.120,
                              iterations: int = 6) -> np.ndarray:
    """Same as :func:`relic_coupling` for many masses at once (m_H0 = ratio x m_chi): Newton steps on
    ln K = ln(y_X^4/m^2) with every mass solved together by the vectorised freeze-out solver
    (cosmology.asymmetric.asymmetric_abundance_many with zero asymmetry = the symmetric Dirac relic, the same
    g*(T) and Gondolo-Gelmini <sigma v> as relic.relic_abundance; agreement 0.1%, test)."""
    from ..cosmology import asymmetric, thermal

    _check_convention(convention)
    m = np.atleast_1d(np.asarray(m_chi, float))
    y = np.atleast_1d(thermal.thermal_yX(m, float(ratio), omega=omega))      # interpolated start
    for _ in range(iterations):
        res = asymmetric.asymmetric_abundance_many(m, lambda x, yy=y: thermal.sigma_v_thermal(x, yy, m, ratio), 0.0)
        om = res["omega_h2"]
        if np.all(np.abs(om / omega - 1) < 2e-4):
            break
        y = y * (om / omega) ** (0.25 / (1.0 - 1.0 / 20.0))      # Omega ~ 1/<sigma v>^(1-1/x_f), <sigma v> ~ y^4
    return y * (math.sqrt(2.0) if convention == "derived" else 1.0)


def relic_coupling(m_chi, m_H0, convention: str = "derived", omega: float = 0.120, exact: bool | None = None):
    """y (sum in quadrature over flavours) giving Omega h^2 = ``omega`` (arrays allowed) with the existing
    freeze-out solver (nudmsim.cosmology.thermal.thermal_yX: Dirac X, t-channel scalar).  Above m_chi = 1 GeV
    (``exact=None``) the solver is run exactly on nodes every quarter decade and interpolated (cubic in log-log;
    thermal_yX's own decade interpolation is 7% off at the QCD crossover); ``exact=True`` solves every mass."""
    from scipy.interpolate import CubicSpline

    from ..cosmology import thermal

    _check_convention(convention)
    m = np.atleast_1d(np.asarray(m_chi, float))
    r = np.broadcast_to(np.asarray(m_H0, float) / m, m.shape)
    if np.any(r <= 1):
        raise ParameterError("relic coupling needs m_H0 > m_chi")
    out = np.empty(m.shape)
    for ratio in np.unique(r):
        sel = r == ratio
        ms = m[sel]
        y = np.atleast_1d(thermal.thermal_yX(ms, float(ratio), omega=omega, exact=bool(exact)))
        hi = ms > 1 * c.GeV
        if exact is None and np.any(hi):
            lo_d, hi_d = math.floor(4 * math.log10(ms[hi].min())) / 4, math.ceil(4 * math.log10(ms[hi].max())) / 4
            nodes = 10.0 ** np.arange(lo_d - 0.25, hi_d + 0.26, 0.25)
            yn = np.atleast_1d(thermal.thermal_yX(nodes, float(ratio), omega=omega, exact=True))
            y[hi] = np.exp(CubicSpline(np.log(nodes), np.log(yn))(np.log(ms[hi])))
        out[sel] = y
    out = out * (math.sqrt(2.0) if convention == "derived" else 1.0)
    return out if np.ndim(m_chi) else float(out[0])
