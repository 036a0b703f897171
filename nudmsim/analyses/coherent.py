"""COHERENT at the SNS: the processes ``cevns`` and ``nu-to-x`` and the analyses ``coherent2017``,
``coherent2021`` (CsI[Na] 2017 and full data set) and ``coherent-lar2020`` (CENNS-10 liquid argon): fits of the
released data and sigma_NC limits on nu + N -> X + N.  Everything else is in the experiment cards
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
register_engine_analysis("coherent2021", card="coherent_csi_2021", fit_measurement="fit",
                         summary="COHERENT CsI[Na] full data set (PRL 2022): fit of the released events; 90% CL "
                                 "sigma_NC limits on nu + N -> X + N vs m_X")
register_engine_analysis("coherent-lar2020", card="coherent_lar_2020", fit_measurement="fit",
                         summary="COHERENT CENNS-10 liquid argon (PRL 2021, Analysis A release): 3-D fit of the released "
                                 "data; 90% CL sigma_NC limits on nu + N -> X + N vs m_X")
