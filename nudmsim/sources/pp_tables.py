"""Readers of the committed pp -> W/Z production tables (``fluxes/pp_w_*.csv``, made by
``tools/make_pp_luminosity.py``) and their resampling onto the uniform grids the samplers use.  Units: MeV."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import constants as c
from ..errors import NudmsimError

GeV = c.GeV
#: uniform grid of the angular / p_T-y tables in the sampler: ln(p_T/GeV) from ln 0.5 to ln 300, |y| or y_q step
N_LPT = 96
LPT_RANGE = (np.log(0.5), np.log(300.0))


def _rows(path, **checks):
    from ..response.tables import read_table

    head, body = read_table(path, **checks)
    return head, np.asarray(body, float)


def read_lumi_table(path):
    """(masses [MeV], ys, {column: array (n_mass, n_y)}) of a luminosity table (LO or NLO): rows ordered by M, then
    y, every (M, y) present once.  Not checked for sign: the LO tables hold a few tiny negative luminosities
    (-1e-3 against ~1e2) at |y| ~ 5 where the LO PDF interpolation undershoots; they are kept as produced."""
    head, body = _rows(path, nonnegative=("M_GeV",))
    if head[:4] != ["M_GeV", "y", "Lplus_q1", "Lminus_q1"] or any(h not in ("Lz_q1",) for h in head[4:]):
        raise NudmsimError(f"{path}: unexpected columns {head} (regenerate with tools/make_pp_luminosity.py)")
    masses = np.unique(body[:, 0])
    ys = np.unique(body[:, 1])
    shape = (len(masses), len(ys))
    grid_m, grid_y = np.meshgrid(masses, ys, indexing="ij")
    if len(body) != grid_m.size or not (np.array_equal(body[:, 0], grid_m.ravel())
                                        and np.array_equal(body[:, 1], grid_y.ravel())):
        raise NudmsimError(f"{path}: rows must cover the full (M_GeV, y) grid once, ordered by M_GeV then y "
                           f"(regenerate with tools/make_pp_luminosity.py)")
    if len(masses) < 2 or len(ys) < 2:
        raise NudmsimError(f"{path}: needs at least 2 masses and 2 rapidities")
    cols = {name: body[:, k].reshape(shape) for k, name in enumerate(head) if k >= 2}
    return masses * GeV, ys, cols


@dataclass
class AngularTable:
    """A_0..A_4 on a uniform (y_q, ln p_T) grid and h(p_T, |y|) on a uniform (|y|, ln p_T) grid, per charge
    index (0: W+, 1: W-).  ``a``: (2, 5, n_yq, N_LPT); ``h``: (2, n_ay, N_LPT); grids in ``par`` =
    (yq0, dyq, ay_step, lpt0, dlpt) with lpt = ln(p_T/GeV)."""

    a: np.ndarray
    h: np.ndarray
    par: np.ndarray
    yq: np.ndarray
    ay: np.ndarray
    lpt: np.ndarray

    def coefficients(self, ci, pt, yq):
        """A_0..A_4 (array (5, n)) for charge index ci, p_T [MeV], y_q (numpy bilinear interpolation)."""
        i, fy, j, fl = self._cell(np.asarray(yq, float), np.asarray(pt, float), self.par[0], self.par[1],
                                  len(self.yq))
        a = self.a[ci]
        return (a[:, i, j] * (1 - fy) * (1 - fl) + a[:, i + 1, j] * fy * (1 - fl)
                + a[:, i, j + 1] * (1 - fy) * fl + a[:, i + 1, j + 1] * fy * fl)

    def h_value(self, ci, pt, ay):
        i, fy, j, fl = self._cell(np.abs(np.asarray(ay, float)), np.asarray(pt, float), 0.0, self.par[2],
                                  len(self.ay))
        h = self.h[ci]
        return (h[i, j] * (1 - fy) * (1 - fl) + h[i + 1, j] * fy * (1 - fl)
                + h[i, j + 1] * (1 - fy) * fl + h[i + 1, j + 1] * fy * fl)

    def _cell(self, y, pt, y0, dy, ny):
        t = np.clip((y - y0) / dy, 0.0, ny - 1 - 1e-9)
        i = t.astype(np.int64)
        u = np.clip((np.log(np.maximum(pt, 1e-300) / GeV) - self.par[3]) / self.par[4], 0.0, N_LPT - 1 - 1e-9)
        j = u.astype(np.int64)
        return i, t - i, j, u - j


def read_angular_table(path, z_boson=False):
    """The A_i / h table, resampled onto uniform ln p_T.  ``z_boson``: A0..A2 and h of the W+ for both
    indices, A3 = A4 = 0 (Z -> l l: the parity-odd terms are proportional to A_l = 0.15; neglected)."""
    head, body = _rows(path, nonnegative=("pT_GeV", "h"))
    want = ["charge", "pT_GeV", "yq", "A0", "A1", "A2", "A3", "A4", "h"]
    if head != want:
        raise NudmsimError(f"{path}: unexpected columns {head} (regenerate with tools/make_pp_luminosity.py)")
    pts = np.unique(body[:, 1])
    yqs = np.unique(body[:, 2])
    lpt = np.linspace(*LPT_RANGE, N_LPT)
    a_out = np.zeros((2, 5, len(yqs), N_LPT))
    h_full = np.zeros((2, len(yqs), N_LPT))
    for ci, ch in enumerate((1, -1)):
        sel = body[body[:, 0] == (1 if z_boson else ch)]
        if sel.shape[0] != len(pts) * len(yqs):
            raise NudmsimError(f"{path}: charge {ch} is not a full p_T x y_q grid")
        grid = sel[np.lexsort((sel[:, 1], sel[:, 2]))].reshape(len(yqs), len(pts), 9)
        for k in range(5):
            for i in range(len(yqs)):
                a_out[ci, k, i] = np.interp(lpt, np.log(pts), grid[i, :, 3 + k])
        for i in range(len(yqs)):
            h_full[ci, i] = np.interp(lpt, np.log(pts), grid[i, :, 8])
    if z_boson:
        a_out[:, 3:] = 0.0
    dyq = float(yqs[1] - yqs[0])
    pos = yqs >= -1e-9
    par = np.array([yqs[0], dyq, dyq, lpt[0], lpt[1] - lpt[0]])
    return AngularTable(a_out, h_full[:, pos, :], par, yqs, yqs[pos], lpt)
