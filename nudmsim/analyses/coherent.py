"""COHERENT at the SNS: the processes ``cevns`` and ``nu-to-x`` and the analysis ``coherent2017`` (fit of the
2017 released data; sigma_NC limits on nu + N -> X + N).  Everything else is in the experiment cards
(``detectors/coherent_csi_2017.toml``, ...) and the engine (``nudmsim/experiment.py``); docs in
``docs/coherent.md``.
"""
from __future__ import annotations

from ..entries import register_engine_analysis, register_engine_process

register_engine_process("cevns", default_card="coherent_csi_2017",
                        summary="SM coherent elastic nu-nucleus scattering at a pi+ DAR source (COHERENT)")
register_engine_process("nu-to-x", default_card="coherent_csi_2017")
register_engine_analysis("coherent2017", card="coherent_csi_2017", fit_measurement="fit",
                         summary="COHERENT CsI[Na] 2017: 2D (PE x time) fit of the released data; 90% CL "
                                 "sigma_NC limits on nu + N -> X + N vs m_X")
