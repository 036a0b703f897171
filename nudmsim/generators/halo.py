"""Halo dark matter on a nuclear target, as generators of the experiment engine: down-scattering
X + N -> nu + N by scalar exchange (``x-to-nu``, seed 004 sec. VI) and spin-independent elastic WIMP-nucleus
scattering (``wimp-si``, the direct-detection baseline).

Truth columns: ``target_id`` (index into the target's isotopes, or the one effective nucleus of
``[target] single_nucleus_A``), ``E_R_keV`` (nuclear recoil, keVnr); events add the lab DM velocity
(``v_km_s``, ``vx/vy/vz_km_s``; the Earth moves along +z) and, for ``x-to-nu``, the CM angle and the final
state (``cos_theta_cm``, ``E_nu_MeV``, ``px/py/pz_nu_MeV``, ``px/py/pz_N_MeV``).

* nodes: Gauss-Legendre quadrature of dR/dE_R per isotope on its recoil support, split at the bin edges of
  the first binned stage acting on ``E_R_keV`` (e.g. the true bins of a migration matrix), so that the
  expected counts per bin are the bin integrals of dR/dE (the release's own procedure);
  weights = expected interactions in the exposure (n_targets x rate per nucleus x live time);
* events: DM velocities from the halo, exact kinematics, weights with the analytic rate as expectation
  (the generators of issue 3, unchanged: same random-number order, so the same events for the same seed).

The physics (|M|^2, kinematics, rates, halo) is in :mod:`nudmsim.processes.x_to_nu`,
:mod:`nudmsim.processes.wimp_si` and :mod:`nudmsim.sources.halo`.
"""
from __future__ import annotations

import numpy as np

from .. import constants as c
from .. import formfactors
from ..errors import ParameterError
from ..processes import wimp_si as W
from ..processes import x_to_nu as X
from ..response.stage import Batch
from . import register_generator

KM_S = c.km / c.s
#: quadrature: uniform panels over each recoil support (plus the response's bin edges), nodes per piece
PANELS, ORDER = 16, 8


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def truth_edges(exp, column: str = "E_R_keV"):
    """Break points (in the column's unit) where the response of ``column`` jumps: the bin edges of stages
    acting on it (a migration matrix's true bins), the limits of steps and windows on it, the points where a
    table stage drops to zero (``breaks``, e.g. the ends of an efficiency table with out_of_range = "zero"), and
    its bin edges when it is an observable; None if there are none.  Quadrature pieces end there, so that a
    bin or a cut takes whole pieces (the expected counts are exact integrals, not node sums straddling a jump:
    CRESST-III's W lines sit on the 30 eV start of the survival table at m_X ~ 3 MeV)."""
    pts = []
    for st in exp.stages:
        if st.on != column:
            continue
        for attr in ("x_edges", "breaks"):
            if getattr(st, attr, None) is not None:
                pts.append(np.asarray(getattr(st, attr), float).ravel())
        for attr in ("lo", "hi"):
            v = getattr(st, attr, None)
            if isinstance(v, (int, float)):
                pts.append(np.array([float(v)]))
    if column in exp.observables:
        pts.append(np.asarray(exp.observables[column].edges, float))
    return np.unique(np.concatenate(pts)) if pts else None


def gauss_pieces(lo: float, hi: float, edges=None, panels: int = PANELS, order: int = ORDER):
    """Nodes and weights of composite Gauss-Legendre on [lo, hi]: ``panels`` equal pieces, further split at
    ``edges`` inside (lo, hi), ``order`` nodes per piece."""
    cuts = np.linspace(lo, hi, panels + 1)
    if edges is not None:
        e = np.asarray(edges, float)
        cuts = np.union1d(cuts, e[(e > lo) & (e < hi)])
    cuts = cuts[np.concatenate([[True], np.diff(cuts) > 1e-12 * max(abs(hi), 1.0)])]
    x, w = np.polynomial.legendre.leggauss(order)
    a, b = cuts[:-1, None], cuts[1:, None]
    nodes = 0.5 * (b - a) * x[None, :] + 0.5 * (b + a)
    return nodes.ravel(), (0.5 * (b - a) * w[None, :]).ravel()


def labels(exp) -> list[str]:
    """Printable names of the target's nuclei: "p" for a free proton, Xe(A=131.293) for an effective nucleus."""
    out = []
    for n in exp.target.nuclei:
        if (n.Z, n.A) == (1, 1):
            out.append("p")
        elif float(n.A) != int(n.A):
            out.append(f"{n.symbol}(A={n.A:g})")
        else:
            out.append(n.name)
    return out


def _halo(exp):
    return exp.source.halo


class _HaloNuclear:
    source_kind = "halo"

    def _point(self, point) -> dict:
        out = {k: float(p.default) for k, p in self.params.items()}
        out.update({k: float(v) for k, v in (point or {}).items() if k in self.params})
        return out

    def codes(self, exp) -> dict:
        return {"target_id": labels(exp)}

    def _batch(self, parts, extra=()):
        if not parts:
            return Batch({k: np.zeros(0) for k in ("target_id", "E_R_keV") + tuple(extra)}, np.zeros(0))
        return Batch.concatenate(parts)

    def nodes(self, point, exp):
        p = self._point(point)
        t = exp.target
        edges = truth_edges(exp)
        live = exp.source.live_time
        parts = []
        for j, nuc in enumerate(t.nuclei):
            lo, hi = self.support(p, nuc, exp)
            if not hi > lo:
                continue
            x, w = gauss_pieces(lo / c.keV, hi / c.keV, edges)
            f = self.dRdE(x * c.keV, p, j, exp)
            parts.append(Batch({"target_id": np.full(len(x), float(j)), "E_R_keV": x},
                               f * w * c.keV * t.n_targets[j] * live))
        return self._batch(parts)

    def detected_fraction(self, point, exp) -> list[float]:
        """Per isotope: expected detected events (after the whole response) / interactions."""
        nodes = self.nodes(point, exp)
        out = []
        for j in range(len(exp.target.nuclei)):
            b = nodes.take(np.asarray(nodes["target_id"]) == j)
            tot = b.total
            out.append(float(exp.expect_rows(b).sum()) / tot if tot > 0 else 0.0)
        return out


# ------------------------------------------------------------------------------------------------
# X + N -> nu + N
# ------------------------------------------------------------------------------------------------
@register_generator
class XToNu(_HaloNuclear):
    process = "x-to-nu"
    summary = "halo DM down-scattering X + N -> nu + N (scalar portal, exact kinematics)"
    params = X.POINT
    process_id = 31
    truth_columns = ("target_id", "E_R_keV", "v_km_s", "vx_km_s", "vy_km_s", "vz_km_s", "cos_theta_cm",
                     "E_nu_MeV", "px_nu_MeV", "py_nu_MeV", "pz_nu_MeV", "px_N_MeV", "py_N_MeV", "pz_N_MeV")

    @staticmethod
    def couplings(p: dict, exp) -> list[float]:
        """y_N per target nucleus from the quark coupling (scalar_portal: y_N = Z y_p + (A - Z) y_n)."""
        from ..models import scalar_portal as sp

        y_p, y_n = sp.nucleon_couplings(p["y_q"])
        return [float(sp.nucleus_coupling(y_p, y_n, n.Z, n.A)) for n in exp.target.nuclei]

    def check(self, point, exp) -> None:
        p = self._point(point)
        X.check_masses(p["m_X"], p["m_phi"])
        if not (p["y_X"] != 0 and p["y_q"] != 0):
            raise ParameterError(f"x-to-nu: y_X = {p['y_X']:g}, y_q = {p['y_q']:g} give a zero rate "
                                 "(set both couplings > 0, e.g. --set y_X=0.01 --set y_q=3e-9)")

    def support(self, p, nuc, exp):
        return X.recoil_support(_halo(exp), p["m_X"], nuc.mass)

    def dRdE(self, E, p, j, exp):
        nuc = exp.target.nuclei[j]
        return X.dRdE(E, _halo(exp), p["m_X"], p["m_phi"], nuc.mass, nuc.A, p["y_X"], self.couplings(p, exp)[j],
                      exp.target.form_factor_of(j))

    def rates(self, p, exp) -> np.ndarray:
        """Expected interactions per isotope in the exposure (analytic: n (rho/m_X) <sigma v> t)."""
        y_N = self.couplings(p, exp)
        t = exp.target
        return np.array([X.rate_per_target(_halo(exp), p["m_X"], p["m_phi"], n.mass, n.A, p["y_X"], y_N[j],
                                           t.form_factor_of(j)) * t.n_targets[j] * exp.source.live_time
                         for j, n in enumerate(t.nuclei)])

    def total(self, point, exp) -> float:
        return float(self.rates(self._point(point), exp).sum())

    def sample(self, point, exp, n, rng, start: int = 0):
        """Target by rate, lab velocity from the halo, CM angle uniform; weight = t n_j (rho/m_X)
        2 dsigma v/dcos / (n p_j) (sums to the analytic rate within MC error)."""
        p = self._point(point)
        t, halo, live = exp.target, _halo(exp), exp.source.live_time
        r = self.rates(p, exp)
        prob = r / r.sum()
        y_N = self.couplings(p, exp)
        tid = rng.choice(len(prob), size=n, p=prob).astype(np.int32)
        v = halo.sample_velocity(n, rng) / c.C_LIGHT  # units of c
        cos_t = rng.uniform(-1.0, 1.0, n)
        phi = rng.uniform(0.0, 2.0 * np.pi, n)
        e_r, p_nuc, nu, weight = np.empty(n), np.empty((n, 3)), np.empty((n, 4)), np.empty(n)
        m_X, m_phi, y_X = p["m_X"], p["m_phi"], p["y_X"]
        for j, nuc in enumerate(t.nuclei):
            m = tid == j
            if not m.any():
                continue
            e_r[m], p_nuc[m], nu[m] = X.sample_final_state(v[m], cos_t[m], phi[m], m_X, nuc.mass)
            speed = np.linalg.norm(v[m], axis=1)
            _, _, _, _, delta = X.kinematics(m_X, nuc.mass, speed)
            M2 = X.msq(e_r[m], m_X, m_phi, nuc.mass, nuc.A, y_X, y_N[j], t.form_factor_of(j))
            dsv_dcos = M2 * (delta / speed) * (1.0 - speed**2) / (32.0 * np.pi * nuc.mass * m_X**2)
            w = live * t.n_targets[j] * halo.rho / m_X * 2.0 * dsv_dcos * X.SIGMAV_TO_HEP
            weight[m] = w / (n * prob[j])
        vk = v * c.C_LIGHT / KM_S
        return Batch({"target_id": tid.astype(float), "E_R_keV": e_r / c.keV, "v_km_s": np.linalg.norm(vk, axis=1),
                      "vx_km_s": vk[:, 0], "vy_km_s": vk[:, 1], "vz_km_s": vk[:, 2], "cos_theta_cm": cos_t,
                      "E_nu_MeV": nu[:, 0], "px_nu_MeV": nu[:, 1], "py_nu_MeV": nu[:, 2], "pz_nu_MeV": nu[:, 3],
                      "px_N_MeV": p_nuc[:, 0], "py_N_MeV": p_nuc[:, 1], "pz_N_MeV": p_nuc[:, 2]}, weight)

    # -- printouts ------------------------------------------------------------------------------------
    @staticmethod
    def sigma_nc_cm2(p: dict) -> float:
        from ..models import scalar_portal as sp

        y_p, _ = sp.nucleon_couplings(p["y_q"])
        return float(sp.sigma_nc(p["y_X"], y_p, p["m_X"], p["m_phi"])) * c.INV_MEV2_TO_CM2

    def run_info(self, point, exp) -> dict:
        p = self._point(point)
        return {"targets": labels(exp), "halo": _halo(exp).name, "analytic_expected_total": self.total(p, exp),
                "sigma_NC_cm2": self.sigma_nc_cm2(p), "units": "E in MeV or keV as named, velocities km/s (lab)"}

    def blind_message(self, point, exp) -> str:
        p = self._point(point)
        lines = ", ".join(f"{lab}: E_R = {X.recoil_at_rest(p['m_X'], n.mass) / c.keV:.3g} keV"
                          for lab, n in list(zip(labels(exp), exp.target.nuclei))[:3])
        return (f"{exp.name} is blind there: m_X = {p['m_X']:g} MeV gives recoils ({lines}) with zero detection "
                f"probability (see `nudmsim predict x-to-nu -d {exp.name}` for the sensitive window, or choose a "
                "larger m_X)")

    def describe(self, point, exp) -> dict:
        """Printable per-isotope numbers for ``nudmsim predict``: line position and width, detection
        probability, <sigma v>/(A^2 sigma_NC); the seed's plotting variable and the nucleon couplings."""
        from ..models import scalar_portal as sp

        p = self._point(point)
        t, halo = exp.target, _halo(exp)
        r = self.rates(p, exp)
        frac = self.detected_fraction(p, exp)
        y_N = self.couplings(p, exp)
        signc = self.sigma_nc_cm2(p) / c.INV_MEV2_TO_CM2
        out = {}
        if not sum(rr * f for rr, f in zip(r, frac)) > 0:
            out["note"] = (self.blind_message(p, exp), "")
        for i in sorted(range(len(r)), key=lambda k: -r[k] * max(frac[k], 1e-30))[:3]:
            nuc, lab = t.nuclei[i], labels(exp)[i]
            lo, hi = X.recoil_support(halo, p["m_X"], nuc.mass)
            out[f"{lab}: recoil line E_0"] = (float(X.recoil_at_rest(p["m_X"], nuc.mass)) / c.keV, "keV")
            out[f"{lab}: line full width (halo)"] = ((hi - lo) / c.keV, "keV")
            out[f"{lab}: detection probability"] = (frac[i], "")
            sv = X.mean_sigma_v(halo, p["m_X"], p["m_phi"], nuc.mass, nuc.A, p["y_X"], y_N[i], t.form_factor_of(i))
            out[f"{lab}: <sigma v>/(A^2 sigma_NC)"] = (sv / (nuc.A**2 * signc), "(4 in the contact limit)")
        y_p, y_n = sp.nucleon_couplings(p["y_q"])
        out["sigma_NC (seed plotting variable)"] = (self.sigma_nc_cm2(p), "cm^2")
        out["y_p, y_n"] = (f"{y_p:.4g}, {y_n:.4g}", "")
        return out


# ------------------------------------------------------------------------------------------------
# SI elastic WIMP
# ------------------------------------------------------------------------------------------------
@register_generator
class WimpSI(_HaloNuclear):
    process = "wimp-si"
    summary = "spin-independent elastic WIMP-nucleus scattering (SHM, Helm)"
    params = W.POINT
    process_id = 30
    truth_columns = ("target_id", "E_R_keV", "v_km_s", "vx_km_s", "vy_km_s", "vz_km_s")

    def check(self, point, exp) -> None:
        p = self._point(point)
        if not np.isfinite(p["sigma_n"]) or p["sigma_n"] < 0:
            raise ParameterError(f"wimp-si: sigma_n = {p['sigma_n']} must be finite and >= 0 (cm^2)")
        if not (np.isfinite(p["m_chi"]) and p["m_chi"] > 0):
            raise ParameterError(f"wimp-si: m_chi = {p['m_chi']} must be finite and > 0 (GeV)")

    def support(self, p, nuc, exp):
        return 0.0, float(W.e_max(p["m_chi"] * c.GeV, nuc.mass, _halo(exp).v_max))

    def dRdE(self, E, p, j, exp):
        t = exp.target
        return W.dRdE_nucleus(E, p["m_chi"] * c.GeV, p["sigma_n"] * c.cm**2, t.nuclei[j], _halo(exp),
                              t.form_factor_of(j), t.nucleon_mass)

    def spectrum_per_kg(self, E, point, exp) -> np.ndarray:
        """dR/dE per kg of target [1/(MeV ns kg)] summed over the isotopes, at recoil energies E [MeV]."""
        p = self._point(point)
        t = exp.target
        return sum(t.n_targets[j] / t.mass_kg * self.dRdE(E, p, j, exp) for j in range(len(t.nuclei)))

    def sample(self, point, exp, n, rng, start: int = 0):
        """v from the halo, E_R uniform on [0, E_max(v)], weight = t n_j (rho/m) sigma_N v F^2 / (n p_j)
        (unbiased for dR/dE)."""
        p = self._point(point)
        t, halo, live = exp.target, _halo(exp), exp.source.live_time
        m = p["m_chi"] * c.GeV
        per = np.array([t.n_targets[j] * float(W.sigma_nucleus(1.0, m, nuc, t.nucleon_mass))
                        for j, nuc in enumerate(t.nuclei)])
        prob = per / per.sum()
        tid = rng.choice(len(prob), size=n, p=prob).astype(np.int32)
        v = halo.sample_velocity(n, rng)
        speed = np.linalg.norm(v, axis=1)
        e_r, weight = np.empty(n), np.empty(n)
        sig = p["sigma_n"] * c.cm**2
        for j, nuc in enumerate(t.nuclei):
            mk = tid == j
            emax = W.e_max(m, nuc.mass, speed[mk])
            e_r[mk] = rng.random(mk.sum()) * emax
            F2 = formfactors.get(t.form_factor_of(j))(np.sqrt(2.0 * nuc.mass * e_r[mk]), nuc.A) ** 2
            w = live * t.n_targets[j] * halo.rho / m * W.sigma_nucleus(sig, m, nuc, t.nucleon_mass) * speed[mk] * F2
            weight[mk] = w / (n * prob[j])
        return Batch({"target_id": tid.astype(float), "E_R_keV": e_r / c.keV, "v_km_s": speed / KM_S,
                      "vx_km_s": v[:, 0] / KM_S, "vy_km_s": v[:, 1] / KM_S, "vz_km_s": v[:, 2] / KM_S}, weight)

    def run_info(self, point, exp) -> dict:
        return {"targets": labels(exp), "halo": _halo(exp).name}

    def blind_message(self, point, exp) -> str:
        p = self._point(point)
        return (f"{exp.name} is blind there: m_chi = {p['m_chi']:g} GeV gives recoils below every threshold "
                "(choose a larger m_chi)")

    def describe(self, point, exp) -> dict:
        e10 = np.array([10.0 * c.keV])
        rate = float(self.spectrum_per_kg(e10, point, exp)[0]) * 1000.0 * c.keV * c.YEAR
        return {"dR/dE at 10 keV": (rate, "events/(keV t yr)")}
