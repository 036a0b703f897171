"""Neutrino-portal dark matter (seed 002, SPEC section 4.2).

Dirac DM chi, complex scalar phi, Dirac sterile neutrino N whose heavy mass eigenstate nu_4 mixes with the
active flavours through U_l4 (l = e, mu, tau), |U_N4|^2 = 1 - sum_l |U_l4|^2.  The dark-sector interaction
after diagonalisation (seed eq. 5) is

    y_L |U_N4| phi chibar_R nu_4L  -  y_L sqrt(1 - |U_N4|^2) phi chibar_R nu_lL  + h.c.

All masses in MeV (hepunits), widths in MeV, cross sections in MeV^-2 (multiply by
``constants.INV_MEV2_TO_CM2`` for cm^2, and by c for cm^3/s).

Formulas (SPEC 4.2; seed eqs. 7-11):
* Y = y_L^4 (sum |U_l4|^2)^2 (m_chi/m_phi)^4                         (eq. 8)
* <sigma v> = y_L^4/(32 pi) (sum|U|^2)^2 m_chi^2/m_phi^4 (1 + m_chi^2/m_phi^2)^-2   (eq. 7)
* Gamma(phi -> chi nubar) = y_L^2/(16 pi) sum|U|^2 m_phi (1 - m_chi^2/m_phi^2)^2    (eq. 9)
* Gamma(nu4 -> chi phi*) = y_L^2/(32 pi) |U_N4|^2 m4 (1 - x_phi + x_chi) lambda^1/2(1, x_phi, x_chi)  (eq. 10)
* Gamma(nu4 -> l- W+) = G_F m4^3/(8 sqrt2 pi) |U_l4|^2 (1 - mW^2/m4^2)^2 (1 + 2 mW^2/m4^2)  (eq. 11)

Each width is also checked in tests against a generic two-body width computed from the spin-summed
|M|^2 (see ``tests/test_meson_model.py``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import constants as c
from ..errors import ParameterError

FLAVOURS = ("e", "mu", "tau")


def kallen(a, b, c_):
    """Kallen function lambda(a, b, c) = a^2 + b^2 + c^2 - 2ab - 2ac - 2bc (vectorised)."""
    return a * a + b * b + c_ * c_ - 2.0 * (a * b + a * c_ + b * c_)


def sqrt_kallen(a, b, c_):
    """lambda^{1/2}, clipped at 0 (numerical round-off at thresholds)."""
    return np.sqrt(np.maximum(kallen(a, b, c_), 0.0))


@dataclass(frozen=True)
class NeutrinoPortal:
    """A model point.  Masses in MeV; y_L and U_l4 dimensionless (|U_l4| given, not squared).

    Raises :class:`~nudmsim.errors.ParameterError` for negative/NaN values, sum |U_l4|^2 > 1, or
    m_chi >= m_phi (the seed's DM-stability assumption; set ``require_stable=False`` to allow it)."""

    m_chi: float
    m_phi: float
    m4: float
    y_L: float
    U_e4: float = 0.0
    U_mu4: float = 0.0
    U_tau4: float = 0.0
    require_stable: bool = True

    def __post_init__(self):
        for name in ("m_chi", "m_phi", "m4", "y_L", "U_e4", "U_mu4", "U_tau4"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v)) or v < 0:
                raise ParameterError(f"neutrino portal: {name} = {v!r} must be a finite number >= 0")
        for name in ("m_chi", "m_phi", "m4"):
            if getattr(self, name) <= 0:
                raise ParameterError(f"neutrino portal: {name} must be > 0 MeV")
        if self.sum_U2 > 1.0:
            raise ParameterError(f"neutrino portal: sum |U_l4|^2 = {self.sum_U2:g} > 1 (mixing must be unitary; "
                                 "|U_N4|^2 = 1 - sum |U_l4|^2)")
        if self.require_stable and self.m_chi >= self.m_phi:
            raise ParameterError(f"neutrino portal: m_chi = {self.m_chi:g} MeV >= m_phi = {self.m_phi:g} MeV; "
                                 "chi is stable DM only for m_chi < m_phi (seed 002 §II A)")

    # -- mixing -------------------------------------------------------------------------------------
    def U2(self, flavour: str) -> float:
        """|U_l4|^2 for l in {e, mu, tau}."""
        if flavour not in FLAVOURS:
            raise ParameterError(f"unknown lepton flavour '{flavour}' (choose e, mu, tau)")
        return {"e": self.U_e4, "mu": self.U_mu4, "tau": self.U_tau4}[flavour] ** 2

    @property
    def sum_U2(self) -> float:
        return self.U_e4**2 + self.U_mu4**2 + self.U_tau4**2

    @property
    def UN4_sq(self) -> float:
        """|U_N4|^2 = 1 - sum_l |U_l4|^2 (seed eq. 4)."""
        return 1.0 - self.sum_U2

    # -- derived couplings --------------------------------------------------------------------------
    @property
    def Y(self) -> float:
        """Y = y_L^4 (sum |U_l4|^2)^2 (m_chi/m_phi)^4 (seed eq. 8)."""
        return self.y_L**4 * self.sum_U2**2 * (self.m_chi / self.m_phi) ** 4

    def Y_flavour(self, flavour: str) -> float:
        """Y_l = y_L^4 |U_l4|^4 (m_chi/m_phi)^4 (seed §II B)."""
        return self.y_L**4 * self.U2(flavour) ** 2 * (self.m_chi / self.m_phi) ** 4

    def sigma_v(self) -> float:
        """<sigma v>(chi chibar -> nu nubar) in MeV^-2 (seed eq. 7, s-wave)."""
        r2 = (self.m_chi / self.m_phi) ** 2
        return (self.y_L**4 / (32 * math.pi) * self.sum_U2**2 * self.m_chi**2 / self.m_phi**4
                / (1 + r2) ** 2)

    def sigma_v_cm3_s(self) -> float:
        """<sigma v> in cm^3/s."""
        return self.sigma_v() * c.INV_MEV2_TO_CM2 * (c.C_LIGHT / (c.cm / c.s))

    # -- widths -------------------------------------------------------------------------------------
    def width_phi_to_chi_nu(self) -> float:
        """Gamma(phi -> chi nubar) summed over light neutrinos [MeV] (seed eq. 9); 0 if closed."""
        if self.m_phi <= self.m_chi:
            return 0.0
        return self.y_L**2 / (16 * math.pi) * self.sum_U2 * self.m_phi * (1 - self.m_chi**2 / self.m_phi**2) ** 2

    def width_nu4_to_chi_phi(self) -> float:
        """Gamma(nu4 -> chi phi*) [MeV] (seed eq. 10); 0 below threshold."""
        if self.m4 <= self.m_chi + self.m_phi:
            return 0.0
        xp, xc = (self.m_phi / self.m4) ** 2, (self.m_chi / self.m4) ** 2
        return (self.y_L**2 / (32 * math.pi) * self.UN4_sq * self.m4 * (1 - xp + xc)
                * float(sqrt_kallen(1.0, xp, xc)))

    def width_nu4_to_lW(self, flavour: str) -> float:
        """Gamma(nu4 -> l- W+) [MeV] (seed eq. 11, charged-lepton mass neglected); 0 for m4 <= m_W."""
        if self.m4 <= c.M_W:
            return 0.0
        r = (c.M_W / self.m4) ** 2
        return (c.G_FERMI * self.m4**3 / (8 * math.sqrt(2) * math.pi) * self.U2(flavour)
                * (1 - r) ** 2 * (1 + 2 * r))

    def width_nu4(self) -> float:
        """Total nu4 width used in propagators [MeV]: invisible chi phi* plus on-shell l W (the
        off-shell weak modes below m_W are negligible, seed §II C)."""
        return self.width_nu4_to_chi_phi() + sum(self.width_nu4_to_lW(f) for f in FLAVOURS)

    def summary(self) -> dict:
        return {
            "Y": self.Y, "Y_mu": self.Y_flavour("mu"), "|U_N4|^2": self.UN4_sq,
            "sigma_v [cm^3/s]": self.sigma_v_cm3_s(),
            "Gamma(phi->chi nu) [MeV]": self.width_phi_to_chi_nu(),
            "Gamma(nu4->chi phi*) [MeV]": self.width_nu4_to_chi_phi(),
        }


# ------------------------------------------------------------------------------------------------
# limit planes (nudmsim.models.planes): |U_mu4|^2 vs m4 (K+ -> mu+ nu4) and Y_mu vs m_chi (K+ -> mu+ chi phi)
# ------------------------------------------------------------------------------------------------
def _u2_point(x, ratio, ref):
    return {"m4": x, "U_mu4": float(ref.get("U_mu4", 1e-4)), "meson": 321.0, "lepton": 13.0}


def _parse_m4(text, m_chi: float) -> float:
    """m4 from --option m4=...: a multiple of m_chi ('10x') or a mass with a unit ('400GeV', '300')."""
    from ..errors import NudmsimError
    from ..registry import Param, parse_value

    t = str(text).strip()
    if t.endswith("x"):
        try:
            return float(t[:-1]) * m_chi
        except ValueError:
            pass
    try:
        return parse_value("m4", t, Param(1.0, "MeV"))
    except NudmsimError:
        raise NudmsimError(f"--option m4={text}: give a multiple of m_chi (e.g. 10x) or a mass (e.g. 400GeV)") from None


def _parse_y_l(text) -> float:
    from ..errors import NudmsimError

    t = str(text).strip().lower()
    try:
        y = float(t[:-2] or 1.0) * math.pi if t.endswith("pi") else float(t)
    except ValueError:
        y = math.nan
    if not 0 < y <= 4 * math.pi:
        raise NudmsimError(f"--option y_L={text}: must be in (0, 4pi]")
    return y


def _y_point(x, ratio, ref, opts):
    from ..errors import NudmsimError

    if not ratio > 1.0:
        raise NudmsimError(f"r = m_phi/m_chi = {ratio:g} must be > 1 (chi is the stable state; the seed uses 3)")
    return {"m_chi": x, "m_phi": ratio * x, "m4": _parse_m4(opts["m4"], x), "y_L": _parse_y_l(opts["y_L"]),
            "U_mu4": float(ref.get("U_mu4", 1e-3)), "U_e4": 0.0, "U_tau4": 0.0, "meson": 321.0, "lepton": 13.0}


def _y_mu(p) -> float:
    return p["y_L"] ** 4 * p["U_mu4"] ** 4 * (p["m_chi"] / p["m_phi"]) ** 4


def _thermal_y(x, ratio, opts):
    """Y of the thermal target <sigma v> = 1 pb ~ 3e-26 cm^3/s (seed 002): Y = 32 pi m_chi^2 sv (1 + 1/r^2)^2."""
    sv = 3e-26 / (c.INV_MEV2_TO_CM2 * (c.C_LIGHT / (c.cm / c.s)))
    return 32 * math.pi * np.asarray(x, float) ** 2 * sv * (1 + 1 / ratio**2) ** 2, "<sigma v> = 1 pb (thermal target)"


W_CHARGES = {"plus": 1.0, "minus": -1.0, "both": 0.0}


def _w_point(x, ratio, ref, opts):
    """W -> l nu_4 kink (atlas-w): m_4 = x [GeV]; the signal template is the change of the lepton-p_T spectrum per
    unit |U_l4|^2 (U2 = 1, SM subtracted; the spectrum is linear in |U|^2), so the limit on its strength is the
    limit on |U_l4|^2.  Options: lepton (e | mu), charge (plus | minus | both), lumi_fb (card | fb^-1)."""
    from ..errors import NudmsimError, ParameterError

    lep = str(opts["lepton"]).strip().lower()
    lep = {"electron": "e", "muon": "mu", "11": "e", "13": "mu"}.get(lep, lep)
    if lep not in ("e", "mu"):
        raise ParameterError(f"unknown lepton flavour '{opts['lepton']}' (use --option lepton=e or lepton=mu)")
    ch = str(opts["charge"]).strip().lower()
    if ch not in W_CHARGES:
        raise NudmsimError(f"--option charge={opts['charge']}: use plus, minus or both")
    lumi = str(opts["lumi_fb"]).strip().lower()
    if lumi == "card":
        lumi_fb = 0.0
    else:
        try:
            lumi_fb = float(lumi)
        except ValueError:
            lumi_fb = math.nan
        if not (math.isfinite(lumi_fb) and lumi_fb > 0):
            raise NudmsimError(f"--option lumi_fb={opts['lumi_fb']}: give a positive luminosity in fb^-1")
    return {"m4": float(x), "U2": 1.0, "sm_subtracted": 1.0, "lepton": 11.0 if lep == "e" else 13.0,
            "charge": W_CHARGES[ch], "lumi_fb": lumi_fb}


def _pmns_unitarity(x, ratio, opts):
    """|U_l4|^2 bound from PMNS unitarity / EWPD (Blennow et al. 2023; data/hnl_limits/curves), at x [GeV]."""
    from ..paths import data_file

    sheet = "Ue4" if str(opts.get("lepton", "mu")).strip().lower() in ("e", "11", "electron") else "Umu4"
    arr = np.genfromtxt(data_file("hnl_limits", "curves", sheet, "pmns_unitarity_curve.csv"), delimiter=",",
                        skip_header=1, comments="#")
    return (np.exp(np.interp(np.log(np.asarray(x, float)), np.log(arr[:, 0]), np.log(arr[:, 1]))),
            "PMNS unitarity / EWPD (Blennow et al. 2023)")


def _register_planes():
    from .planes import LimitPlane, register

    register(LimitPlane("u2_mu4", "meson-2body", "m4", "MeV", "|U_mu4|^2", "", "", 0.0, _u2_point,
                        lambda p: p["U_mu4"] ** 2, ("U_mu4",),
                        "K+ -> mu+ nu4 with nu4 invisible: the rate is |U_mu4|^2 x Shrock's rho(m4) x B(K -> mu nu)"))
    register(LimitPlane("y_mu", "meson-3body", "m_chi", "MeV", "Y_mu", "", "m_phi/m_chi", 3.0, _y_point, _y_mu,
                        ("U_mu4",), "K+ -> mu+ chi phi: the rate goes as y_L^2 |U_mu4|^2 (off shell), so "
                        "Y_mu = y_L^4 |U_mu4|^4 / r^4 scales as the square of the signal strength",
                        power=2.0, options={"m4": ("10x", "m4 = 10 m_chi (10x, default) or a mass, e.g. 400GeV"),
                                            "y_L": ("4pi", "dark Yukawa used for the nu4 width (default 4pi)")},
                        reference=_thermal_y))
    register(LimitPlane("u2_l4_w", "w-lepton", "m4", "GeV", "|U_l4|^2", "", "", 0.0, _w_point, lambda p: p["U2"],
                        (), "W -> l nu4 with nu4 invisible (lepton-pT kink): the spectrum is (1 - |U|^2) T_light + "
                        "|U|^2 T_nu4(m4), linear in |U_l4|^2; the signal template is T_nu4 - T_light",
                        options={"lepton": ("mu", "e | mu (default mu)"),
                                 "charge": ("plus", "plus (default, as the seed) | minus | both"),
                                 "lumi_fb": ("card", "integrated luminosity in fb^-1 (default: the card's)")},
                        reference=_pmns_unitarity))


_register_planes()
