"""Charged-meson decays with invisible final states, as generators of the experiment engine (source kind
``meson_source``): ``meson-3body`` (M+ -> l+ chi phi, neutrino portal), ``meson-2body`` (M+ -> l+ nu4,
Shrock) and ``kaon-pi-phi`` (K+ -> pi+ phi, scalar portal).  The physics (|M|^2, widths, branching ratios) is in
:mod:`nudmsim.processes.meson_decays`, the kinematics in :mod:`nudmsim.generators.meson_kinematics`.

Truth columns (rows of a Batch; weights = expected decays in the source's ``meson_decays``):
``p_star_true_MeV`` (the visible daughter's momentum in the meson rest frame), ``cos_theta_star`` (its angle to
the beam axis in that frame), ``p_meson_MeV`` (the meson's lab momentum along +z; 0 at rest), ``m_vis_MeV`` and
``m_meson_MeV`` (the daughter and meson masses, read by in-flight tracking stages); events also carry the lab
four-vectors ``meson_E_MeV``, ``vis_{E,px,py,pz}_MeV``, ``inv1_*`` (chi, nu4 or phi) and ``inv2_*`` (phi of the
three-body decay).

* nodes: the visible momentum spectrum as quadrature nodes — one node for a two-body line; for the three-body
  decay the centres of N_S equal-probability cells of dGamma/ds (from the CDF table the sampler inverts, so a
  narrow on-shell nu4 is resolved) united with N_S equal cells in s (so the tails are covered), each weighted
  with its probability integrated from dGamma/ds (4-point Gauss-Legendre per cell).  In flight, each is crossed
  with Gauss-Legendre nodes in cos(theta*) (N_COS) and Gauss-Hermite nodes of the beam momentum bite.
* events: the exact samplers of the kinematics module (isotropic two-body; three-body from |M|^2), boosted to
  the lab, equal weights N x B / n.
"""
from __future__ import annotations

import math

import numpy as np

from .. import constants as c
from ..errors import ParameterError
from ..registry import Param
from ..response.stage import Batch
from . import meson_kinematics as kin
from . import register_generator

MESON_CODES = {321: "K", 211: "pi"}
MESON_PDG = {"K": 321, "pi": 211}
LEPTON_CODES = {13: "mu", 11: "e"}
LEPTON_PDG = {"mu": 13, "e": 11}
TRUTH = ("p_star_true_MeV", "cos_theta_star", "p_meson_MeV", "m_vis_MeV", "m_meson_MeV")

PARAMS_3BODY = {
    "m_chi": Param(20.0, "MeV", "Dirac DM mass", strictly_positive=True),
    "m_phi": Param(60.0, "MeV", "complex scalar mass", strictly_positive=True),
    "m4": Param(400e3, "MeV", "heavy neutrino nu4 mass", strictly_positive=True),
    "y_L": Param(1.0, "", "dark Yukawa y_L", hi=4 * math.pi, strictly_positive=True),
    "U_mu4": Param(1e-3, "", "|U_mu4|", hi=1.0),
    "U_e4": Param(0.0, "", "|U_e4|", hi=1.0),
    "U_tau4": Param(0.0, "", "|U_tau4|", hi=1.0),
    "meson": Param(321, "", "decaying meson PDG id (321 = K+, 211 = pi+)"),
    "lepton": Param(13, "", "charged lepton PDG id (13 = mu, 11 = e)"),
}
PARAMS_2BODY = {
    "m4": Param(250.0, "MeV", "invisible heavy neutrino mass", lo=0.0),
    "U_mu4": Param(1e-4, "", "|U_l4| of the decay lepton", hi=1.0),
    "meson": Param(321, "", "decaying meson PDG id (321 = K+, 211 = pi+)"),
    "lepton": Param(13, "", "charged lepton PDG id (13 = mu, 11 = e)"),
}
PARAMS_KPIPHI = {
    "m_phi": Param(50.0, "MeV", "invisible scalar mass", lo=0.0),
    "y_q": Param(1e-4, "", "universal scalar-quark Yukawa y_q (<= 4 pi)", hi=4 * math.pi),
    "BR": Param(0.0, "", "if > 0: use this B(K+ -> pi+ phi) instead of y_q", hi=1.0),
}


def codes_of(point) -> tuple[str, str]:
    """(meson, lepton) names from the PDG-code parameters, or a one-line ParameterError."""
    m = int(round(point.get("meson", 321)))
    ell = int(round(point.get("lepton", 13)))
    if m not in MESON_CODES:
        raise ParameterError(f"meson = {m}: choose 321 (K+) or 211 (pi+)")
    if ell not in LEPTON_CODES:
        raise ParameterError(f"lepton = {ell}: choose 13 (mu) or 11 (e)")
    return MESON_CODES[m], LEPTON_CODES[ell]


def portal_model(point, lepton=None, require_stable=True):
    from ..models.neutrino_portal import NeutrinoPortal

    m = NeutrinoPortal(point["m_chi"], point["m_phi"], point["m4"], point["y_L"], point.get("U_e4", 0.0),
                       point["U_mu4"], point.get("U_tau4", 0.0), require_stable=require_stable)
    if lepton is not None and m.U2(lepton) == 0.0:
        raise ParameterError(f"U_{lepton}4 = 0: M+ -> {lepton}+ chi phi vanishes (set e.g. --set U_{lepton}4=1e-3)")
    return m


class _MesonDecay:
    """Common machinery: nodes in flight, lab events, the source check, the HepMC3 final state."""

    source_kind = "meson_source"
    truth_columns = TRUTH
    #: detector-level event columns (``nudmsim generate --columns observables``); the rest is truth
    observables = ("p_star_MeV", "acceptance")
    #: Gauss-Legendre nodes in cos(theta*) for decays in flight; beam-momentum Gauss-Hermite nodes (converged:
    #: 12 x 3 and 96 x 9 give the same NA62 two-body histogram to 1e-4)
    N_COS = 16
    N_BEAM = 3

    def _point(self, point) -> dict:
        out = {k: float(p.default) for k, p in self.params.items()}
        out.update({k: float(v) for k, v in (point or {}).items() if k in self.params})
        return out

    def codes(self, exp) -> dict:
        return {}

    def _meson(self, pt) -> str:
        return "K"

    def _matches(self, pt, exp) -> bool:
        return exp.source.meson == self._meson(pt)

    def _need_source(self, pt, exp) -> None:
        if not self._matches(pt, exp):
            raise ParameterError(f"experiment '{exp.name}' has a source of {exp.source.meson}+ mesons "
                                 f"('{exp.source.name}'); meson = {self._meson(pt)}+ needs a {self._meson(pt)}+ "
                                 "source card")

    # subclasses: rest-frame spectrum (p_star [MeV], probability per node, summing to B), m_vis, M
    def spectrum(self, pt, at_rest: bool = True):  # pragma: no cover
        raise NotImplementedError

    def nodes(self, point, exp):
        pt = self._point(point)
        self.check(pt, exp)
        if not self._matches(pt, exp):        # predict still reports the branching ratio: no events here
            return Batch({k: np.zeros(0) for k in TRUTH}, np.zeros(0))
        src = exp.source
        p_star, prob, m_vis, M = self.spectrum(pt, src.at_rest)
        w = np.asarray(prob, float) * src.n_decays
        if src.at_rest:
            k = len(p_star)
            return Batch({"p_star_true_MeV": np.asarray(p_star, float), "cos_theta_star": np.zeros(k),
                          "p_meson_MeV": np.zeros(k), "m_vis_MeV": np.full(k, m_vis),
                          "m_meson_MeV": np.full(k, M)}, w)
        x, wc = np.polynomial.legendre.leggauss(self.N_COS)
        pk, wk = src.momentum_nodes(self.N_BEAM)
        P, C, K = np.meshgrid(np.asarray(p_star, float), x, pk, indexing="ij")
        W = w[:, None, None] * (0.5 * wc)[None, :, None] * wk[None, None, :]
        k = P.size
        return Batch({"p_star_true_MeV": P.ravel(), "cos_theta_star": C.ravel(), "p_meson_MeV": K.ravel(),
                      "m_vis_MeV": np.full(k, m_vis), "m_meson_MeV": np.full(k, M)}, W.ravel())

    def pdg_codes(self, pt) -> dict:  # pragma: no cover
        raise NotImplementedError

    def run_info(self, point, exp) -> dict:
        """Run information of generated events: the PDG codes of the final state (HepMC3 output)."""
        return {"pdg_codes": self.pdg_codes(self._point(point))}

    @staticmethod
    def final_state(cols, info):
        """HepMC3 record of an event: the meson along +z -> vis + inv1 (+ inv2), four-vectors in GeV (the columns
        are in MeV); PDG codes from the run information."""
        from ..hepmc import FinalState, Particles
        from ..processes import meson_decays as md

        codes = info["pdg_codes"]
        g = 1.0 / c.GeV
        zero = np.zeros(len(cols["meson_E_MeV"]))
        mass = md.meson_mass(MESON_CODES[abs(int(codes["meson"]))])
        parent = Particles.from_components(codes["meson"], cols["meson_E_MeV"] * g, zero, zero,
                                           cols["p_meson_MeV"] * g, m=mass * g)
        products = [Particles.from_components(codes[k], *(cols[f"{k}_{comp}_MeV"] * g
                                                          for comp in ("E", "px", "py", "pz")))
                    for k in ("vis", "inv1", "inv2") if f"{k}_E_MeV" in cols and k in codes]
        return FinalState(parent, products)

    def _events(self, exp, M, m_vis, lab, p_meson, p_star, cos, weight) -> Batch:
        n = len(p_meson)
        cols = {"p_star_true_MeV": np.asarray(p_star, float), "cos_theta_star": cos, "p_meson_MeV": p_meson,
                "m_vis_MeV": np.full(n, m_vis), "m_meson_MeV": np.full(n, M),
                "meson_E_MeV": np.sqrt(p_meson**2 + M * M)}
        for name, v in zip(("vis", "inv1", "inv2"), lab):
            for comp, arr in zip(("E", "px", "py", "pz"), v):
                cols[f"{name}_{comp}_MeV"] = np.asarray(arr, float)
        return Batch(cols, np.full(n, weight))


@register_generator
class ThreeBody(_MesonDecay):
    process = "meson-3body"
    summary = "M+ -> l+ chi phi via off-shell light+heavy nu (neutrino portal)"
    params = PARAMS_3BODY
    process_id = 41
    #: cells of dGamma/ds (n equal-probability cells united with n equal cells in s: up to 2n quadrature nodes of
    #: the lepton momentum spectrum), at rest and in flight (where each is crossed with N_COS x N_BEAM nodes)
    N_S = 2048
    N_S_FLIGHT = 128

    def _meson(self, pt) -> str:
        return codes_of(pt)[0]

    def check(self, point, exp) -> None:
        from ..processes import meson_decays as md

        pt = self._point(point)
        meson, lepton = codes_of(pt)
        model = portal_model(pt, lepton)
        md.check_three_body(meson, lepton, model.m_chi, model.m_phi)

    def spectrum(self, pt, at_rest: bool = True):
        from ..processes import meson_decays as md

        meson, lepton = codes_of(pt)
        model = portal_model(pt, lepton)
        br = md.br_three_body(model, meson, lepton)
        cdf, s_tab = md.cdf_table(model, meson, lepton)
        n = self.N_S if at_rest else self.N_S_FLIGHT
        # cells: n equal-probability cells (resolve a narrow on-shell nu4) united with n equal cells in s (cover
        # the tails a quantile grid leaves to a single cell); node at each cell's centre, weight = its probability
        edges = np.unique(np.concatenate([np.interp(np.linspace(0.0, 1.0, n + 1), cdf, s_tab),
                                          np.linspace(s_tab[0], s_tab[-1], n + 1)]))
        # each cell's probability from dGamma/ds itself (4-point Gauss-Legendre per cell): exact in the far tails,
        # where the tabulated CDF (and hence the sampler) is coarse
        x, wx = np.polynomial.legendre.leggauss(4)
        lo, hw = edges[:-1], 0.5 * np.diff(edges)
        sq = (lo + hw)[:, None] + hw[:, None] * x[None, :]
        mass = (md.dgamma_ds(model, meson, lepton, sq) * wx[None, :]).sum(axis=1) * hw
        keep = mass > 0
        s = (lo + hw)[keep]
        p = md.lepton_momentum_of_s(meson, lepton, s)
        return p, br * mass[keep] / mass.sum(), md.LEPTONS[lepton], md.meson_mass(meson)

    def sample(self, point, exp, n, rng, start: int = 0):
        from ..processes import meson_decays as md

        pt = self._point(point)
        self.check(pt, exp)
        self._need_source(pt, exp)
        meson, lepton = codes_of(pt)
        model = portal_model(pt, lepton)
        br = md.br_three_body(model, meson, lepton)
        p_meson = exp.source.momenta(n, rng)
        lab, p_star, cos = kin.three_body_lab(model, meson, lepton, n, rng, p_meson, return_cos=True)
        return self._events(exp, md.meson_mass(meson), md.LEPTONS[lepton], list(lab), p_meson, p_star, cos,
                            exp.source.n_decays * br / n)

    def pdg_codes(self, pt) -> dict:
        from ..hepmc import PDG_CHI, PDG_DARK_SCALAR

        meson, lepton = codes_of(pt)
        return {"meson": MESON_PDG[meson], "vis": -LEPTON_PDG[lepton], "inv1": PDG_CHI, "inv2": PDG_DARK_SCALAR}

    def describe(self, point, exp) -> dict:
        from ..processes import meson_decays as md

        pt = self._point(point)
        meson, lepton = codes_of(pt)
        model = portal_model(pt, lepton)
        return {f"B({meson}+ -> {lepton}+ chi phi)": (md.br_three_body(model, meson, lepton), ""),
                "Y_mu": (model.Y_flavour("mu"), ""), "Y": (model.Y, ""),
                "<sigma v>": (model.sigma_v_cm3_s(), "cm^3/s"),
                "Gamma(nu4 -> chi phi*)": (model.width_nu4_to_chi_phi(), "MeV"),
                "Gamma(phi -> chi nu)": (model.width_phi_to_chi_nu(), "MeV")}


class _TwoBody(_MesonDecay):
    def sample(self, point, exp, n, rng, start: int = 0):
        pt = self._point(point)
        self.check(pt, exp)
        self._need_source(pt, exp)
        p_star, prob, m_vis, M = self.spectrum(pt)
        m_inv = self._invisible_mass(pt)
        vis, inv = kin.two_body_rest(M, m_vis, m_inv, n, rng)
        cos = vis[3] / p_star[0] if p_star[0] > 0 else np.zeros(n)
        p_meson = exp.source.momenta(n, rng)
        lab = kin.to_lab([vis, inv], M, p_meson)
        return self._events(exp, M, m_vis, lab, p_meson, np.full(n, p_star[0]), cos,
                            exp.source.n_decays * float(prob[0]) / n)


@register_generator
class TwoBody(_TwoBody):
    process = "meson-2body"
    summary = "M+ -> l+ nu4 (invisible heavy neutrino, Shrock)"
    params = PARAMS_2BODY
    process_id = 42

    def _meson(self, pt) -> str:
        return codes_of(pt)[0]

    def _invisible_mass(self, pt) -> float:
        return pt["m4"]

    def check(self, point, exp) -> None:
        from ..processes import meson_decays as md

        pt = self._point(point)
        meson, lepton = codes_of(pt)
        M, ml = md.meson_mass(meson), md.LEPTONS[lepton]
        if pt["m4"] >= M - ml:
            raise ParameterError(f"{meson}+ -> {lepton}+ nu4 is kinematically forbidden: m4 = {pt['m4']:.4g} MeV "
                                 f">= m_{meson} - m_{lepton} = {M - ml:.4g} MeV (the kinematic limit)")

    def spectrum(self, pt, at_rest: bool = True):
        from ..processes import meson_decays as md

        meson, lepton = codes_of(pt)
        M, ml = md.meson_mass(meson), md.LEPTONS[lepton]
        br = float(md.br_two_body_heavy(meson, lepton, pt["m4"], pt["U_mu4"] ** 2))
        return np.array([float(md.two_body_momentum(M, ml, pt["m4"]))]), np.array([br]), ml, M

    def pdg_codes(self, pt) -> dict:
        from ..hepmc import PDG_HNL

        meson, lepton = codes_of(pt)
        return {"meson": MESON_PDG[meson], "vis": -LEPTON_PDG[lepton], "inv1": PDG_HNL}

    def describe(self, point, exp) -> dict:
        from ..processes import meson_decays as md

        pt = self._point(point)
        meson, lepton = codes_of(pt)
        p, prob, _, _ = self.spectrum(pt)
        return {f"B({meson}+ -> {lepton}+ nu4)": (float(prob[0]), ""),
                f"p_{lepton} in the {meson}+ frame": (float(p[0]), "MeV/c"),
                "Gamma(pi->e nu)/Gamma(pi->mu nu) (tree)":
                    (md.width_two_body("pi", "e") / md.width_two_body("pi", "mu"), "")}


@register_generator
class KaonPiPhi(_TwoBody):
    process = "kaon-pi-phi"
    summary = "K+ -> pi+ phi, phi invisible (scalar portal)"
    params = PARAMS_KPIPHI
    process_id = 43

    def _invisible_mass(self, pt) -> float:
        return pt["m_phi"]

    def check(self, point, exp) -> None:
        from ..processes import meson_decays as md

        md.check_k_pi_phi(self._point(point)["m_phi"])

    def branching_ratio(self, pt) -> float:
        from ..processes import meson_decays as md

        md.check_k_pi_phi(pt["m_phi"])
        return float(pt["BR"]) if pt.get("BR", 0.0) > 0 else float(md.br_k_pi_phi(pt["y_q"], pt["m_phi"]))

    def spectrum(self, pt, at_rest: bool = True):
        from ..processes import meson_decays as md

        p = float(md.two_body_momentum(c.M_KAON, c.M_PION, pt["m_phi"]))
        return np.array([p]), np.array([self.branching_ratio(pt)]), c.M_PION, c.M_KAON

    def pdg_codes(self, pt) -> dict:
        from ..hepmc import PDG_DARK_SCALAR

        return {"meson": MESON_PDG["K"], "vis": 211, "inv1": PDG_DARK_SCALAR}

    def describe(self, point, exp) -> dict:
        from ..processes import meson_decays as md

        pt = self._point(point)
        br = self.branching_ratio(pt)
        return {"B(K+ -> pi+ phi)": (br, ""), "y_q": (float(md.yq_from_br(br, pt["m_phi"])), ""),
                "p_pi in the K+ frame": (float(md.two_body_momentum(c.M_KAON, c.M_PION, pt["m_phi"])), "MeV/c")}


__all__ = ["ThreeBody", "TwoBody", "KaonPiPhi", "PARAMS_3BODY", "PARAMS_2BODY", "PARAMS_KPIPHI", "codes_of",
           "portal_model"]
