"""Low-threshold direct detection of X + N -> nu + N from public releases (seed 004 Fig. 2): registrations only.

* ``cresst3-x2nu``: CRESST-III detector A (``detectors/cresst3_detA.toml``): per-element signal survival,
  4.6 eV Gaussian resolution, Yellin's maximum gap on the released events (likelihood kind ``maximum_gap``,
  :mod:`nudmsim.stats.maxgap`), the method CRESST uses.
* ``darkside50-x2nu``: DarkSide-50 S2-only (``detectors/darkside50_s2.toml``): DDCalc's three bins
  (stage ``resolution/bin_efficiencies``), the most constraining bin's classical Poisson limit with its known
  background (likelihood kind ``bin_bound``, :mod:`nudmsim.stats.bound`).

Both are estimates from public material, not the collaborations' likelihoods (docs/direct_detection.md).
"""
from __future__ import annotations

from ..entries import register_engine_analysis
from .direct_detection import OPTIONS

register_engine_analysis("cresst3-x2nu", card="cresst3_detA", options=OPTIONS,
                         summary="CRESST-III (detector A) 90% CL on sigma_NC vs m_X, X + N -> nu + N, maximum gap "
                                 "on the released events (--ratio r)")
register_engine_analysis("darkside50-x2nu", card="darkside50_s2", options=OPTIONS,
                         summary="DarkSide-50 S2-only 90% CL on sigma_NC vs m_X, X + Ar -> nu + Ar, released "
                                 "bins (--ratio r)")
