"""Validation of the COHERENT 2017 fit (measurement "fit" of detectors/coherent_csi_2017.toml) against the
published result."""
from ..registry import check


@check("coherent.fit_cevns_count", unit="events", reference=134.0, tolerance=22.0,
       description="CEvNS events fitted to the released 2017 PE x time data (published 134 +- 22)")
def _fit_cevns_count():
    from ..errors import NudmsimError
    from ..experiment import Experiment
    from ..runner import fit_measurement

    rep = fit_measurement(Experiment.load("coherent_csi_2017"), "fit", minos=False, cross_checks=False)
    if not rep.valid:
        raise NudmsimError(f"the 2017 fit did not converge: {rep.status}")
    return rep.value
