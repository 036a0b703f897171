"""Schema of ``collider_w`` detector cards (ATLAS-like W -> l nu response and selection)."""
from __future__ import annotations

from ..cards import register_card_schema
from ..schema import Field, Section
from ._checks import above, pairs

SOURCE = Section("source", "the pp source", fields=(
    Field("pp", str, doc="pp source card (kind pp), searched next to this card, in $NUDMSIM_CARD_PATH, then fluxes/"),
))
EXPOSURE = Section("exposure", "integrated luminosity per lepton channel", fields=(
    Field("luminosity_e_fb", float, unit="fb⁻¹", lo=0, lo_open=True, doc="electron channel"),
    Field("luminosity_mu_fb", float, unit="fb⁻¹", lo=0, lo_open=True, doc="muon channel"),
))


def _lepton(fl: str, what: str) -> Section:
    return Section(f"lepton.{fl}", f"{what} acceptance, resolution and efficiency", fields=(
        Field("eta_max", float, lo=0, lo_open=True, doc="|eta| acceptance"),
        Field("eta_gaps", list, ndim=2, default=[], lo=0, check=pairs, doc="excluded |eta| ranges [[lo, hi], ...]"),
        Field("resolution_model", str, choices=("calorimeter", "tracker"),
              doc="calorimeter: sigma_E/E = a/sqrt(E/GeV) (+) b/E (+) c; tracker: sigma_pT/pT = a (+) b pT/GeV"),
        Field("res_a", float, lo=0, doc="resolution term a"),
        Field("res_b", float, lo=0, doc="resolution term b"),
        Field("res_c", float, lo=0, doc="resolution term c (calorimeter constant term)"),
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
ANALYSIS = Section("analysis", "the binned lepton-pT fit", fields=(
    Field("pt_lo_GeV", float, unit="GeV", lo=0, lo_open=True, doc="lower edge of the fitted pT range"),
    Field("pt_hi_GeV", float, unit="GeV", lo=0, lo_open=True, doc="upper edge"),
    Field("bin_GeV", float, unit="GeV", lo=0, lo_open=True, doc="bin width"),
    Field("normalisation_uncertainty", float, lo=0, lo_open=True,
          doc="relative normalisation uncertainty (a constrained nuisance)"),
), check=above("pt_hi_GeV", "pt_lo_GeV"))

register_card_schema("collider_w", [SOURCE, EXPOSURE, LEPTON, RECOIL, SELECTION, ANALYSIS],
                     doc="W -> l nu at a pp collider: lepton acceptance and resolution, recoil, selection "
                         "(w-lepton, atlas-w)")
