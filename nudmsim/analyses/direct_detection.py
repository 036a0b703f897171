"""Direct detection: the processes ``x-to-nu`` (halo DM down-scattering X + N -> nu + N) and ``wimp-si``
(spin-independent elastic WIMP baseline), and the analyses ``xenon1t-si``, ``xenon1t-x2nu`` (the release's
binwise likelihood) and ``borexino-x2nu`` (a most-constraining-bin bound).  Everything else is in the
experiment cards (``detectors/xenon1t_2018.toml``, ``detectors/borexino.toml``), the halo source kind
(``nudmsim/sources/halo.py``), the generators (``nudmsim/generators/halo.py``) and the likelihood kinds
(``nudmsim/stats/binwise.py``, ``nudmsim/stats/bound.py``); docs in ``docs/direct_detection.md``.
"""
from __future__ import annotations

from ..entries import register_engine_analysis, register_engine_process

#: detector-level columns of the cards' response chains (``--columns observables``): XENON1T's reconstructed
#: energy, Borexino's visible and observed energies and threshold flag
OBSERVABLES = ("E_rec_keV", "E_vis_ee_keV", "E_obs_ee_keV", "detected")

register_engine_process("x-to-nu", default_card="xenon1t_2018", observables=OBSERVABLES)
register_engine_process("wimp-si", default_card="xenon1t_2018", observables=OBSERVABLES)

#: the --options of limits without an Asimov projection (the release's tables, a bound): no bands, no PCL
OPTIONS = ("measurement", "method")

register_engine_analysis("xenon1t-si", card="xenon1t_2018", limit="si", options=OPTIONS,
                         summary="XENON1T 2018 90% CL SI limit vs WIMP mass (official binwise likelihood)")
register_engine_analysis("xenon1t-x2nu", card="xenon1t_2018", limit="x2nu", options=OPTIONS,
                         summary="XENON1T 2018 90% CL on sigma_NC vs m_X for X + N -> nu + N (--ratio r)")
register_engine_analysis("borexino-x2nu", card="borexino", options=OPTIONS,
                         summary="Borexino 90% CL on sigma_NC vs m_X (proton + carbon recoils, --ratio r; "
                                 "background-free bin bound)")
