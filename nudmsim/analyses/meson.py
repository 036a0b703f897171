"""Meson decays: the processes ``meson-3body``, ``meson-2body``, ``kaon-pi-phi`` and their analyses (E949 two-body
peak search with the background calibration, Y_mu limits from E949 and NA62, the y_q bound from E949's
B(K+ -> pi+ X) limits).  Everything else is in the experiment cards (``detectors/e949.toml``, ``na62.toml``,
``na62_2021.toml``, ``e949_pnn.toml``), the generators (``nudmsim/generators/meson.py``), the stages and the
engine; docs in ``docs/meson_decays.md``.
"""
from __future__ import annotations

from ..entries import register_engine_analysis, register_engine_process

register_engine_process("meson-3body", default_card="e949")
register_engine_process("meson-2body", default_card="e949")
register_engine_process("kaon-pi-phi", default_card="e949_pnn")

register_engine_analysis("meson-2body", card="e949", limit="u2", calibration=True,
                         summary="E949 |U_mu4|^2 peak search (fit = the background calibration on the published limit)")
register_engine_analysis("meson-3body", card="e949", limit="y",
                         summary="90% CL on Y_mu vs m_chi from K+ -> mu+ chi phi (E949, NA62)",
                         plane_options={"m4": "10x (m4 = 10 m_chi, default) or a mass, e.g. 400GeV",
                                        "y_L": "dark Yukawa used for the nu4 width (default 4pi)"})
register_engine_analysis("kaon-pi-phi", card="e949_pnn", summary="y_q bound from E949 K+ -> pi+ X (X invisible) "
                                                                 "limits")
