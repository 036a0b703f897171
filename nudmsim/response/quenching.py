"""Quenching: nuclear-recoil energy E_nr -> electron-equivalent energy E_ee = QF(E_nr) * E_nr.

Functions take arrays of E_nr in MeV (hepunits) and return E_ee in MeV (or QF, dimensionless).

* :class:`ConstantQuenching`: QF = const (COHERENT 2017 CsI[Na]: 0.0878 +- 0.0166).
* :class:`PolynomialQuenching`: QF(E_nr) = sum_k c_k (E_nr/keV)^k fitted by weighted least squares to
  measured points (E_nr [keV], QF, sigma_QF), evaluated inside the fitted range and held constant at the
  range ends outside it (no extrapolation of a polynomial).  :func:`fit_polynomial` does the fit and
  reports chi^2/ndf, so a card can state how well the data support the shape.
* :class:`TableQuenching`: linear interpolation in a table (E_nr, QF), constant outside.

Experiment cards use the quenching stages of :mod:`nudmsim.response.stages_energy`; these classes remain for
the validation checks.  Any object with ``qf(e_nr)`` and ``e_ee(e_nr)`` works downstream.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import constants as c


@dataclass(frozen=True)
class ConstantQuenching:
    value: float

    def qf(self, e_nr):
        return np.full_like(np.asarray(e_nr, dtype=float), self.value)

    def e_ee(self, e_nr):
        return self.value * np.asarray(e_nr, dtype=float)

    def describe(self) -> str:
        return f"constant QF = {self.value:g}"


@dataclass(frozen=True)
class PolynomialQuenching:
    coefficients: tuple[float, ...]            # c_0, c_1, ... in powers of E_nr/keV
    range_keV: tuple[float, float]
    chi2: float = float("nan")
    ndf: int = 0
    info: dict = field(default_factory=dict, compare=False)

    def qf(self, e_nr):
        x = np.clip(np.asarray(e_nr, dtype=float) / c.keV, *self.range_keV)
        return np.polynomial.polynomial.polyval(x, np.asarray(self.coefficients))

    def e_ee(self, e_nr):
        return self.qf(e_nr) * np.asarray(e_nr, dtype=float)

    def describe(self) -> str:
        cs = ", ".join(f"{v:.4g}" for v in self.coefficients)
        return (f"polynomial QF(E_nr/keV) coefficients [{cs}] on {self.range_keV[0]:g}-{self.range_keV[1]:g} keVnr "
                f"(chi2/ndf = {self.chi2:.1f}/{self.ndf}, extra error {self.info.get('extra_error', 0):.3g})")


@dataclass(frozen=True)
class TableQuenching:
    e_nr_keV: tuple[float, ...]
    values: tuple[float, ...]

    def qf(self, e_nr):
        return np.interp(np.asarray(e_nr, dtype=float) / c.keV, self.e_nr_keV, self.values)

    def e_ee(self, e_nr):
        return self.qf(e_nr) * np.asarray(e_nr, dtype=float)

    def describe(self) -> str:
        return f"QF table with {len(self.values)} points"


def fit_polynomial(e_nr_keV, qf, sigma, degree: int = 1, range_keV=(0.0, np.inf),
                   extra_error: float | str = 0.0) -> PolynomialQuenching:
    """Weighted least-squares polynomial fit of QF vs E_nr (keV) to points inside ``range_keV``.

    ``extra_error`` is added in quadrature to every point's error; ``"auto"`` chooses it so that
    chi^2/ndf = 1 (the CsI[Na] data sets of COHERENT 2017 disagree with each other by far more than their
    quoted errors, so without it the fit follows the most precise set only)."""
    e_nr_keV, qf, sigma = (np.asarray(a, dtype=float) for a in (e_nr_keV, qf, sigma))
    sel = (e_nr_keV >= range_keV[0]) & (e_nr_keV <= range_keV[1]) & (sigma > 0)
    x, y, s = e_nr_keV[sel], qf[sel], sigma[sel]
    if len(x) <= degree + 1:
        raise ValueError(f"need more than {degree + 1} points for a degree-{degree} fit, have {len(x)}")

    def solve(extra):
        se = np.hypot(s, extra)
        V = np.vander(x, degree + 1, increasing=True) / se[:, None]
        coef, *_ = np.linalg.lstsq(V, y / se, rcond=None)
        chi2 = float(np.sum(((np.polynomial.polynomial.polyval(x, coef) - y) / se) ** 2))
        return coef, chi2

    ndf = len(x) - degree - 1
    if extra_error == "auto":
        from scipy.optimize import brentq

        coef, chi2 = solve(0.0)
        extra = 0.0
        if chi2 > ndf:
            extra = brentq(lambda e: solve(e)[1] - ndf, 0.0, 10.0 * float(np.ptp(y) + s.max()))
    else:
        extra = float(extra_error)
    coef, chi2 = solve(extra)
    lo, hi = float(x.min()), float(x.max())
    return PolynomialQuenching(tuple(float(v) for v in coef), (lo, hi), chi2, ndf,
                               {"n_points": int(len(x)), "extra_error": float(extra)})
