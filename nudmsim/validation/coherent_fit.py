"""Validation of the COHERENT 2017 fit (nudmsim/analyses/coherent_fit.py) against the published result."""
from __future__ import annotations

from ..registry import check


@check("coherent.fit_cevns_count", unit="events", reference=134.0, tolerance=22.0,
       description="CEvNS events fitted to the released 2017 PE x time beam-on data (Science 2017: 134 +- 22)")
def _fit_cevns_count():
    from ..analyses.coherent_fit import fitted_cevns_count

    return fitted_cevns_count()
