"""pp -> W+- -> l+- + invisible (nu or a massive nu_4) at the LHC: process ``w-lepton`` and analysis ``atlas-w``
(lepton-p_T kink limits on |U_l4|^2 vs m_4, M_W closure fit).  Everything else is in the experiment cards
(``detectors/atlas_7tev.toml``, ``atlas_13tev.toml``), the source kind ``pp_w`` (``nudmsim/sources/pp_w.py``), the
generators (``nudmsim/generators/w_lepton.py``), the response stage ``collider / atlas_w``
(``nudmsim/response/stages_collider.py``), the limit plane ``u2_l4_w`` and the M_W fit
(``nudmsim/stats/w_mass.py``); docs in ``docs/w_boson.md``.

    nudmsim limit atlas-w --option lepton=e                      # 7 TeV, 4.1 fb^-1, W+ (as the seed)
    nudmsim limit atlas-w -d atlas_13tev --option lumi_fb=140 --option charge=both
    nudmsim limit atlas-w --option measurement=signal_only       # without the backgrounds
"""
from __future__ import annotations

from ..entries import LIMIT_OPTION_DOCS, engine_limit, register_engine_process
from ..registry import AnalysisEntry, register_analysis
from ..runner import LIMIT_OPTIONS
from ..stats.w_mass import fit_entry

register_engine_process("w-lepton", default_card="atlas_7tev")
register_analysis(AnalysisEntry(
    name="atlas-w", summary="ATLAS 7 TeV (or 13 TeV) lepton-pT kink: 90% CL |U_e4|^2, |U_mu4|^2 vs m4; "
                            "M_W closure fit",
    default_detector="atlas_7tev", fit=fit_entry, limit=engine_limit("atlas-w", None, LIMIT_OPTIONS),
    limit_options={**LIMIT_OPTION_DOCS, "lepton": "e | mu (default mu)",
                   "charge": "plus (default, as the seed) | minus | both",
                   "lumi_fb": "integrated luminosity in fb^-1 (default: the card's)"}))
