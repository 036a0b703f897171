"""Schema of the ATLAS-like W -> l nu response tables (lepton acceptance and resolution, recoil, selection): the
keys of the ``collider / atlas_w`` response stage (:mod:`nudmsim.response.stages_collider`)."""
from __future__ import annotations

from ..schema import Field, Section
from ._checks import increasing, pairs


def _nonneg_numbers(v) -> str | None:
    """A number or a list of numbers (one per |eta| bin), all >= 0."""
    vals = v if isinstance(v, list) else [v]
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) or not x >= 0 for x in vals):
        return f"must be non-negative numbers, got {v!r}"
    return None

def _lepton(fl: str, what: str) -> Section:
    return Section(f"lepton.{fl}", f"{what} acceptance, resolution and efficiency", fields=(
        Field("eta_max", float, lo=0, lo_open=True, doc="|eta| acceptance"),
        Field("eta_gaps", list, ndim=2, default=[], lo=0, check=pairs, doc="excluded |eta| ranges [[lo, hi], ...]"),
        Field("resolution_model", str, choices=("calorimeter", "tracker"),
              doc="calorimeter: sigma_E/E = a/sqrt(E/GeV) (+) b/E (+) c; tracker: sigma_pT/pT = a (+) b pT/GeV (+) c"),
        Field("res_eta_edges", list, default=[], lo=0, lo_open=True, check=increasing,
              doc="upper |eta| edges of the resolution bins but the last (empty: one bin); res_a/b/c then give "
                  "one value per bin"),
        Field("res_a", (float, list), check=_nonneg_numbers, doc="resolution term a (a number or one per |eta| bin)"),
        Field("res_b", (float, list), check=_nonneg_numbers, doc="resolution term b (a number or one per |eta| bin)"),
        Field("res_c", (float, list), check=_nonneg_numbers,
              doc="resolution term c (a number or one per |eta| bin)"),
        Field("efficiency", float, lo=0, lo_open=True, hi=1,
              doc="effective efficiency (trigger x reconstruction x identification x isolation)"),
    ))


LEPTON_E, LEPTON_MU = _lepton("e", "electron"), _lepton("mu", "muon")
LEPTON = Section("lepton", "per-lepton response", fields=(
    Field("e", LEPTON_E, doc=LEPTON_E.doc), Field("mu", LEPTON_MU, doc=LEPTON_MU.doc),
))
RECOIL = Section("recoil", "hadronic recoil u_T = -pT^W + Gaussian noise per component, "
                 "sigma = sqrt(sigma0^2 + (k pT^W)^2)", fields=(
    Field("sigma0_GeV", float, unit="GeV", lo=0, doc="constant noise term (pile-up, underlying event)"),
    Field("k", float, lo=0, doc="term proportional to pT^W"),
))
SELECTION = Section("selection", "event selection", fields=(
    Field("lepton_pt_min_GeV", float, unit="GeV", lo=0, doc="lepton pT > this"),
    Field("met_min_GeV", float, unit="GeV", lo=0, doc="missing E_T > this"),
    Field("mt_min_GeV", float, unit="GeV", lo=0, doc="transverse mass > this"),
    Field("recoil_ut_max_GeV", float, unit="GeV", lo=0, lo_open=True, doc="recoil u_T < this"),
))
