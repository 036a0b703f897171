"""Generators on a ``pp_w`` source: ``w-lepton`` (pp -> W+- -> l+- + nu or a massive invisible nu_4, V-A) and the
generated backgrounds of the lepton-p_T analysis, ``w-taunu`` (W -> tau nu -> l nu nu nu) and ``z-lost-lepton``
(Z -> l l with the second lepton lost).  Monte Carlo only (``nodes`` is None): the engine's expectation is the
weighted rows of :meth:`mc_rows`, pushed through the response chain (``collider / atlas_w``).

One sample for every model point: the truth sample (W mass, rapidity, p_T, decay direction, the two pieces E, O of
the lepton density, the detector normals) is generated ONCE per card and seed
(:func:`nudmsim.generators.w_sample.generate_sample`; ``[source] mc_events``, ``mc_seed``) and kept per lepton
flavour after the preselection of the response stage (events that can enter the p_T window for some m_4).  At a
point (m_4, |U|^2) each kept event gives two rows: the light-nu row, weight (1 - |U|^2 - s) x w(r = 0), and the
nu_4 row at neutrino mass m_4, weight |U|^2 x w(r) x (1 - r)^2 (1 + r/2), with w(r) the lepton density over the
proposal density (:func:`nudmsim.processes.w_decay.decay_weight_eo`), r = m_4^2/M^2 of the event's W mass, and
s = ``sm_subtracted`` (1: the change of the spectrum that |U|^2 makes, the signal template of the kink limit;
the spectrum is linear in |U|^2).  Every row carries the same detector normals as its event, so the templates
of all masses share the detector fluctuations.  Units: GeV in the columns, MeV inside.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .. import constants as c
from ..errors import ParameterError
from ..registry import Param
from . import register_generator

GeV = c.GeV
PROCESS_ID = 50
CHARGES = {1.0: (1,), -1.0: (-1,), 0.0: (1, -1)}
#: row columns the response stage reads (w_m, w_pt, nu_m in GeV)
ROW_COLUMNS = ("w_m", "w_pt", "w_phi", "w_charge", "k_E", "k_x", "k_y", "k_z", "nu_m", "z_lep", "z_rx", "z_ry",
               "lepton")
COMMON = {
    "lepton": Param(13.0, "", "charged-lepton flavour: 11 = e, 13 = mu"),
    "charge": Param(0.0, "", "W charge: +1, -1, or 0 = both", lo=-1.0, hi=1.0),
    "lumi_fb": Param(0.0, "", "integrated luminosity in fb^-1 (0 = the card's, per lepton channel)", lo=0.0,
                     hi=None),
}
PARAMS = {
    "m4": Param(30.0, "GeV", "mass of the invisible heavy neutrino nu_4 (kink at 34.6 GeV for 30 GeV)"),
    "U2": Param(0.01, "", "|U_l4|^2, mixing of nu_4 with the lepton flavour (0..1)", lo=None, hi=None),
    **COMMON,
    "sm_subtracted": Param(0.0, "", "1 = the spectrum minus the Standard-Model one (the change |U|^2 makes: the "
                                    "kink-limit signal template); 0 = the spectrum", lo=0.0, hi=1.0),
}


def check_common(point) -> tuple[str, tuple]:
    from ..response.stages_collider import lepton_of

    fl = lepton_of(point["lepton"])
    q = float(point["charge"])
    if q not in CHARGES:
        raise ParameterError(f"charge = {q:g}: use +1 (W+), -1 (W-) or 0 (both)")
    return fl, CHARGES[q]


def response_stage(exp):
    """The experiment's collider response stage (the one with a ``can_pass`` preselection)."""
    for st in exp.stages:
        if hasattr(st, "can_pass"):
            return st
    raise ParameterError(f"experiment '{exp.name}' has no collider response stage (stage = \"collider\")")


def luminosity(point, exp, flavour) -> float:
    lumi = float(point.get("lumi_fb", 0.0))
    return lumi / c.u.femtobarn if lumi > 0 else exp.source.luminosity[flavour]


def _pt_lo(exp) -> float:
    obs = exp.observables
    return float(obs["reco_l_pt"].edges[0]) * GeV if "reco_l_pt" in obs.names else 0.0


# ------------------------------------------------------------------------------------------------
# the sample cache: one generated truth sample per (card, seed, size, kind), kept per flavour after preselection
# ------------------------------------------------------------------------------------------------
_CACHE: dict = {}


def _kept(exp, kind: str, flavour: str, make):
    """The preselected WSample (and any per-event arrays) of ``kind`` for ``flavour`` (generated on first use)."""
    key = (str(exp.card.path), exp.card.sha256, kind)
    entry = _CACHE.get(key)
    if entry is None:          # (the source checked at load that the sample fits in memory)
        full, extra = make(exp)
        st = response_stage(exp)
        entry = {}
        for fl in ("e", "mu"):
            keep = st.can_pass(full, fl, _pt_lo(exp)) if full.xscale is None else _can_pass_any(st, full, fl)
            entry[fl] = (full.subset(keep), {k: v[keep] for k, v in extra.items()})
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = entry
    return entry[flavour]


def _can_pass_any(st, s, flavour):
    """Acceptance and u_T preselection only (samples whose lepton carries a fraction of the decay momentum)."""
    d = s.derived()
    lr = st.response.lepton(flavour)
    ux, uy = _recoil(st, s)
    return lr.accepted(d["eta"]) & (np.hypot(ux, uy) < st.response.selection.ut_max)


def _recoil(st, s):
    from ..response import collider as col

    d = s.derived()
    return col.recoil(st.response, d["wpx"], d["wpy"], *s.z_rec)


def _rows(s, flavour, nu_m, weight, xscale=None):
    """Stage rows of a WSample (columns of :data:`ROW_COLUMNS`), neutrino mass ``nu_m`` [MeV] per row."""
    t = s.truth
    cols = {"w_m": t["m"] / GeV, "w_pt": t["pt"] / GeV, "w_phi": t["phi"], "w_charge": t["charge"].astype(float),
            "k_E": s.k[0], "k_x": s.k[1], "k_y": s.k[2], "k_z": s.k[3], "nu_m": np.broadcast_to(nu_m / GeV, (s.n,)),
            "z_lep": s.z_lep, "z_rx": s.z_rec[0], "z_ry": s.z_rec[1],
            "lepton": np.full(s.n, 11.0 if flavour == "e" else 13.0)}
    if xscale is not None:
        cols["l_xscale"] = xscale
    from ..response.stage import Batch

    return Batch({k: np.asarray(v, float) for k, v in cols.items()}, np.asarray(weight, float))


def _drop_zero(b):
    keep = b.weight != 0
    return b if keep.all() else b.take(keep)


def _charge_weight(s, charges):
    return np.isin(s.truth["charge"], charges).astype(float)


# ------------------------------------------------------------------------------------------------
# w-lepton
# ------------------------------------------------------------------------------------------------
#: derived truth columns of w-lepton events (GeV), beyond the rows the response stage needs
TRUTH_EXTRAS = ("w_y", "quark_dir", "cos_theta_q", "phi_cs", "l_E", "l_px", "l_py", "l_pz", "l_pt", "l_eta", "l_phi",
                "nu_E", "nu_px", "nu_py", "nu_pz", "is_nu4")


def _wanted_extras(columns) -> frozenset:
    """The derived truth columns a ``--columns`` choice writes (all for None/"all"/"truth")."""
    if columns is None or columns in ("all", "truth"):
        return frozenset(TRUTH_EXTRAS)
    if columns == "observables":
        return frozenset()
    return frozenset(c.strip() for c in str(columns).split(",")) & frozenset(TRUTH_EXTRAS)


def _truth_extras(s, m4_evt, is_heavy, wanted) -> dict:
    """The ``wanted`` derived truth columns of a W sample chunk (GeV): lepton and neutrino four-vectors from the
    decay direction k and p* (massive nu_4 where drawn), W rapidity and the Collins-Soper angles."""
    from ..processes import w_decay as wd

    if not wanted:
        return {}
    t = s.truth
    ke, kx, ky, kz = s.k
    ps_l = wd.p_star(t["m"], m4_evt)
    out = {}
    if wanted & {"nu_E", "nu_px", "nu_py", "nu_pz"}:
        wE, wx, wy, wz = wd.w_four_momentum(t["m"], t["y"], t["pt"], t["phi"])
        out.update(nu_E=(wE - ps_l * ke) / GeV, nu_px=(wx - ps_l * kx) / GeV, nu_py=(wy - ps_l * ky) / GeV,
                   nu_pz=(wz - ps_l * kz) / GeV)
    cheap = {"w_y": lambda: t["y"], "quark_dir": lambda: t["qdir"].astype(float), "cos_theta_q": lambda: t["cos_q"],
             "phi_cs": lambda: t["phi_cs"], "l_E": lambda: ps_l * ke / GeV, "l_px": lambda: ps_l * kx / GeV,
             "l_py": lambda: ps_l * ky / GeV, "l_pz": lambda: ps_l * kz / GeV,
             "l_pt": lambda: ps_l * np.hypot(kx, ky) / GeV, "l_eta": lambda: s.derived()["eta"],
             "l_phi": lambda: np.arctan2(ky, kx), "is_nu4": lambda: is_heavy}
    out.update({k: f() for k, f in cheap.items() if k in wanted})
    return {k: out[k] for k in TRUTH_EXTRAS if k in out}       # the column order of a full record


@register_generator
class WLepton:
    process: ClassVar[str] = "w-lepton"
    source_kind: ClassVar[str] = "pp_w"
    summary: ClassVar[str] = "pp -> W+- -> l+- nu / l+- nu4 (invisible massive nu4, V-A), ATLAS-like response"
    params: ClassVar[dict] = PARAMS
    process_id: ClassVar[int] = PROCESS_ID
    truth_columns: ClassVar[tuple] = ("w_m", "w_y", "w_pt", "w_phi", "w_charge", "quark_dir", "cos_theta_q", "phi_cs",
                                      "l_E", "l_px", "l_py", "l_pz", "l_pt", "l_eta", "l_phi", "nu_E", "nu_px",
                                      "nu_py", "nu_pz", "nu_m", "is_nu4")
    observables: ClassVar[tuple] = ("reco_l_pt", "met", "mt", "ut", "selected")

    def check(self, point, exp) -> None:
        from ..processes import w_decay as wd

        wd.check_mixing(point["U2"])
        wd.check_mass(point["m4"] * GeV)
        if point["sm_subtracted"] not in (0.0, 1.0):
            raise ParameterError(f"sm_subtracted = {point['sm_subtracted']:g}: use 0 or 1")
        check_common(point)

    def nodes(self, point, exp):
        return None

    def codes(self, exp) -> dict:
        return {}

    def _truth(self, exp):
        from ..generate import make_rng
        from . import w_sample as ws

        src = exp.source
        return ws.generate_sample(src.pp, src.mc_events, make_rng(src.mc_seed), 0), {}

    def mc_rows(self, point, exp):
        """Weighted rows at ``point`` from the card's one reweighted sample (see the module docstring)."""
        from ..processes import w_decay as wd
        from ..response.stage import Batch

        fl, charges = check_common(point)
        s, _ = _kept(exp, "w", fl, self._truth)
        t = s.truth
        base = s.sigma * luminosity(point, exp, fl) / s.n_generated * _charge_weight(s, charges)
        u2, sub = float(point["U2"]), float(point["sm_subtracted"])
        parts = []
        f_light = 1.0 - u2 - sub
        if f_light != 0.0:
            w0 = wd.decay_weight_eo(t["e_dens"], t["o_dens"], t["cos_q"], 0.0, t["charge"])
            parts.append(_drop_zero(_rows(s, fl, 0.0, base * f_light * w0)))
        if u2 != 0.0:
            m4 = point["m4"] * GeV
            r = (m4 / t["m"]) ** 2
            w4 = np.where(r < 1.0, wd.decay_weight_eo(t["e_dens"], t["o_dens"], t["cos_q"], np.minimum(r, 1.0),
                                                      t["charge"]) * wd.phase_space_factor(r), 0.0)
            parts.append(_drop_zero(_rows(s, fl, m4, base * u2 * w4)))
        return Batch.concatenate(parts) if parts else _rows(s.subset(np.zeros(s.n, bool)), fl, 0.0, np.zeros(0))

    def interactions(self, point, exp) -> float:
        """W -> l + invisible decays in the exposure (the rows of :meth:`mc_rows` are preselected, so their sum is
        not it): sigma(pp -> W -> l nu) L [(1 - |U|^2 - s) + |U|^2 (1 - r)^2 (1 + r/2)], r = m_4^2/M_W^2 at the W
        pole mass for the nu_4 branch."""
        from ..processes import w_decay as wd

        fl, charges = check_common(point)
        charge = 0 if len(charges) == 2 else charges[0]
        u2 = float(point["U2"])
        ps = float(wd.phase_space_factor((point["m4"] * GeV / c.M_W) ** 2))
        return float(exp.source.pp.sigma_lnu(charge) * luminosity(point, exp, fl) *
                     ((1.0 - u2 - float(point["sm_subtracted"])) + u2 * ps))

    #: Experiment.generate passes the --columns choice: truth columns that will not be written are skipped
    takes_columns: ClassVar[bool] = True

    def sample(self, point, exp, n, rng, start: int = 0, columns: str | None = None):
        """``n`` events at ``point``, each a light-nu or a nu_4 decay drawn with its branching (weights: expected
        events in the channel's luminosity, before the efficiency; the response stage applies it).
        ``columns`` (the ``--columns`` choice): "observables" or a list skips the derived truth columns not in it
        (lepton and neutrino four-vectors, W rapidity, ...; ~25% of the time); the events are the same."""
        from ..processes import w_decay as wd
        from ..response.stage import Batch
        from . import w_sample as ws

        fl, charges = check_common(point)
        charge = 0 if len(charges) == 2 else charges[0]
        src = exp.source
        m4, u2 = point["m4"] * GeV, float(point["U2"])
        wbase = src.pp.sigma_lnu(charge) * luminosity(point, exp, fl) / n
        wanted = _wanted_extras(columns)
        parts = []
        for u, z, uh in ws.draw_chunks(int(n), rng, extra=1):
            s = ws.sample_from_uniforms(src.pp, u, z, charge, n_generated=n)
            t = s.truth
            m = t["m"]
            r = np.minimum((m4 / m) ** 2, 1.0)
            heavy_rate = u2 * wd.phase_space_factor(r)
            total = (1.0 - u2) + heavy_rate
            is_heavy = uh * np.maximum(total, 1e-300) < heavy_rate
            m4_evt = np.where(is_heavy, m4, 0.0)
            r_evt = (m4_evt / m) ** 2
            wdec = np.where(r_evt < 1.0, wd.decay_weight_eo(t["e_dens"], t["o_dens"], t["cos_q"],
                                                            np.minimum(r_evt, 1.0), t["charge"]), 0.0)
            b = _rows(s, fl, m4_evt, wbase * total * wdec)
            extra = _truth_extras(s, m4_evt, is_heavy, wanted)
            parts.append(b.with_columns(**extra) if extra else b)
        return Batch.concatenate(parts)

    def describe(self, point, exp) -> dict:
        """Printable numbers of ``nudmsim predict``."""
        from ..processes import w_decay as wd

        fl, charges = check_common(point)
        r = (point["m4"] * GeV / c.M_W) ** 2
        charge = 0 if len(charges) == 2 else charges[0]
        return {"sigma(pp->W->l nu) x K (this charge)": (exp.source.pp.sigma_lnu(charge) / c.u.picobarn, "pb"),
                "Gamma(W->l nu4)/Gamma(W->l nu)/|U|^2": (float(wd.phase_space_factor(r)), ""),
                "lepton-pT kink M_W(1-m4^2/M_W^2)/2": (max(c.M_W * (1 - r) / 2, 0.0) / GeV, "GeV"),
                "m_T endpoint M_W(1-m4^2/M_W^2)": (max(c.M_W * (1 - r), 0.0) / GeV, "GeV"),
                "luminosity": (luminosity(point, exp, fl) * c.u.femtobarn, "fb^-1"), "lepton": (fl, "")}

    @staticmethod
    def final_state(cols, info):
        """HepMC3 record of a W event from the generator's columns (GeV): the W (four-vector from its mass,
        rapidity, p_T and phi) -> charged lepton (massless, as generated) + neutrino (nu_4: PDG 9900012).
        W+ -> l+ nu, W- -> l- nubar.  The writer checks W = l + nu in every event."""
        from ..hepmc import PDG_HNL, FinalState, Particles

        q = np.asarray(cols["w_charge"]).astype(np.int32)
        mt = np.sqrt(cols["w_m"] ** 2 + cols["w_pt"] ** 2)
        w = Particles.from_components(24 * q, mt * np.cosh(cols["w_y"]), cols["w_pt"] * np.cos(cols["w_phi"]),
                                      cols["w_pt"] * np.sin(cols["w_phi"]), mt * np.sinh(cols["w_y"]), m=cols["w_m"])
        lep = np.asarray(cols["lepton"]).astype(np.int32) if "lepton" in cols else np.full(len(q), 13)
        lepton = Particles.from_components(-lep * q, cols["l_E"], cols["l_px"], cols["l_py"], cols["l_pz"], m=0.0)
        nu_pid = np.where(np.asarray(cols["is_nu4"], bool), PDG_HNL, lep + 1) * q
        nu = Particles.from_components(nu_pid, cols["nu_E"], cols["nu_px"], cols["nu_py"], cols["nu_pz"])
        return FinalState(w, [lepton, nu])


# ------------------------------------------------------------------------------------------------
# backgrounds: W -> tau nu -> l nu nu nu, Z -> l l with a lost lepton (nudmsim/processes/w_backgrounds.py)
# ------------------------------------------------------------------------------------------------
class _Background:
    source_kind: ClassVar[str] = "pp_w"
    truth_columns: ClassVar[tuple] = ("w_m", "w_pt", "w_phi", "w_charge")
    observables: ClassVar[tuple] = ("reco_l_pt", "met", "mt", "ut", "selected")
    kind: ClassVar[str] = ""

    def check(self, point, exp) -> None:
        check_common(point)

    def nodes(self, point, exp):
        return None

    def codes(self, exp) -> dict:
        return {}

    def sample(self, point, exp, n, rng, start: int = 0):
        raise ParameterError(f"{self.process} is a template process of the atlas-w analysis (no event generation)")


@register_generator
class WTauNu(_Background):
    process: ClassVar[str] = "w-taunu"
    summary: ClassVar[str] = "W -> tau nu -> l nu nu nu (background of the W lepton-pT analysis)"
    params: ClassVar[dict] = dict(COMMON)
    process_id: ClassVar[int] = 52
    kind = "w_tau"

    def _truth(self, exp, flavour):
        from ..generate import make_rng
        from ..processes import w_backgrounds as wbk

        src = exp.source
        return wbk.w_tau_sample(src.pp, src.background_mc_events, make_rng(src.mc_seed + 7919), flavour), {}

    def mc_rows(self, point, exp):
        from ..processes import w_decay as wd

        fl, charges = check_common(point)
        s, _ = _kept(exp, f"w_tau_{fl}", fl, lambda e: self._truth(e, fl))
        t = s.truth
        w = s.sigma * luminosity(point, exp, fl) / s.n_generated * _charge_weight(s, charges) * \
            wd.decay_weight_eo(t["e_dens"], t["o_dens"], t["cos_q"], 0.0, t["charge"])
        return _drop_zero(_rows(s, fl, 0.0, w, xscale=s.xscale))


@register_generator
class ZLostLepton(_Background):
    process: ClassVar[str] = "z-lost-lepton"
    summary: ClassVar[str] = "Z -> l l with the second lepton lost (background of the W lepton-pT analysis)"
    params: ClassVar[dict] = {**COMMON,
                              "veto_eta_max": Param(2.4, "", "the second lepton is lost outside |eta| < this"),
                              "veto_pt_min": Param(20.0, "GeV", "... or below this p_T")}
    process_id: ClassVar[int] = 53
    kind = "z"

    def _truth(self, exp, point):
        from ..generate import make_rng
        from ..processes import w_backgrounds as wbk

        src = exp.source
        s, lost = wbk.z_lost_lepton_sample(src.z_source(), src.background_mc_events, make_rng(src.mc_seed + 7920),
                                           point["veto_eta_max"], point["veto_pt_min"] * GeV)
        return s, {"lost": lost}

    def mc_rows(self, point, exp):
        from ..processes import w_decay as wd

        fl, charges = check_common(point)
        key = f"z_{point['veto_eta_max']:g}_{point['veto_pt_min']:g}"
        s, extra = _kept(exp, key, fl, lambda e: self._truth(e, point))
        t = s.truth
        # the candidate is l+ or l- with equal probability: a W+ (W-) only analysis keeps half
        w = s.sigma * luminosity(point, exp, fl) / s.n_generated * extra["lost"] * len(charges) / 2 * \
            wd.decay_weight_eo(t["e_dens"], t["o_dens"], t["cos_q"], 0.0, t["charge"])
        return _drop_zero(_rows(s, fl, 0.0, w))


# ------------------------------------------------------------------------------------------------
# the source and response of a card, for the checks and the M_W fit that work on W samples directly
# ------------------------------------------------------------------------------------------------
def setup(card):
    """(pp source, :class:`~nudmsim.response.collider.ColliderResponse` with the channel luminosities) of an
    experiment card with a ``pp_w`` source and a ``collider / atlas_w`` stage (a Card, name or path)."""
    from dataclasses import replace

    from .. import cards
    from ..entries import experiment_of
    from ..errors import NudmsimError

    card = cards.load_detector(card) if isinstance(card, str) else card
    exp = experiment_of(card)
    if exp.source_kind != "pp_w":
        raise NudmsimError(f"experiment '{exp.name}' has a {exp.source_kind} source, not a pp -> W source "
                           "(use atlas_7tev or atlas_13tev)")
    norm = next((m["error"] for smp in (exp.analysis.samples if exp.analysis else ()) for m in smp["modifiers"]
                 if m["type"] == "normsys" and m["name"] == "lumi"), float("nan"))
    resp = replace(response_stage(exp).with_luminosity(exp.source.luminosity), source=exp.source.path,
                   name=exp.name, norm_sigma=norm)
    return exp.source.pp, resp


def analysis_edges(card):
    """Lepton-p_T bin edges [MeV] of the card's ``reco_l_pt`` observable."""
    from .. import cards
    from ..entries import experiment_of

    card = cards.load_detector(card) if isinstance(card, str) else card
    return np.asarray(experiment_of(card).observables["reco_l_pt"].edges, float) * GeV
