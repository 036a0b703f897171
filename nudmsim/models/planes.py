"""Limit planes: how a limit on a signal strength becomes a curve in a model's parameter plane.

The signal template of a limit scan is made at a reference model point whose rate is proportional to the
plane's y variable raised to 1/``power``, so the upper limit on the signal strength mu gives
y_up = y(reference) * mu_up**power (power 1: y is a cross section or a mixing |U|^2; 2: Y = y^4 |U|^4/r^4 of the
neutrino portal, whose rate goes as y^2 |U|^2; 1/2: a coupling whose rate goes as its square).  A plane names its
x (scanned) variable, how a model point is made from (x, ratio, reference overrides, plane options) and y(point).
Plane ``options`` (``--option NAME=VALUE`` of ``nudmsim limit``, e.g. m4 = 10x or 400GeV for the neutrino portal)
fix the model parameters the plane does not scan; ``reference(x, ratio, options)`` may give a curve to overlay
(e.g. a thermal-relic target) when the card names none.

    plane = get("sigma_nc")
    pt = plane.point(10.0, 3.0, {})            # m_X = 10 MeV, m_phi = 3 m_X, reference couplings
    y_ref = plane.y(pt)                        # sigma_NC in cm^2
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import NudmsimError
from ..schema import suggest


@dataclass(frozen=True)
class LimitPlane:
    name: str
    process: str
    x_name: str
    x_unit: str
    y_name: str
    y_unit: str
    ratio_name: str
    default_ratio: float
    make_point: Callable[[float, float, dict], dict]
    y_of: Callable[[dict], float]
    reference_keys: tuple = ()
    doc: str = ""
    power: float = 1.0
    options: dict = field(default_factory=dict)     # name -> (default text, doc)
    reference: Callable | None = None               # (x array, ratio, options) -> (y array, label)

    @property
    def has_ratio(self) -> bool:
        """Whether the plane has a second parameter (``--ratio``); a plane without one ignores it."""
        return bool(self.ratio_name)

    def point(self, x: float, ratio: float | None, ref: dict | None = None, options: dict | None = None) -> dict:
        r = float(self.default_ratio if ratio is None else ratio)
        if self.options:
            opts = {k: d for k, (d, _) in self.options.items()}
            opts.update(options or {})
            return self.make_point(float(x), r, dict(ref or {}), opts)
        return self.make_point(float(x), r, dict(ref or {}))

    def y(self, point: dict) -> float:
        return float(self.y_of(point))

    def scale(self, mu, y_ref: float):
        """y of a limit mu on the signal strength of a template made at y_ref: y_ref * mu**power."""
        return y_ref * np.asarray(mu, float) ** self.power


PLANES: dict[str, LimitPlane] = {}


def register(plane: LimitPlane) -> LimitPlane:
    PLANES[plane.name] = plane
    return plane


def get(name: str) -> LimitPlane:
    _load()
    if name not in PLANES:
        hint = suggest(name, PLANES)
        raise NudmsimError(f"unknown limit plane '{name}' ({hint + ' ' if hint else ''}planes: "
                           f"{', '.join(PLANES)})")
    return PLANES[name]


def _load() -> None:
    from . import neutrino_portal, scalar_portal  # noqa: F401  (register u2_mu4, y_mu; sigma_nc, y_q)
    from ..processes import wimp_si  # noqa: F401  (registers sigma_si)


# ------------------------------------------------------------------------------------------------
# scalar portal: sigma_NC vs m_X at fixed r = m_phi / m_X (seed 004 Fig. 2)
# ------------------------------------------------------------------------------------------------
def _sp_point(x, ratio, ref):
    from .scalar_portal import POINT

    if not ratio > 1.0:
        raise NudmsimError(f"r = m_phi/m_X = {ratio:g} must be > 1 (the seed uses 3 and 10)")
    p = {k: float(v.default) for k, v in POINT.items()}
    p.update({k: float(v) for k, v in ref.items() if k in ("y_X", "y_q")})
    p["m_X"], p["m_phi"] = x, ratio * x
    return p


def _sp_sigma(p):
    from .. import constants as c
    from . import scalar_portal as sp

    y_p, _ = sp.nucleon_couplings(p["y_q"])
    return float(sp.sigma_nc(p["y_X"], y_p, p["m_X"], p["m_phi"])) * c.INV_MEV2_TO_CM2


register(LimitPlane("sigma_nc", "nu-to-x", "m_X", "MeV", "sigma_NC", "cm^2", "m_phi/m_X", 3.0, _sp_point,
                    _sp_sigma, ("y_X", "y_q"),
                    "sigma_NC = y_X^2 y_p^2 m_X^2 / (16 pi m_phi^4) (seed 004 sec. VII); the rate of nu -> X "
                    "and X -> nu is proportional to it at fixed masses"))
