"""Second method for the XENON1T SI limits: the collaboration's own package (PyPI ``xe-likelihood``, the code
released with arXiv:2210.07231) evaluated on nudmsim's SI spectrum must give nudmsim's limit.

This pins down the 10 GeV point: the official package itself gives 1.56x the published full-likelihood limit
there, so that deviation belongs to the released binwise approximation, not to nudmsim."""
import os

import numpy as np
import pytest

from nudmsim import cards, constants as c
from nudmsim.analyses._dd_limits import _det_of, si_reco_counts
from nudmsim.analyses.direct_detection import wimp_spectrum

if os.environ.get("CI"):
    import xe_likelihood  # noqa: F401  (installed by the test extra: absence is a failure in CI)
xe = pytest.importorskip("xe_likelihood")


def _official_upper_limit(spectrum, asymptotic):
    """xe_likelihood.BinwiseInference.compute_ul, with the Powell minimum passed to brentq as a float
    (the released 0.1.0 passes a 1-element array, which scipy >= 1.15 rejects)."""
    import scipy.stats as sps
    from scipy.optimize import brentq, minimize

    inf = xe.BinwiseInference.from_xenon1t_sr(spectrum=spectrum)
    mutot = inf.sum_spectrum_in_reconstructed_bins
    thr = (lambda x: sps.chi2(1).isf(0.1)) if asymptotic else (lambda x: inf.threshold_function(x * mutot))
    f = inf.compute_likelihood_ratio(run=0)
    fm = minimize(f, [0], method="Powell")
    xmin, llmin = float(np.atleast_1d(fm["x"])[0]), float(fm["fun"])
    return brentq(lambda x: f(x) - llmin - thr(x), xmin, f.x[-1])


@pytest.mark.parametrize("m_gev", [10.0, 30.0])
@pytest.mark.parametrize("asymptotic", [False, True])
def test_official_package_gives_our_limit(m_gev, asymptotic):
    det = _det_of(cards.load_detector("xenon1t_2018"))
    E = np.linspace(0.5, 80.0, 8000)  # keV
    rate = wimp_spectrum(E * c.keV, {"m_chi": m_gev, "sigma_n": 1e-45}, det) * c.keV * c.YEAR * c.TONNE / c.kg

    def spectrum(e_kev):  # events / (keV t yr) at 1e-45 cm^2, the package's convention
        return np.interp(e_kev, E, rate)

    official = _official_upper_limit(spectrum, asymptotic)
    ours = det.likelihood.upper_limit(si_reco_counts(det, m_gev), asymptotic=asymptotic)
    # both integrate the same spectrum over the same bins; differences are interpolation grids only
    assert ours == pytest.approx(official, rel=0.01)
