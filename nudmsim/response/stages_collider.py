"""Collider response stage: ``collider / atlas_w``, the ATLAS W-mass-analysis-like response of W -> l + invisible
events as ONE named stage (a release-specific procedure, like XENON1T's official likelihood).

Why one stage and not a chain of resolution / recoil / cut stages: the lepton p_T smearing (|eta|-binned,
calorimeter or tracker form), the hadronic recoil, E_T^miss, m_T and the four W-mass cuts are evaluated per event
in one numba kernel (:func:`nudmsim.generators._w_kernels.reconstruct`) on per-event standard normals carried by
the rows (``z_lep``, ``z_rx``, ``z_ry``).  The generator draws those normals once per event, so that one generated
sample re-evaluated at any nu_4 mass sees the *same* detector fluctuations (the reweighting of the kink limit),
and the fused generator+response kernel of ``benchmarks/bench_w.py`` (>= 2 M events/s) is the same code.
Splitting it into separate stages would cost both (E_T^miss and m_T need the smeared lepton and the recoil at
once, and the cuts read all four).

Input rows (truth, GeV as in the event record): ``w_m``, ``w_pt``, ``w_phi``, ``w_charge``, ``k_E``, ``k_x``,
``k_y``, ``k_z`` (lab four-vector of a unit-energy massless decay lepton), ``nu_m`` (invisible neutrino mass),
``z_lep``, ``z_rx``, ``z_ry`` (standard normals; drawn from ``rng`` when absent), optional ``l_xscale`` (fraction
of the decay lepton's momentum that the observed lepton carries: W -> tau nu -> l) and ``lepton`` (PDG code 11
or 13 of the observed lepton, default 13).  Output columns (GeV): ``reco_l_pt``, ``met``,
``mt``, ``ut`` and ``selected``; ``to`` is ``reco_l_pt``.

Weights: x the lepton's effective efficiency; in expectation mode also x the selection (0/1).  In Monte Carlo
mode (``nudmsim generate``) the event record keeps every event with its ``selected`` flag, as W event files always
did (the selection is one column away; ``predict`` and the likelihood use the selected expectation).
"""
from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import numpy as np

from .. import constants as c
from ..card_schemas.collider import LEPTON, RECOIL, SELECTION
from ..schema import Field, Section
from . import collider as col
from .stage import Batch, register_stage
from .stagekit import StageBase

GeV = c.GeV
#: truth columns the stage reads
READS = ("w_m", "w_pt", "w_phi", "w_charge", "k_E", "k_x", "k_y", "k_z", "nu_m", "z_lep", "z_rx", "z_ry")
#: columns it makes (GeV; selected 0/1)
MAKES = ("reco_l_pt", "met", "mt", "ut", "selected")
FLAVOURS = {11: "e", 13: "mu"}


def lepton_of(value) -> str:
    """'e' or 'mu' from a PDG code (11, 13)."""
    from ..errors import ParameterError

    try:
        return FLAVOURS[int(round(float(value)))]
    except (KeyError, TypeError, ValueError):
        raise ParameterError(f"unknown lepton flavour {value!r} (use lepton=11 for electrons or 13 for muons; "
                             "--option lepton=e|mu)") from None


def response_from_tables(lepton: dict, recoil: dict, selection: dict, name: str = "") -> col.ColliderResponse:
    """A :class:`~nudmsim.response.collider.ColliderResponse` from validated lepton / recoil / selection tables
    (luminosity, normalisation and backgrounds belong to the source and the analysis: left empty)."""
    leptons = {}
    for fl in ("e", "mu"):
        t = lepton[fl]
        edges = tuple(float(v) for v in t["res_eta_edges"])
        vals = []
        for k in ("res_a", "res_b", "res_c"):
            v = t[k]
            v = [v] * (len(edges) + 1) if not isinstance(v, list) else v
            if len(v) != len(edges) + 1:
                return k, fl, len(edges) + 1
            vals.append(tuple(float(x) for x in v))
        leptons[fl] = col.LeptonResponse(kind=t["resolution_model"], a=vals[0], b=vals[1], c=vals[2],
                                         eta_max=float(t["eta_max"]),
                                         eta_gaps=tuple((float(a), float(b)) for a, b in t["eta_gaps"]),
                                         efficiency=float(t["efficiency"]), eta_edges=edges)
    sel = col.Selection(pt_min=selection["lepton_pt_min_GeV"] * GeV, met_min=selection["met_min_GeV"] * GeV,
                        mt_min=selection["mt_min_GeV"] * GeV, ut_max=selection["recoil_ut_max_GeV"] * GeV)
    return col.ColliderResponse(leptons=leptons, recoil_s0=recoil["sigma0_GeV"] * GeV, recoil_k=recoil["k"],
                                selection=sel, luminosity={}, norm_sigma=0.0, source="", name=name)


@register_stage
class AtlasWResponse(StageBase):
    family: ClassVar[str] = "collider"
    model: ClassVar[str] = "atlas_w"
    default_label = "atlas_w"
    doc: ClassVar[str] = ("ATLAS W-mass-like response of W -> l + invisible (one fused kernel): |eta| acceptance, "
                          "|eta|-binned lepton p_T resolution, hadronic recoil, E_T^miss, m_T and the W-mass "
                          "selection; weights x the lepton efficiency (x the selection in expectation mode; in "
                          "Monte Carlo mode a `selected` flag).  One named stage, not a chain: the rows carry the "
                          "event's detector normals (z_lep, z_rx, z_ry), so every nu4 mass of the reweighted limit "
                          "sees the same fluctuations, and E_T^miss, m_T and the cuts need the smeared lepton and "
                          "the recoil at once; the fused generator kernel of benchmarks/bench_w.py (>= 2 M "
                          "events/s) is the same code")
    schema: ClassVar[Section] = Section("collider/atlas_w", "", fields=(
        Field("lepton", LEPTON, doc="per-flavour acceptance, resolution and efficiency ([response.lepton.e], "
                                    "[response.lepton.mu])"),
        Field("recoil", RECOIL, doc=RECOIL.doc),
        Field("selection", SELECTION, doc="W-mass selection cuts"),
    ))

    def __init__(self, values, ctx):
        super().__init__(values, ctx)
        self.on, self.to = "w_m", "reco_l_pt"
        out = response_from_tables(values["lepton"], values["recoil"], values["selection"], ctx.key)
        if isinstance(out, tuple):
            k, fl, n = out
            raise ctx.error(f"lepton.{fl}.{k}", f"needs {n} numbers (one per |eta| bin of res_eta_edges)")
        self.response = out

    @classmethod
    def from_card(cls, values, ctx):
        return cls(values, ctx)

    @property
    def reads(self):
        return READS

    def with_luminosity(self, luminosity: dict) -> col.ColliderResponse:
        return replace(self.response, luminosity=dict(luminosity))

    # -- the optimisation of the reweighted limit: events that can pass for some m_4 ------------------
    def can_pass(self, s, flavour: str, pt_lo: float, margin: float = 0.97) -> np.ndarray:
        """Mask of the events of a :class:`~nudmsim.generators.w_sample.WSample` that can enter the p_T window
        (>= ``pt_lo`` MeV) for some m_4 >= 0: in the |eta| acceptance, u_T below the cut and light-nu
        reconstructed p_T above margin x pt_lo (the lepton p_T only falls with m_4 at fixed fluctuation)."""
        from ..generators import _w_kernels as kern
        from ..generators import w_sample as ws

        n = s.n
        o = [np.empty(n) for _ in range(7)]
        keep = np.empty(n, np.bool_)
        t = s.truth
        kern.prepare(t["m"], t["pt"], t["phi"], *s.k, s.z_lep, *s.z_rec, *ws.response_arrays(self.response, flavour),
                     margin * pt_lo, *o, keep)
        return keep

    # -- the response ------------------------------------------------------------------------------
    def _apply(self, batch: Batch, rng, expect: bool) -> Batch:
        from ..generators import _w_kernels as kern
        from ..generators import w_sample as ws
        from ..processes import w_decay as wd

        n = len(batch)
        cols = {}
        for k in ("z_lep", "z_rx", "z_ry"):
            if k in batch:
                cols[k] = np.ascontiguousarray(batch[k], float)
            else:
                if rng is None:
                    raise self.error("", f"column '{k}' (the event's detector normals) is not in the rows",
                                     "the generator draws them per event")
                cols[k] = rng.standard_normal(n)
        lep = np.asarray(batch["lepton"], float) if "lepton" in batch else np.full(n, 13.0)
        flav = np.unique(lep)
        o = {k: np.zeros(n) for k in ("pt_true", "pt", "met", "mt", "ut", "wdec", "ps")}
        sel = np.zeros(n, np.bool_)
        eff = np.zeros(n)
        g = {k: np.ascontiguousarray(batch[k], float) for k in READS if k not in cols}
        for k in ("w_m", "w_pt", "nu_m"):
            g[k] = g[k] * GeV
        xs = np.ascontiguousarray(batch["l_xscale"], float) if "l_xscale" in batch else np.ones(n)
        q = np.asarray(batch["w_charge"]).astype(np.int8)
        for f in flav:
            fl = lepton_of(f)
            m = lep == f
            idx = slice(None) if m.all() else m
            part = [np.empty(int(m.sum())) for _ in range(5)] + [np.empty(int(m.sum()), np.bool_),
                                                                  np.empty(int(m.sum())), np.empty(int(m.sum()))]
            ph = g["w_phi"][idx]
            zero = np.zeros(len(ph))
            kern.reconstruct(g["w_m"][idx], g["w_pt"][idx], ph, q[idx], zero, zero, zero,
                             g["k_E"][idx], g["k_x"][idx], g["k_y"][idx], g["k_z"][idx], cols["z_lep"][idx],
                             cols["z_rx"][idx], cols["z_ry"][idx], xs[idx], g["nu_m"][idx],
                             *ws.response_arrays(self.response, fl), wd.PROPOSAL_UNIFORM, *part)
            for k, a in zip(("pt_true", "pt", "met", "mt", "ut"), part[:5]):
                o[k][idx] = a
            sel[idx] = part[5]
            eff[idx] = self.response.lepton(fl).efficiency
        w = batch.weight * eff * (sel if expect else 1.0)
        new = {"reco_l_pt": o["pt"] / GeV, "met": o["met"] / GeV, "mt": o["mt"] / GeV, "ut": o["ut"] / GeV,
               "selected": sel}
        if not expect:
            new.update({k: cols[k] for k in ("z_lep", "z_rx", "z_ry") if k not in batch})
        return batch.with_columns(weight=w, **new)

    def sample(self, batch, rng, values=None):
        return self._apply(batch, rng, expect=False)

    def expect(self, batch, values=None):
        return self._apply(batch, None, expect=True)
