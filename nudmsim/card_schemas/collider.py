"""Schema of ``collider_w`` detector cards (ATLAS-like W -> l nu response and selection)."""
from __future__ import annotations

from ..cards import register_card_schema
from ..schema import Field, Section
from ._checks import above, increasing, pairs


def _nonneg_numbers(v) -> str | None:
    """A number or a list of numbers (one per |eta| bin), all >= 0."""
    vals = v if isinstance(v, list) else [v]
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) or not x >= 0 for x in vals):
        return f"must be non-negative numbers, got {v!r}"
    return None

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
BACKGROUND = Section("analysis.background", "one background of the lepton-pT fit ([[analysis.background]]): a "
                     "template with a Gaussian-constrained normalisation", fields=(
    Field("name", str, doc="name (unique in the card)"),
    Field("template", str, choices=("generator:w_tau", "generator:z_lost_lepton", "exponential", "flat"),
          doc="generator:w_tau / generator:z_lost_lepton (nudmsim/processes/w_backgrounds.py, same source and "
              "response), or a parametric lepton-pT shape normalised to fraction_<l> of the selected W -> l nu"),
    Field("norm_error", float, lo=0, lo_open=True, hi=5, doc="relative normalisation uncertainty"),
    Field("reference", str, default="", doc="where the numbers come from"),
    Field("veto_eta_max", float, default=None, lo=0, lo_open=True,
          doc="generator:z_lost_lepton: the second lepton is lost outside |eta| < this"),
    Field("veto_pt_min_GeV", float, unit="GeV", default=None, lo=0,
          doc="generator:z_lost_lepton: ... or below this p_T"),
    Field("slope_GeV", float, unit="GeV", default=None, lo=0, lo_open=True, doc="exponential: exp(-pT/slope)"),
    Field("fraction_e", float, default=None, lo=0, doc="exponential/flat: fraction of the selected W -> e nu"),
    Field("fraction_mu", float, default=None, lo=0, doc="exponential/flat: fraction of the selected W -> mu nu"),
))

ANALYSIS = Section("analysis", "the binned lepton-pT fit", fields=(
    Field("pt_lo_GeV", float, unit="GeV", lo=0, lo_open=True, doc="lower edge of the fitted pT range"),
    Field("pt_hi_GeV", float, unit="GeV", lo=0, lo_open=True, doc="upper edge"),
    Field("bin_GeV", float, unit="GeV", lo=0, lo_open=True, doc="bin width"),
    Field("normalisation_uncertainty", float, lo=0, lo_open=True,
          doc="relative normalisation uncertainty (a constrained nuisance)"),
    Field("background", list, item=BACKGROUND, default=[],
          doc="backgrounds ([[analysis.background]] tables; the template's own keys are checked by "
              "nudmsim.response.collider.load_backgrounds)"),
), check=above("pt_hi_GeV", "pt_lo_GeV"))

register_card_schema("collider_w", [SOURCE, EXPOSURE, LEPTON, RECOIL, SELECTION, ANALYSIS],
                     doc="W -> l nu at a pp collider: lepton acceptance and resolution, recoil, selection "
                         "(w-lepton, atlas-w)")
